// Runs wrk and reads its summary: requests per second, latency percentiles, errors and non-2xx responses.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { binary } from './tools.ts';

const run = promisify(execFile);

export interface WrkResult {
  rps: number;
  p50ms: number;
  p99ms: number;
  errors: number;
  non2xx: number;
  requests: number;
  /** wrk's socket error counts by kind (connect, read, write, timeout: no answer within wrk's timeout). */
  socketErrors: { connect: number; read: number; write: number; timeout: number };
}

function ms(value: string): number {
  const m = /^([\d.]+)(us|ms|s)$/.exec(value.trim());
  if (!m) return NaN;
  const n = Number(m[1]);
  return m[2] === 'us' ? n / 1000 : m[2] === 's' ? n * 1000 : n;
}

export async function wrk(
  url: string,
  o: {
    threads: number;
    connections: number;
    seconds: number;
    host?: string;
    script?: string;
    close?: boolean;
    /** wrk's per-request timeout (2 s by default), seconds. */
    timeoutS?: number;
    /** Extra request headers, `Name: value` each. */
    headers?: string[];
  },
): Promise<WrkResult> {
  const args = ['-t', String(o.threads), '-c', String(o.connections), '-d', `${o.seconds}s`, '--latency'];
  if (o.host) args.push('-H', `Host: ${o.host}`);
  // A new connection per request: every request asks the server to close, and wrk reconnects.
  if (o.close) args.push('-H', 'Connection: close');
  for (const header of o.headers ?? []) args.push('-H', header);
  if (o.script) args.push('-s', o.script);
  if (o.timeoutS !== undefined) args.push('--timeout', `${o.timeoutS}s`);
  args.push(url);
  const { stdout } = await run(binary('wrk'), args, { maxBuffer: 1 << 20 });
  const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? 0);
  const errors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(stdout);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    p50ms: ms(/\s50%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    p99ms: ms(/\s99%\s+(\S+)/.exec(stdout)?.[1] ?? ''),
    errors: errors ? errors.slice(1).reduce((a, b) => a + Number(b), 0) : 0,
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    requests: num(/(\d+) requests in/),
    socketErrors: {
      connect: Number(errors?.[1] ?? 0),
      read: Number(errors?.[2] ?? 0),
      write: Number(errors?.[3] ?? 0),
      timeout: Number(errors?.[4] ?? 0),
    },
  };
}
