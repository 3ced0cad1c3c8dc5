// A raw HTTP/2 client for the flood tests: it writes frames byte by byte over a real socket (plain, or TLS with ALPN
// h2), so that it can do what a well-behaved client library never would — reset streams in a loop, send endless
// CONTINUATION frames, open a zero window and never update it — and it records every frame the server sends back
// and whether the server closed the connection. Header blocks are HPACK literals without indexing (RFC 7541 §6.2.2).

import { connect as connectTcp } from 'node:net';
import type { Socket } from 'node:net';
import { connect as connectTls } from 'node:tls';

export const FRAME = {
  DATA: 0,
  HEADERS: 1,
  RST_STREAM: 3,
  SETTINGS: 4,
  PING: 6,
  GOAWAY: 7,
  WINDOW_UPDATE: 8,
  CONTINUATION: 9,
} as const;
export const FLAG = { END_STREAM: 0x1, ACK: 0x1, END_HEADERS: 0x4 } as const;
export const SETTING = { MAX_CONCURRENT_STREAMS: 3, INITIAL_WINDOW_SIZE: 4, MAX_HEADER_LIST_SIZE: 6 } as const;
export const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

export interface Frame {
  type: number;
  flags: number;
  stream: number;
  payload: Buffer;
}

export function frame(type: number, flags: number, stream: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const head = Buffer.alloc(9);
  head.writeUIntBE(payload.length, 0, 3);
  head[3] = type;
  head[4] = flags;
  head.writeUInt32BE(stream & 0x7fffffff, 5);
  return Buffer.concat([head, payload]);
}

export function settings(entries: Array<[number, number]> = []): Buffer {
  const payload = Buffer.alloc(entries.length * 6);
  entries.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, i * 6);
    payload.writeUInt32BE(value, i * 6 + 2);
  });
  return frame(FRAME.SETTINGS, 0, 0, payload);
}

/** An HPACK integer with an n-bit prefix (RFC 7541 §5.1). */
function integer(value: number, prefixBits: number, firstByte = 0): number[] {
  const max = (1 << prefixBits) - 1;
  if (value < max) return [firstByte | value];
  const out = [firstByte | max];
  let rest = value - max;
  while (rest >= 128) {
    out.push((rest % 128) + 128);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
  return out;
}

function literal(text: string): Buffer {
  const bytes = Buffer.from(text, 'latin1');
  return Buffer.concat([Buffer.from(integer(bytes.length, 7)), bytes]);
}

/** A header block of literals without indexing, new names. */
export function headerBlock(headers: Array<[string, string]>): Buffer {
  return Buffer.concat(headers.flatMap(([name, value]) => [Buffer.from([0]), literal(name), literal(value)]));
}

export function request(authority: string, path = '/', extra: Array<[string, string]> = []): Buffer {
  return headerBlock([[':method', 'GET'], [':scheme', 'http'], [':authority', authority], [':path', path], ...extra]);
}

export class RawH2 {
  readonly socket: Socket;
  readonly frames: Frame[] = [];
  closed = false;
  /** Bytes the server wrote that do not parse as frames (e.g. an HTTP/1.1 answer). */
  garbage = false;
  #buffer = Buffer.alloc(0);
  #waiters: Array<() => void> = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 9) {
        const length = this.#buffer.readUIntBE(0, 3);
        if (length > 1 << 20) {
          this.garbage = true;
          this.#buffer = Buffer.alloc(0);
          break;
        }
        if (this.#buffer.length < 9 + length) break;
        this.frames.push({
          type: this.#buffer[3],
          flags: this.#buffer[4],
          stream: this.#buffer.readUInt32BE(5) & 0x7fffffff,
          payload: this.#buffer.subarray(9, 9 + length),
        });
        this.#buffer = this.#buffer.subarray(9 + length);
        // A well-behaved peer acknowledges the server's SETTINGS (its limits apply from then on).
        const last = this.frames[this.frames.length - 1];
        if (last.type === FRAME.SETTINGS && (last.flags & FLAG.ACK) === 0)
          this.write(frame(FRAME.SETTINGS, FLAG.ACK, 0));
      }
      this.#wake();
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.closed = true;
      this.#wake();
    });
  }

  #wake(): void {
    for (const wake of this.#waiters.splice(0)) wake();
  }

  /** Connects and, unless `preface` is false, sends the connection preface and an (optionally non-empty) SETTINGS. */
  static async connect(
    host: string,
    port: number,
    options: { tls?: boolean; servername?: string; preface?: boolean; settings?: Array<[number, number]> } = {},
  ): Promise<RawH2> {
    const socket = await new Promise<Socket>((resolve, reject) => {
      const s = options.tls
        ? connectTls(
            { host, port, ALPNProtocols: ['h2'], rejectUnauthorized: false, servername: options.servername },
            () => resolve(s),
          )
        : connectTcp({ host, port }, () => resolve(s));
      s.once('error', reject);
    });
    const client = new RawH2(socket);
    if (options.preface !== false) client.write(Buffer.concat([PREFACE, settings(options.settings ?? [])]));
    return client;
  }

  /** Writes unless the server closed the connection; false when it did. */
  write(bytes: Buffer): boolean {
    if (this.closed || this.socket.destroyed) return false;
    this.socket.write(bytes);
    return true;
  }

  /** Resolves when `done` holds (checked on every frame and at close) or the connection is closed. */
  until(done: (client: RawH2) => boolean): Promise<void> {
    return new Promise((resolve) => {
      const check = () => {
        if (done(this) || this.closed) resolve();
        else this.#waiters.push(check);
      };
      check();
    });
  }

  /** The error code of the server's GOAWAY, if it sent one. */
  goawayCode(): number | undefined {
    const goaway = this.frames.find((f) => f.type === FRAME.GOAWAY);
    return goaway?.payload.readUInt32BE(4);
  }

  resetCode(stream: number): number | undefined {
    const reset = this.frames.find((f) => f.type === FRAME.RST_STREAM && f.stream === stream);
    return reset?.payload.readUInt32BE(0);
  }

  /**
   * The `:status` of the response on a stream, when the server sent it first in its header block either indexed
   * (200, 204, 206, 304, 400, 404, 500: static table 8–14) or as a plain literal of name index 8 (what node:http2
   * sends for other codes); undefined otherwise.
   */
  status(stream: number): number | undefined {
    const block = this.frames.find((f) => f.type === FRAME.HEADERS && f.stream === stream)?.payload;
    if (block === undefined || block.length === 0) return undefined;
    const indexed = [200, 204, 206, 304, 400, 404, 500];
    if (block[0] >= 0x88 && block[0] <= 0x8e) return indexed[block[0] - 0x88];
    const withNameIndex8 = block[0] === 0x48 || block[0] === 0x08 || block[0] === 0x18;
    if (withNameIndex8 && block[1] === 3) return Number(block.toString('latin1', 2, 5));
    return undefined;
  }

  /** The server is done with this connection: it closed it or sent GOAWAY. */
  cutOff(): boolean {
    return this.closed || this.goawayCode() !== undefined;
  }

  close(): void {
    this.socket.destroy();
  }
}
