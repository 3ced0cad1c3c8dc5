// The ext_authz codec on bytes written by hand from the proto field numbers (not by the codec itself), the verdict's
// header rules, and the access-log flags of the authorization outcomes. The codec against a real gRPC server with its
// own codec: test/dataplane/external-auth.test.ts.

import { expect } from 'chai';
import { flagOf } from '../core/observe.ts';
import { EXT_AUTHZ_DENIED } from '../errors.ts';
import { DecodeError, decodeCheckResponse, encodeCheckRequest } from './ext-authz-codec.ts';
import { AuthVerdict, applyVerdict, copyAllowedHeaders, denialHeaders, upstreamOption } from './verdict.ts';

/** field `n`, length-delimited. */
const ld = (n: number, ...parts: Array<number[]>): number[] => {
  const body = parts.flat();
  return [(n << 3) | 2, body.length, ...body];
};
const str = (n: number, s: string): number[] => ld(n, [...Buffer.from(s)]);
const varint = (n: number, v: number): number[] => [n << 3, ...(v < 128 ? [v] : [(v & 127) | 128, v >> 7])];

describe('ext_authz codec', () => {
  it('decodes an OK answer with headers to set, to append and to remove, skipping unknown fields', () => {
    const header = (k: string, v: string, append?: boolean) =>
      ld(2, ld(1, str(1, k), str(2, v)), append === undefined ? [] : ld(2, varint(1, append ? 1 : 0)));
    const bytes = Buffer.from([
      ...ld(1, []), // status: empty, code 0
      ...ld(3, header('X-User', 'alice'), header('x-groups', 'a', true), str(5, 'Authorization'), varint(9, 1)),
      ...varint(15, 300), // an unknown field
    ]);
    const result = decodeCheckResponse(bytes);
    expect(result.code).to.equal(0);
    expect(result.ok?.headers.map((h) => [h.name, h.value, h.append])).to.deep.equal([
      ['x-user', 'alice', false],
      ['x-groups', 'a', true],
    ]);
    expect(result.ok?.remove).to.deep.equal(['authorization']);
  });

  it('decodes a denial: status code, HTTP status, headers and body', () => {
    const bytes = Buffer.from([
      ...ld(1, varint(1, 7), str(2, 'no')),
      ...ld(2, ld(1, varint(1, 401)), ld(2, ld(1, str(1, 'www-authenticate'), str(2, 'Bearer'))), str(3, 'go away')),
    ]);
    const result = decodeCheckResponse(bytes);
    expect(result.code).to.equal(7);
    expect(result.message).to.equal('no');
    expect(result.denied).to.deep.equal({
      status: 401,
      headers: [
        { name: 'www-authenticate', value: 'Bearer', append: false, onlyIfAbsent: false, onlyIfPresent: false },
      ],
      body: 'go away',
    });
  });

  it('refuses truncated bytes and wire types it cannot skip', () => {
    expect(() => decodeCheckResponse(Buffer.from([0x0a, 0x05, 0x08]))).to.throw(DecodeError);
    expect(() => decodeCheckResponse(Buffer.from([0x0b]))).to.throw(DecodeError); // group start
    expect(() => decodeCheckResponse(Buffer.from([0x08, 0xff]))).to.throw(DecodeError);
  });

  it('encodes a CheckRequest whose fields sit where the proto puts them (size -1 as ten bytes)', () => {
    const bytes = encodeCheckRequest({
      sourceAddress: '10.0.0.1',
      sourcePort: 5000,
      destinationAddress: '10.0.0.2',
      destinationPort: 80,
      requestId: 'id',
      method: 'GET',
      headers: [['x', 'y']],
      path: '/p?q',
      host: 'h',
      scheme: 'https',
      size: -1,
      protocol: 'HTTP/2',
      body: Buffer.from('b'),
    });
    // CheckRequest.attributes (1) → AttributeContext.request (4) → Request.http (2): a walk by field numbers.
    const fields = (b: Buffer): Map<number, Buffer[]> => {
      const out = new Map<number, Buffer[]>();
      for (let i = 0; i < b.length; ) {
        let key = 0;
        let shift = 0;
        while (b[i] & 0x80) key |= (b[i++] & 0x7f) << (shift++ * 7);
        key |= b[i++] << (shift * 7);
        let length = 0;
        shift = 0;
        if ((key & 7) === 0) {
          const start = i;
          while (b[i++] & 0x80);
          out.set(key >> 3, [...(out.get(key >> 3) ?? []), b.subarray(start, i)]);
          continue;
        }
        while (b[i] & 0x80) length |= (b[i++] & 0x7f) << (shift++ * 7);
        length |= b[i++] << (shift * 7);
        out.set(key >> 3, [...(out.get(key >> 3) ?? []), b.subarray(i, i + length)]);
        i += length;
      }
      return out;
    };
    const attributes = fields(fields(bytes).get(1)![0]);
    const http = fields(fields(attributes.get(4)![0]).get(2)![0]);
    expect(http.get(2)![0].toString()).to.equal('GET');
    expect(http.get(4)![0].toString()).to.equal('/p?q');
    expect(http.get(5)![0].toString()).to.equal('h');
    expect(http.get(6)![0].toString()).to.equal('https');
    expect(http.get(9)![0].length).to.equal(10); // int64 -1
    expect(http.get(10)![0].toString()).to.equal('HTTP/2');
    expect(http.get(12)![0].toString()).to.equal('b');
    const entry = fields(http.get(3)![0]);
    expect([entry.get(1)![0].toString(), entry.get(2)![0].toString()]).to.deep.equal(['x', 'y']);
    const source = fields(fields(fields(attributes.get(1)![0]).get(1)![0]).get(1)![0]);
    expect(source.get(2)![0].toString()).to.equal('10.0.0.1');
  });
});

