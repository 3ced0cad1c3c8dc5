// Starts a real Kubernetes control plane (etcd + kube-apiserver, optionally kube-controller-manager) for tests, by
// driving cluster.sh beside this file. All process handling lives in the script; this module only runs it, reads the
// run dir it writes, and keeps the list of every pid the cluster ever had so a test can prove that none is left.
// It builds nothing: without the binaries, startCluster rejects with the script's message to run the build.

import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const script = path.join(here, 'cluster.sh');

/** The vendored Gateway API CRD sets (kustomization dirs under crds/), for `startCluster({ crdsDir })`. */
export const crdDirs = Object.freeze({
  /** v1.7.0, experimental channel: the default. */
  experimental: path.join(here, 'crds', 'experimental'),
  /** v1.7.0, standard channel. */
  standard: path.join(here, 'crds', 'standard'),
  /** v1.6.1, experimental channel: a cluster that has not upgraded yet. */
  v161Experimental: path.join(here, 'crds', 'v1.6.1', 'experimental'),
});

export interface ClusterOptions {
  /** Cluster name (lower-case, digits, '-'); default unique per process and call. */
  name?: string;
  /** Run dir for PKI, kubeconfig, logs and pids; default a new temp dir. stop() removes it. */
  runDir?: string;
  /** Also start kube-controller-manager (the conformance controllers). Default false. */
  kcm?: boolean;
  /** Run the control plane inside this existing network namespace. Default: the host's loopback. */
  netns?: string;
  /** Install the vendored Gateway API CRDs. Default true. */
  crds?: boolean;
  /** Which vendored CRD set (a kustomization dir): default `crds/experimental` (v1.7.0); `crdDirs` names them. */
  crdsDir?: string;
  /** More environment for cluster.sh, e.g. APISERVER_PORT or PORTICO_CACHE. */
  env?: Record<string, string>;
}

/** One process of the cluster, as cluster.sh recorded it. startTime tells it apart from a later owner of the pid. */
export interface ProcessRecord {
  component: string;
  pid: number;
  startTime: string;
}

export interface Cluster {
  name: string;
  runDir: string;
  kubeconfigPath: string;
  /** https://host:port of the apiserver. */
  server: string;
  /** Directory with kube-apiserver, kube-controller-manager, kubectl and etcd. */
  binDir: string;
  etcdDataDir: string;
  /** The processes running now, per the run dir. */
  processes(): ProcessRecord[];
  /** Every process this cluster has had, including apiservers replaced by restartApiServer(). */
  startedProcesses(): ProcessRecord[];
  /** Stops kube-apiserver and starts it again on the same port and etcd data; resolves once /readyz is ok. */
  restartApiServer(): Promise<void>;
  /** Stops every process, removes the run dir and etcd data. Safe to call twice. */
  stop(): Promise<void>;
}

/** True if the recorded process still runs (same pid, same start time, not a zombie). */
export function isRunning(record: ProcessRecord): boolean {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${record.pid}/stat`, 'utf8');
  } catch {
    return false;
  }
  // Fields after "pid (comm) "; comm may contain spaces and parentheses. State is field 3 of the line (a zombie has
  // exited), start time field 22.
  const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
  return fields[0] !== 'Z' && fields[19] === record.startTime;
}

// Clusters not yet stopped, so that an exiting test process still stops them (a failed test must not leak daemons).
const live = new Set<{ env: NodeJS.ProcessEnv }>();
process.on('exit', () => {
  for (const c of live) spawnSync('bash', [script, 'stop'], { env: c.env, stdio: 'ignore' });
});

let counter = 0;

export async function startCluster(opts: ClusterOptions = {}): Promise<Cluster> {
  const name = opts.name ?? `t${process.pid}-${++counter}`;
  const ownRunDir = opts.runDir === undefined;
  const runDir = opts.runDir ?? (await mkdtemp(path.join(tmpdir(), `portico-cluster-${name}-`)));
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...opts.env,
    CLUSTER_NAME: name,
    CLUSTER_RUN_DIR: runDir,
    CLUSTER_KCM: opts.kcm ? '1' : '0',
    CLUSTER_CRDS: opts.crds === false ? '0' : '1',
    ...(opts.crdsDir === undefined ? {} : { CLUSTER_CRDS_DIR: opts.crdsDir }),
    CLUSTER_NETNS: opts.netns ?? '',
  };
  const handle = { env };
  live.add(handle);
  try {
    await runScript('start', env);
  } catch (err) {
    live.delete(handle);
    // The script cleans up after a failed start; an empty temp dir of ours may remain if it failed early.
    if (ownRunDir) await rm(runDir, { recursive: true, force: true });
    throw err;
  }

  const config = readConfig(path.join(runDir, 'cluster.env'));
  const seen = new Map<string, ProcessRecord>();
  const processes = (): ProcessRecord[] => {
    const records = readPids(path.join(runDir, 'pids'));
    for (const r of records) seen.set(`${r.pid}/${r.startTime}`, r);
    return records;
  };
  processes();

  let stopped = false;
  return {
    name,
    runDir,
    kubeconfigPath: config.KUBECONFIG_PATH,
    server: config.SERVER_URL,
    binDir: config.BIN_DIR,
    etcdDataDir: config.ETCD_DATA_DIR,
    processes,
    startedProcesses: () => {
      if (!stopped) processes();
      return [...seen.values()];
    },
    async restartApiServer() {
      processes();
      await runScript('restart-apiserver', env);
      processes();
    },
    async stop() {
      if (stopped) return;
      processes();
      await runScript('stop', env);
      stopped = true;
      live.delete(handle);
    },
  };
}

async function runScript(command: string, env: NodeJS.ProcessEnv): Promise<string> {
  const child = spawn('bash', [script, command], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  child.stdout.on('data', (d: Buffer) => (output += d));
  child.stderr.on('data', (d: Buffer) => (output += d));
  const code = await new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', resolve);
  });
  if (code !== 0) throw new Error(`cluster.sh ${command} failed (exit ${code}):\n${output.trimEnd()}`);
  return output;
}

// cluster.env is written by the script with printf %q; the values it holds (paths, ports, URLs) only ever need
// backslash escapes undone.
function readConfig(file: string): Record<string, string> {
  const config: Record<string, string> = {};
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const eq = line.indexOf('=');
    if (eq > 0)
      config[line.slice(0, eq)] = line
        .slice(eq + 1)
        .replace(/^''$/, '')
        .replace(/\\(.)/g, '$1');
  }
  return config;
}

function readPids(file: string): ProcessRecord[] {
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      const [component, pid, startTime] = l.split(' ');
      return { component, pid: Number(pid), startTime };
    });
}
