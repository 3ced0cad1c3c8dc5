// `portico explain` end to end: a standalone Portico (operator + data plane) on a folder, the real CLI run as a
// child process against the operator's admin endpoint, and real requests showing that the data plane sends each
// request where the explanation says. Also the command line's parsing.

import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { expect } from 'chai';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import { parseExplainArgs } from '../../operator/cli/explain-command.ts';
import type { Standalone } from '../../operator/standalone.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { startStandalonePortico } from '../support/standalone-portico.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';

const run = promisify(execFile);
const CLI = fileURLToPath(new URL('../../bin/portico.ts', import.meta.url));
const FIXTURE = fileURLToPath(new URL('./fixtures/shop.yaml', import.meta.url));

describe('portico explain', function () {
  this.timeout(60_000);
  const address = testAddress();
  let dir: string;
  let dataPlane: DataPlane;
  let operator: Standalone;
  let stable: EchoServer;
  let canary: EchoServer;

  /** Runs the real CLI; resolves with its exit status and output whatever the status. */
  async function cli(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [
        CLI,
        'explain',
        '--admin',
        `127.0.0.1:${operator.adminPort}`,
        ...args,
      ]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-explain-'));
    stable = await startEchoServer('stable');
    canary = await startEchoServer('canary');
    const yaml = readFileSync(FIXTURE, 'utf8')
      .replaceAll('ADDRESS', address)
      .replaceAll('PORT_A', String(stable.port))
      .replaceAll('PORT_B', String(canary.port));
    writeFileSync(join(dir, 'shop.yaml'), yaml);
    ({ dataPlane, operator } = await startStandalonePortico(dir, {
      dataPlane: { shards: 1, drainMs: 1000, connectionsPerEndpoint: 4 },
      operator: { instance: 'explain' },
    }));
  });
  after(async () => {
    await operator?.stop();
    await dataPlane?.stop();
    await Promise.all([stable?.close(), canary?.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it('names the winning rule, the losing one and why, the filters and the backend — and the data plane agrees', async () => {
    const url = `http://${address}:18190/v1/items?page=2`;
    const out = await cli(
      url,
      '-H',
      'Host: api.shop.test',
      '-H',
      'x-canary: true',
      '--dataplane',
      `127.0.0.1:${dataPlane.adminPort}`,
    );
    expect(out.code, out.stderr).to.equal(0);
    expect(out.stdout).to.include('✔ default/shop/api (HTTP) — hostname api.shop.test is the most specific match');
    expect(out.stdout).to.include(
      '✘ default/shop/wild (HTTP) — hostname *.shop.test matches, but api.shop.test is more specific',
    );
    expect(out.stdout).to.match(/✔ HTTPRoute default\/canary rule 0 \(canary-header\) match 0 — matches/);
    expect(out.stdout).to.match(
      /~ HTTPRoute default\/api rule 0 match 0 — matches, but .*matches more headers \(1 against 0\)/,
    );
    expect(out.stdout).to.include('filter  RequestHeaderModifier (set x-via: canary)');
    expect(out.stdout).to.match(/backend Service default\/canary:80 — weight 1 \(100%\) http1/);
    expect(out.stdout).to.include(`endpoints: 127.0.0.1:${canary.port}`);
    expect(out.stdout).to.match(
      /Data plane \(generation \d+\): listener default\/shop\/api, httproute\/default\/canary rule 0 match 0 — agrees/,
    );
    const served = await get(url, { headers: { host: 'api.shop.test', 'x-canary': 'true' } });
    expect(served.echo?.backend).to.equal('canary');
    expect(served.echo?.headers['x-via']).to.equal('canary');

    const plain = await cli(url, '-H', 'Host: api.shop.test', '-o', 'json');
    expect(plain.code).to.equal(0);
    const json = JSON.parse(plain.stdout);
    expect(json.winner.route).to.equal('httproute/default/api');
    const canaryVerdict = json.matches.find((m: { route: string }) => m.route === 'httproute/default/canary');
    expect(canaryVerdict).to.include({ verdict: 'no-match', reason: 'header x-canary: absent' });
    expect((await get(url, { headers: { host: 'api.shop.test' } })).echo?.backend).to.equal('stable');
  });

  it('says why nothing takes a request, and exits non-zero', async () => {
    const noListener = await cli(`http://${address}:18190/`, '-H', 'Host: shop.example', '-o', 'yaml');
    expect(noListener.code).to.equal(1);
    expect(noListener.stdout).to.include('no listener on').and.to.include('shop.example');
    expect(noListener.stdout).to.include('outcome:').and.to.include('status: 404');
    const noRoute = await cli('--gateway', 'default/shop', '--host', 'api.shop.test', '--path', '/v2');
    expect(noRoute.code).to.equal(1);
    expect(noRoute.stdout).to.include('path /v2 does not match PathPrefix /v1');
    expect(noRoute.stdout).to.include('Answer: 404');
    const both = await cli(
      '--gateway',
      'default/shop',
      '--host',
      'api.shop.test',
      '--path',
      '/v2',
      '-o',
      'json',
      '--dataplane',
      `127.0.0.1:${dataPlane.adminPort}`,
    );
    expect(both.code).to.equal(1);
    expect(JSON.parse(both.stdout).dataplane).to.deep.include({ agrees: true });
    expect(JSON.parse(both.stdout).dataplane.decision).to.include({
      listener: 'default/shop/api',
      winner: null,
      answer: '404: no matching route',
    });
    expect((await get(`http://${address}:18190/v2`, { headers: { host: 'api.shop.test' } })).status).to.equal(404);
    const bad = await cli('--gateway', 'default/nope', '--host', 'x');
    expect(bad.code).to.equal(1);
    expect(bad.stdout).to.include('Gateway default/nope has no programmed listener');
  });

  it('reads a command line like curl and refuses what it cannot use', () => {
    const parsed = parseExplainArgs(['http://127.10.0.1:8080/a/b?x=1', '-H', 'Host: web.example.com', '-X', 'post']);
    expect(parsed).to.deep.include({ output: 'text', admin: '127.0.0.1:9902' });
    expect(parsed).to.have.nested.property('request.address', '127.10.0.1');
    expect(parsed).to.have.nested.property('request.port', 8080);
    expect(parsed).to.have.nested.property('request.host', 'web.example.com');
    expect(parsed).to.have.nested.property('request.method', 'POST');
    expect(parsed).to.have.nested.property('request.query', 'x=1');
    expect(parsed).to.not.have.nested.property('request.headers.host');
    expect(parseExplainArgs(['http://web.example.com/'])).to.deep.equal({
      error: 'say where the request is sent: --gateway NS/NAME, --address IP, or a URL with an IP address',
    });
    expect(parseExplainArgs(['--gateway', 'a/b', '-o', 'xml'])).to.deep.equal({
      error: '-o takes text, json or yaml, not xml',
    });
    expect(parseExplainArgs(['--gateway', 'a/b', '--port', '0'])).to.have.property('error');
    expect(parseExplainArgs(['--gateway'])).to.deep.equal({ error: '--gateway needs a value' });
  });
});
