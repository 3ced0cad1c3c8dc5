// The protobuf wire format of the few fields of Envoy's ext_authz v3 API (envoy.service.auth.v3) that Portico uses:
// CheckRequest out, CheckResponse in. Hand-written rather than generated or loaded (protobufjs, proto-loader) so that
// no schema compiler runs in the data plane: a shard that never meets a gRPC authorizer pays nothing, one that does
// pays for these few functions. Unknown fields of a response are skipped, as protobuf requires.
// Field numbers (envoy/service/auth/v3/external_auth.proto, attribute_context.proto; envoy/config/core/v3):
//   CheckRequest.attributes = 1
//   AttributeContext: source = 1, destination = 2 (Peer), request = 4
//   Peer.address = 1 → Address.socket_address = 1 → SocketAddress: address = 2, port_value = 3
//   Request: http = 2 → HttpRequest: id = 1, method = 2, headers = 3 (map), path = 4, host = 5, scheme = 6,
//     size = 9, protocol = 10, raw_body = 12
//   CheckResponse: status = 1 (google.rpc.Status: code = 1, message = 2), denied_response = 2, ok_response = 3
//   DeniedHttpResponse: status = 1 (HttpStatus.code = 1), headers = 2, body = 3
//   OkHttpResponse: headers = 2, headers_to_remove = 5
//   HeaderValueOption: header = 1 (HeaderValue: key = 1, value = 2, raw_value = 3), append = 2 (BoolValue.value = 1),
//     append_action = 3

/** One request's attributes, as sent to the authorizer. */
export interface CheckAttributes {
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
  requestId: string;
  method: string;
  /** Lower-case names; values of repeated headers joined with ", " (Set-Cookie-like headers are not request headers). */
  headers: Array<[string, string]>;
  /** The request target as received: path and query. */
  path: string;
  host: string;
  scheme: string;
  /** Body bytes (Content-Length), -1 when unknown. */
  size: number;
  protocol: string;
  body: Buffer | null;
}

/** `HeaderValueOption` as Portico applies it. */
export interface HeaderOption {
  name: string;
  value: string;
  /** Append to an existing value rather than replace it. */
  append: boolean;
  /** `append_action` ADD_IF_ABSENT (1) / OVERWRITE_IF_EXISTS (3): only when absent / present. */
  onlyIfAbsent: boolean;
  onlyIfPresent: boolean;
}

export interface CheckResult {
  /** `status.code`: 0 (OK) allows. */
  code: number;
  message: string;
  denied: { status: number; headers: HeaderOption[]; body: string } | null;
  ok: { headers: HeaderOption[]; remove: string[] } | null;
}

// --- writing ---

function varint(value: number): Buffer {
  const bytes: number[] = [];
  let v = value;
  // Negative int64 (size -1) is ten bytes of two's complement.
  if (v < 0) {
    let big = BigInt.asUintN(64, BigInt(v));
    while (big > 0x7fn) {
      bytes.push(Number((big & 0x7fn) | 0x80n));
      big >>= 7n;
    }
    bytes.push(Number(big));
    return Buffer.from(bytes);
  }
  while (v > 0x7f) {
    bytes.push((v % 128) | 0x80);
    v = Math.floor(v / 128);
  }
  bytes.push(v);
  return Buffer.from(bytes);
}

function bytesField(field: number, value: Buffer): Buffer {
  return Buffer.concat([varint((field << 3) | 2), varint(value.length), value]);
}

function stringField(field: number, value: string): Buffer {
  return value === '' ? Buffer.alloc(0) : bytesField(field, Buffer.from(value, 'utf8'));
}

function varintField(field: number, value: number): Buffer {
  return value === 0 ? Buffer.alloc(0) : Buffer.concat([varint(field << 3), varint(value)]);
}

function peer(address: string, port: number): Buffer {
  const socketAddress = Buffer.concat([stringField(2, address), varintField(3, port)]);
  return bytesField(1, bytesField(1, socketAddress));
}

/** A CheckRequest message. */
export function encodeCheckRequest(a: CheckAttributes): Buffer {
  const http: Buffer[] = [stringField(1, a.requestId), stringField(2, a.method)];
  for (const [name, value] of a.headers)
    http.push(bytesField(3, Buffer.concat([stringField(1, name), stringField(2, value)])));
  http.push(stringField(4, a.path), stringField(5, a.host), stringField(6, a.scheme));
  http.push(varintField(9, a.size), stringField(10, a.protocol));
  if (a.body !== null && a.body.length > 0) http.push(bytesField(12, a.body));
  const request = bytesField(2, Buffer.concat(http));
  const attributes = Buffer.concat([
    bytesField(1, peer(a.sourceAddress, a.sourcePort)),
    bytesField(2, peer(a.destinationAddress, a.destinationPort)),
    bytesField(4, request),
  ]);
  return bytesField(1, attributes);
}

