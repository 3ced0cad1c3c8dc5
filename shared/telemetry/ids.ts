// Random trace and span ids for sampled spans: random bytes are drawn from a pooled buffer refilled in blocks (one
// getrandom call per 256 span ids rather than one per id), then written as lowercase hex.

import { randomFillSync, randomUUID } from 'node:crypto';

const POOL_SIZE = 4096;
const pool = Buffer.allocUnsafe(POOL_SIZE);
let offset = POOL_SIZE;

function take(bytes: number): string {
  if (offset + bytes > POOL_SIZE) {
    randomFillSync(pool);
    offset = 0;
  }
  // An all-zero id is invalid; with 8 random bytes it has probability 2^-64, but it costs one check to exclude.
  let any = 0;
  for (let i = offset; i < offset + bytes; i++) any |= pool[i];
  if (any === 0) pool[offset] = 1;
  const id = pool.toString('hex', offset, offset + bytes);
  offset += bytes;
  return id;
}

/** 16 random bytes as 32 hex digits. */
export function newTraceId(): string {
  return take(16);
}

/** 8 random bytes as 16 hex digits. */
export function newSpanId(): string {
  return take(8);
}

/** An `x-request-id` for a request that came without one (a UUID v4, as Envoy generates). */
export function newRequestId(): string {
  return randomUUID();
}
