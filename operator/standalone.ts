// Standalone mode, assembled: folder of YAML → store → reconciler (translate, publish, statuses) → data plane over
// the Unix socket; statuses served on the admin endpoint and logged. `main.ts` runs it; tests run it in-process.

import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';
import { TRANSLATABLE_FEATURES } from './gateway/options.ts';
import { SERVED_FEATURES } from '../shared/features.ts';
import { FileProvider } from './providers/file-provider.ts';
import { Publisher } from './publisher/publisher.ts';
import { startOperatorAdmin } from './runtime/admin-server.ts';
import { OperatorMetrics } from './runtime/metrics.ts';
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

/** What the whole system supports: what the translator can express and the data plane serves. */
export function supportedFeatures(): string[] {
  return TRANSLATABLE_FEATURES.filter((f) => SERVED_FEATURES.includes(f));
}

export async function startStandalone(config: Readonly<OperatorConfig>, log: Logger): Promise<Standalone> {
  const store = new ResourceStore();
  const metrics = new OperatorMetrics();
  const statuses = new StatusBoard(log, config.controllerName);
  const translator = createTranslator(config.translatorThreads);
  let reconciler: Reconciler | null = null;
  const publisher = new Publisher({
    socketPath: config.socketPath,
    instance: config.instance,
    events: {
      connected: (hello) => {
        log.info({ dataplane: hello.instance, generation: hello.generation, shards: hello.shards }, 'connected to the data plane');
        // A data plane that restarted holds nothing: give it the configuration again.
        reconciler?.trigger();
      },
      disconnected: () => log.warn('lost the data plane connection; reconnecting'),
      stats: (stats) => reconciler?.dataPlaneStats(stats),
    },
  });
  reconciler = new Reconciler({
    store,
    translator,
    publisher,
    statuses,
    metrics,
    log,
    options: { controllerName: config.controllerName, addressPool: config.addressPool, supportedFeatures: supportedFeatures() },
  });
  const files = new FileProvider(config.dir, store, log);
  await files.start();
  reconciler.trigger();
  const admin = await startOperatorAdmin(config.adminAddress, config.adminPort, {
    ready: () => reconciler.lastAckedRevision >= 0,
    statuses: () => statuses.all(),
    fileErrors: () => files.errors(),
    registry: metrics.registry,
  });
  log.info({ dir: config.dir, socket: config.socketPath, admin: `${config.adminAddress}:${admin.port}` }, 'operator started (file mode)');
  return {
    store,
    files,
    reconciler,
    statuses,
    adminPort: admin.port,
    async stop() {
      files.stop();
      publisher.close();
      await new Promise<void>((resolve) => admin.server.close(() => resolve()));
      admin.server.closeAllConnections();
      await translator.close();
    },
  };
}
