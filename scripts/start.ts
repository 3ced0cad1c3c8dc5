// `npm start`: Portico standalone on this machine — the data plane, the operator watching examples/quickstart (or
// the folder given as the first argument), and the demo backends — then the URLs to try. Ctrl-C stops everything.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const ROOT = new URL('../', import.meta.url).pathname;
const dir = resolve(process.argv[2] ?? join(ROOT, 'examples/quickstart'));
const runDir = mkdtempSync(join(tmpdir(), 'portico-'));
const socket = join(runDir, 'dataplane.sock');
const children: ChildProcess[] = [];

function run(name: string, args: string[]): ChildProcess {
  const child = spawn(process.execPath, args, { cwd: ROOT, stdio: ['ignore', 'inherit', 'inherit'] });
  child.on('exit', (code, signal) => {
    if (!stopping) {
      console.error(`${name} exited (${signal ?? code}); stopping`);
      stop(1);
    }
  });
  children.push(child);
  return child;
}

let stopping = false;
function stop(code: number): void {
  if (stopping) return;
  stopping = true;
  for (const child of children) if (child.exitCode === null) child.kill('SIGTERM');
  setTimeout(() => {
    rmSync(runDir, { recursive: true, force: true });
    process.exit(code);
  }, 500);
}
process.on('SIGINT', () => stop(0));
process.on('SIGTERM', () => stop(0));

run('demo backends', [join(ROOT, 'examples/demo-backends.ts')]);
// Through the `portico` launcher, which gives each process its V8 flags and environment (bin/launch-flags.ts).
run('data plane', [join(ROOT, 'bin/portico.ts'), 'dataplane', '--socket', socket, '--log-level', 'warn']);
run('operator', [join(ROOT, 'bin/portico.ts'), 'operator', '--mode', 'file', '--dir', dir, '--socket', socket]);

async function ready(url: string): Promise<boolean> {
  try {
    return (await fetch(url)).ok;
  } catch {
    return false;
  }
}

const deadline = Date.now() + 30_000;
while (!(await ready('http://127.0.0.1:9902/readyz'))) {
  if (Date.now() > deadline || stopping) {
    if (!stopping) console.error('Portico did not become ready within 30 s');
    stop(1);
    break;
  }
  await new Promise((r) => setTimeout(r, 200));
}
if (!stopping) {
  console.log(`
Portico is serving ${dir}
  curl -H 'Host: web.example.com' http://127.10.0.1:8080/                     # web-v1 (90%) or web-v2 (10%)
  curl -H 'Host: web.example.com' -H 'x-canary: true' http://127.10.0.1:8080/  # always web-v2
  curl -H 'Host: api.example.com' http://127.10.0.1:8080/v1/users             # api receives /users
  curl -i -H 'Host: api.example.com' http://127.10.0.1:8080/health            # x-served-by: portico
  curl -i -H 'Host: old.example.com' http://127.10.0.1:8080/some/page         # 301 to web.example.com
  npx portico status                                                          # every object's status
Console (map, statuses, live traffic): http://127.0.0.1:9902/console/
Edit the YAML in ${dir}: changes apply at once. Ctrl-C stops.
`);
}
