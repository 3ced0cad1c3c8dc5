// The dictionary drives these checks: access-log records built for several kinds of request are written as JSON,
// parsed back, and every documented field is checked for presence (`always` fields) and type; breaking any field of
// a valid record (removing it, or giving it another type) is caught; the Elasticsearch mapping follows the dictionary.

import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { buildAccessRecord } from './access-record.ts';
import type { AccessEntry } from './access-record.ts';
import { ATTRIBUTES, validateAccessRecord } from './attributes.ts';
import type { AttributeType } from './attributes.ts';
import { accessLogIndexTemplate } from './elastic.ts';
import { newRequestId } from './ids.ts';

const plain: AccessEntry = {
  endMs: Date.UTC(2026, 11, 2, 12, 0, 0, 123),
  durationMs: 1.23456,
  requestId: newRequestId(),
  clientAddress: '10.0.0.7',
  clientPort: 51234,
  method: 'GET',
  host: 'shop.example',
  port: 80,
  scheme: 'http',
  path: '/cart',
  protocolVersion: '1.1',
  status: 404,
  bytesIn: 0,
  bytesOut: 9,
  listener: 'infra/gw/http',
  retries: 0,
  flags: ['no_route'],
};

const full: AccessEntry = {
  ...plain,
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
  spanId: '00f067aa0ba902b7',
  method: 'PURGE',
  scheme: 'https',
  port: 443,
  path: `/${'p'.repeat(2000)}`,
  query: 'a=1',
  protocolVersion: '2',
  userAgent: 'curl/8.5.0',
  status: 504,
  bytesIn: 1200,
  bytesOut: 0,
  gateway: 'infra/gw',
  route: 'shop/cart',
  rule: '0',
  httpRoute: '/cart',
  backend: 'shop/cart:8080',
  upstreamAddress: '10.1.2.3:8080',
  upstreamMs: 30000,
  retries: 2,
  flags: ['upstream_timeout', 'retried'],
  errorType: 'upstream_timeout',
  tlsVersion: '1.3',
  sni: 'shop.example',
};

/** A JSON line as pino writes it (`level`, `msg` added), parsed back. */
const line = (entry: AccessEntry) =>
  JSON.parse(JSON.stringify({ level: 30, ...buildAccessRecord(entry), msg: 'access' })) as Record<string, unknown>;

/** GEP-5253's dictionary (Gateway API v1.7.0, geps/gep-5253/index.md), key → OTel data type, copied as published. */
const GEP_5253: Record<string, string> = {
  'http.request.method': 'string',
  'http.request.method_original': 'string',
  'http.response.status_code': 'int',
  'http.route': 'string',
  'http.request.header.<key>': 'string[]',
  'http.response.header.<key>': 'string[]',
  'user_agent.original': 'string',
  'error.type': 'string',
  'url.scheme': 'string',
  'url.path': 'string',
  'url.query': 'string',
  'url.full': 'string',
  'url.fragment': 'string',
  'client.address': 'string',
  'client.port': 'int',
  'server.address': 'string',
  'server.port': 'int',
  'network.peer.address': 'string',
  'network.peer.port': 'int',
  'network.protocol.name': 'string',
  'network.protocol.version': 'string',
  'network.transport': 'string',
  'network.type': 'string',
};

const wrongValue: Record<AttributeType, unknown> = {
  string: 7,
  int: 1.5,
  double: '1.5',
  boolean: 'true',
  'string[]': 'not-an-array',
};

describe('telemetry/attributes: the access-log dictionary', () => {
  it('a plain 404 line has every always-field with its type', () => {
    expect(validateAccessRecord(line(plain))).to.deep.equal([]);
  });

  it('a TLS, traced, retried, timed-out line with an unusual method has every field of the dictionary', () => {
    const record = line(full);
    expect(validateAccessRecord(record)).to.deep.equal([]);
    const logged = ATTRIBUTES.filter((a) => a.log !== 'no').map((a) => a.key);
    expect(
      Object.keys(record)
        .filter((k) => k !== 'level' && k !== 'msg')
        .sort(),
    ).to.deep.equal(logged.sort());
    expect(record['http.request.method']).to.equal('_OTHER');
    expect(record['http.request.method_original']).to.equal('PURGE');
    expect((record['url.path'] as string).length).to.equal(513); // truncated: 512 and an ellipsis
    expect(record.time).to.equal('2026-12-02T12:00:00.123Z');
  });

  for (const spec of ATTRIBUTES.filter((a) => a.log !== 'no'))
    it(`catches ${spec.key} ${spec.log === 'always' ? 'missing or ' : ''}of another type than ${spec.type}`, () => {
      const record = line(full);
      record[spec.key] = wrongValue[spec.type];
      expect(validateAccessRecord(record)).to.have.length(1);
      delete record[spec.key];
      expect(validateAccessRecord(record)).to.have.length(spec.log === 'always' ? 1 : 0);
    });

  it('refuses fields outside the dictionary and unknown response flags', () => {
    expect(validateAccessRecord({ ...line(plain), status: 200 })).to.deep.equal([
      'status: not an access-log field of the dictionary',
    ]);
    expect(validateAccessRecord({ ...line(plain), 'portico.response_flags': ['boom'] })).to.deep.equal([
      'portico.response_flags: boom?',
    ]);
  });

  it("names: GEP-5253 keys and types are the memorandum's; no key is an object of another (Elasticsearch)", () => {
    for (const spec of ATTRIBUTES.filter((a) => a.origin === 'GEP-5253')) {
      const key = spec.key.startsWith('http.request.header.') ? 'http.request.header.<key>' : spec.key;
      expect(GEP_5253[key], spec.key).to.equal(spec.type);
    }
    const keys = ATTRIBUTES.map((a) => a.key);
    for (const a of keys) for (const b of keys) expect(b.startsWith(`${a}.`), `${a} and ${b}`).to.equal(false);
  });

  it("README's Observability section documents every access-log field with its type", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    for (const spec of ATTRIBUTES.filter((a) => a.log !== 'no')) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${spec.key}\` |`));
      expect(row, spec.key).to.be.a('string');
      expect(row?.split('|')[2].trim(), spec.key).to.equal(spec.type);
      expect(row?.split('|')[3].trim(), spec.key).to.equal(spec.log === 'always' ? 'yes' : 'when known');
    }
  });

  it('the committed Elasticsearch index template is the one the dictionary gives', () => {
    const committed = JSON.parse(
      readFileSync(new URL('../../manifests/observability/elastic/index-template.json', import.meta.url), 'utf8'),
    );
    expect(committed).to.deep.equal(accessLogIndexTemplate());
  });
});
