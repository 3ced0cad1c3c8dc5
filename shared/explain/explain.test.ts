// `portico explain` on a listener with GEP-5224 ExternalAuth filters: the chosen listener says its authorizers decide
// before any route is matched (the route verdicts below assume they allowed the request).

import { expect } from 'chai';
import { indexSnapshot } from '../ir/delta.ts';
import { backend, httpListener, httpRoute, prefix, rule, snapshot } from '../testing/ir-builders.ts';
import { explain } from './explain.ts';

describe('explain with listener authorizers', () => {
  it("names the chosen listener's ExternalAuth filters, in order, unresolved ones included", () => {
    const auth = {
      pathPrefix: '',
      allowedRequestHeaders: [],
      allowedResponseHeaders: [],
      forwardBodyMaxBytes: 0,
      timeoutMs: 1000,
    };
    const listener = httpListener('ns/gw/guarded', 8080, {
      externalAuth: [
        { ...auth, protocol: 'GRPC', backendKey: 'ns/authz:9001/h2c' },
        { ...auth, protocol: 'HTTP', backendKey: null },
      ],
    });
    const index = indexSnapshot(
      snapshot(1, {
        listeners: [listener],
        backends: [backend('ns/app:80', [['10.0.0.1', 80]]), backend('ns/authz:9001/h2c', [['10.0.0.2', 9001]])],
        httpRoutes: [httpRoute('httproute/ns/app', [listener.key], [rule([prefix('/')], ['ns/app:80'])])],
      }),
    );
    const result = explain(index, {
      address: '127.0.0.1',
      port: 8080,
      scheme: 'http',
      host: 'example.com',
      path: '/x',
      method: 'GET',
      query: '',
      headers: {},
    });
    const chosen = result.listeners.find((l) => l.chosen);
    expect(chosen?.reason).to.contain(
      'its ExternalAuth filters run first, before matching: GRPC to ns/authz:9001/h2c, then HTTP to (unresolved: every request answers 500)',
    );
    expect(result.winner).to.not.equal(null);
  });
});
