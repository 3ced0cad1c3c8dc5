// The engine's upstream pool and its idle timeout, over real sockets: an idle pooled connection is closed after the
// upstream keep-alive time; a connection in use is not, however long the backend takes (that is the rule's backend
// timeout's job); and a connection is reused across requests while it is fresh.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { expect } from 'chai';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { get } from '../support/http-client.ts';

const KEEP_ALIVE_MS = 400;

describe('data plane: the engine pool idle timeout', () => {
  const address = testAddress();
  const port = 18394;
  const base = `http://${address}:${port}`;
  let h: Harness;
  let server: Server;
  /** Backend connections opened and closed (closed ones by the gateway: the backend never closes first). */
  const sockets = { opened: 0, closed: 0 };

  before(async () => {
    server = createServer({ keepAliveTimeout: 60_000 }, (req, res) => {
      const delay = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
      setTimeout(() => res.end('ok'), delay).unref();
    });
    server.on('connection', (socket: Socket) => {
      sockets.opened++;
      socket.once('close', () => sockets.closed++);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    // One shard, so that every request meets the same pool.
    h = await startHarness({ shards: 1, upstreamKeepAliveMs: KEEP_ALIVE_MS });
    const l = httpListener('ns/gw/pool', port, { address });
    const b = backend('ns/b:80', [['127.0.0.1', (server.address() as AddressInfo).port]]);
    const routes = [httpRoute('httproute/ns/pool', [l.key], [rule([prefix('/')], [b.key])])];
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: routes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    server?.closeAllConnections();
    server?.close();
  });

  it('reuses a fresh connection, and closes it once it was idle for the keep-alive time', async () => {
    const opened = sockets.opened;
    const closed = sockets.closed;
    for (let i = 0; i < 3; i++) expect((await get(`${base}/a`, { headers: { host: 'x' } })).status).to.equal(200);
    expect(sockets.opened - opened).to.equal(1);
    // Bounded waits for an event (not a timing goal): the idle timeout is 400 ms.
    const deadline = Date.now() + 10_000;
    while (sockets.closed === closed && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    expect(sockets.closed - closed).to.equal(1);
  });

  it('does not close a connection in use when the backend takes longer than the keep-alive time', async () => {
    const closed = sockets.closed;
    const reply = await get(`${base}/slow?delay=${KEEP_ALIVE_MS * 3}`, { headers: { host: 'x' } });
    expect(reply.status).to.equal(200);
    expect(reply.text).to.equal('ok');
    expect(sockets.closed).to.equal(closed);
  });
});
