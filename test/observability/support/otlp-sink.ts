// An OTLP/HTTP collector for tests and benchmarks: a real HTTP server on loopback (port 0) that answers every
// POST /v1/traces with 200. `keep: true` decodes each ExportTraceServiceRequest (a protobuf reader written from the
// wire format and the OTLP field numbers, enough for service.name, span names and string/int attributes); without it
// the bodies are counted and discarded (the benchmark's sink: it must cost the gateway nothing but the export).
// Not a mock of Jaeger: the Jaeger tests use the real one; this one checks which spans a data plane sends where.

import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SunkSpan {
  service: string;
  name: string;
  attributes: Record<string, string | number>;
}

type Field = { field: number; wire: number; value: bigint | Uint8Array };

function varint(buf: Uint8Array, at: { pos: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at.pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
}

function fields(buf: Uint8Array): Field[] {
  const at = { pos: 0 };
  const out: Field[] = [];
  while (at.pos < buf.length) {
    const key = Number(varint(buf, at));
    const wire = key & 7;
    if (wire === 0) out.push({ field: key >> 3, wire, value: varint(buf, at) });
    else if (wire === 1 || wire === 5) {
      const size = wire === 1 ? 8 : 4;
      out.push({ field: key >> 3, wire, value: buf.subarray(at.pos, at.pos + size) });
      at.pos += size;
    } else if (wire === 2) {
      const length = Number(varint(buf, at));
      out.push({ field: key >> 3, wire, value: buf.subarray(at.pos, at.pos + length) });
      at.pos += length;
    } else throw new Error(`OTLP sink: wire type ${wire} not expected`);
  }
  return out;
}

const text = (value: Field['value']) => Buffer.from(value as Uint8Array).toString('utf8');
const all = (list: Field[], n: number) => list.filter((f) => f.field === n).map((f) => f.value as Uint8Array);

/** KeyValue list (field `n`) → record: AnyValue string_value (1) or int_value (3). */
function attributesOf(list: Field[], n: number): Record<string, string | number> {
  const out: Record<string, string | number> = {};
  for (const kv of all(list, n)) {
    const parts = fields(kv);
    const key = text(all(parts, 1)[0]);
    const any = fields(all(parts, 2)[0] ?? new Uint8Array());
    const s = any.find((f) => f.field === 1);
    const i = any.find((f) => f.field === 3);
    if (s !== undefined) out[key] = text(s.value);
    else if (i !== undefined) out[key] = Number(i.value as bigint);
  }
  return out;
}

/** The spans of one ExportTraceServiceRequest body. */
export function decodeSpans(body: Uint8Array): SunkSpan[] {
  const out: SunkSpan[] = [];
  for (const resourceSpans of all(fields(body), 1)) {
    const rs = fields(resourceSpans);
    const resource = fields(all(rs, 1)[0] ?? new Uint8Array());
    const service = String(attributesOf(resource, 1)['service.name'] ?? '');
    for (const scopeSpans of all(rs, 2))
      for (const span of all(fields(scopeSpans), 2)) {
        const s = fields(span);
        out.push({ service, name: text(all(s, 5)[0] ?? new Uint8Array()), attributes: attributesOf(s, 9) });
      }
  }
  return out;
}

export class OtlpSink {
  readonly spans: SunkSpan[] = [];
  requests = 0;
  bytes = 0;
  readonly #server: Server;

  private constructor(server: Server) {
    this.#server = server;
  }

  static start(options: { keep: boolean }): Promise<OtlpSink> {
    let sink: OtlpSink;
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => {
        sink.bytes += c.length;
        if (options.keep) chunks.push(c);
      });
      req.on('end', () => {
        sink.requests++;
        if (options.keep && req.url === '/v1/traces') sink.spans.push(...decodeSpans(Buffer.concat(chunks)));
        res.writeHead(200, { 'content-type': 'application/x-protobuf' }).end();
      });
    });
    sink = new OtlpSink(server);
    return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(sink)));
  }

  get port(): number {
    return (this.#server.address() as AddressInfo).port;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  close(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }
}
