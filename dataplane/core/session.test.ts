// Session tokens on their own (the path through both front ends is test/dataplane/session-persistence.test.ts): the
// absolute timeout against an injected clock, the seal over the issue time, keys, endpoint ids, and cookie parsing.

import { expect } from 'chai';
import { backend } from '../../shared/testing/ir-builders.ts';
import { UpstreamRegistry } from '../upstream/registry.ts';
import { SessionTokens, compileSession, cookieValue, requestToken, tokenHeaderValue } from './session.ts';

const OPTIONS = { connectionsPerEndpoint: 1, connectTimeoutMs: 1000, keepAliveTimeoutMs: 1000 };

function runtimeOf(registry: UpstreamRegistry, endpoints: Array<[string, number]>) {
  const record = backend('ns/app:80', endpoints);
  registry.prepare([record], new Map())();
  const runtime = registry.backend('ns/app:80', undefined);
  if (runtime === undefined) throw new Error('no runtime');
  return runtime;
}

describe('core: session persistence tokens', () => {
  const registry = new UpstreamRegistry(OPTIONS);
  const runtime = runtimeOf(registry, [
    ['10.0.0.1', 8080],
    ['10.0.0.2', 8080],
  ]);
  after(() => registry.close());
  const tokens = new SessionTokens('test-key');

  it('names each endpoint with an opaque id that resolves to it, and to nothing in another key', () => {
    const [a, b] = runtime.pools;
    const ta = tokens.issue(runtime, a, 0, 0) as string;
    const tb = tokens.issue(runtime, b, 0, 0) as string;
    expect(ta).to.match(/^[A-Za-z0-9_-]{22}$/);
    expect(ta).to.not.equal(tb);
    expect(ta).to.not.include('10.0.0.1');
    expect(tokens.resolve(runtime, ta, 0, 0)).to.equal(a);
    expect(tokens.resolve(runtime, tb, 0, 0)).to.equal(b);
    expect(new SessionTokens('another-key').resolve(runtime, ta, 0, 0)).to.equal(null);
    expect(tokens.resolve(runtime, 'x'.repeat(22), 0, 0)).to.equal(null);
  });

  it('enforces the absolute timeout with the issue time sealed in the token', () => {
    const pool = runtime.pools[0];
    const token = tokens.issue(runtime, pool, 60, 1_000_000) as string;
    expect(token.split('.')).to.have.length(3);
    expect(tokens.resolve(runtime, token, 60, 1_000_000)).to.equal(pool);
    expect(tokens.resolve(runtime, token, 60, 1_000_059)).to.equal(pool);
    expect(tokens.resolve(runtime, token, 60, 1_000_060), 'expired').to.equal(null);
    expect(tokens.resolve(runtime, token, 60, 999_999), 'issued in the future').to.equal(null);
    const [id, , tag] = token.split('.');
    const moved = `${id}.${(1_000_050).toString(36)}.${tag}`;
    expect(tokens.resolve(runtime, moved, 60, 1_000_070), 'a moved issue time breaks the seal').to.equal(null);
    expect(tokens.resolve(runtime, id, 60, 1_000_000), 'an id alone cannot prove its age').to.equal(null);
  });

  it('reads the cookie among others, and builds Set-Cookie with Secure on HTTPS only', () => {
    expect(cookieValue('a=1; sess=tok; b=2', 'sess')).to.equal('tok');
    expect(cookieValue('xsess=no; sess=yes', 'sess')).to.equal('yes');
    expect(cookieValue(['a=1', 'sess=arr'], 'sess')).to.equal('arr');
    expect(cookieValue('a=1', 'sess')).to.equal(null);
    expect(cookieValue(undefined, 'sess')).to.equal(null);
    const cookie = compileSession({
      type: 'Cookie',
      name: 'sess',
      permanent: true,
      absoluteTimeoutMs: 1500,
      cookiePath: '/',
    });
    expect(tokenHeaderValue(cookie, 't', false)).to.equal('sess=t; Path=/; Max-Age=2; HttpOnly; SameSite=Strict');
    expect(tokenHeaderValue(cookie, 't', true)).to.equal(
      'sess=t; Path=/; Max-Age=2; HttpOnly; SameSite=Strict; Secure',
    );
    const header = compileSession({ type: 'Header', name: 'x-s', permanent: false, cookiePath: '/' });
    expect(requestToken(header, { 'x-s': 'tok' })).to.equal('tok');
    expect(tokenHeaderValue(header, 'tok', true)).to.equal('tok');
  });
});
