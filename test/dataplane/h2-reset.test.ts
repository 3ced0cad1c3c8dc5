// A client that resets its HTTP/2 stream (RST_STREAM CANCEL) while the gateway waits for the backend cancels the
// upstream attempt: the backend sees its request go away (the HTTP/1.1 connection closed, or the h2c stream reset),
// instead of the gateway holding the attempt until the backend answers. The client's session keeps working.
// Real node:http2 client, real node:http and node:http2 backends that hold their answer for 30 s.

import { createServer as createH1Server } from 'node:http';
import type { Server } from 'node:http';
import { connect, constants, createServer as createH2Server } from 'node:http2';
import type { ClientHttp2Session, Http2Server, ServerHttp2Session } from 'node:http2';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';

/** What a holding backend saw of each request (by path): it arrived; it went away before an answer. */
interface Seen {
  arrived: Map<string, () => void>;
  gone: Map<string, () => void>;
}

function expect1(map: Map<string, () => void>, path: string): Promise<void> {
  return new Promise((resolve) => map.set(path, resolve));
}

/** Holds every request for 30 s unless it is `/fast`; reports arrivals and requests that closed unanswered. */
function holdingHandler(seen: Seen) {
  return (
    req: { url?: string },
    res: { writableEnded: boolean; once(e: 'close', f: () => void): void; end(b: string): void },
  ) => {
    const path = req.url ?? '/';
    if (path === '/fast') return res.end('fast');
    seen.arrived.get(path)?.();
    const timer = setTimeout(() => res.end('late'), 30_000);
    timer.unref();
    res.once('close', () => {
      clearTimeout(timer);
      // writableEnded: an HTTP/2 compatibility response reports writableFinished on a reset stream too.
      if (!res.writableEnded) seen.gone.get(path)?.();
    });
  };
}

/** Waits for `promise`, or fails after `ms` with `what` (a bound on a hang, not a timing goal). */
function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function fetchH2(session: ClientHttp2Session, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const stream = session.request({ ':path': path, ':authority': 'reset.test' });
    let status = 0;
    let body = '';
    stream.on('response', (headers) => (status = Number(headers[':status'])));
    stream.setEncoding('utf8');
    stream.on('data', (chunk: string) => (body += chunk));
    stream.on('end', () => resolve({ status, body }));
    stream.on('error', reject);
  });
}

describe('data plane: an HTTP/2 client stream reset cancels the upstream attempt', () => {
  const address = testAddress();
  const port = 18393;
  let h: Harness;
  let h1: Server;
  let h2: Http2Server;
  const sessions = new Set<ServerHttp2Session>();
  const seen: Seen = { arrived: new Map(), gone: new Map() };
  let client: ClientHttp2Session;

  before(async () => {
    h1 = createH1Server(holdingHandler(seen));
    h2 = createH2Server(holdingHandler(seen) as never);
    h2.on('session', (s) => {
      sessions.add(s);
      s.once('close', () => sessions.delete(s));
    });
    for (const server of [h1, h2] as Array<Server | Http2Server>)
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    h = await startHarness();
    const l = httpListener('ns/gw/reset', port, { address });
    const b1 = backend('ns/h1:80', [['127.0.0.1', (h1.address() as AddressInfo).port]]);
    const b2 = backend('ns/h2c:80', [['127.0.0.1', (h2.address() as AddressInfo).port]], { protocol: 'h2c' });
    const routes = [
      httpRoute(
        'httproute/ns/reset',
        [l.key],
        [
          rule([prefix('/h1')], [b1.key], {
            // A retry policy and a request deadline must not bring the cancelled request back.
            retry: { attempts: 2, codes: [503], backoffMs: 10, onConnectionError: true, onBackendTimeout: true },
            timeouts: { requestMs: 20_000 },
          }),
          rule([prefix('/h2c')], [b2.key]),
          rule([prefix('/fast')], [b1.key]),
        ],
      ),
    ];
    expect((await h.publish({ listeners: [l], backends: [b1, b2], httpRoutes: routes })).outcome).to.equal('ack');
    client = connect(`http://${address}:${port}`);
  });
  after(async () => {
    client?.destroy();
    await h?.stop();
    h1?.closeAllConnections();
    h1?.close();
    for (const s of sessions) s.destroy();
    h2?.close();
  });

  for (const path of ['/h1/slow', '/h2c/slow']) {
    it(`to an ${path.startsWith('/h1') ? 'HTTP/1.1' : 'h2c'} backend: the backend sees the request go away`, async () => {
      const arrived = expect1(seen.arrived, path);
      const gone = expect1(seen.gone, path);
      const stream = client.request({ ':path': path, ':authority': 'reset.test' });
      stream.on('error', () => undefined);
      await within(arrived, 10_000, 'the request reaching the backend');
      stream.close(constants.NGHTTP2_CANCEL);
      // The backend would hold the request for 30 s: seeing it go away means the gateway cancelled the attempt.
      await within(gone, 10_000, 'the backend seeing the cancelled attempt');
      // The client's session is unharmed: the next request on it is served.
      expect(await fetchH2(client, '/fast')).to.deep.equal({ status: 200, body: 'fast' });
    });
  }
});
