// Kubernetes mode is not built yet (issue 4); until it is, starting it says so instead of pretending.

import type { Logger } from 'pino';
import type { OperatorConfig } from './config.ts';

export async function startKubernetes(_config: Readonly<OperatorConfig>, log: Logger): Promise<{ stop(): Promise<void> }> {
  log.fatal('kubernetes mode is not available in this build yet; run with --mode file');
  process.exit(2);
}
