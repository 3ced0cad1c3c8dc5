// A standalone Portico for tests, as `npm start` runs it but in-process: a data plane and a file-mode operator on a
// private Unix socket in `dir`, with the settings the suites share; resolves once the folder's first configuration
// is published. Callers stop the operator, then the data plane.

import { join } from 'node:path';
import pino from 'pino';
import type { DataPlaneConfig } from '../../dataplane/config.ts';
import { startDataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { OperatorConfig } from '../../operator/config.ts';
import { startStandalone } from '../../operator/standalone.ts';
import type { Standalone } from '../../operator/standalone.ts';

export interface StandalonePortico {
  dataPlane: DataPlane;
  operator: Standalone;
}

export async function startStandalonePortico(
  dir: string,
  overrides: { dataPlane?: Partial<DataPlaneConfig>; operator?: Partial<OperatorConfig> } = {},
): Promise<StandalonePortico> {
  const log = pino({ level: process.env.PORTICO_TEST_LOG ?? 'silent' });
  const socketPath = join(dir, 'dp.sock');
  const dataPlane = await startDataPlane(
    Object.freeze({
      socketPath,
      shards: 2,
      adminAddress: '127.0.0.1',
      adminPort: 0,
      drainMs: 2000,
      keepAliveTimeoutMs: 5000,
      headersTimeoutMs: 10000,
      maxHeaderBytes: 16384,
      connectionsPerEndpoint: 8,
      connectTimeoutMs: 2000,
      upstreamKeepAliveMs: 4000,
      statsIntervalMs: 1000,
      accessLog: false,
      logLevel: 'silent',
      ...overrides.dataPlane,
    }) as DataPlaneConfig,
    log,
  );
  const operator = await startStandalone(
    Object.freeze({
      mode: 'file' as const,
      dir,
      socketPath,
      controllerName: 'portico.dev/gateway-controller',
      addressPool: '127.0.0.0/8',
      adminAddress: '127.0.0.1',
      adminPort: 0,
      translatorThreads: 0,
      instance: 'test',
      logLevel: 'silent',
      ...overrides.operator,
    }) as OperatorConfig,
    log,
  );
  await operator.reconciler.whenPublished(operator.store.revision);
  return { dataPlane, operator };
}
