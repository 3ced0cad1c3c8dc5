// The encoder against a small protobuf reader written here from the wire-format spec (varint, fixed64, length-
// delimited). The real check of the bytes is Jaeger (test/observability/jaeger.test.ts); this one pins the field
// numbers and the nested-length handling (a message longer than 127 bytes moves its bytes to fit a longer length).

import { expect } from 'chai';
import { encodeExportRequest, msToUnixNano } from './otlp.ts';
import { SPAN_KIND, STATUS_CODE, Span } from './span.ts';

type Field = { field: number; wire: number; value: bigint | Uint8Array };

function readVarint(buf: Uint8Array, at: { pos: number }): bigint {
  let result = 0n;
  let shift = 0n;
  for (;;) {
    const byte = buf[at.pos++];
    result |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return result;
    shift += 7n;
  }
}

function decode(buf: Uint8Array): Field[] {
  const at = { pos: 0 };
  const fields: Field[] = [];
  while (at.pos < buf.length) {
    const key = Number(readVarint(buf, at));
    const field = key >> 3;
    const wire = key & 7;
    if (wire === 0) fields.push({ field, wire, value: readVarint(buf, at) });
    else if (wire === 1) {
      fields.push({ field, wire, value: new DataView(buf.buffer, buf.byteOffset + at.pos).getBigUint64(0, true) });
      at.pos += 8;
    } else if (wire === 2) {
      const length = Number(readVarint(buf, at));
      fields.push({ field, wire, value: buf.subarray(at.pos, at.pos + length) });
      at.pos += length;
    } else throw new Error(`wire type ${wire}`);
  }
  expect(at.pos).to.equal(buf.length);
  return fields;
}

const one = (fields: Field[], n: number) => {
  const found = fields.filter((f) => f.field === n);
  expect(found, `field ${n}`).to.have.length(1);
  return found[0].value;
};
const msg = (fields: Field[], n: number) => decode(one(fields, n) as Uint8Array);
const text = (v: bigint | Uint8Array) => Buffer.from(v as Uint8Array).toString('utf8');
const hex = (v: bigint | Uint8Array) => Buffer.from(v as Uint8Array).toString('hex');

describe('telemetry/otlp', () => {
  const span = new Span(
    '4bf92f3577b34da6a3ce929d0e0e4736',
    '00f067aa0ba902b7',
    '1111111111111111',
    'vendor=x',
    SPAN_KIND.server,
    'GET /api',
    1_764_633_600_123.25,
  );
  span.endMs = 1_764_633_600_124.5;
  span
    .set('http.request.method', 'GET')
    .set('http.response.status_code', 503)
    .set('portico.duration_ms', 2)
    .set('portico.mirror', true)
    .set('http.request.header.x-request-id', ['abc'])
    .set('url.path', `/${'x'.repeat(300)}`)
    .fail('503');

  it('encodes a span with its ids, kind, times, attributes of every type and status', () => {
    const body = encodeExportRequest(
      { attributes: { 'service.name': 'portico-gateway' }, scope: { name: 'portico', version: '0.1.0' } },
      [span],
    );
    const resourceSpans = msg(decode(body), 1);
    const resource = msg(resourceSpans, 1);
    const serviceName = decode(one(resource, 1) as Uint8Array);
    expect(text(one(serviceName, 1))).to.equal('service.name');
    expect(text(one(msg(serviceName, 2), 1))).to.equal('portico-gateway');
    const scopeSpans = msg(resourceSpans, 2);
    expect(text(one(msg(scopeSpans, 1), 1))).to.equal('portico');
    const s = msg(scopeSpans, 2);
    expect(hex(one(s, 1))).to.equal(span.traceId);
    expect(hex(one(s, 2))).to.equal(span.spanId);
    expect(text(one(s, 3))).to.equal('vendor=x');
    expect(hex(one(s, 4))).to.equal('1111111111111111');
    expect(text(one(s, 5))).to.equal('GET /api');
    expect(one(s, 6)).to.equal(2n);
    expect(one(s, 7)).to.equal(1_764_633_600_123_250_000n);
    expect(one(s, 8)).to.equal(1_764_633_600_124_500_000n);
    const attrs = new Map(
      s
        .filter((f) => f.field === 9)
        .map((f) => {
          const kv = decode(f.value as Uint8Array);
          return [text(one(kv, 1)), msg(kv, 2)] as const;
        }),
    );
    expect(text(one(attrs.get('http.request.method') ?? [], 1))).to.equal('GET');
    expect(one(attrs.get('http.response.status_code') ?? [], 3)).to.equal(503n); // int_value
    // a dictionary double stays a double even when whole: double_value (4) holding 2.0
    expect(one(attrs.get('portico.duration_ms') ?? [], 4)).to.equal(0x4000000000000000n);
    expect(one(attrs.get('portico.mirror') ?? [], 2)).to.equal(1n); // bool_value
    const array = msg(attrs.get('http.request.header.x-request-id') ?? [], 5);
    expect(text(one(msg(array, 1), 1))).to.equal('abc');
    expect(text(one(attrs.get('url.path') ?? [], 1))).to.have.length(301);
    expect(text(one(attrs.get('error.type') ?? [], 1))).to.equal('503');
    const status = msg(s, 15);
    expect(one(status, 3)).to.equal(BigInt(STATUS_CODE.error));
  });

  it('encodes many spans into one request, each a complete message', () => {
    const body = encodeExportRequest({ attributes: { 'service.name': 's' }, scope: { name: 'p', version: '1' } }, [
      ...Array(300).fill(span),
    ]);
    expect(body.length).to.be.greaterThan(300 * 300);
    const scopeSpans = msg(msg(decode(body), 1), 2);
    expect(scopeSpans.filter((f) => f.field === 2)).to.have.length(300);
  });

  it('converts epoch milliseconds with a fraction to exact nanoseconds', () => {
    expect(msToUnixNano(1.5)).to.equal(1_500_000n);
    expect(msToUnixNano(1_764_633_600_000)).to.equal(1_764_633_600_000_000_000n);
  });
});
