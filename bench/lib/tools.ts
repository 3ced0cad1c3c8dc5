// Makes sure the load generator and the reference proxies are present, installing Debian's packages when they are
// not (the benchmark compares Portico with nginx and HAProxy in the same run, on the same machine).

import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// nginx's stream module (the TCP reference) is a separate package on Debian.
const PACKAGES: Record<string, string[]> = {
  wrk: ['wrk'],
  nginx: ['nginx'],
  haproxy: ['haproxy'],
  'nginx-stream': ['libnginx-mod-stream'],
};

function has(command: string): boolean {
  return (
    spawnSync('sh', ['-c', `command -v ${command} || test -x /usr/sbin/${command}`], { stdio: 'ignore' }).status === 0
  );
}

export function ensureTools(): void {
  const missing = Object.keys(PACKAGES).filter((c) =>
    c === 'nginx-stream' ? !existsSync('/usr/lib/nginx/modules/ngx_stream_module.so') && has('apt-get') : !has(c),
  );
  if (missing.length === 0) return;
  const packages = missing.flatMap((m) => PACKAGES[m]);
  console.log(`installing ${packages.join(' ')} from Debian's packages…`);
  const sudo = process.getuid?.() === 0 ? [] : ['sudo'];
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  execFileSync(sudo[0] ?? 'apt-get', [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'update', '-qq'], {
    stdio: 'inherit',
    env,
  });
  execFileSync(
    sudo[0] ?? 'apt-get',
    [...sudo.slice(1), ...(sudo.length ? ['apt-get'] : []), 'install', '-y', '-qq', ...packages],
    { stdio: 'inherit', env },
  );
}

export function binary(name: string): string {
  for (const dir of ['/usr/bin', '/usr/sbin', '/usr/local/bin']) {
    if (spawnSync('test', ['-x', `${dir}/${name}`]).status === 0) return `${dir}/${name}`;
  }
  return name;
}
