// A pod of the chart's Deployment, run as local processes: the operator and the data plane started with the args the
// installed Deployment gives them (`node bin/portico.ts <args>`), as the chart's ServiceAccount (a TokenRequest token,
// as the kubelet mounts one). Only what cannot be the same outside a pod is overridden, each override said below;
// parseArgs takes the last value of a repeated flag, so overrides are appended. stop() kills the two processes by
// their own pids and removes the temp folder.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import type { Cluster } from '../cluster/cluster.ts';
import { kubectl } from '../kubernetes/support/kubectl.ts';

const PORTICO = new URL('../../bin/portico.ts', import.meta.url).pathname;

export interface Pod {
  /** Every line both processes wrote (stdout and stderr). */
  log: string[];
  /** The operator's and the data plane's args as run. */
  args: { operator: string[]; dataplane: string[] };
  stop(): Promise<void>;
}

interface Container {
  name: string;
  args: string[];
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of live) child.kill('SIGKILL');
});

/** The Deployment's containers as the API server holds them. */
async function containersOf(cluster: Cluster, namespace: string, name: string): Promise<Container[]> {
  const got = await kubectl(cluster, ['get', 'deployment', name, '-n', namespace, '-o', 'json']);
  if (got.code !== 0) throw new Error(`kubectl get deployment: ${got.stderr}`);
  return JSON.parse(got.stdout).spec.template.spec.containers;
}

/** A kubeconfig with a token of the ServiceAccount and the cluster's address and CA, as in-cluster config gives. */
async function serviceAccountKubeconfig(cluster: Cluster, namespace: string, account: string, file: string) {
  const token = await kubectl(cluster, ['create', 'token', account, '-n', namespace, '--duration', '1h']);
  if (token.code !== 0) throw new Error(`kubectl create token: ${token.stderr}`);
  const admin = parse(readFileSync(cluster.kubeconfigPath, 'utf8'));
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'test', cluster: admin.clusters[0].cluster }],
    users: [{ name: account, user: { token: token.stdout.trim() } }],
    contexts: [{ name: account, context: { cluster: 'test', user: account, namespace } }],
    'current-context': account,
  };
  writeFileSync(file, stringify(config), { mode: 0o600 });
}

function start(args: string[], env: NodeJS.ProcessEnv, log: string[], label: string): ChildProcess {
  const child = spawn(process.execPath, [PORTICO, ...args], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  live.add(child);
  child.once('exit', () => live.delete(child));
  for (const stream of [child.stdout!, child.stderr!]) {
    let rest = '';
    stream.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      rest = lines.pop()!;
      for (const line of lines) log.push(`${label}: ${line}`);
    });
  }
  return child;
}

async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

export async function startPod(
  cluster: Cluster,
  opts: { namespace: string; deployment: string; serviceAccount: string; internalPorts: string },
): Promise<Pod> {
  const containers = await containersOf(cluster, opts.namespace, opts.deployment);
  const dir = mkdtempSync(join(tmpdir(), 'portico-helm-pod-'));
  const kubeconfig = join(dir, 'kubeconfig');
  await serviceAccountKubeconfig(cluster, opts.namespace, opts.serviceAccount, kubeconfig);
  const socket = join(dir, 'dataplane.sock');
  const argsOf = (name: string) => {
    const container = containers.find((c) => c.name === name);
    if (container === undefined) throw new Error(`the Deployment has no container ${name}`);
    return container.args;
  };
  const args = {
    dataplane: [
      ...argsOf('dataplane'),
      `--socket=${socket}`, // the pod's emptyDir
      '--admin=127.0.0.1:0', // 9901 on every interface would clash with other tests on this machine
      '--shards=1', // two cores shared by every test
    ],
    operator: [
      ...argsOf('operator'),
      `--socket=${socket}`,
      '--admin=127.0.0.1:0',
      `--kubeconfig=${kubeconfig}`, // in a pod: the mounted token; here: the same ServiceAccount's token
      `--internal-ports=${opts.internalPorts}`, // every data plane of this machine binds on the same host
    ],
  };
  const log: string[] = [];
  // The Downward API env of the Deployment (POD_NAME, POD_NAMESPACE); nothing of the test's environment that the
  // operator reads (KUBECONFIG, PORTICO_*).
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH,
    HOME: dir,
    POD_NAME: `${opts.deployment}-test`,
    POD_NAMESPACE: opts.namespace,
  };
  const dataplane = start(args.dataplane, env, log, 'dataplane');
  const operator = start(args.operator, env, log, 'operator');
  let stopped = false;
  return {
    log,
    args,
    async stop() {
      if (stopped) return;
      stopped = true;
      await kill(operator);
      await kill(dataplane);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