// --- reading ---

/** Thrown for bytes that are not a well-formed message: the caller fails closed. */
export class DecodeError extends Error {}

interface Field {
  number: number;
  /** Wire type 0: the value; 2: -1. */
  value: number;
  bytes: Buffer | null;
}

function readVarint(buffer: Buffer, at: { offset: number }): number {
  let result = 0;
  let scale = 1;
  for (let i = 0; i < 10; i++) {
    if (at.offset >= buffer.length) throw new DecodeError('truncated varint');
    const byte = buffer[at.offset++];
    // Only the low 53 bits matter to us (status codes, lengths); higher ones are dropped.
    if (i < 8) result += (byte & 0x7f) * scale;
    scale *= 128;
    if ((byte & 0x80) === 0) return result;
  }
  throw new DecodeError('varint longer than ten bytes');
}

function fieldsOf(buffer: Buffer): Field[] {
  const out: Field[] = [];
  const at = { offset: 0 };
  while (at.offset < buffer.length) {
    const key = readVarint(buffer, at);
    const number = Math.floor(key / 8);
    const wire = key % 8;
    if (wire === 0) out.push({ number, value: readVarint(buffer, at), bytes: null });
    else if (wire === 2) {
      const length = readVarint(buffer, at);
      if (at.offset + length > buffer.length) throw new DecodeError('length beyond the message');
      out.push({ number, value: -1, bytes: buffer.subarray(at.offset, at.offset + length) });
      at.offset += length;
    } else if (wire === 1) at.offset += 8;
    else if (wire === 5) at.offset += 4;
    else throw new DecodeError(`wire type ${wire} is not supported`);
    if (at.offset > buffer.length) throw new DecodeError('field beyond the message');
  }
  return out;
}

function text(field: Field): string {
  if (field.bytes === null) throw new DecodeError(`field ${field.number} should be length-delimited`);
  return field.bytes.toString('utf8');
}

function message(field: Field): Buffer {
  if (field.bytes === null) throw new DecodeError(`field ${field.number} should be a message`);
  return field.bytes;
}

function headerOption(buffer: Buffer): HeaderOption {
  const option: HeaderOption = { name: '', value: '', append: false, onlyIfAbsent: false, onlyIfPresent: false };
  let raw: string | null = null;
  for (const f of fieldsOf(buffer)) {
    if (f.number === 1) {
      for (const h of fieldsOf(message(f))) {
        if (h.number === 1) option.name = text(h).toLowerCase();
        else if (h.number === 2) option.value = text(h);
        else if (h.number === 3) raw = text(h);
      }
    } else if (f.number === 2) {
      for (const b of fieldsOf(message(f))) if (b.number === 1) option.append = b.value !== 0;
    } else if (f.number === 3) {
      option.onlyIfAbsent = f.value === 1;
      option.onlyIfPresent = f.value === 3;
    }
  }
  if (option.value === '' && raw !== null) option.value = raw;
  return option;
}

/** A CheckResponse message; throws DecodeError on malformed bytes. */
export function decodeCheckResponse(buffer: Buffer): CheckResult {
  const result: CheckResult = { code: 0, message: '', denied: null, ok: null };
  for (const f of fieldsOf(buffer)) {
    if (f.number === 1) {
      for (const s of fieldsOf(message(f))) {
        if (s.number === 1) result.code = s.value;
        else if (s.number === 2) result.message = text(s);
      }
    } else if (f.number === 2) {
      const denied = { status: 0, headers: [] as HeaderOption[], body: '' };
      for (const d of fieldsOf(message(f))) {
        if (d.number === 1) for (const s of fieldsOf(message(d))) if (s.number === 1) denied.status = s.value;
        if (d.number === 2) denied.headers.push(headerOption(message(d)));
        if (d.number === 3) denied.body = text(d);
      }
      result.denied = denied;
    } else if (f.number === 3) {
      const ok = { headers: [] as HeaderOption[], remove: [] as string[] };
      for (const o of fieldsOf(message(f))) {
        if (o.number === 2) ok.headers.push(headerOption(message(o)));
        if (o.number === 5) ok.remove.push(text(o).toLowerCase());
      }
      result.ok = ok;
    }
  }
  return result;
}
