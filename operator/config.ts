// Operator settings, read once at start from flags and environment into a frozen object passed down.

import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { parseArgs } from 'node:util';
import {
  DEFAULT_ADDRESS_POOL,
  DEFAULT_BIND_ADDRESS,
  DEFAULT_CONTROLLER_NAME,
  DEFAULT_INTERNAL_PORTS,
  parsePortRange,
} from './gateway/options.ts';
import type { AddressMode } from './gateway/options.ts';

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
  /** Above 0: translate in a piscina thread (one: it holds the translation session); 0: in the main thread. */
  translatorThreads: number;
  instance: string;
  logLevel: string;
  // Kubernetes mode (optional: file mode and tests that build a config by hand leave them out).
  /** kubeconfig file(s), ':'-separated; absent: in-cluster service account, else ~/.kube/config. */
  kubeconfig?: string;
  /** Watch only these namespaces (the namespace-scoped install); absent: all. */
  namespaces?: readonly string[];
  /** Namespace of the leader-election Lease; absent: the kubeconfig context's (the pod's) namespace, else default. */
  leaseNamespace?: string;
  /** Name of the leader-election Lease (default portico-operator). */
  leaseName?: string;
  /** Leader election timings (defaults 15 s, 10 s, 2 s, as client-go). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  /** How Gateways get their addresses (gateway/options.ts AddressMode); absent: pool. `service` needs Kubernetes mode. */
  addressMode?: AddressMode;
  // Service mode (absent: the defaults below, or where they are used).
  /** Namespace of the Gateways' Services, where the data-plane pods run; absent: the pod's (POD_NAMESPACE), else the kubeconfig context's. */
  serviceNamespace?: string;
  /** Labels of the data-plane pods, the Services' selector (default app.kubernetes.io/name=portico, as in manifests/). */
  serviceSelector?: Readonly<Record<string, string>>;
  /** `first-last`, the internal ports the data plane binds for listener ports (default 10000-19999). */
  internalPorts?: string;
  /** Where the data plane binds them (default 0.0.0.0; `::` for IPv6 or dual-stack pods). */
  bindAddress?: string;
  /** OTLP/HTTP collector for the operator's reconcile traces (e.g. http://jaeger:4318); absent: no traces. */
  tracesEndpoint?: string;
}

export const DEFAULT_SERVICE_SELECTOR: Readonly<Record<string, string>> = Object.freeze({
  'app.kubernetes.io/name': 'portico',
});

export const OPERATOR_USAGE = `portico operator
  --mode file|kubernetes     where objects come from (env PORTICO_MODE, default file)
  --dir PATH                 folder of YAML for file mode (env PORTICO_DIR, default ./examples/quickstart)
  --socket PATH              the data plane's socket (env PORTICO_SOCKET, default /tmp/portico/dataplane.sock)
  --controller-name NAME     GatewayClasses with this controllerName are ours (default ${DEFAULT_CONTROLLER_NAME})
  --address-pool CIDR        addresses handed to Gateways that name none (env PORTICO_ADDRESS_POOL, default ${DEFAULT_ADDRESS_POOL})
  --admin HOST:PORT          /healthz /readyz /status /explain /metrics and the console at /console/ (env PORTICO_OPERATOR_ADMIN, default 127.0.0.1:9902)
  --translator-threads N     0 translates in the main thread; otherwise in one piscina thread (default 1)
  --log-level LEVEL          pino level (env PORTICO_LOG_LEVEL, default info)
 kubernetes mode:
  --kubeconfig PATH          kubeconfig (env KUBECONFIG; default in-cluster, else ~/.kube/config)
  --namespaces A,B           watch only these namespaces (env PORTICO_NAMESPACES; default all)
  --lease-namespace NS       namespace of the leader Lease (env POD_NAMESPACE; default the pod's namespace)
  --lease-name NAME          name of the leader Lease (default portico-operator)
  --lease-duration D         leader election lease duration (default 15s; D like 15s or 500ms)
  --renew-deadline D         the leader gives up after failing to renew for this long (default 10s)
  --retry-period D           interval between lease attempts (default 2s)
  --address-mode pool|service  pool: each Gateway binds an address of its own (env PORTICO_ADDRESS_MODE, default pool);
                             service: each Gateway gets a Service mapping its listener ports to the data plane
 service mode:
  --service-namespace NS     where the Gateways' Services go: the data-plane pods' namespace (env POD_NAMESPACE)
  --service-selector K=V,..  labels of the data-plane pods (default app.kubernetes.io/name=portico)
  --internal-ports A-B       ports the data plane binds for listener ports (default ${DEFAULT_INTERNAL_PORTS})
  --bind-address IP          where it binds them (default ${DEFAULT_BIND_ADDRESS}; :: for IPv6 pods)
  --traces-endpoint URL      OTLP/HTTP collector for a trace per reconcile pass (env OTEL_EXPORTER_OTLP_ENDPOINT;
                             default none: no traces)`;

