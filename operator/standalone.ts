// Standalone mode, assembled: folder of YAML → store → reconciler (translate, publish, statuses) → data plane over
// the Unix socket; statuses served on the admin endpoint and logged. `main.ts` runs it; tests run it in-process.

import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';
import { SUPPORTED_FEATURES } from '../shared/features.ts';
import { ConsoleHub } from './console/hub.ts';
import { FileProvider } from './standalone/file-provider.ts';
import { startOperatorAdmin } from './runtime/admin-server.ts';
import { ListenerCertificates } from './runtime/certificates.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
import { OperatorTracing } from './runtime/tracing.ts';
import { linkDataPlane } from './runtime/dataplane-link.ts';
import { Reconciler } from './runtime/reconciler.ts';
import { createTranslator } from './runtime/translator-pool.ts';
import { StatusBoard } from './status/status-board.ts';
import { ResourceStore } from './store/resource-store.ts';

export interface Standalone {
  store: ResourceStore;
  files: FileProvider;
  reconciler: Reconciler;
  statuses: StatusBoard;
  adminPort: number;
  stop(): Promise<void>;
}

/** What the whole system supports, for the GatewayClass status: see shared/features.ts. */
export function supportedFeatures(): string[] {
  return [...SUPPORTED_FEATURES];
}

export async function startStandalone(config: Readonly<OperatorConfig>, log: Logger): Promise<Standalone> {
  const store = new ResourceStore();
  const metrics = new OperatorMetrics();
  const certificates = new ListenerCertificates(store);
  metrics.certificates(() => certificates.list());
  const statuses = new StatusBoard(log, config.controllerName);
  const translator = createTranslator(config.translatorThreads);
  const tracing =
    config.tracesEndpoint === undefined ? undefined : new OperatorTracing(config.tracesEndpoint, config.instance);
  let reconciler: Reconciler | null = null;
  const files = new FileProvider(config.dir, store, log);
  const consoleHub = new ConsoleHub({
    mode: 'file',
    store,
    statuses: () => statuses.all(),
    fileErrors: () => files.errors(),
  });
  const publisher = linkDataPlane(config.socketPath, config.instance, log, () => reconciler, consoleHub.observer);
  reconciler = new Reconciler({
    store,
    translator,
    publisher,
    statuses,
    metrics,
    tracing,
    log,
    options: {
      controllerName: config.controllerName,
      addressPool: config.addressPool,
      supportedFeatures: supportedFeatures(),
    },
  });
  await files.start();
  reconciler.trigger();
  const admin = await startOperatorAdmin(config.adminAddress, config.adminPort, {
    ready: () => reconciler.lastAckedRevision >= 0,
    statuses: () => statuses.all(),
    fileErrors: () => files.errors(),
    servedRecords: () => reconciler.servedRecords(),
    registry: metrics.registry,
    console: consoleHub,
  });
  log.info(
    { dir: config.dir, socket: config.socketPath, admin: `${config.adminAddress}:${admin.port}` },
    'operator started (file mode)',
  );
  return {
    store,
    files,
    reconciler,
    statuses,
    adminPort: admin.port,
    async stop() {
      files.stop();
      publisher.close();
      consoleHub.stop();
      await new Promise<void>((resolve) => admin.server.close(() => resolve()));
      admin.server.closeAllConnections();
      await translator.close();
      await tracing?.shutdown();
    },
  };
}
