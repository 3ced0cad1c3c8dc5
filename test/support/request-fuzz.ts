// Generated HTTP/1.1 request byte sequences for the engine's differential test: mostly valid requests, and the
// malformed and smuggling shapes a parser must refuse (CL with TE, two Content-Lengths, obs-fold, bare LF and CR,
// bad chunk sizes, invalid tokens, bodies longer or shorter than their framing), one to three per connection. Seeded,
// so a failing case can be replayed.
//
// Left out on purpose, where the engine differs from a plain node:http server by design: dot segments (the engine
// refuses them), `OPTIONS *` and CONNECT (no route can take them), and transfer codings other than chunked (the
// engine frames the body itself).

type Rnd = () => number;

function pick<T>(rnd: Rnd, items: readonly T[]): T {
  return items[Math.floor(rnd() * items.length)];
}

function chance(rnd: Rnd, p: number): boolean {
  return rnd() < p;
}

const METHODS = ['GET', 'GET', 'GET', 'POST', 'POST', 'PUT', 'DELETE', 'HEAD', 'PATCH', 'OPTIONS'];
const BAD_METHODS = ['get', 'G ET', 'GE\x00T', 'FOO', ''];
const TARGETS = ['/', '/a', '/a/b?x=1&y=2', '/p%20q', '/c?q=%zz', 'http://fuzz.test/abs?q=1', 'http://FUZZ.test:80/x'];
const BAD_TARGETS = ['/sp ace', '/\x01', '/a\x7f', '', '/\tx'];
const VERSIONS = ['HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.1', 'HTTP/1.0'];
const BAD_VERSIONS = ['HTTP/2.0', 'HTTP/1.2', 'HTTX/1.1', 'HTTP/1.1 ', 'http/1.1'];
const EXTRA_HEADERS = [
  'Accept: */*',
  'User-Agent: fuzz/1.0',
  'X-Forwarded-For: 10.0.0.1',
  'Cookie: a=1',
  'Cookie: b=2',
  'X-Empty:',
  'X-Tab:\tvalue',
  'Connection: keep-alive',
  'Connection: close',
  'Accept-Encoding: gzip, deflate',
];
const BAD_HEADERS = [
  'X-Fold: a\r\n b',
  'X Space: a',
  'X-Colon : a',
  'X-Ctl: a\x01b',
  'X-Nul: a\x00b',
  ': no-name',
  'X-Bare-CR: a\rb',
  '\x80X: high',
];
const LENGTH_VALUES = ['+5', ' 5', '5, 5', '-1', 'abc', '0x5', '5 5', '99999999999999999999999'];
const TE_VALUES = ['Chunked', 'chunked, identity', 'identity', 'chunked ; x', 'xchunked', 'chunked, chunked'];
/** Codings before chunked: framing llhttp accepts, which the gateway refuses with 501 (RFC 9112 §6.1). */
const CODED_TE_VALUES = ['gzip, chunked', 'deflate, chunked'];

function chunked(rnd: Rnd, body: string): string {
  let out = '';
  let rest = body;
  while (rest.length > 0) {
    const n = Math.min(rest.length, 1 + Math.floor(rnd() * 7));
    const ext = chance(rnd, 0.1) ? ';ext=1' : '';
    out += `${n.toString(16)}${ext}\r\n${rest.slice(0, n)}\r\n`;
    rest = rest.slice(n);
  }
  out += '0\r\n';
  if (chance(rnd, 0.1)) out += 'X-Trailer: t\r\n';
  return `${out}\r\n`;
}

const BAD_CHUNKS = [
  'zz\r\nhello\r\n0\r\n\r\n',
  '5\r\nhelloXX0\r\n\r\n',
  '5\nhello\n0\n\n',
  '-1\r\n',
  '5 \r\nhello\r\n0\r\n\r\n',
];

/** One request; `host` decides the Host header's presence (mostly one, sometimes none or two). */
function request(rnd: Rnd): string {
  const bad = chance(rnd, 0.25);
  const method = bad && chance(rnd, 0.2) ? pick(rnd, BAD_METHODS) : pick(rnd, METHODS);
  const target = bad && chance(rnd, 0.2) ? pick(rnd, BAD_TARGETS) : pick(rnd, TARGETS);
  const version = bad && chance(rnd, 0.15) ? pick(rnd, BAD_VERSIONS) : pick(rnd, VERSIONS);
  const eol = bad && chance(rnd, 0.1) ? pick(rnd, ['\n', '\r']) : '\r\n';
  const lines = [`${method} ${target} ${version}`];
  const hosts = chance(rnd, 0.05) ? 0 : chance(rnd, 0.05) ? 2 : 1;
  for (let i = 0; i < hosts; i++) lines.push(i === 0 ? 'Host: fuzz.test' : 'Host: other.test');
  const extras = Math.floor(rnd() * 4);
  for (let i = 0; i < extras; i++) lines.push(pick(rnd, EXTRA_HEADERS));
  if (bad && chance(rnd, 0.3)) lines.push(pick(rnd, BAD_HEADERS));
  if (chance(rnd, 0.03)) lines.push(`X-Big: ${'b'.repeat(17_000)}`);
  const body = chance(rnd, 0.5) ? 'hello'.slice(0, Math.floor(rnd() * 6)) + 'x'.repeat(Math.floor(rnd() * 20)) : '';
  let framing: 'none' | 'length' | 'chunked' = body.length > 0 ? pick(rnd, ['length', 'chunked'] as const) : 'none';
  if (framing === 'none' && chance(rnd, 0.2)) framing = 'length';
  let payload = '';
  if (framing === 'length') {
    let declared = body.length;
    if (bad && chance(rnd, 0.15)) declared += pick(rnd, [-2, -1, 1, 3]);
    lines.push(`Content-Length: ${Math.max(0, declared)}`);
    if (bad && chance(rnd, 0.25)) lines.push(`Content-Length: ${pick(rnd, [declared, declared + 1])}`);
    if (bad && chance(rnd, 0.3)) lines.push('Transfer-Encoding: chunked');
    payload = body;
  } else if (framing === 'chunked') {
    lines.push(`Transfer-Encoding: ${bad && chance(rnd, 0.1) ? pick(rnd, CODED_TE_VALUES) : 'chunked'}`);
    if (bad && chance(rnd, 0.3)) lines.push(`Content-Length: ${body.length}`);
    if (bad && chance(rnd, 0.2)) lines.push(`Transfer-Encoding: ${pick(rnd, TE_VALUES)}`);
    payload = bad && chance(rnd, 0.2) ? pick(rnd, BAD_CHUNKS) : chunked(rnd, body);
  }
  if (bad && chance(rnd, 0.1)) lines.push(`Content-Length: ${pick(rnd, LENGTH_VALUES)}`);
  if (bad && chance(rnd, 0.05)) lines.push(`Transfer-Encoding: ${pick(rnd, TE_VALUES)}`);
  return lines.join(eol) + eol + eol + payload;
}

/** The bytes of one connection: one to three requests, sometimes cut short. */
export function generateCase(rnd: Rnd): string {
  const n = 1 + Math.floor(rnd() * 3);
  let out = '';
  for (let i = 0; i < n; i++) out += request(rnd);
  if (chance(rnd, 0.03)) out = out.slice(0, Math.floor(rnd() * out.length));
  return out;
}
