// One HTTPS request over a fresh connection (no agent): the server verified with `ca` under `servername`, a client
// certificate presented when given. Resolves with the status; rejects when the handshake or the connection fails (a
// server that refuses the client certificate).

import { request } from 'node:https';
import type { Pem } from './certs.ts';

export interface HttpsGetOptions {
  host: string;
  port: number;
  path: string;
  servername: string;
  ca: string;
  client?: Pem;
}

export function httpsGet(options: HttpsGetOptions): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      {
        host: options.host,
        port: options.port,
        path: options.path,
        servername: options.servername,
        headers: { host: options.servername },
        ca: options.ca,
        cert: options.client?.cert,
        key: options.client?.key,
        agent: false,
        timeout: 5000,
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.end();
  });
}