/** "15s", "500ms", "1m" or a number of milliseconds. */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m)?$/.exec(text.trim());
  if (match === null) throw new Error(`${flag} must be a duration like 15s or 500ms, got "${text}"`);
  const value = Number(match[1]);
  return Math.round(match[2] === 's' ? value * 1000 : match[2] === 'm' ? value * 60_000 : value);
}

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
      kubeconfig: { type: 'string' },
      namespaces: { type: 'string' },
      'lease-namespace': { type: 'string' },
      'lease-name': { type: 'string' },
      'lease-duration': { type: 'string' },
      'renew-deadline': { type: 'string' },
      'retry-period': { type: 'string' },
      'address-mode': { type: 'string' },
      'service-namespace': { type: 'string' },
      'service-selector': { type: 'string' },
      'internal-ports': { type: 'string' },
      'bind-address': { type: 'string' },
      'traces-endpoint': { type: 'string' },
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
    ...kubernetesSettings(values, env),
    ...serviceSettings(values, env, mode),
    ...tracesSettings(values['traces-endpoint'] ?? env.OTEL_EXPORTER_OTLP_ENDPOINT),
  });
}

function tracesSettings(endpoint: string | undefined): { tracesEndpoint?: string } {
  if (endpoint === undefined || endpoint === '') return {};
  if (!URL.canParse(endpoint) || !/^https?:$/.test(new URL(endpoint).protocol))
    throw new Error(`--traces-endpoint must be a URL like http://jaeger:4318, got "${endpoint}"`);
  return { tracesEndpoint: endpoint };
}

/** `k=v,k2=v2` → labels. */
export function parseSelector(text: string, flag: string): Record<string, string> {
  const labels: Record<string, string> = {};
  for (const pair of text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')) {
    const eq = pair.indexOf('=');
    if (eq <= 0) throw new Error(`${flag} must be key=value pairs separated by commas, got "${text}"`);
    labels[pair.slice(0, eq).trim()] = pair.slice(eq + 1).trim();
  }
  if (Object.keys(labels).length === 0) throw new Error(`${flag} must name at least one label`);
  return labels;
}

function serviceSettings(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
  mode: string,
): Partial<OperatorConfig> {
  const text = (flag: string) => {
    const value = values[flag];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const addressMode = text('address-mode') ?? (env.PORTICO_ADDRESS_MODE || undefined);
  if (addressMode === undefined) return {};
  if (addressMode !== 'pool' && addressMode !== 'service')
    throw new Error(`--address-mode must be pool or service, got "${addressMode}"`);
  if (addressMode === 'pool') return { addressMode };
  if (mode !== 'kubernetes')
    throw new Error('--address-mode service needs --mode kubernetes (Services exist only in a cluster)');
  const settings: Partial<OperatorConfig> = { addressMode };
  const namespace = text('service-namespace') ?? (env.POD_NAMESPACE || undefined);
  if (namespace !== undefined) settings.serviceNamespace = namespace;
  const selector = text('service-selector');
  if (selector !== undefined) settings.serviceSelector = Object.freeze(parseSelector(selector, '--service-selector'));
  const ports = text('internal-ports');
  if (ports !== undefined) {
    if (parsePortRange(ports) === undefined)
      throw new Error(`--internal-ports must be first-last with 1024 <= first <= last <= 65535, got "${ports}"`);
    settings.internalPorts = ports;
  }
  const bind = text('bind-address');
  if (bind !== undefined) {
    if (isIP(bind) === 0) throw new Error(`--bind-address must be an IP address, got "${bind}"`);
    settings.bindAddress = bind;
  }
  return settings;
}

function kubernetesSettings(
  values: Record<string, string | boolean | undefined>,
  env: NodeJS.ProcessEnv,
): Partial<OperatorConfig> {
  const text = (flag: string, variable?: string): string | undefined => {
    const value = values[flag] ?? (variable === undefined ? undefined : env[variable]);
    return typeof value === 'string' && value !== '' ? value : undefined;
  };
  const duration = (flag: string) => {
    const value = text(flag);
    return value === undefined ? undefined : parseDuration(value, `--${flag}`);
  };
  const namespaces = text('namespaces', 'PORTICO_NAMESPACES')
    ?.split(',')
    .map((n) => n.trim())
    .filter((n) => n !== '');
  const settings: Partial<OperatorConfig> = {
    kubeconfig: text('kubeconfig', 'KUBECONFIG'),
    namespaces: namespaces === undefined || namespaces.length === 0 ? undefined : Object.freeze(namespaces),
    leaseNamespace: text('lease-namespace', 'POD_NAMESPACE'),
    leaseName: text('lease-name'),
    leaseDurationMs: duration('lease-duration'),
    renewDeadlineMs: duration('renew-deadline'),
    retryPeriodMs: duration('retry-period'),
  };
  for (const key of Object.keys(settings) as Array<keyof typeof settings>)
    if (settings[key] === undefined) delete settings[key];
  return settings;
}
