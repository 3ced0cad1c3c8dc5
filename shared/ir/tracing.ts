// The tracing record of a listener: what an accepted XTelemetryPolicy (GEP-4768, gateway.networking.x-k8s.io/v1alpha1)
// on the listener's Gateway says about request traces. Absent from a listener: no policy applies, and the data plane's
// command-line default (`--otlp-endpoint`, `--trace-sampling`, `--trace-parent-based`) is used, or no tracing.
// Plain data only: this module has no I/O and imports nothing from operator/ or dataplane/.

import type { SourceRef } from './listener.ts';

/** `tracing.attributes[]`: one span attribute, by where its value comes from (`sourceType`). */
export type TracingAttribute =
  /** `Literal`: `literalValue`, the same on every span. */
  | { name: string; literal: string }
  /** `Header`: the request header `headerName` (lower case), on the server span when the request has it. */
  | { name: string; header: string }
  /** `Attribute`: a copy of the dictionary attribute `attributeKey` (GEP-5253) the server span carries. */
  | { name: string; attribute: string };

export interface ListenerTracing {
  /** The XTelemetryPolicy that applies (the one that took the Gateway: oldest, then first by namespace/name). */
  source: SourceRef;
  /**
   * `tracing.mode`: Enabled exports to `endpoint`; Disabled traces nothing on this listener, command-line default or
   * not. (ImplementationDefault leaves the listener without a record: the command-line default applies.)
   */
  mode: 'Enabled' | 'Disabled';
  /**
   * `tracing.provider.backendRef` resolved: `http://<address>:<port>` of the first ready endpoint of the Service port
   * (sorted), the OTLP/HTTP base URL. Absent when the Service has no ready endpoint: nothing is traced until it has.
   */
  endpoint?: string;
  /** `tracing.provider.headers`: sent with every export request (the first of equivalent names wins). */
  headers?: Record<string, string>;
  /** `tracing.serviceName`: the resource's `service.name`. */
  serviceName?: string;
  /** `tracing.spanName`: the server span's name, in place of `{method} {http.route}`. */
  spanName?: string;
  /** `tracing.samplingRate` as a ratio in [0, 1]; absent: the command-line ratio (or 1). */
  ratio?: number;
  /** `tracing.parentBasedSampling.mode` Enabled (true) or Disabled (false); absent: the command-line setting. */
  parentBased?: boolean;
  /** `tracing.parentBasedSampling.samplingRate` as a ratio (with parentBased only); absent: 1. */
  parentRatio?: number;
  /** `tracing.attributes`, in order. */
  attributes: TracingAttribute[];
}
