// Configurations of the reference servers, written to a scratch directory: the nginx backend every proxy forwards
// to, and nginx and HAProxy as proxies with the same worker count as Portico's shards and upstream keep-alive on.

import { chmodSync, existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export const BACKEND_PORT = 19000;

export function nginxBackendConf(dir: string, port = BACKEND_PORT): string {
  const path = join(dir, 'backend.conf');
  // /1m: a 1 MiB body, for bulk transfers (bench/tcp-relay.ts).
  // nginx's workers run as an unprivileged user: they must be able to read it.
  writeFileSync(join(dir, '1m.bin'), Buffer.alloc(1024 * 1024, 0x61), { mode: 0o644 });
  chmodSync(dir, 0o755);
  writeFileSync(
    path,
    `worker_processes 1;
pid ${dir}/backend.pid;
error_log ${dir}/backend-error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 100000000;
  server {
    listen 127.0.0.1:${port} reuseport backlog=4096;
    location / { return 200 "hello world\\n"; }
    location = /1m { alias ${dir}/1m.bin; default_type application/octet-stream; }
  }
}
`,
  );
  return path;
}

export interface NginxRoutes {
  hosts: number;
  pathsPerHost: number;
}

/** nginx as a proxy; with `routes`, one server block per hostname and one location per path rule. */
export function nginxProxyConf(dir: string, port: number, workers: number, routes?: NginxRoutes): string {
  const path = join(dir, `proxy-${port}.conf`);
  const proxy = 'proxy_pass http://be; proxy_http_version 1.1; proxy_set_header Connection "";';
  let servers = `server { listen 127.0.0.1:${port} reuseport backlog=4096; location / { ${proxy} } }`;
  if (routes) {
    const blocks: string[] = [];
    for (let h = 0; h < routes.hosts; h++) {
      const locations: string[] = [];
      for (let p = 0; p < routes.pathsPerHost; p++) {
        locations.push(p % 3 === 1 ? `location = /p${p}/item { ${proxy} }` : `location /p${p}/ { ${proxy} }`);
      }
      blocks.push(
        `server { listen 127.0.0.1:${port}${h === 0 ? ' reuseport backlog=4096' : ''}; server_name h${h}.bench.test; ${locations.join(' ')} }`,
      );
    }
    servers = blocks.join('\n');
  }
  writeFileSync(
    path,
    `worker_processes ${workers};
pid ${dir}/proxy-${port}.pid;
error_log ${dir}/proxy-${port}-error.log warn;
events { worker_connections 8192; }
http {
  access_log off;
  server_names_hash_max_size 4096;
  server_names_hash_bucket_size 128;
  upstream be { server 127.0.0.1:${BACKEND_PORT}; keepalive 128; keepalive_requests 100000000; }
  ${servers}
}
`,
  );
  return path;
}

const STREAM_MODULE = '/usr/lib/nginx/modules/ngx_stream_module.so';

/** nginx `stream` as a TCP proxy to the backend (Debian's libnginx-mod-stream), the reference for TCPRoute. */
export function nginxStreamConf(dir: string, port: number, workers: number): string {
  const path = join(dir, `stream-${port}.conf`);
  writeFileSync(
    path,
    `${existsSync(STREAM_MODULE) ? `load_module ${STREAM_MODULE};\n` : ''}worker_processes ${workers};
pid ${dir}/stream-${port}.pid;
error_log ${dir}/stream-${port}-error.log warn;
events { worker_connections 8192; }
stream {
  server { listen 127.0.0.1:${port} reuseport backlog=4096; proxy_pass 127.0.0.1:${BACKEND_PORT}; }
}
`,
  );
  return path;
}

export function haproxyConf(dir: string, port: number, threads: number): string {
  const path = join(dir, `haproxy-${port}.cfg`);
  writeFileSync(
    path,
    `global
  nbthread ${threads}
  maxconn 8000
defaults
  mode http
  timeout connect 5s
  timeout client 60s
  timeout server 60s
  option http-keep-alive
frontend fe
  bind 127.0.0.1:${port}
  default_backend be
backend be
  http-reuse always
  server s1 127.0.0.1:${BACKEND_PORT} maxconn 1000
`,
  );
  return path;
}

/** wrk script: every request picks one of `hosts` hostnames and one of `paths` path rules at random. */
export function uniformRoutesScript(dir: string, hosts: number, paths: number): string {
  const path = join(dir, 'uniform.lua');
  writeFileSync(
    path,
    `math.randomseed(42)
request = function()
  local h = math.random(0, ${hosts - 1})
  local p = math.random(0, ${paths - 1})
  return wrk.format("GET", "/p" .. p .. "/item", { Host = "h" .. h .. ".bench.test" })
end
`,
  );
  return path;
}
