// The data plane as its own process, the way it runs in production: flags, JSON logs on stdout (the access log
// when asked for), and a clean exit on SIGTERM. Stopped by its own pid.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { Publisher } from '../../operator/publisher/publisher.ts';
import { backend, httpListener, httpRoute, prefix, rule } from '../../shared/testing/ir-builders.ts';
import { testAddress } from '../support/dataplane-harness.ts';
import { startEchoServer } from '../support/echo-server.ts';
import type { EchoServer } from '../support/echo-server.ts';
import { get } from '../support/http-client.ts';
import { validateAccessRecord } from '../../shared/telemetry/attributes.ts';

const MAIN = new URL('../../dataplane/main.ts', import.meta.url).pathname;

describe('data plane process', function () {
  this.timeout(30_000);
  let dir: string;
  let child: ChildProcess;
  let publisher: Publisher;
  let echo: EchoServer;
  const lines: string[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'portico-proc-'));
    echo = await startEchoServer('echo');
    child = spawn(
      process.execPath,
      [MAIN, '--socket', join(dir, 'dp.sock'), '--shards', '1', '--admin', '127.0.0.1:0', '--access-log'],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let buffered = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const parts = buffered.split('\n');
      buffered = parts.pop() ?? '';
      lines.push(...parts);
    });
    publisher = new Publisher({ socketPath: join(dir, 'dp.sock'), instance: 'process-test' });
  });
  after(async () => {
    publisher?.close();
    if (child?.exitCode === null) child.kill('SIGKILL');
    await echo?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs JSON lines, one access line per request when asked, and exits 0 on SIGTERM', async () => {
    const address = testAddress();
    const l = httpListener('ns/gw/http', 18093, { address });
    const b = backend('ns/echo:80', [['127.0.0.1', echo.port]]);
    const result = await publisher.publish({
      listeners: [l],
      backends: [b],
      httpRoutes: [httpRoute('httproute/ns/r', [l.key], [rule([prefix('/')], [b.key])])],
      streamRoutes: [],
      certificates: [],
    });
    expect(result.outcome).to.equal('ack');
    expect((await get(`http://${address}:18093/logged/path?q=1`, { headers: { host: 'log.test' } })).status).to.equal(
      200,
    );
    const given = await get(`http://${address}:18093/given`, {
      headers: { host: 'log.test', 'x-request-id': 'req-given-1', 'user-agent': 'process-test' },
    });
    expect(given.status).to.equal(200);
    expect((await get(`http://${address}:18093/x`, { headers: { host: 'other.test' } })).status).to.equal(200);
    const deadline = Date.now() + 5000;
    while (lines.filter((l) => l.includes('"access"')).length < 3 && Date.now() < deadline)
      await new Promise((r) => setTimeout(r, 50));
    const parsed = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
    const access = parsed.filter((l) => l.msg === 'access');
    expect(access).to.have.length(3);
    // Every line the real data plane wrote follows the dictionary: documented fields present, with their types.
    for (const line of access) expect(validateAccessRecord(line), JSON.stringify(line)).to.deep.equal([]);
    expect(access[0]).to.include({
      'http.request.method': 'GET',
      'server.address': 'log.test',
      'server.port': 18093,
      'url.path': '/logged/path',
      'url.query': 'q=1',
      'http.response.status_code': 200,
      'network.protocol.version': '1.1',
      'portico.listener': 'ns/gw/http',
      'portico.gateway': 'ns/gw',
      'portico.route': 'test/httproute/ns/r',
      'portico.rule': '0',
      'http.route': '/*',
      'portico.backend': 'ns/echo:80',
      'portico.upstream.address': `127.0.0.1:${echo.port}`,
      'portico.retries': 0,
    });
    expect(access[0]['http.response.body.size']).to.be.greaterThan(0);
    expect(access[0]['portico.response_flags']).to.deep.equal([]);
    // x-request-id: generated when missing (and forwarded upstream), kept when given.
    const generated = (access[0]['http.request.header.x-request-id'] as string[])[0];
    expect(generated).to.match(/^[0-9a-f-]{36}$/);
    expect(echo.received[0].headers['x-request-id']).to.equal(generated);
    expect(access[1]['http.request.header.x-request-id']).to.deep.equal(['req-given-1']);
    expect(access[1]).to.include({ 'user_agent.original': 'process-test' });
    expect(echo.received[1].headers['x-request-id']).to.equal('req-given-1');
    expect(parsed.some((l) => l.msg === 'data plane started')).to.equal(true);

    const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
    child.kill('SIGTERM');
    expect(await exited).to.equal(0);
  });
});
