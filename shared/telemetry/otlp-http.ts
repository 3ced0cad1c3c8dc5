// The OTLP/HTTP transport: POST the encoded request to `<endpoint>/v1/traces`. The one file of shared/telemetry that
// does I/O, and only when called: the data plane's shards and the operator both export spans and must not import each
// other, so the transport lives beside the encoder they share. node:http(s) with a keep-alive agent: one connection
// per exporter, reused batch after batch.

import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';

export interface OtlpHttpOptions {
  /** Collector base URL, e.g. http://127.0.0.1:4318 (the path /v1/traces is added unless the URL has one). */
  endpoint: string;
  /** Extra request headers (XTelemetryPolicy's provider.headers, e.g. Authorization). */
  headers?: Record<string, string>;
  timeoutMs?: number;
}

export function tracesUrl(endpoint: string): URL {
  const url = new URL(endpoint);
  if (url.pathname === '/' || url.pathname === '') url.pathname = '/v1/traces';
  return url;
}

/** A `send` for SpanBatcher. Rejects on a network error or a status other than 2xx. */
export function otlpHttpSender(options: OtlpHttpOptions): (body: Uint8Array) => Promise<void> {
  const url = tracesUrl(options.endpoint);
  const https = url.protocol === 'https:';
  const agent = https
    ? new HttpsAgent({ keepAlive: true, maxSockets: 1 })
    : new HttpAgent({ keepAlive: true, maxSockets: 1 });
  const request = https ? httpsRequest : httpRequest;
  const timeoutMs = options.timeoutMs ?? 10_000;
  return (body) =>
    new Promise<void>((resolve, reject) => {
      const req = request(
        url,
        {
          method: 'POST',
          agent,
          timeout: timeoutMs,
          headers: {
            ...options.headers,
            'content-type': 'application/x-protobuf',
            'content-length': body.length,
          },
        },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300) resolve();
            else reject(new Error(`OTLP export: HTTP ${status} ${Buffer.concat(chunks).toString('utf8', 0, 200)}`));
          });
          res.on('error', reject);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`OTLP export: no answer within ${timeoutMs} ms`)));
      req.on('error', reject);
      req.end(body);
    });
}
