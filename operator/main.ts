// Entry point of the operator process: read the settings once, start the chosen mode, stop cleanly on a signal.

import pino from 'pino';
import { readOperatorConfig } from './config.ts';
import { startStandalone } from './standalone.ts';

const config = readOperatorConfig(process.argv.slice(2), process.env);
const log = pino({ level: config.logLevel, base: { component: 'operator' } });

if (config.mode === 'kubernetes') {
  const { startKubernetes } = await import('./kubernetes.ts');
  const running = await startKubernetes(config, log);
  stopOnSignal(() => running.stop());
} else {
  const running = await startStandalone(config, log);
  stopOnSignal(() => running.stop());
}

function stopOnSignal(stop: () => Promise<void>): void {
  let stopping = false;
  for (const signal of ['SIGTERM', 'SIGINT'] as const) {
    process.on(signal, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal }, 'stopping');
      stop().then(
        () => process.exit(0),
        (error: Error) => {
          log.error({ err: error }, 'unclean stop');
          process.exit(1);
        },
      );
    });
  }
}
