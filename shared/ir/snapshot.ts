// The config snapshot: everything the data plane serves, as flat keyed records. A snapshot travels either whole or
// as a delta against the generation the data plane already holds (see delta.ts).

import type { Backend } from './backend.ts';
import type { CertificateRecord, Listener } from './listener.ts';
import type { HttpRoute, StreamRoute } from './route.ts';

/**
 * Bumped when a record changes shape incompatibly; the data plane NACKs a version it does not know. 2: `Listener.bindPort`;
 * 3: `RetryPolicy.onBackendTimeout`; 4: `ListenerTls.options` (an older data plane would ignore a minimum TLS version);
 * 5: `Listener.backendClientCertificateKey` in place of `BackendTls.clientCertificateKey` and the per-certificate
 * backend and route records (an older data plane would connect without the Gateway's client certificate); 6:
 * `Listener.externalAuth` and the `ExternalAuth` filter (an older data plane would serve those requests unauthorized).
 */
export const IR_VERSION = 6;

export interface SnapshotRecords {
  listeners: Listener[];
  httpRoutes: HttpRoute[];
  streamRoutes: StreamRoute[];
  backends: Backend[];
  certificates: CertificateRecord[];
}

export type RecordKind = keyof SnapshotRecords;
export const RECORD_KINDS: readonly RecordKind[] = [
  'listeners',
  'httpRoutes',
  'streamRoutes',
  'backends',
  'certificates',
];

export interface ConfigSnapshot extends SnapshotRecords {
  irVersion: number;
  /** Increases by one with every snapshot the operator publishes to a data plane. */
  generation: number;
}

export function emptyRecords(): SnapshotRecords {
  return { listeners: [], httpRoutes: [], streamRoutes: [], backends: [], certificates: [] };
}
