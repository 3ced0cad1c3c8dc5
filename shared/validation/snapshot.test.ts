import { expect } from 'chai';
import { indexSnapshot } from '../ir/delta.ts';
import type { ConfigSnapshot } from '../ir/snapshot.ts';
import { validateIndex } from './snapshot.ts';
import { validateDeltaShape } from './delta.ts';
import { backend, httpListener, httpRoute, prefix, rule, snapshot } from '../testing/ir-builders.ts';

function validate(s: ConfigSnapshot) {
  return validateIndex(indexSnapshot(s), s.irVersion);
}

describe('snapshot validation', () => {
  const listener = httpListener('ns/gw/http', 8080);
  const be = backend('ns/svc:80', [['10.0.0.1', 80]]);
  const good = () =>
    snapshot(1, {
      listeners: [listener],
      backends: [be],
      httpRoutes: [httpRoute('r', [listener.key], [rule([prefix('/')], [be.key])])],
    });

  it('accepts a well-formed snapshot', () => {
    expect(validate(good())).to.deep.equal([]);
  });

  it('refuses an unknown IR version', () => {
    expect(validate({ ...good(), irVersion: 99 })[0].code).to.equal('UnsupportedVersion');
  });

  it('names the field of a regex bomb that RE2 cannot accept and of an invalid path', () => {
    const s = good();
    s.httpRoutes[0].rules[0].matches = [
      { path: { type: 'RegularExpression', value: '(a{1000}){1000}' }, headers: [], queryParams: [] },
      { path: { type: 'Exact', value: '/a/../b' }, headers: [], queryParams: [] },
    ];
    const problems = validate(s);
    expect(problems.map((p) => p.path)).to.deep.equal([
      'httpRoutes[r].rules[0].matches[0].path.value',
      'httpRoutes[r].rules[0].matches[1].path.value',
    ]);
    expect(problems[0].code).to.equal('InvalidRegex');
  });

  it('refuses header values with CR/LF (response splitting)', () => {
    const s = good();
    s.httpRoutes[0].rules[0].filters = [
      { type: 'ResponseHeaderModifier', set: [{ name: 'x', value: 'a\r\nSet-Cookie: y' }], add: [], remove: [] },
    ];
    expect(validate(s)[0].path).to.equal('httpRoutes[r].rules[0].filters[0].set[0].value');
  });

  it('finds references to records that are not there', () => {
    const s = good();
    s.httpRoutes[0].rules[0].backends.push({ backendKey: 'ns/missing:80', weight: 1, filters: [] });
    s.httpRoutes[0].parents.push({ listenerKey: 'ns/gw/nope', hostnames: [] });
    expect(validate(s).map((p) => p.code)).to.deep.equal(['UnknownReference', 'UnknownReference']);
  });

  it('finds listeners that cannot share a socket', () => {
    const s = good();
    s.listeners.push(httpListener('ns/gw/tcp', 8080, { protocol: 'TCP' }), httpListener('ns/gw/http2', 8080));
    const problems = validate(s);
    expect(problems.map((p) => p.code)).to.deep.equal(['ListenerConflict', 'ListenerConflict']);
  });

  it('groups listeners by the port they bind (bindPort), not the Gateway port', () => {
    const s = good();
    const bound = (key: string, port: number, bindPort: number) =>
      httpListener(key, port, { address: '0.0.0.0', bindPort });
    s.listeners = [bound('ns/a/http', 80, 10000), bound('ns/b/http', 80, 10001)];
    s.httpRoutes = [];
    expect(validate(s)).to.deep.equal([]);
    s.listeners.push(bound('ns/c/http', 8080, 10001));
    expect(validate(s).map((p) => p.message)).to.deep.equal([
      'listeners[ns/c/http] and ns/b/http both take hostname "*" on tcp:0.0.0.0:10001',
    ]);
    s.listeners = [bound('ns/a/http', 80, 0)];
    expect(validate(s).map((p) => p.path)).to.deep.equal(['listeners[ns/a/http].bindPort']);
  });

  it('reports garbage records instead of throwing', () => {
    const s = good() as any;
    s.httpRoutes[0].rules = 'nope';
    s.backends[0].endpoints = [{ address: 'not-an-ip', port: 0 }];
    s.listeners[0].tls = 5;
    expect(validate(s).map((p) => p.path)).to.deep.equal([
      'listeners[ns/gw/http].tls',
      'httpRoutes[r].rules',
      'backends[ns/svc:80].endpoints[0].address',
      'backends[ns/svc:80].endpoints[0].port',
    ]);
  });

  it('checks the outer shape of a delta before it is applied', () => {
    const problems = validateDeltaShape({
      generation: 2,
      baseGeneration: 1,
      upsert: { listeners: [null, { key: 'a' }, { key: 'a' }], routes: 5 },
      remove: { backends: [1] },
    });
    expect(problems.map((p) => p.code)).to.deep.equal(['MissingField', 'DuplicateKey', 'InvalidValue']);
    expect(validateDeltaShape('x')[0].code).to.equal('MissingField');
  });
});
