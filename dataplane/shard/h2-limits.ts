// HTTP/2 limits of every listener that speaks it (h2 over TLS, h2c with prior knowledge on plain listeners): the
// options node:http2 (nghttp2 underneath) enforces itself, and a per-session guard for what it leaves to us. Each
// limit, and what a client that crosses it gets:
//   - concurrent streams: 100 (SETTINGS_MAX_CONCURRENT_STREAMS); a stream beyond it is refused (RST_STREAM
//     REFUSED_STREAM), and after 100 refused streams the session is closed;
//   - header list: SETTINGS_MAX_HEADER_LIST_SIZE is the listener's maxHeaderBytes (the HTTP/1.1 limit too), at most
//     128 header fields; a request beyond either is refused, its stream reset;
//   - CONTINUATION frames: nghttp2 (1.61 and later) closes a session whose header block spans too many of them;
//   - stream resets (CVE-2023-44487, "rapid reset"): a token bucket of 200, refilled at 50 a second, in nghttp2
//     (RST_STREAM frames received) and here (streams the client abandons before their response ends, by RST_STREAM
//     or otherwise); an empty bucket closes the session with GOAWAY ENHANCE_YOUR_CALM;
//   - PING and SETTINGS frames: token buckets of 200 (10 a second refill) and 50 (5 a second) per session, here;
//     nghttp2 also closes a session whose unanswered control frames pile up (a client that floods and does not read);
//   - invalid frames: 100 per session, then the session is closed; at most 32 entries in one SETTINGS frame; at
//     most 10 PINGs of ours outstanding;
//   - memory: 32 MiB of buffered frames per session, then new streams are refused;
//   - idle: a stream with no byte either way for the listener's keep-alive timeout is reset (a client that sets a
//     zero window and never opens it holds nothing for longer), and a session with no activity is closed after it.
// What it must not do: look at requests (routing is the front end's), or keep state beyond a session's life.

import { METHODS as HTTP_METHODS } from 'node:http';
import { constants } from 'node:http2';
import type { Http2Server, Http2SecureServer, ServerHttp2Session, ServerHttp2Stream } from 'node:http2';

export const H2_LIMITS = Object.freeze({
  maxConcurrentStreams: 100,
  maxHeaderListPairs: 128,
  maxSessionInvalidFrames: 100,
  maxSessionRejectedStreams: 100,
  maxOutstandingPings: 10,
  maxSettings: 32,
  maxSessionMemoryMiB: 32,
  streamResets: { burst: 200, perSecond: 50 },
  pings: { burst: 200, perSecond: 10 },
  settingsFrames: { burst: 50, perSecond: 5 },
});

export interface H2ListenerLimits {
  /** The listener's header limit in bytes (the HTTP/1.1 one): SETTINGS_MAX_HEADER_LIST_SIZE. */
  maxHeaderBytes: number;
  /** No byte either way for this long resets a stream, and closes an idle session. */
  keepAliveTimeoutMs: number;
}

/** Options for `http2.createServer` and `http2.createSecureServer` (spread into them). */
export function h2ServerOptions(limits: H2ListenerLimits) {
  return {
    settings: {
      maxConcurrentStreams: H2_LIMITS.maxConcurrentStreams,
      maxHeaderListSize: limits.maxHeaderBytes,
      enablePush: false,
    },
    maxHeaderListPairs: H2_LIMITS.maxHeaderListPairs,
    maxSessionInvalidFrames: H2_LIMITS.maxSessionInvalidFrames,
    maxSessionRejectedStreams: H2_LIMITS.maxSessionRejectedStreams,
    maxOutstandingPings: H2_LIMITS.maxOutstandingPings,
    maxSettings: H2_LIMITS.maxSettings,
    maxSessionMemory: H2_LIMITS.maxSessionMemoryMiB,
    streamResetBurst: H2_LIMITS.streamResets.burst,
    streamResetRate: H2_LIMITS.streamResets.perSecond,
  };
}

/** A token bucket: `take` is false once more than `burst` were taken faster than `perSecond` come back. */
class Bucket {
  #tokens: number;
  #at = performance.now();
  readonly #burst: number;
  readonly #perMs: number;

  constructor(limit: { burst: number; perSecond: number }) {
    this.#tokens = limit.burst;
    this.#burst = limit.burst;
    this.#perMs = limit.perSecond / 1000;
  }

  take(): boolean {
    const now = performance.now();
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#at) * this.#perMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}

/** Ends a session that crossed a limit: GOAWAY ENHANCE_YOUR_CALM, then the socket, whatever the client does. */
function cutOff(session: ServerHttp2Session): void {
  if (session.destroyed) return;
  session.goaway(constants.NGHTTP2_ENHANCE_YOUR_CALM);
  session.destroy();
}

function guardSession(session: ServerHttp2Session, limits: H2ListenerLimits): void {
  const resets = new Bucket(H2_LIMITS.streamResets);
  const pings = new Bucket(H2_LIMITS.pings);
  const settings = new Bucket(H2_LIMITS.settingsFrames);
  session.setTimeout(limits.keepAliveTimeoutMs, () => session.destroy());
  session.on('ping', () => {
    if (!pings.take()) cutOff(session);
  });
  session.on('remoteSettings', () => {
    if (!settings.take()) cutOff(session);
  });
  session.on('stream', (stream: ServerHttp2Stream) => {
    stream.setTimeout(limits.keepAliveTimeoutMs, () => stream.close(constants.NGHTTP2_CANCEL));
    stream.once('aborted', () => {
      if (!resets.take()) cutOff(session);
    });
  });
}

/** Applies the per-session guard to every session of an HTTP/2 server. */
export function guardH2Sessions(server: Http2Server | Http2SecureServer, limits: H2ListenerLimits): void {
  server.on('session', (session: ServerHttp2Session) => guardSession(session, limits));
}

const PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** Methods llhttp parses (node:http's list) but PRI, which only starts the HTTP/2 preface: others get a 400. */
const METHODS = new Set(HTTP_METHODS.filter((m) => m !== 'PRI'));
const LONGEST_METHOD = Math.max(...HTTP_METHODS.map((m) => m.length));
const isUpper = (byte: number) => byte >= 0x41 && byte <= 0x5a;

/**
 * What the first bytes of a plain-listener connection are: the HTTP/2 connection preface (`h2`), the start of an
 * HTTP/1.x request (`http1`: a method llhttp knows, then a space, after optional empty lines), `more` to wait for,
 * or `close`: neither. A connection that opens with anything else (h2spec 3.5: "INVALID CONNECTION PREFACE") is
 * closed unanswered, as an HTTP/2 server must, rather than answered 400 as HTTP/1.1.
 */
export function classifyCleartext(head: Buffer): 'h2' | 'http1' | 'close' | 'more' {
  const n = Math.min(head.length, PREFACE.length);
  if (head.subarray(0, n).equals(PREFACE.subarray(0, n))) return head.length >= PREFACE.length ? 'h2' : 'more';
  let start = 0;
  while (start < head.length && (head[start] === 0x0d || head[start] === 0x0a)) start++;
  if (start > 4) return 'close';
  let end = start;
  // A method is upper-case letters and dashes: any other byte before the space decides at once.
  while (end < head.length && end - start <= LONGEST_METHOD && (isUpper(head[end]) || head[end] === 0x2d)) end++;
  if (end === head.length) return end - start > LONGEST_METHOD ? 'close' : 'more';
  return head[end] === 0x20 && METHODS.has(head.toString('latin1', start, end)) ? 'http1' : 'close';
}
