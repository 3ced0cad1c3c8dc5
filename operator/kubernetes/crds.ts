// The installed Gateway API CRDs, watched by name: which of our kinds have a CRD, and the release they come from
// (`gateway.networking.k8s.io/bundle-version`, the GatewayClass's SupportedVersion condition). Only the CRDs of the
// kinds the provider watches are read, one watch per name (a field selector on metadata.name, which RBAC grants with
// resourceNames), and only their metadata is kept: a CRD object is large (HTTPRoute's is over 500 KB) and none of
// its schema is needed here. Without the right to read them, the version is "not checked" and said so once; nothing
// else depends on this watch (the provider's discovery still finds the served kinds).

import type { Logger } from 'pino';
import { Reflector } from '../framework/reflector.ts';
import { isApiError } from '../framework/kube-client.ts';
import type { KubeClient } from '../framework/kube-client.ts';
import type { ApiObject, ResourceType } from '../framework/resource.ts';
import { featuresForBundle } from '../../shared/features.ts';
import { GATEWAY_GROUP } from './kinds.ts';
import type { WatchedKind } from './kinds.ts';

export const BUNDLE_VERSION_ANNOTATION = `${GATEWAY_GROUP}/bundle-version`;
export const CHANNEL_ANNOTATION = `${GATEWAY_GROUP}/channel`;

const CRDS: ResourceType = {
  group: 'apiextensions.k8s.io',
  version: 'v1',
  plural: 'customresourcedefinitions',
  kind: 'CustomResourceDefinition',
  namespaced: false,
};

/** The CRD names of the Gateway API kinds among `kinds` (`httproutes.gateway.networking.k8s.io`, ...). */
export function gatewayCrdNames(kinds: readonly WatchedKind[]): string[] {
  return kinds.filter((k) => k.group.startsWith('gateway.networking.')).map((k) => `${k.plural}.${k.group}`);
}

/**
 * Features that write status fields only the experimental CRDs declare (GEP-5093 `status.addresses[].routability`):
 * server-side apply refuses a field its schema does not declare, so claiming them on standard-channel CRDs would make
 * every Gateway status write fail. Claimed only when the Gateway CRD says it is experimental.
 */
const EXPERIMENTAL_STATUS_FEATURES: ReadonlySet<string> = new Set([
  'GatewayAddressRoutability',
  'GatewayAddressRoutabilityCluster',
]);

/**
 * The translator options that follow the installed release: its version, and the feature names it spells (without
 * those needing experimental status fields unless the Gateway CRD is of the experimental channel).
 */
export function versionOptions(
  bundleVersion: string | undefined,
  gatewayChannel?: string,
): {
  crdBundleVersion: string | undefined;
  supportedFeatures: readonly string[];
} {
  const features = featuresForBundle(bundleVersion).filter(
    (f) => gatewayChannel === 'experimental' || !EXPERIMENTAL_STATUS_FEATURES.has(f),
  );
  return { crdBundleVersion: bundleVersion, supportedFeatures: features };
}

/** What the installed CRDs say, for the GatewayClass status and the log. */
export interface CrdSummary {
  /** False until every CRD watch has listed once or failed. */
  checked: boolean;
  /** The CRDs could not be read (no RBAC for them): the version is unknown. */
  forbidden: boolean;
  /** The installed release: the oldest bundle version among the installed CRDs; undefined when none says. */
  bundleVersion: string | undefined;
  /** Bundle versions by CRD name, for a message when they differ. */
  versions: Record<string, string>;
  /** The Gateway CRD's `gateway.networking.k8s.io/channel` (standard, experimental); undefined when unknown. */
  gatewayChannel?: string;
}

export interface CrdWatchOptions {
  client: KubeClient;
  log: Logger;
  names: readonly string[];
  /** After any change of what the CRDs say (added, deleted, annotation changed), and once after the first list. */
  onChange?(summary: CrdSummary, change: { name: string; present: boolean } | undefined): void;
  reflector?: { backoff?: { initialMs?: number; maxMs?: number }; watchdogMs?: number };
}

/** Metadata only: name, the two annotations, resourceVersion (the reflector needs it), a deletion mark. */
function keepMetadata(object: ApiObject): ApiObject {
  const m = object.metadata ?? {};
  const annotations: Record<string, string> = {};
  for (const key of [BUNDLE_VERSION_ANNOTATION, CHANNEL_ANNOTATION]) {
    const value = m.annotations?.[key];
    if (value !== undefined) annotations[key] = value;
  }
  return {
    apiVersion: object.apiVersion,
    kind: object.kind,
    metadata: { name: m.name, resourceVersion: m.resourceVersion, annotations },
  };
}

