// HTTP/2 flood defences (dataplane/shard/h2-limits.ts), each against a real data plane with a raw client writing the
// frames itself (h2-frames.ts): rapid reset (CVE-2023-44487) while another client keeps being served, CONTINUATION,
// SETTINGS and PING floods, oversized header lists, too many concurrent streams, a zero window that never opens,
// and an invalid connection preface on a plain listener (h2spec 3.5). Over h2c on a plain listener, and the floods
// once more over TLS (ALPN h2), where the same limits apply.

import { constants, connect } from 'node:http2';
import { expect } from 'chai';
import { H2_LIMITS } from '../../dataplane/shard/h2-limits.ts';
import type { CertificateRecord } from '../../shared/ir/listener.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { makeCa, makeLeaf } from '../support/certs.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { FLAG, FRAME, PREFACE, RawH2, SETTING, frame, headerBlock, request } from './h2-frames.ts';

const KEEP_ALIVE_MS = 1500;
const HOST = 'h2.example.com';

/** A GET with node:http2 (a well-behaved client) on its own session: the status, or the error. */
function wellBehavedGet(url: string, path: string): Promise<number | string> {
  return new Promise((resolve) => {
    const session = connect(url, { rejectUnauthorized: false });
    session.on('error', (error) => resolve(String(error)));
    const stream = session.request({ ':path': path, ':authority': HOST });
    stream.on('response', (headers) => {
      stream.resume();
      stream.on('end', () => {
        session.close();
        resolve(Number(headers[':status']));
      });
    });
    stream.on('error', (error) => {
      session.destroy();
      resolve(String(error));
    });
    stream.end();
  });
}

/** Sends a PING and waits for its ACK (or the end of the connection): the server has read everything sent before. */
async function pingRoundTrip(client: RawH2): Promise<void> {
  const payload = Buffer.from('roundtrp');
  client.write(frame(FRAME.PING, 0, 0, payload));
  await client.until((c) =>
    c.frames.some((f) => f.type === FRAME.PING && (f.flags & FLAG.ACK) !== 0 && f.payload.equals(payload)),
  );
}

