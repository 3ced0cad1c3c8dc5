// Listener records of the IR: one per Gateway listener (or ListenerSet entry) that the translator accepted.
// The data plane groups listeners that share an address and port into one socket; a request picks the listener with
// the most specific hostname (Gateway API listener isolation), then searches only the routes attached to it.
// Plain data only: this module has no I/O and imports nothing from operator/ or dataplane/.

import type { ListenerTracing } from './tracing.ts';
import type { ExternalAuth } from './auth.ts';

/** Gateway `spec.listeners[].protocol`, limited to what Portico can serve. */
export type ListenerProtocol = 'HTTP' | 'HTTPS' | 'TLS' | 'TCP' | 'UDP';

/** Where an IR record came from, for logs, metrics and status messages. */
export interface SourceRef {
  kind: string;
  namespace: string;
  name: string;
  /** A listener name, a rule name, or a rule index as a string. */
  section?: string;
}

export interface ListenerTls {
  /** `tls.mode`: Terminate decrypts here; Passthrough routes the encrypted stream by SNI (TLS listeners only). */
  mode: 'Terminate' | 'Passthrough';
  /** Keys of `CertificateRecord`s from `tls.certificateRefs`, in order; the first one whose names match SNI wins. */
  certificateKeys: string[];
  /**
   * `tls.frontendValidation` (client certificates): PEM CA bundles the client certificate must chain to. Absent: no
   * client certificate is requested.
   */
  clientValidation?: {
    caCertificates: string[];
    /** AllowInsecureFallback lets a client without a valid certificate through; the default rejects it. */
    mode: 'AllowValidOnly' | 'AllowInsecureFallback';
  };
  /** `tls.options` (shared/validation/tls-options.ts): overrides of the TLS defaults; absent: the defaults. */
  options?: ListenerTlsOptions;
}

/** A listener's own TLS policy (`portico.dev/min-version`, `portico.dev/cipher-suites`). */
export interface ListenerTlsOptions {
  minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** TLS 1.2 suites (OpenSSL names) in place of the default list. */
  cipherSuites?: string[];
}

export interface Listener {
  /** Stable key, built by `listenerKey()`: `<namespace>/<gateway>/<listener name>`. */
  key: string;
  source: SourceRef;
  /**
   * The address this listener binds: the Gateway's own (from `spec.addresses` or the address pool), or in service
   * mode the unspecified address (`0.0.0.0` or `::`), the Gateway's Service sending its traffic here.
   */
  address: string;
  /** `spec.listeners[].port`: what clients connect to (redirects derive their port from it). */
  port: number;
  /** The port the data plane binds when it is not `port`: in service mode, the internal port the Service maps `port` to. */
  bindPort?: number;
  protocol: ListenerProtocol;
  /** `spec.listeners[].hostname`: exact (`a.example.com`) or wildcard (`*.example.com`); absent matches any host. */
  hostname?: string;
  /** `spec.listeners[].tls`; required for HTTPS, and for TLS listeners that terminate. */
  tls?: ListenerTls;
  /**
   * Gateway `spec.tls.backend.clientCertificateRef`: the key of the `CertificateRecord` the data plane presents when
   * it opens TLS to a backend (one a BackendTLSPolicy targets) for traffic that came in on this listener. Absent: no
   * client certificate. The data plane keeps one connection pool per (backend, certificate) pair.
   */
  backendClientCertificateKey?: string;
  /**
   * XTelemetryPolicy on the listener's Gateway (shared/ir/tracing.ts). Absent: the data plane's command-line tracing.
   * No IR version bump: a data plane that does not know it keeps its command-line tracing, which is no security loss.
   */
  tracing?: ListenerTracing;
  /**
   * `spec.listeners[].filters.requests[]` (GEP-5224), all of type ExternalAuth: run in this order on every request of
   * the listener before route matching; the first that does not allow the request answers it. Absent: none.
   */
  externalAuth?: ExternalAuth[];
}

/**
 * A certificate and its private key, from a `kubernetes.io/tls` Secret. Shared by key so that a Secret used by many
 * listeners travels once.
 */
export interface CertificateRecord {
  /** `<namespace>/<secret name>`. */
  key: string;
  certificatePem: string;
  privateKeyPem: string;
}
