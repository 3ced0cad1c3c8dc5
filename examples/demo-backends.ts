// The quickstart's backends: three tiny HTTP servers that say who they are and what they received, one line each,
// so that a curl through the gateway shows where the request went and how it arrived.

import { createServer } from 'node:http';

const BACKENDS: Array<[name: string, port: number]> = [
  ['web-v1', 9081],
  ['web-v2', 9082],
  ['api', 9083],
];

for (const [name, port] of BACKENDS) {
  createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(
      `${name}: ${req.method} ${req.url} (host ${req.headers.host}, x-forwarded-for ${req.headers['x-forwarded-for']})\n`,
    );
  })
    .on('error', (error: NodeJS.ErrnoException) => {
      console.error(`demo backend ${name} cannot listen on 127.0.0.1:${port}: ${error.message}`);
      process.exit(1);
    })
    .listen(port, '127.0.0.1');
}
