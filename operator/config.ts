// Operator settings, read once at start from flags and environment into a frozen object passed down.

import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import { DEFAULT_ADDRESS_POOL, DEFAULT_CONTROLLER_NAME } from './gateway/options.ts';

export interface OperatorConfig {
  /** `file`: standalone, objects from a folder of YAML. `kubernetes`: objects from the API server. */
  mode: 'file' | 'kubernetes';
  /** Folder of YAML (file mode). */
  dir: string;
  socketPath: string;
  controllerName: string;
  addressPool: string;
  adminAddress: string;
  adminPort: number;
  /** Run translations in a piscina worker pool (the default); off: in the main thread. */
  translatorThreads: number;
  instance: string;
  logLevel: string;
}

export const OPERATOR_USAGE = `portico operator
  --mode file|kubernetes     where objects come from (env PORTICO_MODE, default file)
  --dir PATH                 folder of YAML for file mode (env PORTICO_DIR, default ./examples/quickstart)
  --socket PATH              the data plane's socket (env PORTICO_SOCKET, default /tmp/portico/dataplane.sock)
  --controller-name NAME     GatewayClasses with this controllerName are ours (default ${DEFAULT_CONTROLLER_NAME})
  --address-pool CIDR        addresses handed to Gateways that name none (env PORTICO_ADDRESS_POOL, default ${DEFAULT_ADDRESS_POOL})
  --admin HOST:PORT          /healthz /readyz /status /metrics (env PORTICO_OPERATOR_ADMIN, default 127.0.0.1:9902)
  --translator-threads N     piscina threads for translation; 0 translates in the main thread (default 1)
  --log-level LEVEL          pino level (env PORTICO_LOG_LEVEL, default info)`;

export function readOperatorConfig(argv: string[], env: NodeJS.ProcessEnv): Readonly<OperatorConfig> {
  const { values } = parseArgs({
    args: argv,
    options: {
      mode: { type: 'string' },
      dir: { type: 'string' },
      socket: { type: 'string' },
      'controller-name': { type: 'string' },
      'address-pool': { type: 'string' },
      admin: { type: 'string' },
      'translator-threads': { type: 'string' },
      'log-level': { type: 'string' },
      help: { type: 'boolean' },
    },
    strict: true,
  });
  if (values.help) {
    console.log(OPERATOR_USAGE);
    process.exit(0);
  }
  const mode = values.mode ?? env.PORTICO_MODE ?? 'file';
  if (mode !== 'file' && mode !== 'kubernetes') throw new Error(`--mode must be file or kubernetes, got "${mode}"`);
  const admin = values.admin ?? env.PORTICO_OPERATOR_ADMIN ?? '127.0.0.1:9902';
  const colon = admin.lastIndexOf(':');
  const threads = Number(values['translator-threads'] ?? env.PORTICO_TRANSLATOR_THREADS ?? 1);
  if (!Number.isInteger(threads) || threads < 0) throw new Error('--translator-threads must be a non-negative integer');
  return Object.freeze({
    mode,
    dir: values.dir ?? env.PORTICO_DIR ?? 'examples/quickstart',
    socketPath: values.socket ?? env.PORTICO_SOCKET ?? '/tmp/portico/dataplane.sock',
    controllerName: values['controller-name'] ?? env.PORTICO_CONTROLLER_NAME ?? DEFAULT_CONTROLLER_NAME,
    addressPool: values['address-pool'] ?? env.PORTICO_ADDRESS_POOL ?? DEFAULT_ADDRESS_POOL,
    adminAddress: admin.slice(0, colon),
    adminPort: Number(admin.slice(colon + 1)),
    translatorThreads: threads,
    instance: env.POD_NAME ?? `${hostname()}/${process.pid}`,
    logLevel: values['log-level'] ?? env.PORTICO_LOG_LEVEL ?? 'info',
  });
}
