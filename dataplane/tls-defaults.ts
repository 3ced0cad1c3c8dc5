// The TLS profile of every listener that terminates TLS (HTTPS, and TLS listeners in Terminate mode): Mozilla's
// "intermediate" configuration (https://wiki.mozilla.org/Security/Server_Side_TLS, version 5.7) without its DHE
// suites — TLS 1.2 and 1.3 only, ECDHE key exchange only, AEAD suites only, the client's preference order — where
// Node's defaults also offer static-RSA key exchange (`AES256-GCM-SHA384`, …) and CBC suites (`AES128-SHA`, …).
// And the session-ticket keys: Node makes one random key per server and keeps it for the life of the process, so a
// stolen key decrypts every resumed session ever; here it is replaced every hour.
//
// Where it applies: OpenSSL takes the protocol versions and the cipher list from the server's own context, chosen
// before the client's SNI picks a listener's context (which changes the certificate, nothing else: checked with
// Node 24), so these options go on the servers and on every context alike (dataplane/http/tls-contexts.ts,
// dataplane/shard/https-server.ts, dataplane/l4/tls-server.ts). The session tickets are sealed with the server's
// own key for the same reason.
//
// A listener may narrow or widen the defaults (`tls.options`, shared/validation/tls-options.ts). Since one socket
// serves several listeners and OpenSSL negotiates before SNI picks one, the socket's server context offers the
// widest of its listeners' policies (`withSocketPolicy`), and each connection is then held to its own listener's
// policy (`tlsPolicyAccepted`): one that negotiated below it is closed right after the handshake.

import { randomBytes } from 'node:crypto';
import type { SecureContextOptions, TLSSocket, Server as TlsServer } from 'node:tls';
import type { Listener, ListenerTlsOptions } from '../shared/ir/listener.ts';
import { normalizeHost } from './http/hostnames.ts';

/** TLS 1.3 suites (all AEAD; OpenSSL's default set, in Mozilla's order). */
export const TLS13_SUITES = ['TLS_AES_128_GCM_SHA256', 'TLS_AES_256_GCM_SHA384', 'TLS_CHACHA20_POLY1305_SHA256'];
/** TLS 1.2 suites: ECDHE key exchange, AEAD encryption. */
export const TLS12_SUITES = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
];

export const TLS_DEFAULTS: Readonly<SecureContextOptions> = Object.freeze({
  minVersion: 'TLSv1.2',
  maxVersion: 'TLSv1.3',
  ciphers: [...TLS13_SUITES, ...TLS12_SUITES].join(':'),
  ecdhCurve: 'X25519:prime256v1:secp384r1',
  honorCipherOrder: false,
});

/** How often a server's session-ticket key is replaced. */
export const TICKET_KEY_ROTATION_MS = 60 * 60 * 1000;

/**
 * Replaces the server's session-ticket key now and every `periodMs` until the server closes. Sessions resumed with
 * a ticket sealed by the previous key fall back to a full handshake.
 */
export function rotateTicketKeys(server: TlsServer, periodMs = TICKET_KEY_ROTATION_MS): void {
  server.setTicketKeys(randomBytes(48));
  // A server that never listens (the TLS terminator of dataplane/l4/tls-server.ts) never emits 'close': the timer
  // holds it weakly and stops once it is gone.
  const ref = new WeakRef(server);
  const timer = setInterval(() => {
    const live = ref.deref();
    if (live === undefined) clearInterval(timer);
    else live.setTicketKeys(randomBytes(48));
  }, periodMs);
  timer.unref();
  server.once('close', () => clearInterval(timer));
}

/** The context options of one listener: the defaults, with its own minimum version and TLS 1.2 suites if it sets them. */
export function listenerTlsOptions(options: ListenerTlsOptions | undefined): SecureContextOptions {
  if (options === undefined) return TLS_DEFAULTS;
  return {
    ...TLS_DEFAULTS,
    minVersion: options.minVersion ?? TLS_DEFAULTS.minVersion,
    ciphers: [...TLS13_SUITES, ...(options.cipherSuites ?? TLS12_SUITES)].join(':'),
  };
}

const widened = new WeakMap<SecureContextOptions, Map<string, SecureContextOptions>>();

/**
 * A socket's server context options: `base` (its default listener's context) offering the widest policy of the
 * listeners that terminate TLS on it. The same object for the same inputs, so that a generation that changes no
 * policy does not make the server build its context again.
 */
export function withSocketPolicy(
  base: SecureContextOptions,
  listeners: ReadonlyArray<{ listener: Listener }>,
): SecureContextOptions {
  const policies = listeners.filter((l) => l.listener.tls?.mode === 'Terminate').map((l) => l.listener.tls?.options);
  const minVersion = policies.every((p) => p?.minVersion === 'TLSv1.3') ? 'TLSv1.3' : 'TLSv1.2';
  const ciphers = [...TLS13_SUITES, ...new Set(policies.flatMap((p) => p?.cipherSuites ?? TLS12_SUITES))].join(':');
  if (base.minVersion === minVersion && base.ciphers === ciphers) return base;
  let byPolicy = widened.get(base);
  if (byPolicy === undefined) widened.set(base, (byPolicy = new Map()));
  const key = `${minVersion}|${ciphers}`;
  let options = byPolicy.get(key);
  if (options === undefined) byPolicy.set(key, (options = { ...base, minVersion, ciphers }));
  return options;
}

/** The connection meets the TLS policy of the listener its server name selects (the defaults when it sets none). */
export function tlsPolicyAccepted(
  listeners: { lookup(host: string): { listener: Listener } | undefined },
  socket: TLSSocket,
): boolean {
  const servername = typeof socket.servername === 'string' ? socket.servername : '';
  const options = listeners.lookup(normalizeHost(servername))?.listener.tls?.options;
  const protocol = socket.getProtocol();
  if (protocol === 'TLSv1.3') return true;
  if (protocol !== 'TLSv1.2' || options?.minVersion === 'TLSv1.3') return false;
  return (options?.cipherSuites ?? TLS12_SUITES).includes(socket.getCipher()?.name);
}
