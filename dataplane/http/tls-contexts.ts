// TLS termination material of a shard: one SecureContext per listener (all of the listener's certificates in one
// context, so an RSA and an ECDSA certificate can be offered side by side), found by SNI through the listeners'
// hostnames. Contexts are cached by certificate record identity, so a generation that does not touch a Secret reuses
// its context, and a rotated certificate takes effect on the next handshake without touching the socket.

import { createSecureContext } from 'node:tls';
import type { SecureContext, SecureContextOptions } from 'node:tls';
import type { CertificateRecord } from '../../shared/ir/listener.ts';
import { listenerTlsOptions, withSocketPolicy } from '../tls-defaults.ts';
import { HostIndex } from './hostnames.ts';
import type { SocketTable } from './tables.ts';

export interface TlsMaterial {
  /** Context by listener hostname, looked up with the client's SNI. */
  byHost: HostIndex<SecureContext>;
  /** For clients that send no SNI (or an unknown name): the catch-all listener's context, else the first one's. */
  fallback: SecureContextOptions | null;
}

interface CachedContext {
  records: CertificateRecord[];
  options: SecureContextOptions;
  context: SecureContext;
}

export type TlsContextCache = Map<string, CachedContext>;

function sameRecords(a: CertificateRecord[], b: CertificateRecord[]): boolean {
  return a.length === b.length && a.every((r, i) => r === b[i]);
}

export function compileTlsMaterial(
  table: SocketTable,
  certificates: Map<string, CertificateRecord>,
  previous: TlsContextCache,
  next: TlsContextCache,
): TlsMaterial {
  const byHost = new HostIndex<SecureContext>();
  let fallback: SecureContextOptions | null = null;
  for (const compiled of table.listenerList) {
    const tls = compiled.listener.tls;
    if (tls === undefined || tls.mode !== 'Terminate') continue;
    const records = tls.certificateKeys
      .map((k) => certificates.get(k))
      .filter((r): r is CertificateRecord => r !== undefined);
    if (records.length === 0) continue;
    // AllowInsecureFallback lets every client in, valid certificate or not, so the certificate is not verified at all.
    // Verifying it anyway broke connections: a client certificate whose RSA signature fails verification (an
    // issuer with the same name but another key) leaves an error on OpenSSL's queue that Node then reports on the
    // socket after the handshake (seen with the conformance suite's certificates and Go's TLS client).
    const clientCa = tls.clientValidation?.mode === 'AllowValidOnly' ? tls.clientValidation.caCertificates : [];
    const cacheKey = `${tls.certificateKeys.join('\n')}\n${clientCa.join('')}\n${JSON.stringify(tls.options ?? null)}`;
    let cached = next.get(cacheKey) ?? previous.get(cacheKey);
    if (cached === undefined || !sameRecords(cached.records, records)) {
      const options: SecureContextOptions = {
        ...listenerTlsOptions(tls.options),
        cert: records.map((r) => r.certificatePem),
        key: records.map((r) => r.privateKeyPem),
      };
      // Client certificates of this listener are verified against its own CA bundle (frontend validation).
      if (clientCa.length > 0) options.ca = clientCa;
      cached = { records, options, context: createSecureContext(options) };
    }
    next.set(cacheKey, cached);
    const hostname = compiled.listener.hostname ?? '';
    byHost.set(hostname, cached.context);
    if (fallback === null || hostname === '') fallback = cached.options;
  }
  return { byHost, fallback: fallback && withSocketPolicy(fallback, table.listenerList) };
}
