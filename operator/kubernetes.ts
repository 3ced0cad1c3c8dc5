// Kubernetes mode, assembled as standalone mode is: API server → provider (reflectors) → store → reconciler
// (translate, publish, statuses) → data plane over the Unix socket. What differs: statuses go to the API server
// through the status sink, in service mode the Gateways' Services through the Service sink, and only the replica
// that holds the Lease writes either; every replica translates and publishes to its own data plane. `main.ts` runs it; tests run it in-process (several replicas in one process).
//
// Start order: the admin endpoint (liveness during a long first list), discovery and a complete first list of every
// kind (so the first configuration published is the whole cluster's, never a partial one), the reconciler, leader
// election. Stop order is the reverse, through framework/shutdown.ts: queued status writes drained while we still
// lead, leader election (the Lease is released so that another replica takes over at once), the reconcile pass in
// flight, the reflectors, the admin endpoint, the publisher (the data plane keeps serving its last configuration),
// pending Events, the translator, the HTTP pool.

import type { KubeConfig } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';
import { EventRecorder } from './framework/events.ts';
import { KubeClient } from './framework/kube-client.ts';
import { LeaderElector } from './framework/leader-election.ts';
import { Shutdown } from './framework/shutdown.ts';
import { StatusWriter } from './framework/status-writer.ts';
import { contextNamespace, loadKubeConfig } from './kubernetes/kubeconfig.ts';
import { registerKubernetesMetrics } from './kubernetes/metrics.ts';
import { KubernetesProvider } from './kubernetes/provider.ts';
import type { ReflectorTuning } from './kubernetes/provider.ts';
import { KubernetesInfrastructureSink } from './kubernetes/gateway-infrastructure.ts';
import { KubernetesServiceSink } from './kubernetes/services.ts';
import { KubernetesStatusSink } from './kubernetes/status-sink.ts';
import { DEFAULT_SERVICE_SELECTOR } from './config.ts';
import type { TranslateOptions } from './gateway/options.ts';
import { ConsoleHub } from './console/hub.ts';
import { startOperatorAdmin } from './runtime/admin-server.ts';
import { ListenerCertificates } from './runtime/certificates.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
import { OperatorTracing } from './runtime/tracing.ts';
import { linkDataPlane } from './runtime/dataplane-link.ts';
import { Reconciler } from './runtime/reconciler.ts';
import { createTranslator } from './runtime/translator-pool.ts';
import { versionOptions } from './kubernetes/crds.ts';
import { servedFeatures } from './kubernetes/kinds.ts';
import { ResourceStore } from './store/resource-store.ts';

/** Server-side apply field manager of our status writes. */
export const FIELD_MANAGER = 'portico-operator';

export interface KubernetesOperator {
  store: ResourceStore;
  provider: KubernetesProvider;
  reconciler: Reconciler;
  statuses: KubernetesStatusSink;
  /** Service mode only. */
  services: KubernetesServiceSink | null;
  /** The GatewayInfrastructure mode's objects (written only for classes in that mode). */
  infrastructure: KubernetesInfrastructureSink;
  elector: LeaderElector;
  writer: StatusWriter;
  events: EventRecorder;
  client: KubeClient;
  adminPort: number;
  stop(): Promise<void>;
}

/** Test seams: a ready KubeConfig (e.g. pointed at a proxy) and shorter timings. */
export interface KubernetesOverrides {
  kubeConfig?: KubeConfig;
  reflector?: ReflectorTuning;
  /** Delay before a status write (see status-sink.ts). */
  statusSettleMs?: number;
}

export async function startKubernetes(
  config: Readonly<OperatorConfig>,
  log: Logger,
  overrides: KubernetesOverrides = {},
): Promise<KubernetesOperator> {
  const kubeConfig = overrides.kubeConfig ?? loadKubeConfig(config.kubeconfig);
  const shutdown = new Shutdown(log);
  const client = new KubeClient(kubeConfig, { userAgent: `portico-operator/${config.instance}` });
  shutdown.add('kubernetes client', () => client.close());
  try {
    return await assemble(config, log, overrides, kubeConfig, client, shutdown);
  } catch (error) {
    await shutdown.stop();
    throw error;
  }
}

