// Raw HTTP/1.1 over a socket, for the tests that must write bytes a real client would not (hostile input, pipelining,
// Expect, odd framing): sends bytes, collects what comes back until the server closes or `endAfterMs` passes.

import { connect } from 'node:net';

export function rawExchange(address: string, port: number, bytes: string | Buffer, endAfterMs = 300): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect(port, address);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', () => undefined);
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('latin1')));
    socket.write(bytes);
    setTimeout(() => socket.end(), endAfterMs);
  });
}

/** The status code of the first response in `response` (0 when there is none). */
export function statusOf(response: string): number {
  return Number(/^HTTP\/1\.1 (\d{3})/.exec(response)?.[1] ?? 0);
}

/** Every status line's code, in order. */
export function statusesOf(response: string): number[] {
  return [...response.matchAll(/HTTP\/1\.1 (\d{3}) /g)].map((m) => Number(m[1]));
}
