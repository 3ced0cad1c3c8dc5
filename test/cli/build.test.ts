// The JavaScript build (`npm run build`, scripts/build.ts) that the container image runs: it must start both
// processes and serve. Built into a scratch folder inside the repository (node_modules must resolve from it).

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { freePort } from '../../bench/lib/standalone.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

describe('JavaScript build', function () {
  this.timeout(120_000);
  const out = join('.cache', `build-test-${process.pid}`);
  let scratch = '';

  before(() => {
    const built = spawnSync(process.execPath, [join(ROOT, 'scripts/build.ts'), '--out', out], { encoding: 'utf8' });
    expect(built.status, built.stderr).to.equal(0);
    scratch = mkdtempSync(join(tmpdir(), 'portico-build-'));
  });
  after(() => {
    rmSync(join(ROOT, out), { recursive: true, force: true });
    rmSync(scratch, { recursive: true, force: true });
  });

  it('has no TypeScript left: every relative import names a .js module that exists', () => {
    const shards = readFileSync(join(ROOT, out, 'dataplane/supervisor/shards.js'), 'utf8');
    expect(shards).to.include("new URL('../shard/worker.js', import.meta.url)");
    expect(existsSync(join(ROOT, out, 'dataplane/shard/worker.js'))).to.equal(true);
    expect(existsSync(join(ROOT, out, 'operator/console/page/index.html'))).to.equal(true);
    expect(existsSync(join(ROOT, out, 'dataplane/config.test.js'))).to.equal(false);
  });

  it('runs the data plane and the operator from dist, and the data plane answers /memory for every shard', async () => {
    const admin = await freePort();
    const socket = join(scratch, 'dp.sock');
    const entry = join(ROOT, out, 'bin/portico.js');
    const dataPlane = spawn(
      process.execPath,
      [entry, 'dataplane', '--socket', socket, '--shards', '2', '--admin', `127.0.0.1:${admin}`],
      {
        stdio: 'ignore',
      },
    );
    const operatorAdmin = await freePort();
    const operator = spawn(
      process.execPath,
      [
        entry,
        'operator',
        '--mode',
        'file',
        '--dir',
        join(ROOT, 'examples/quickstart'),
        '--socket',
        socket,
        '--admin',
        `127.0.0.1:${operatorAdmin}`,
        '--log-level',
        'warn',
      ],
      { stdio: 'ignore' },
    );
    try {
      const deadline = Date.now() + 60_000;
      let memory: { shards: unknown[]; main: { heapUsed: number } } | null = null;
      let operatorReady = false;
      while (Date.now() < deadline && (memory === null || memory.shards.some((s) => s === null) || !operatorReady)) {
        await new Promise((r) => setTimeout(r, 200));
        memory = await fetch(`http://127.0.0.1:${admin}/memory`).then(
          (r) => r.json() as Promise<typeof memory>,
          () => null,
        );
        operatorReady = await fetch(`http://127.0.0.1:${operatorAdmin}/readyz`).then(
          (r) => r.ok,
          () => false,
        );
      }
      expect(memory?.shards).to.have.length(2);
      expect(memory?.shards.every((s) => s !== null)).to.equal(true);
      expect(memory?.main.heapUsed).to.be.above(0);
      expect(operatorReady, 'the operator from dist published to the data plane from dist').to.equal(true);
    } finally {
      const exited = (child: ReturnType<typeof spawn>) => new Promise((r) => child.once('exit', r));
      const gone = [exited(operator), exited(dataPlane)];
      operator.kill('SIGTERM');
      dataPlane.kill('SIGTERM');
      await Promise.all(gone);
    }
  });
});
