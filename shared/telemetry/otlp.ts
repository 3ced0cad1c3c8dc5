// OTLP/protobuf encoding of spans: an ExportTraceServiceRequest (opentelemetry-proto, collector/trace/v1), the body
// of an OTLP/HTTP `POST /v1/traces` with `content-type: application/x-protobuf`.
// Written by hand rather than with protobufjs + the .proto files or @opentelemetry/otlp-transformer: we encode one
// request shape made of eight messages, which is about 150 lines; the libraries bring a schema loader or the whole
// OpenTelemetry SDK (and its version churn) to a data plane that otherwise has none of it. The real Jaeger in
// test/observability is the oracle that the bytes are right.
// Field numbers, from opentelemetry-proto v1 (trace.proto, common.proto, resource.proto), are named below.
// Must not: be called on the request path (the exporter calls it on a batch, off the path); do I/O.

import { ATTRIBUTE_BY_KEY } from './attributes.ts';
import type { AttributeValue, Span } from './span.ts';

const WIRE_VARINT = 0;
const WIRE_FIXED64 = 1;
const WIRE_LEN = 2;

/** A growable protobuf writer. Nested messages reserve one length byte and move their bytes if it needs more. */
class Writer {
  buf = new Uint8Array(4096);
  pos = 0;

  #ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  varint(value: number): void {
    this.#ensure(10);
    while (value > 0x7f) {
      this.buf[this.pos++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[this.pos++] = value;
  }

  tag(field: number, wire: number): void {
    this.varint(field * 8 + wire);
  }

  bytes(field: number, data: Uint8Array): void {
    this.tag(field, WIRE_LEN);
    this.varint(data.length);
    this.#ensure(data.length);
    this.buf.set(data, this.pos);
    this.pos += data.length;
  }

  string(field: number, value: string): void {
    if (value.length === 0) return; // proto3 default: omitted
    this.bytes(field, textEncoder.encode(value));
  }

  hex(field: number, hexId: string): void {
    if (hexId.length === 0) return;
    this.bytes(field, Buffer.from(hexId, 'hex'));
  }

  /** fixed64 of a non-negative integer held as a bigint (unix nanoseconds exceed 2^53). */
  fixed64(field: number, value: bigint): void {
    this.tag(field, WIRE_FIXED64);
    this.#ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setBigUint64(this.pos, value, true);
    this.pos += 8;
  }

  double(field: number, value: number): void {
    this.tag(field, WIRE_FIXED64);
    this.#ensure(8);
    new DataView(this.buf.buffer, this.buf.byteOffset).setFloat64(this.pos, value, true);
    this.pos += 8;
  }

  /** int64 as a varint (two's complement for negatives, as protobuf does). */
  int64(field: number, value: number): void {
    this.tag(field, WIRE_VARINT);
    if (value >= 0) return this.varint(value);
    let big = BigInt.asUintN(64, BigInt(value));
    this.#ensure(10);
    while (big > 0x7fn) {
      this.buf[this.pos++] = Number(big & 0x7fn) | 0x80;
      big >>= 7n;
    }
    this.buf[this.pos++] = Number(big);
  }

  message(field: number, write: () => void): void {
    this.tag(field, WIRE_LEN);
    this.#ensure(1);
    const lengthAt = this.pos++;
    write();
    const length = this.pos - lengthAt - 1;
    const extra = varintSize(length) - 1;
    if (extra > 0) {
      this.#ensure(extra);
      this.buf.copyWithin(lengthAt + 1 + extra, lengthAt + 1, this.pos);
      this.pos += extra;
    }
    let at = lengthAt;
    let value = length;
    while (value > 0x7f) {
      this.buf[at++] = (value % 0x80) | 0x80;
      value = Math.floor(value / 0x80);
    }
    this.buf[at] = value;
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

const textEncoder = new TextEncoder();

function varintSize(value: number): number {
  let size = 1;
  while (value > 0x7f) {
    value = Math.floor(value / 0x80);
    size++;
  }
  return size;
}

/** Epoch milliseconds (with a fraction) to unix nanoseconds, exactly enough for a fixed64. */
export function msToUnixNano(ms: number): bigint {
  const whole = Math.floor(ms);
  return BigInt(whole) * 1_000_000n + BigInt(Math.round((ms - whole) * 1_000_000));
}

/** AnyValue (common.proto): string_value 1, bool_value 2, int_value 3, double_value 4, array_value 5. */
function anyValue(w: Writer, key: string, value: AttributeValue): void {
  if (typeof value === 'string') {
    w.bytes(1, textEncoder.encode(value)); // even when empty: the oneof must be set
  } else if (typeof value === 'boolean') {
    w.tag(2, WIRE_VARINT);
    w.varint(value ? 1 : 0);
  } else if (typeof value === 'number') {
    if (ATTRIBUTE_BY_KEY.get(key)?.type !== 'double' && Number.isSafeInteger(value)) w.int64(3, value);
    else w.double(4, value);
  } else {
    // ArrayValue { repeated AnyValue values = 1 }
    w.message(5, () => {
      for (const item of value) w.message(1, () => anyValue(w, key, item));
    });
  }
}

/** KeyValue (common.proto): key 1, value 2. */
function keyValue(w: Writer, field: number, key: string, value: AttributeValue): void {
  w.message(field, () => {
    w.string(1, key);
    w.message(2, () => anyValue(w, key, value));
  });
}

export interface ResourceInfo {
  /** Resource attributes; `service.name` at least. */
  attributes: Record<string, AttributeValue>;
  /** InstrumentationScope name and version. */
  scope: { name: string; version: string };
}

/** Span (trace.proto). */
function span(w: Writer, s: Span): void {
  w.hex(1, s.traceId);
  w.hex(2, s.spanId);
  w.string(3, s.traceState);
  w.hex(4, s.parentSpanId);
  w.string(5, s.name);
  w.tag(6, WIRE_VARINT);
  w.varint(s.kind);
  w.fixed64(7, msToUnixNano(s.startMs));
  w.fixed64(8, msToUnixNano(s.endMs));
  const attrs = s.attributes;
  for (let i = 0; i < attrs.length; i += 2) keyValue(w, 9, attrs[i] as string, attrs[i + 1]);
  if (s.statusCode !== 0 || s.statusMessage !== '')
    // Status: message 2, code 3
    w.message(15, () => {
      w.string(2, s.statusMessage);
      if (s.statusCode !== 0) {
        w.tag(3, WIRE_VARINT);
        w.varint(s.statusCode);
      }
    });
}

/**
 * ExportTraceServiceRequest { resource_spans 1 } → ResourceSpans { resource 1, scope_spans 2 } → Resource
 * { attributes 1 }, ScopeSpans { scope 1, spans 2 } → InstrumentationScope { name 1, version 2 }.
 */
export function encodeExportRequest(resource: ResourceInfo, spans: readonly Span[]): Uint8Array {
  const w = new Writer();
  w.message(1, () => {
    w.message(1, () => {
      for (const [key, value] of Object.entries(resource.attributes)) keyValue(w, 1, key, value);
    });
    w.message(2, () => {
      w.message(1, () => {
        w.string(1, resource.scope.name);
        w.string(2, resource.scope.version);
      });
      for (const s of spans) w.message(2, () => span(w, s));
    });
  });
  return w.finish();
}
