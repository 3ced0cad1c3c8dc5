// The console's HTTP side, mounted under /console on the operator's admin endpoint: the page, its script and style,
// the libraries it imports (read from node_modules: no build step, no CDN), the server-sent event stream, and one
// object's details as JSON. Read-only: GET and HEAD only; and only for requests addressed to an IP address or
// localhost (a page elsewhere whose DNS name rebinds to this address gets nothing). Every response carries a strict
// Content-Security-Policy: scripts and styles from this origin only (plus the page's one inline import map, by
// hash), no frames, no form targets.

import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import type { ConsoleEvent, ConsoleHub } from './hub.ts';

const require = createRequire(import.meta.url);
const PAGE_DIR = new URL('./page/', import.meta.url).pathname;

/** A file of an installed package (its root found from its entry point: not every package exports package.json). */
function packageFile(pkg: string, file: string): string {
  let dir = dirname(require.resolve(pkg));
  while (
    !existsSync(join(dir, 'package.json')) ||
    JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')).name !== pkg
  ) {
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the root of package ${pkg}`);
    dir = up;
  }
  return join(dir, file);
}

/** The libraries the page imports, by the name its import map gives them. Nothing else under /console/vendor/. */
const VENDOR: Record<string, { path: string; type: string }> = {
  'preact.mjs': { path: packageFile('preact', 'dist/preact.mjs'), type: 'text/javascript' },
  'hooks.mjs': { path: packageFile('preact', 'hooks/dist/hooks.mjs'), type: 'text/javascript' },
  'htm.mjs': { path: packageFile('htm', 'dist/htm.mjs'), type: 'text/javascript' },
  'uPlot.esm.js': { path: packageFile('uplot', 'dist/uPlot.esm.js'), type: 'text/javascript' },
  'uPlot.min.css': { path: packageFile('uplot', 'dist/uPlot.min.css'), type: 'text/css' },
};

const PAGE: Record<string, string> = {
  'app.js': 'text/javascript',
  'views.js': 'text/javascript',
  'charts.js': 'text/javascript',
  'explain.js': 'text/javascript',
  'style.css': 'text/css',
};

const IMPORT_MAP = JSON.stringify({
  imports: {
    preact: './vendor/preact.mjs',
    'preact/hooks': './vendor/hooks.mjs',
    htm: './vendor/htm.mjs',
    uplot: './vendor/uPlot.esm.js',
  },
});

function indexHtml(): { html: string; csp: string } {
  const hash = createHash('sha256').update(IMPORT_MAP).digest('base64');
  const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8').replace('{{IMPORT_MAP}}', IMPORT_MAP);
  const csp = [
    "default-src 'none'",
    `script-src 'self' 'sha256-${hash}'`,
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
  return { html, csp };
}

/** Host is an IP literal (v4, or v6 in brackets) or localhost, with or without a port. */
export function loopbackOrIpHost(host: string | undefined): boolean {
  if (host === undefined) return false;
  const name = host.startsWith('[') ? host.slice(1, host.indexOf(']')) : host.replace(/:\d+$/, '');
  return name === 'localhost' || isIP(name) !== 0;
}

const MAX_BUFFERED_BYTES = 16 * 1024 * 1024;

export interface ConsoleHandler {
  /** Handles a request under /console; false when the path is not the console's. */
  handle(req: IncomingMessage, res: ServerResponse, path: string): boolean;
}

export function createConsoleHandler(hub: ConsoleHub): ConsoleHandler {
  const { html, csp } = indexHtml();
  const common = {
    'content-security-policy': csp,
    'x-content-type-options': 'nosniff',
    'referrer-policy': 'no-referrer',
    'cross-origin-opener-policy': 'same-origin',
  };
  const cache = new Map<string, Buffer>();
  const file = (path: string) => {
    let body = cache.get(path);
    if (body === undefined) cache.set(path, (body = readFileSync(path)));
    return body;
  };

  function events(req: IncomingMessage, res: ServerResponse): void {
    res.writeHead(200, { ...common, 'content-type': 'text/event-stream', 'cache-control': 'no-store' });
    res.write('retry: 1000\n\n');
    const send = (event: ConsoleEvent) => {
      // A browser that stopped reading (a laptop asleep behind a port-forward) must not make the operator buffer
      // forever: past a few maps' worth, it is cut off, and reconnects (EventSource does) when it wakes.
      if (res.writableLength > MAX_BUFFERED_BYTES) return void res.destroy();
      res.write(`event: ${event.type}\ndata: ${event.json}\n\n`);
    };
    const unsubscribe = hub.subscribe(send, () => res.end());
    // A comment now and then keeps proxies (kubectl port-forward among them) from closing an idle stream.
    const keepAlive = setInterval(() => res.write(': keep-alive\n\n'), 15_000);
    req.on('close', () => {
      clearInterval(keepAlive);
      unsubscribe();
    });
  }

  return {
    handle(req, res, path) {
      if (path !== '/console' && !path.startsWith('/console/')) return false;
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { ...common, allow: 'GET, HEAD' }).end();
        return true;
      }
      if (!loopbackOrIpHost(req.headers.host)) {
        // A page on another site that rebinds its DNS name to this address must not read the console.
        res
          .writeHead(403, { ...common, 'content-type': 'text/plain' })
          .end('the console answers requests addressed to an IP address or localhost only\n');
        return true;
      }
      const rest = path.slice('/console/'.length);
      if (path === '/console') res.writeHead(308, { ...common, location: '/console/' }).end();
      else if (rest === '' || rest === 'index.html')
        res
          .writeHead(200, { ...common, 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' })
          .end(html);
      else if (rest === 'events') events(req, res);
      else if (rest === 'object') {
        // One object's details: /console/object?id=<Kind>/<namespace>/<name>
        const id = new URL(req.url ?? '', 'http://console').searchParams.get('id') ?? '';
        const details = hub.details(id);
        res
          .writeHead(details === undefined ? 404 : 200, {
            ...common,
            'content-type': 'application/json',
            'cache-control': 'no-store',
          })
          .end(JSON.stringify(details ?? { error: `no object ${id}` }));
      } else if (rest in PAGE)
        res
          .writeHead(200, { ...common, 'content-type': `${PAGE[rest]}; charset=utf-8`, 'cache-control': 'no-cache' })
          .end(file(join(PAGE_DIR, rest)));
      else if (rest.startsWith('vendor/') && rest.slice('vendor/'.length) in VENDOR) {
        const v = VENDOR[rest.slice('vendor/'.length)];
        res
          .writeHead(200, { ...common, 'content-type': `${v.type}; charset=utf-8`, 'cache-control': 'max-age=3600' })
          .end(file(v.path));
      } else res.writeHead(404, { ...common, 'content-type': 'text/plain' }).end('not found\n');
      return true;
    },
  };
}
