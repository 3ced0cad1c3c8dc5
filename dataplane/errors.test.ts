// The proxy-error registry is complete and the only place gateway answers are written: every entry has a status of
// the right class, a body and a unique reason; every code is used by some front end; and no file of the HTTP paths
// writes a status body of its own.

import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { PROXY_ERRORS, proxyErrorForParser, proxyErrorForUpstream } from './errors.ts';

const ROOT = new URL('.', import.meta.url).pathname;
const FRONT_ENDS = ['core', 'h1', 'http', 'upstream', 'shard'];

function sources(): Array<{ file: string; text: string }> {
  const out: Array<{ file: string; text: string }> = [];
  for (const dir of FRONT_ENDS) {
    for (const name of readdirSync(join(ROOT, dir))) {
      if (name.endsWith('.ts') && !name.endsWith('.test.ts'))
        out.push({ file: `${dir}/${name}`, text: readFileSync(join(ROOT, dir, name), 'utf8') });
    }
  }
  return out;
}

describe('proxy errors', () => {
  it('gives every code a 4xx/5xx status, a body ending in a newline, and a unique snake_case reason', () => {
    const reasons = new Set<string>();
    for (const [code, error] of Object.entries(PROXY_ERRORS)) {
      expect(error.status, code).to.be.within(400, 599);
      expect(error.body, code).to.match(/\n$/);
      expect(error.reason, code).to.match(/^[a-z][a-z0-9_]*$/);
      expect(reasons.has(error.reason), code).to.equal(false);
      reasons.add(error.reason);
    }
  });

  it('has no code that no front end answers with', () => {
    const all = sources()
      .map((s) => s.text)
      .join('\n');
    const indirect = new Set(['URI_TOO_LONG', 'HEADERS_TOO_LARGE', 'BAD_REQUEST']); // through proxyErrorForParser
    for (const code of ['UPSTREAM_UNAVAILABLE', 'UPSTREAM_TIMEOUT', 'UPSTREAM_FAILED', 'BAD_UPSTREAM_RESPONSE'])
      indirect.add(code); // through proxyErrorForUpstream
    for (const code of Object.keys(PROXY_ERRORS)) {
      if (indirect.has(code)) continue;
      expect(all.includes(`'${code}'`) || all.includes(`.${code}`), code).to.equal(true);
    }
  });

  it('maps parser and upstream failures onto the registry', () => {
    expect(proxyErrorForParser('HPE_HEADER_OVERFLOW', true)).to.equal('URI_TOO_LONG');
    expect(proxyErrorForParser('HPE_HEADER_OVERFLOW', false)).to.equal('HEADERS_TOO_LARGE');
    expect(proxyErrorForParser('HPE_INVALID_METHOD', false)).to.equal('BAD_REQUEST');
    expect(proxyErrorForUpstream('ECONNREFUSED')).to.equal('UPSTREAM_UNAVAILABLE');
    expect(proxyErrorForUpstream('PORTICO_BACKEND_TIMEOUT')).to.equal('UPSTREAM_TIMEOUT');
    expect(proxyErrorForUpstream('HPE_INVALID_HEADER_TOKEN')).to.equal('BAD_UPSTREAM_RESPONSE');
    expect(proxyErrorForUpstream('ECONNRESET')).to.equal('UPSTREAM_FAILED');
  });

  it('is the only source of gateway answer bodies in the HTTP paths', () => {
    for (const { file, text } of sources()) {
      for (const error of Object.values(PROXY_ERRORS))
        expect(
          text.includes(JSON.stringify(error.body).slice(1, -1)),
          `${file} repeats "${error.body.trim()}"`,
        ).to.equal(false);
      // A status answered with a literal body: .code(5xx)…send('…') or writeHead(4xx, …).end('…').
      expect(/\.code\([45]\d\d\)[^;]*\.send\(['`]/.test(text), `${file} answers with a literal`).to.equal(false);
    }
  });
});
