// The HTTP/1.1 engine against a plain node:http server (the same llhttp, in the same strict mode), on the same
// generated request bytes (test/support/request-fuzz.ts): both refuse the same connections (some 4xx, or none), and
// the requests that reach the engine's backend are exactly those the node:http server received — no request the
// engine forwards is one node:http would not have seen (no smuggling), and none is split or joined (framed once).
// The reference also refuses two Host headers, as RFC 9112 §3.2 asks and the engine does, and (501) a request whose
// Transfer-Encoding is anything but "chunked", as RFC 9112 §6.1 allows and the engine does.
// Replay a run with DIFF_SEED=<seed> (printed); DIFF_CASES sets the count (default 10,000).

import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { connect } from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'chai';
import { classifyCleartext } from '../../dataplane/shard/h2-limits.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { seeded } from '../../shared/testing/random-ir.ts';
import { startHarness, testAddress } from '../support/dataplane-harness.ts';
import type { Harness } from '../support/dataplane-harness.ts';
import { generateCase } from '../support/request-fuzz.ts';

interface Seen {
  method: string;
  target: string;
  body: string;
  complete: boolean;
}

const LANES = 16;
const laneAddress = (lane: number) => `127.0.77.${lane + 1}`;

/** A server that records each request under a key (the client's address), then answers 200 "ok". */
function recorder(keyOf: (req: IncomingMessage) => string, maxHeaderSize: number, gatewayRules: boolean) {
  const seen = new Map<string, Seen[]>();
  const server = createServer({ maxHeaderSize, keepAliveTimeout: 2000 }, (req, res: ServerResponse) => {
    if (
      gatewayRules &&
      req.rawHeaders.filter((_, i) => i % 2 === 0 && req.rawHeaders[i].toLowerCase() === 'host').length > 1
    ) {
      res.writeHead(400, { connection: 'close' }).end();
      return;
    }
    const te = req.headers['transfer-encoding'];
    if (gatewayRules && te !== undefined && te.trim().toLowerCase() !== 'chunked') {
      res.writeHead(501, { connection: 'close' }).end();
      return;
    }
    const key = keyOf(req);
    const record: Seen = { method: req.method ?? '', target: originForm(req.url ?? ''), body: '', complete: false };
    const list = seen.get(key) ?? [];
    list.push(record);
    seen.set(key, list);
    req.setEncoding('latin1');
    req.on('data', (chunk: string) => (record.body += chunk));
    req.on('end', () => {
      record.complete = true;
      res.writeHead(200, { 'content-type': 'text/plain', 'content-length': 2 }).end('ok');
    });
    req.on('error', () => undefined);
  });
  return { server, seen };
}

function originForm(url: string): string {
  const m = /^https?:\/\/[^/?]*/i.exec(url);
  if (m === null) return url;
  const rest = url.slice(m[0].length);
  return rest === '' ? '/' : rest.startsWith('?') ? `/${rest}` : rest;
}

/** Sends `bytes` on a new connection from the lane's address, half-closes, returns the status codes received. */
function exchange(port: number, address: string, lane: number, bytes: string): Promise<number[]> {
  return new Promise((resolve) => {
    const socket = connect({ port, host: address, localAddress: laneAddress(lane) });
    const chunks: Buffer[] = [];
    const done = () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('latin1');
      resolve([...text.matchAll(/HTTP\/1\.[01] (\d{3}) /g)].map((m) => Number(m[1])).filter((s) => s >= 200));
    };
    // Both servers see the half-close and answer; this only bounds a case that would hang (a bug, on a loaded box).
    const timer = setTimeout(() => socket.destroy(), 5000);
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', done);
    socket.on('connect', () => socket.end(Buffer.from(bytes, 'latin1')));
  });
}