/** Orders `v1.6.1` before `v1.7.0` (numerically); anything else sorts first. */
function compareVersions(a: string, b: string): number {
  const parse = (v: string) => (/^v(\d+)\.(\d+)\.(\d+)/.exec(v) ?? []).slice(1).map(Number);
  const [pa, pb] = [parse(a), parse(b)];
  for (let i = 0; i < 3; i++) {
    const d = (pa[i] ?? -1) - (pb[i] ?? -1);
    if (d !== 0) return d;
  }
  return a.localeCompare(b);
}

export class CrdWatch {
  readonly #options: CrdWatchOptions;
  readonly #reflectors = new Map<string, Reflector>();
  readonly #settled = new Set<string>();
  #forbidden = false;
  #ready!: () => void;
  readonly #readyPromise = new Promise<void>((resolve) => (this.#ready = resolve));

  constructor(options: CrdWatchOptions) {
    this.#options = options;
  }

  /** Starts one watch per CRD name; resolves when each has listed once or failed (it never rejects). */
  start(): Promise<void> {
    const { client, log, names } = this.#options;
    if (names.length === 0) this.#ready();
    for (const name of names) {
      const settle = () => {
        if (this.#settled.has(name)) return;
        this.#settled.add(name);
        if (this.#settled.size === names.length) this.#ready();
      };
      const changed = (present: boolean) => {
        if (this.#settled.size === names.length) this.#options.onChange?.(this.summary(), { name, present });
      };
      const reflector = new Reflector({
        client,
        resource: CRDS,
        fieldSelector: `metadata.name=${name}`,
        log,
        ...this.#options.reflector,
        transform: keepMetadata,
        onFailure: (error) => {
          if (!isApiError(error, 403)) return false;
          if (!this.#forbidden)
            log.warn(
              { crd: name, err: (error as Error).message },
              'cannot read the Gateway API CRDs (RBAC: get/list/watch customresourcedefinitions by name): the ' +
                'installed Gateway API version is reported as not checked',
            );
          this.#forbidden = true;
          settle();
          return true;
        },
        handler: {
          replaced: () => {
            settle();
            changed(reflector.cache.get(name) !== undefined);
          },
          upserted: (object, previous) => {
            const annotation = (o: ApiObject | undefined) => o?.metadata?.annotations?.[BUNDLE_VERSION_ANNOTATION];
            if (previous === undefined || annotation(previous) !== annotation(object)) changed(true);
          },
          deleted: () => changed(false),
        },
      });
      this.#reflectors.set(name, reflector.start());
    }
    return this.#readyPromise.then(() => {
      const summary = this.summary();
      log.info(
        { bundleVersion: summary.bundleVersion ?? null, crds: Object.keys(summary.versions).length },
        'Gateway API CRDs read',
      );
      this.#options.onChange?.(summary, undefined);
    });
  }

  async stop(): Promise<void> {
    await Promise.all([...this.#reflectors.values()].map((r) => r.stop()));
  }

  /** True when the CRD is installed, as last seen (undefined: not known, e.g. no right to read it). */
  installed(name: string): boolean | undefined {
    const reflector = this.#reflectors.get(name);
    if (reflector === undefined || !reflector.hasSynced) return undefined;
    return reflector.cache.get(name) !== undefined;
  }

  summary(): CrdSummary {
    const versions: Record<string, string> = {};
    for (const [name, reflector] of this.#reflectors) {
      const version = reflector.cache.get(name)?.metadata?.annotations?.[BUNDLE_VERSION_ANNOTATION];
      if (version !== undefined) versions[name] = version;
    }
    const sorted = [...new Set(Object.values(versions))].sort(compareVersions);
    const gatewayCrd = `gateways.${GATEWAY_GROUP}`;
    const gatewayChannel = this.#reflectors.get(gatewayCrd)?.cache.get(gatewayCrd)?.metadata?.annotations?.[
      CHANNEL_ANNOTATION
    ];
    const summary: CrdSummary = {
      checked: this.#settled.size === this.#options.names.length,
      forbidden: this.#forbidden,
      bundleVersion: sorted[0],
      versions,
    };
    if (gatewayChannel !== undefined) summary.gatewayChannel = gatewayChannel;
    return summary;
  }
}
