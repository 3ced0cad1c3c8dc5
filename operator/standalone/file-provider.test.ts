import { expect } from 'chai';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import { parseAllDocuments } from 'yaml';
import { ResourceStore } from '../store/resource-store.ts';
import { FileProvider } from './file-provider.ts';

const route = (name: string, path: string) => `apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: { name: ${name} }
spec:
  rules: [{ matches: [{ path: { type: PathPrefix, value: ${path} } }] }]
`;

describe('FileProvider', () => {
  let dir: string;
  let store: ResourceStore;
  let provider: FileProvider;

  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-files-'));
    store = new ResourceStore();
    provider = new FileProvider(dir, store, pino({ level: 'silent' }), () => new Date('2026-01-01T00:00:00Z'));
  });
  afterEach(() => {
    provider.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  /** Writes the file and waits for the store to take it. */
  async function write(name: string, text: string): Promise<void> {
    const changed = new Promise<void>((resolve) => {
      const off = store.onChange(() => {
        off();
        resolve();
      });
    });
    writeFileSync(join(dir, name), text);
    await changed;
  }

  it('reads a file again at the cost of what changed: unchanged documents keep their objects', async () => {
    writeFileSync(join(dir, 'routes.yaml'), [route('a', '/a'), route('b', '/b'), route('c', '/c')].join('---\n'));
    await provider.start();
    const before = ['a', 'b', 'c'].map((n) => store.get(`HTTPRoute/default/${n}`));
    const feed = store.feed();
    feed.take();
    await write('routes.yaml', [route('a', '/a'), route('b', '/bb'), route('c', '/c')].join('---\n'));
    expect(store.get('HTTPRoute/default/a')).to.equal(before[0]);
    expect(store.get('HTTPRoute/default/c')).to.equal(before[2]);
    expect(store.get('HTTPRoute/default/b')?.spec.rules[0].matches[0].path.value).to.equal('/bb');
    expect(store.get('HTTPRoute/default/b')?.metadata?.generation).to.equal(2);
    expect(feed.take().upserted.map(([key]) => key)).to.deep.equal(['HTTPRoute/default/b']);
  });

  it('reports a broken document with the position in the file, and keeps the last good objects', async () => {
    writeFileSync(join(dir, 'routes.yaml'), [route('a', '/a'), route('b', '/b')].join('---\n'));
    await provider.start();
    const broken = [route('a', '/a'), route('b', '/b'), 'kind: HTTPRoute\nmetadata: { name: [unclosed\n'].join('---\n');
    await new Promise<void>((resolve) => {
      writeFileSync(join(dir, 'routes.yaml'), broken);
      const poll = setInterval(() => {
        if (provider.errors().length > 0) {
          clearInterval(poll);
          resolve();
        }
      }, 5);
    });
    const whole = [...parseAllDocuments(broken, { prettyErrors: true })].find((d) => d.errors.length > 0)!.errors[0]
      .message;
    expect(provider.errors()).to.deep.equal([{ file: 'routes.yaml', message: whole }]);
    expect(store.get('HTTPRoute/default/b')).to.not.equal(undefined);
  });

  it('parses files with directives or document end markers as a whole, as before', async () => {
    writeFileSync(join(dir, 'routes.yaml'), `%YAML 1.2\n---\n${route('a', '/a')}...\n---\n${route('b', '/b')}`);
    await provider.start();
    expect(store.get('HTTPRoute/default/a')?.spec.rules[0].matches[0].path.value).to.equal('/a');
    expect(store.get('HTTPRoute/default/b')?.spec.rules[0].matches[0].path.value).to.equal('/b');
  });
});