describe('authorization verdict headers', () => {
  const option = (name: string, value: string) => ({
    name,
    value,
    append: false,
    onlyIfAbsent: false,
    onlyIfPresent: false,
  });

  it('never takes Host, pseudo-headers or framing upstream, and calls a CR LF an invalid answer', () => {
    expect(upstreamOption(option('host', 'evil'))).to.equal('skip');
    expect(upstreamOption(option(':authority', 'evil'))).to.equal('skip');
    expect(upstreamOption(option('transfer-encoding', 'chunked'))).to.equal('skip');
    expect(upstreamOption(option('x-user', 'a\r\nx-injected: 1'))).to.equal(false);
    expect(upstreamOption(option('x-user', 'alice'))).to.equal(true);
    const into: ReturnType<typeof option>[] = [];
    expect(copyAllowedHeaders({ 'x-user': 'a\nb' }, [], into)).to.equal(false);
    expect(denialHeaders([{ name: 'x', value: 'a\r\nb' }])).to.equal(null);
    expect(
      denialHeaders([
        { name: 'Content-Length', value: '5' },
        { name: 'X-A', value: '1' },
      ]),
    ).to.deep.equal({
      'x-a': '1',
    });
  });

  it('applies set, append, add-if-absent and remove, and keeps Host whatever the authorizer says', () => {
    const verdict = new AuthVerdict();
    verdict.allowed = true;
    verdict.upstream = [
      option('x-set', 'new'),
      { ...option('x-add', 'two'), append: true },
      { ...option('x-keep', 'ignored'), onlyIfAbsent: true },
    ];
    verdict.remove = ['authorization', 'host'];
    const headers: Record<string, string> = {
      host: 'a.example',
      'x-set': 'old',
      'x-add': 'one',
      'x-keep': 'mine',
      authorization: 'Bearer t',
    };
    applyVerdict(headers, verdict);
    expect(headers).to.deep.equal({ host: 'a.example', 'x-set': 'new', 'x-add': 'one, two', 'x-keep': 'mine' });
  });

  it('flags denials and errors for the access log', () => {
    expect(flagOf(EXT_AUTHZ_DENIED)).to.equal('ext_authz_denied');
    expect(flagOf('EXT_AUTHZ_ERROR')).to.equal('ext_authz_error');
    expect(flagOf('EXT_AUTHZ_INVALID')).to.equal('ext_authz_error');
    expect(flagOf('EXT_AUTHZ_BODY_TOO_LARGE')).to.equal('ext_authz_error');
  });
});
