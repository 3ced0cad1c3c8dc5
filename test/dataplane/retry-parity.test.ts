// HTTPRoute retries and timeouts are decided once (dataplane/core/retry.ts) for every HTTP path: the same scenarios
// run from an HTTP/1.1 client (the engine) and an HTTP/2 client (the Fastify front end), to an HTTP/1.1 backend and
// to an h2c backend (the engine's undici path, a known limit until now), and must end with the same status, the same
// body and the same number of attempts at the backend on all four paths.

import { createServer as createH1Server } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { createServer as createH2Server } from 'node:http2';
import type { Http2Server, Http2ServerRequest, Http2ServerResponse, ServerHttp2Session } from 'node:http2';
import { createServer as createNetServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import type { HttpRule, RetryPolicy } from '../../shared/ir/route.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { CLIENT_PROTOCOLS, getWith } from '../support/http-client.ts';

type Hits = Map<string, number>;

/**
 * The scenario backend, the same handler for both protocols. Per `?key=`: `fail=N` answers `status` (default 503) to
 * the first N attempts; `hold=1` holds the first attempt for 5 s; then 200 `attempt <n>`.
 */
function scenarioHandler(hits: Hits) {
  return (req: IncomingMessage | Http2ServerRequest, res: ServerResponse | Http2ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = url.searchParams.get('key') ?? '';
    const n = (hits.get(key) ?? 0) + 1;
    hits.set(key, n);
    req.resume();
    const answer = () => {
      if (res.destroyed) return;
      const failing = n <= Number(url.searchParams.get('fail') ?? 0);
      const status = failing ? Number(url.searchParams.get('status') ?? 503) : 200;
      (res as ServerResponse).writeHead(status, { 'content-type': 'text/plain' });
      res.end(`attempt ${n}`);
    };
    // The body (if any) is read before the answer, as a real service would.
    req.once('end', () => {
      if (n === 1 && url.searchParams.get('hold') === '1') setTimeout(answer, 5000).unref();
      else answer();
    });
  };
}

const RETRY: RetryPolicy = {
  attempts: 3,
  codes: [503],
  backoffMs: 5,
  onConnectionError: true,
  onBackendTimeout: false,
};

interface Scenario {
  name: string;
  path: string;
  query: string;
  method?: string;
  body?: string;
  /** What every path must see: the client's status and body, and the attempts the backend counted. */
  expected: { status: number; text: string; attempts: number };
}

const SCENARIOS: Scenario[] = [
  {
    name: 'a listed status is retried until it succeeds',
    path: '/codes',
    query: 'fail=2',
    expected: { status: 200, text: 'attempt 3', attempts: 3 },
  },
  {
    name: 'retries stop after `attempts`: the last failure is the answer',
    path: '/codes',
    query: 'fail=9',
    expected: { status: 503, text: 'attempt 4', attempts: 4 },
  },
  {
    name: 'a status the rule does not list is not retried',
    path: '/codes',
    query: 'fail=9&status=500',
    expected: { status: 500, text: 'attempt 1', attempts: 1 },
  },
  {
    name: 'a request with a body is not retried (a streamed body cannot be sent twice)',
    path: '/codes',
    query: 'fail=2',
    method: 'POST',
    body: 'payload',
    expected: { status: 503, text: 'attempt 1', attempts: 1 },
  },
  {
    name: 'an attempt that ran out its backend timeout is retried when onBackendTimeout is set',
    path: '/timeout-retry',
    query: 'hold=1',
    expected: { status: 200, text: 'attempt 2', attempts: 2 },
  },
  {
    name: 'a timed-out attempt is not retried without onBackendTimeout, even with 504 in codes',
    path: '/timeout-no-retry',
    query: 'hold=1',
    expected: { status: 504, text: 'upstream timed out\n', attempts: 1 },
  },
  {
    name: 'a rule without a retry policy makes one attempt',
    path: '/once',
    query: 'fail=1',
    expected: { status: 503, text: 'attempt 1', attempts: 1 },
  },
];

const BACKEND_PROTOCOLS = ['http1', 'h2c'] as const;

describe('data plane: one retry policy on every path (HTTP/1.1 and HTTP/2 clients, HTTP/1.1 and h2c backends)', () => {
  const address = testAddress();
  const port = 18392;
  const base = `http://${address}:${port}`;
  let h: Harness;
  const hits: Hits = new Map();
  let h1: Server;
  let h2: Http2Server;
  const sessions = new Set<ServerHttp2Session>();
  let deadPort = 0;

  before(async () => {
    h1 = createH1Server(scenarioHandler(hits));
    h2 = createH2Server(scenarioHandler(hits));
    h2.on('session', (s) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
    for (const server of [h1, h2] as Array<Server | Http2Server>)
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const dead = createNetServer();
    await new Promise<void>((r) => dead.listen(0, '127.0.0.1', r));
    deadPort = (dead.address() as AddressInfo).port;
    await new Promise<void>((r) => dead.close(() => r()));
    h = await startHarness();
    const l = httpListener('ns/gw/retry', port, { address });
    const backends = [];
    const rules: HttpRule[] = [];
    for (const protocol of BACKEND_PROTOCOLS) {
      const live = (protocol === 'h2c' ? h2 : h1).address() as AddressInfo;
      const key = `ns/${protocol}:80`;
      const halfKey = `ns/${protocol}-half:80`;
      backends.push(backend(key, [['127.0.0.1', live.port]], { protocol }));
      // One endpoint refuses connections, one answers: connection-error retries must move to the live one.
      backends.push(
        backend(
          halfKey,
          [
            ['127.0.0.1', deadPort],
            ['127.0.0.1', live.port],
          ],
          { protocol },
        ),
      );
      const r = (path: string, keys: string[], extra: Partial<HttpRule>) =>
        rule([prefix(`/${protocol}${path}`)], keys, extra);
      rules.push(
        r('/codes', [key], { retry: RETRY }),
        r('/timeout-retry', [key], {
          timeouts: { backendRequestMs: 200 },
          retry: { ...RETRY, attempts: 1, codes: [], onBackendTimeout: true },
        }),
        r('/timeout-no-retry', [key], {
          timeouts: { backendRequestMs: 200 },
          retry: { ...RETRY, attempts: 1, codes: [504], onConnectionError: true },
        }),
        r('/once', [key], {}),
        r('/conn', [halfKey], { retry: { ...RETRY, attempts: 2, codes: [] } }),
      );
    }
    const routes = [httpRoute('httproute/ns/retry', [l.key], rules)];
    expect((await h.publish({ listeners: [l], backends, httpRoutes: routes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    h1?.closeAllConnections();
    h1?.close();
    for (const s of sessions) s.destroy();
    h2?.close();
  });

  for (const scenario of SCENARIOS) {
    it(scenario.name, async () => {
      const outcomes: Record<string, unknown> = {};
      const expected: Record<string, unknown> = {};
      for (const backendProtocol of BACKEND_PROTOCOLS) {
        for (const clientProtocol of CLIENT_PROTOCOLS) {
          const label = `${clientProtocol} client → ${backendProtocol} backend`;
          const key = `${scenario.path}:${label}:${Math.random()}`;
          const url = `${base}/${backendProtocol}${scenario.path}?key=${encodeURIComponent(key)}&${scenario.query}`;
          const reply = await getWith(clientProtocol)(url, {
            method: scenario.method,
            body: scenario.body,
            headers: { host: 'retry.test' },
          });
          outcomes[label] = { status: reply.status, text: reply.text, attempts: hits.get(key) ?? 0 };
          expected[label] = scenario.expected;
        }
      }
      // As text: a mismatch then shows every path's outcome, not chai's shortened object.
      expect(JSON.stringify(outcomes, null, 1)).to.equal(JSON.stringify(expected, null, 1));
    });
  }

  it('a connection error is retried on another endpoint, on every path', async () => {
    const outcomes: Record<string, number[]> = {};
    const expected: Record<string, number[]> = {};
    for (const backendProtocol of BACKEND_PROTOCOLS) {
      for (const clientProtocol of CLIENT_PROTOCOLS) {
        const label = `${clientProtocol} client → ${backendProtocol} backend`;
        const statuses: number[] = [];
        // Endpoints are picked in turn: over 6 requests about half first land on the refusing endpoint.
        for (let i = 0; i < 6; i++) {
          const reply = await getWith(clientProtocol)(`${base}/${backendProtocol}/conn?key=c${i}${label}`, {
            headers: { host: 'retry.test' },
          });
          statuses.push(reply.status);
        }
        outcomes[label] = statuses;
        expected[label] = [200, 200, 200, 200, 200, 200];
      }
    }
    // As text: a mismatch then shows every path's outcome, not chai's shortened object.
    expect(JSON.stringify(outcomes, null, 1)).to.equal(JSON.stringify(expected, null, 1));
  });
});
