// Framing on the operator ↔ data plane Unix socket: each message is a 4-byte big-endian length, then that many bytes
// of UTF-8 JSON. Length-prefixed frames survive any chunking by the stream and let a reader refuse an oversized
// frame before buffering it.

/** A 10k-route snapshot is a few MiB; anything near this limit is a bug or an attack, not a config. */
export const MAX_FRAME_BYTES = 256 * 1024 * 1024;

export function encodeFrame(message: unknown): Buffer {
  const body = Buffer.from(JSON.stringify(message), 'utf8');
  if (body.length > MAX_FRAME_BYTES)
    throw new Error(`frame of ${body.length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`);
  const frame = Buffer.allocUnsafe(4 + body.length);
  frame.writeUInt32BE(body.length, 0);
  body.copy(frame, 4);
  return frame;
}

export type FrameError = { code: 'FrameTooLarge' | 'BadJson'; message: string };

/**
 * Accumulates stream chunks and returns the complete messages they finish. After an error the decoder is unusable;
 * the caller closes the connection (the peer is broken or hostile).
 */
export class FrameDecoder {
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed = false;

  push(chunk: Buffer): { messages: unknown[]; error?: FrameError } {
    const messages: unknown[] = [];
    if (this.#failed) return { messages, error: { code: 'BadJson', message: 'decoder already failed' } };
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= 4) {
      const head = this.#peek(4);
      const length = head.readUInt32BE(0);
      if (length > MAX_FRAME_BYTES) {
        this.#failed = true;
        return {
          messages,
          error: {
            code: 'FrameTooLarge',
            message: `frame of ${length} bytes exceeds the ${MAX_FRAME_BYTES}-byte limit`,
          },
        };
      }
      if (this.#buffered < 4 + length) break;
      const frame = this.#take(4 + length);
      try {
        messages.push(JSON.parse(frame.toString('utf8', 4)));
      } catch (error) {
        this.#failed = true;
        return { messages, error: { code: 'BadJson', message: `frame is not JSON: ${(error as Error).message}` } };
      }
    }
    return { messages };
  }

  #peek(n: number): Buffer {
    if (this.#chunks[0].length < n) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0];
  }

  #take(n: number): Buffer {
    const all = this.#chunks.length === 1 ? this.#chunks[0] : Buffer.concat(this.#chunks);
    const frame = all.subarray(0, n);
    const rest = all.subarray(n);
    this.#chunks = rest.length > 0 ? [rest] : [];
    this.#buffered = rest.length;
    return frame;
  }
}