describe('data plane: HTTP/2 flood defences', function () {
  this.timeout(30_000);
  const address = testAddress();
  const plainPort = 18191;
  const tlsPort = 18192;
  let h: Harness;
  let echo: EchoServer;
  /** The backend of `/slow` (requests held open there must not queue in front of the others). */
  let slow: EchoServer;

  before(async () => {
    echo = await startEchoServer('echo');
    slow = await startEchoServer('slow');
    h = await startHarness({ shards: 1, keepAliveTimeoutMs: KEEP_ALIVE_MS });
    const ca = makeCa();
    const leaf = makeLeaf(ca, [HOST]);
    const certificate: CertificateRecord = { key: 'ns/h2', certificatePem: leaf.cert, privateKeyPem: leaf.key };
    const plain = httpListener('ns/gw/plain', plainPort, { address });
    const secure = httpListener('ns/gw/tls', tlsPort, {
      address,
      protocol: 'HTTPS',
      tls: { mode: 'Terminate', certificateKeys: [certificate.key] },
    });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const s = backend('ns/slow:80', [['127.0.0.1', slow.port]]);
    const outcome = await h.publish({
      listeners: [plain, secure],
      backends: [b, s],
      certificates: [certificate],
      httpRoutes: [
        httpRoute(
          'httproute/ns/r',
          [plain.key, secure.key],
          [rule([prefix('/slow')], [s.key]), rule([prefix('/')], [b.key])],
        ),
      ],
    });
    expect(outcome.outcome).to.equal('ack');
  });

  after(async () => {
    await h?.stop();
    await echo?.close();
    await slow?.close();
  });

  const clients: RawH2[] = [];
  const open = async (options: Parameters<typeof RawH2.connect>[2] = {}) => {
    const client = await RawH2.connect(address, options.tls ? tlsPort : plainPort, { servername: HOST, ...options });
    clients.push(client);
    return client;
  };
  afterEach(() => {
    for (const client of clients.splice(0)) client.close();
  });

  it('closes a plain connection that opens with an invalid preface, unanswered (h2spec 3.5), and still serves HTTP/1.1 and h2c', async () => {
    for (const opening of [
      'INVALID CONNECTION PREFACE\r\n\r\n',
      'PRI * HTTP/2.0\r\n\r\nXX\r\n\r\n',
      '\x16\x03\x01\x02\x00',
    ]) {
      const client = await open({ preface: false });
      client.write(Buffer.from(opening, 'latin1'));
      await client.until(() => false);
      expect(client.closed, JSON.stringify(opening)).to.equal(true);
      expect(client.frames, JSON.stringify(opening)).to.deep.equal([]);
      expect(client.garbage, JSON.stringify(opening)).to.equal(false);
    }
    expect((await get(`http://${address}:${plainPort}/`, { headers: { host: HOST } })).status).to.equal(200);
    expect(await wellBehavedGet(`http://${address}:${plainPort}`, '/')).to.equal(200);
  });

  for (const tls of [false, true]) {
    const over = tls ? 'h2 over TLS' : 'h2c';

    it(`${over}: cuts off a client that opens and resets streams in a loop (rapid reset), and serves another client meanwhile`, async () => {
      const attacker = await open({ tls });
      const url = `${tls ? 'https' : 'http'}://${address}:${tls ? tlsPort : plainPort}`;
      const others: Array<Promise<number | string>> = [];
      let stream = 1;
      for (; stream < 2 * 5000 && !attacker.cutOff(); stream += 2) {
        // Each reset stream still costs a request to the backend (see SECURITY.md): keep those short.
        const block = request(HOST, '/');
        attacker.write(
          Buffer.concat([
            frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, stream, block),
            frame(FRAME.RST_STREAM, 0, stream, Buffer.from([0, 0, 0, constants.NGHTTP2_CANCEL])),
          ]),
        );
        if (stream % 101 === 0) {
          others.push(wellBehavedGet(url, '/'));
          await new Promise((r) => setImmediate(r));
        }
      }
      await attacker.until((c) => c.cutOff());
      expect(attacker.cutOff(), 'the attacker is cut off').to.equal(true);
      // Control: a client that resets a few streams (well within the limit) keeps its connection.
      const calm = await open({ tls });
      for (let id = 1; id <= 39; id += 2)
        calm.write(
          Buffer.concat([
            frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, id, request(HOST, '/')),
            frame(FRAME.RST_STREAM, 0, id, Buffer.from([0, 0, 0, constants.NGHTTP2_CANCEL])),
          ]),
        );
      await pingRoundTrip(calm);
      expect(calm.cutOff(), 'a client resetting 20 streams').to.equal(false);
      others.push(wellBehavedGet(url, '/'));
      expect(await Promise.all(others)).to.satisfy((statuses: unknown[]) => statuses.every((s) => s === 200));
    });

    it(`${over}: cuts off a SETTINGS flood and a PING flood`, async () => {
      for (const [name, unit] of [
        ['SETTINGS', frame(FRAME.SETTINGS, 0, 0)],
        ['PING', frame(FRAME.PING, 0, 0, Buffer.alloc(8))],
      ] as const) {
        const client = await open({ tls });
        let sent = 0;
        for (; sent < 20_000 && !client.cutOff(); sent += 100) {
          client.write(Buffer.concat(Array.from({ length: 100 }, () => unit)));
          await new Promise((r) => setImmediate(r));
        }
        await client.until((c) => c.cutOff());
        expect(client.cutOff(), name).to.equal(true);
        // GOAWAY ENHANCE_YOUR_CALM, unless the connection went before the client could read it.
        expect([undefined, constants.NGHTTP2_ENHANCE_YOUR_CALM], name).to.include(client.goawayCode());
        // Control: the same frames, a few of them, leave the connection open.
        const calm = await open({ tls });
        calm.write(Buffer.concat(Array.from({ length: 10 }, () => unit)));
        await pingRoundTrip(calm);
        expect(calm.cutOff(), `${name}: 10 frames`).to.equal(false);
      }
    });
  }

  it('cuts off a CONTINUATION flood (a header block that never ends)', async () => {
    const client = await open();
    client.write(frame(FRAME.HEADERS, FLAG.END_STREAM, 1, request(HOST, '/')));
    let sent = 0;
    const piece = frame(FRAME.CONTINUATION, 0, 1, headerBlock([['x-flood', 'a']]));
    for (; sent < 100_000 && !client.cutOff(); sent += 100) {
      client.write(Buffer.concat(Array.from({ length: 100 }, () => piece)));
      await new Promise((r) => setImmediate(r));
    }
    await client.until((c) => c.cutOff());
    expect(client.cutOff()).to.equal(true);
    expect(sent, 'CONTINUATION frames written').to.be.greaterThan(0);
    expect(
      client.frames.filter((f) => f.type === FRAME.HEADERS),
      'no response to the endless request',
    ).to.deep.equal([]);
  });

  it('refuses a request whose header list is too big or has too many fields, and keeps serving the connection', async () => {
    const client = await open();
    const big = request(HOST, '/', [['x-big', 'a'.repeat(20 * 1024)]]);
    const many = request(
      HOST,
      '/',
      Array.from({ length: H2_LIMITS.maxHeaderListPairs + 10 }, (_, i) => [`x-h${i}`, 'v'] as [string, string]),
    );
    // A header block bigger than a frame: HEADERS then CONTINUATION, as a client must send it.
    client.write(frame(FRAME.HEADERS, FLAG.END_STREAM, 1, big.subarray(0, 16_384)));
    client.write(frame(FRAME.CONTINUATION, FLAG.END_HEADERS, 1, big.subarray(16_384)));
    client.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 3, many));
    client.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 5, request(HOST, '/')));
    const answered = (c: RawH2, stream: number) =>
      c.frames.some((f) => f.stream === stream && (f.type === FRAME.RST_STREAM || f.type === FRAME.HEADERS));
    await client.until((c) => [1, 3, 5].every((s) => answered(c, s)));
    expect(client.status(1), 'a header list over maxHeaderBytes: 431').to.equal(431);
    expect(client.resetCode(3), 'too many header fields: reset').to.equal(constants.NGHTTP2_ENHANCE_YOUR_CALM);
    expect(client.status(5), 'the next request on the connection is served').to.equal(200);
    expect(client.cutOff()).to.equal(false);
    expect(
      echo.received.filter((r) => r.headers['x-big'] !== undefined || r.headers['x-h0'] !== undefined),
    ).to.deep.equal([]);
  });

  it(`refuses streams beyond ${H2_LIMITS.maxConcurrentStreams} concurrent ones, and cuts off a client that keeps opening them`, async () => {
    const client = await open();
    let stream = 1;
    const limit = H2_LIMITS.maxConcurrentStreams;
    for (; stream < 2 * (limit + 2 * H2_LIMITS.maxSessionRejectedStreams + 50) && !client.cutOff(); stream += 2) {
      client.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, stream, request(HOST, '/slow?delay=3000')));
      if (stream % 41 === 0) await new Promise((r) => setImmediate(r));
    }
    await client.until((c) => c.cutOff());
    expect(client.cutOff(), 'cut off').to.equal(true);
    // Streams beyond the limit are refused (before the client acknowledged it) or past the GOAWAY's last stream
    // (after: nghttp2 then closes the session with PROTOCOL_ERROR): none of them is served.
    const refused = new Set(
      client.frames
        .filter((f) => f.type === FRAME.RST_STREAM && f.payload.readUInt32BE(0) === constants.NGHTTP2_REFUSED_STREAM)
        .map((f) => f.stream),
    );
    const goaway = client.frames.find((f) => f.type === FRAME.GOAWAY);
    const lastAccepted = goaway === undefined ? Number.POSITIVE_INFINITY : goaway.payload.readUInt32BE(0) & 0x7fffffff;
    const accepted = [];
    for (let id = 1; id < stream; id += 2) if (!refused.has(id) && id <= lastAccepted) accepted.push(id);
    expect(accepted.length, 'streams the server took').to.be.at.most(limit);
  });

  it('resets a stream whose window never opens, or closes its idle session, after the keep-alive timeout', async () => {
    const client = await open({ settings: [[SETTING.INITIAL_WINDOW_SIZE, 0]] });
    client.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, request(HOST, '/')));
    await client.until((c) => c.closed);
    expect(client.closed, 'the session is closed').to.equal(true);
    expect(
      client.frames.some((f) => f.type === FRAME.HEADERS && f.stream === 1),
      'the response started',
    ).to.equal(true);
    expect(
      client.frames.filter((f) => f.type === FRAME.DATA && f.payload.length > 0),
      'no body sent',
    ).to.deep.equal([]);
    const reset = client.resetCode(1);
    expect(
      reset === constants.NGHTTP2_CANCEL || client.goawayCode() !== undefined,
      'RST_STREAM CANCEL or GOAWAY',
    ).to.equal(true);
  });

  it('the raw client itself is sound: a plain request on it is answered', async () => {
    const client = await open();
    expect(PREFACE.length).to.equal(24);
    client.write(frame(FRAME.HEADERS, FLAG.END_HEADERS | FLAG.END_STREAM, 1, request(HOST, '/')));
    await client.until((c) => c.frames.some((f) => f.type === FRAME.DATA && (f.flags & FLAG.END_STREAM) !== 0));
    expect(client.frames.some((f) => f.type === FRAME.HEADERS && f.stream === 1)).to.equal(true);
    expect(client.cutOff()).to.equal(false);
  });
});