async function assemble(
  config: Readonly<OperatorConfig>,
  log: Logger,
  overrides: KubernetesOverrides,
  kubeConfig: KubeConfig,
  client: KubeClient,
  shutdown: Shutdown,
): Promise<KubernetesOperator> {
  const store = new ResourceStore();
  const metrics = new OperatorMetrics();
  const certificates = new ListenerCertificates(store);
  const translator = createTranslator(config.translatorThreads);
  shutdown.add('translator', () => translator.close());
  const tracing =
    config.tracesEndpoint === undefined ? undefined : new OperatorTracing(config.tracesEndpoint, config.instance);
  if (tracing !== undefined) shutdown.add('trace export', () => tracing.shutdown(), 3000);

  const writer = new StatusWriter({ client, fieldManager: FIELD_MANAGER, log, observe: metrics.statusWrite });
  const events = new EventRecorder({
    client,
    reportingController: config.controllerName,
    reportingInstance: config.instance,
    log,
  });
  shutdown.add('event recorder', () => events.stop(), 3000);
  let provider: KubernetesProvider | null = null;
  const statuses = new KubernetesStatusSink({
    live: {
      resourceOf: (kind) => provider?.resourceOf(kind),
      get: (kind, namespace, name) => provider?.get(kind, namespace, name),
    },
    writer,
    events,
    controllerName: config.controllerName,
    log,
    settleMs: overrides.statusSettleMs,
  });

  // Service mode: the Gateways' Services go to the operator's own namespace, where the data-plane pods are.
  const serviceMode = config.addressMode === 'service';
  const ownNamespace = config.serviceNamespace ?? contextNamespace(kubeConfig) ?? 'default';
  const services = serviceMode
    ? new KubernetesServiceSink({
        client,
        live: {
          get: (kind, namespace, name) => provider?.get(kind, namespace, name),
          list: (kind, namespace) => provider?.list(kind, namespace) ?? [],
        },
        namespace: ownNamespace,
        selector: config.serviceSelector ?? DEFAULT_SERVICE_SELECTOR,
        fieldManager: FIELD_MANAGER,
        log,
        events,
      })
    : null;

  // Always there, idle unless a GatewayClass turns the GatewayInfrastructure mode on (its parameters); the rights it
  // needs are granted only by the installs that enable the mode.
  const infrastructure = new KubernetesInfrastructureSink({
    client,
    live: { get: (kind, namespace, name) => provider?.get(kind, namespace, name) },
    fieldManager: FIELD_MANAGER,
    log,
    namespaces: config.namespaces,
    events,
  });

  let reconciler: Reconciler | null = null;
  let elector: LeaderElector | null = null;
  metrics.statusQueue(() => statuses.depth);
  metrics.certificates(() => certificates.list());
  registerKubernetesMetrics(metrics.registry, { elector: () => elector, provider: () => provider, writer, events });
  const consoleHub = new ConsoleHub({
    mode: 'kubernetes',
    store,
    statuses: () => statuses.all(),
    fileErrors: () => [],
  });
  const publisher = linkDataPlane(config.socketPath, config.instance, log, () => reconciler, consoleHub.observer);
  shutdown.add('publisher', () => publisher.close());

  // Up before the first list, which can take long on a big cluster: liveness is answered meanwhile, readiness says
  // no until every kind is listed and the data plane has acknowledged a configuration.
  const admin = await startOperatorAdmin(config.adminAddress, config.adminPort, {
    ready: () => provider?.synced === true && reconciler !== null && reconciler.lastAckedRevision >= 0,
    statuses: () => statuses.all(),
    fileErrors: () => [],
    servedRecords: () => reconciler?.servedRecords() ?? null,
    registry: metrics.registry,
    console: consoleHub,
  });
  shutdown.add('admin endpoint', async () => {
    await new Promise<void>((resolve) => admin.server.close(() => resolve()));
    admin.server.closeAllConnections();
  });
  // Runs before the admin endpoint closes (shutdown runs in reverse): its event streams would hold the server open.
  shutdown.add('console', () => consoleHub.stop());

  provider = new KubernetesProvider({
    client,
    store,
    log,
    namespaces: config.namespaces,
    ownNamespace: serviceMode ? ownNamespace : undefined,
    onLiveChange: (kind, key) => {
      statuses.liveChanged(kind, key);
      services?.liveChanged(kind, key);
      infrastructure.liveChanged(kind, key);
    },
    // The installed Gateway API release: the GatewayClass's SupportedVersion, and the feature names it publishes.
    // The CRDs' channel and the served kinds decide some features too (claimed).
    onCrdChange: (summary) => {
      const next = claimed();
      if (next.crdBundleVersion !== options.crdBundleVersion)
        log.info({ from: options.crdBundleVersion ?? null, to: summary.bundleVersion ?? null }, 'Gateway API version');
      else if (next.supportedFeatures.join() === (options.supportedFeatures ?? []).join()) return;
      Object.assign(options, next);
      reconciler?.trigger();
    },
    // A kind a feature needs came or went (GEP-5075: the ClusterTrustBundle API): claim what the cluster serves.
    onKindsChange: () => {
      const next = claimed();
      if (next.supportedFeatures.join() === (options.supportedFeatures ?? []).join()) return;
      log.info({ missingKinds: provider?.missingKinds() ?? [] }, 'supported features follow the served kinds');
      Object.assign(options, next);
      reconciler?.trigger();
    },
    events,
    // On the operator's pod; outside a pod (no POD_NAME: the instance is host/pid) there is none to put them on.
    eventsAbout: config.instance.includes('/')
      ? undefined
      : { apiVersion: 'v1', kind: 'Pod', namespace: ownNamespace, name: config.instance },
    reflector: overrides.reflector,
  });
  shutdown.add('reflectors', () => provider!.stop());
  /** What to claim: the installed release's features, those of its channel, those whose kind is served. */
  function claimed(): { crdBundleVersion: string | undefined; supportedFeatures: readonly string[] } {
    const summary = provider!.crdSummary();
    const release = versionOptions(summary.bundleVersion, summary.gatewayChannel);
    return { ...release, supportedFeatures: servedFeatures(release.supportedFeatures, provider!.missingKinds()) };
  }
  const options: Omit<TranslateOptions, 'now' | 'previousAddresses' | 'previousPorts'> = {
    controllerName: config.controllerName,
    addressPool: config.addressPool,
  };
  await provider.start();
  Object.assign(options, claimed());
  if (serviceMode)
    Object.assign(options, {
      addressMode: 'service',
      serviceNamespace: ownNamespace,
      internalPorts: config.internalPorts,
      bindAddress: config.bindAddress,
    });
  reconciler = new Reconciler({
    store,
    translator,
    publisher,
    statuses,
    services: services ?? undefined,
    infrastructure,
    metrics,
    tracing,
    log,
    options,
  });
  reconciler.trigger();
  // Stops after the elector and before the reflectors: a pass in flight finishes (bounded) rather than dying with
  // the translator pool under it.
  const running = reconciler;
  shutdown.add('reconcile pass in flight', () => running.whenPublished(store.revision).then(() => undefined), 2000);

  elector = new LeaderElector({
    client,
    namespace: config.leaseNamespace ?? contextNamespace(kubeConfig) ?? 'default',
    name: config.leaseName ?? 'portico-operator',
    identity: config.instance,
    leaseDurationMs: config.leaseDurationMs,
    renewDeadlineMs: config.renewDeadlineMs,
    retryPeriodMs: config.retryPeriodMs,
    log,
    onStartedLeading: () => {
      statuses.setLeader(true);
      services?.setLeader(true);
      infrastructure.setLeader(true);
    },
    onStoppedLeading: () => {
      statuses.setLeader(false);
      services?.setLeader(false);
      infrastructure.setLeader(false);
    },
    onNewLeader: (identity) => log.info({ leader: identity || '(none)' }, 'leader observed'),
  }).start();
  const leading = elector;
  shutdown.add('leader election', () => leading.stop(), 5000);
  // Registered after the elector, so it runs before it: queued writes drain while we still lead, then the Lease goes.
  shutdown.add('status writes', () => statuses.stop(), 5000);
  if (services !== null) shutdown.add('Service writes', () => services.stop(), 5000);
  shutdown.add('GatewayInfrastructure writes', () => infrastructure.stop(), 5000);

  log.info(
    {
      server: client.server,
      namespaces: config.namespaces ?? 'all',
      socket: config.socketPath,
      admin: `${config.adminAddress}:${admin.port}`,
      addressMode: serviceMode ? `service (Services in ${ownNamespace})` : 'pool',
    },
    'operator started (kubernetes mode)',
  );

  return {
    store,
    provider,
    reconciler,
    statuses,
    services,
    infrastructure,
    elector,
    writer,
    events,
    client,
    adminPort: admin.port,
    stop: () => shutdown.stop(),
  };
}
