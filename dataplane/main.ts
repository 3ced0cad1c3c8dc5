// Entry point of the data plane process: read the settings once, start, stop cleanly on SIGTERM/SIGINT.

import pino from 'pino';
import { readDataPlaneConfig } from './config.ts';
import { startDataPlane } from './supervisor/supervisor.ts';

const config = readDataPlaneConfig(process.argv.slice(2), process.env);
const log = pino({ level: config.logLevel, base: { component: 'dataplane' } });
const dataPlane = await startDataPlane(config, log);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'stopping: draining listeners');
    dataPlane.stop().then(
      () => process.exit(0),
      (error: Error) => {
        log.error({ err: error }, 'unclean stop');
        process.exit(1);
      },
    );
  });
}