describe('data plane: the HTTP/1.1 engine against node:http on generated requests', function () {
  this.timeout(600_000);
  const address = testAddress();
  const port = 18187;
  const seed = Number(process.env.DIFF_SEED ?? Math.floor(Math.random() * 2 ** 31));
  const cases = Number(process.env.DIFF_CASES ?? 10_000);
  let h: Harness;
  let reference: ReturnType<typeof recorder>;
  let upstream: ReturnType<typeof recorder>;
  let referencePort = 0;

  before(async () => {
    console.log(`      differential seed ${seed} (replay: DIFF_SEED=${seed})`);
    h = await startHarness({ maxHeaderBytes: 16 * 1024 });
    reference = recorder((req) => req.socket.remoteAddress ?? '', 16 * 1024, true);
    // The engine appends the client's address to X-Forwarded-For: the last entry names the lane.
    upstream = recorder(
      (req) => String(req.headers['x-forwarded-for']).split(',').pop()?.trim() ?? '',
      64 * 1024,
      false,
    );
    for (const s of [reference.server, upstream.server] as Server[])
      await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    referencePort = (reference.server.address() as AddressInfo).port;
    const l = httpListener('ns/gw/diff', port, { address });
    const b = backend('ns/rec:80', [['127.0.0.1', (upstream.server.address() as AddressInfo).port]]);
    const routes = [httpRoute('httproute/ns/diff', [l.key], [rule([prefix('/')], [b.key])])];
    expect((await h.publish({ listeners: [l], backends: [b], httpRoutes: routes })).outcome).to.equal('ack');
  });
  after(async () => {
    await h?.stop();
    for (const s of [reference?.server, upstream?.server]) {
      s?.closeAllConnections();
      s?.close();
    }
  });

  it(`agrees on ${cases} generated connections: same refusals, same requests forwarded`, async () => {
    const rnd = seeded(seed);
    const inputs = Array.from({ length: cases }, () => generateCase(rnd));
    const mismatches: string[] = [];
    let refused = 0;
    let forwarded = 0;
    let next = 0;
    const lane = async (n: number) => {
      const key = laneAddress(n);
      while (next < inputs.length) {
        const index = next++;
        const bytes = inputs[index];
        reference.seen.delete(key);
        upstream.seen.delete(key);
        const [viaNode, viaEngine] = await Promise.all([
          exchange(referencePort, '127.0.0.1', n, bytes),
          exchange(port, address, n, bytes),
        ]);
        const expected = (reference.seen.get(key) ?? []).map(
          (s) => `${s.method} ${s.target}${s.complete ? ` ${JSON.stringify(s.body)}` : ''}`,
        );
        const got = (upstream.seen.get(key) ?? []).map(
          (s) => `${s.method} ${s.target}${s.complete ? ` ${JSON.stringify(s.body)}` : ''}`,
        );
        const nodeRefused = viaNode.some((s) => s >= 400);
        // A plain listener also speaks h2c: a connection whose first bytes are neither an HTTP/1.x request line's
        // method nor the HTTP/2 preface is closed unanswered, as an HTTP/2 server closes an invalid preface (h2spec
        // 3.5; dataplane/shard/h2-limits.ts). That is the engine's refusal of what node:http answers with 400.
        const closedUnanswered = classifyCleartext(Buffer.from(bytes, 'latin1')) === 'close' && viaEngine.length === 0;
        const engineRefused = closedUnanswered || viaEngine.some((s) => s >= 400);
        if (nodeRefused) refused++;
        forwarded += got.length;
        // What the engine forwards is what node:http received, in order, and at least every request node:http
        // answered: node:http parses (and hands over) pipelined requests eagerly, even after one that ends the
        // connection; the engine reads the next request only when the previous one is answered.
        const prefixOf = got.every((line, i) => expected[i] === line);
        const served = viaNode.filter((s) => s < 300).length;
        if (nodeRefused !== engineRefused || !prefixOf || got.length < served) {
          mismatches.push(
            `case ${index}: ${JSON.stringify(bytes.slice(0, 300))}\n  node:http ${JSON.stringify(viaNode)} saw ${JSON.stringify(expected)}\n  engine ${JSON.stringify(viaEngine)} forwarded ${JSON.stringify(got)}`,
          );
        }
      }
    };
    await Promise.all(Array.from({ length: LANES }, (_, n) => lane(n)));
    console.log(`      ${cases} cases: node:http refused ${refused}, the engine forwarded ${forwarded} requests`);
    if (mismatches.length > 0)
      console.log(`      replay with DIFF_SEED=${seed}:\n${mismatches.slice(0, 5).join('\n')}`);
    expect(mismatches.slice(0, 10), `seed ${seed}: ${mismatches.length} mismatches`).to.deep.equal([]);
    // The generator must exercise both outcomes, or the comparison proves little.
    expect(refused).to.be.greaterThan(cases / 10);
    expect(forwarded).to.be.greaterThan(cases / 2);
  });
});
