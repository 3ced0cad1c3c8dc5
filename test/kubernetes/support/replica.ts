// One operator replica as a test runs it: Kubernetes mode in-process, with its own real data plane (supervisor,
// worker-thread shards, sockets) on a private socket, like two containers of one pod. The data plane may be started
// later than the operator (to see statuses before and after the first ack). stop() removes everything it started.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { Logger } from 'pino';
import { startDataPlane } from '../../../dataplane/supervisor/supervisor.ts';
import type { DataPlane } from '../../../dataplane/supervisor/supervisor.ts';
import type { OperatorConfig } from '../../../operator/config.ts';
import { startKubernetes } from '../../../operator/kubernetes.ts';
import type { KubernetesOperator, KubernetesOverrides } from '../../../operator/kubernetes.ts';
import { CONTROLLER } from './kube.ts';

export interface Replica {
  name: string;
  operator: KubernetesOperator;
  dataPlane: DataPlane | null;
  startDataPlane(): Promise<DataPlane>;
  /** Stops the operator (its data plane keeps serving, as in a pod whose operator container restarts). */
  stopOperator(): Promise<void>;
  /** Stops the operator and starts a new one on the same socket (an operator container restart). */
  restartOperator(): Promise<KubernetesOperator>;
  stop(): Promise<void>;
}

export interface ReplicaOptions {
  name: string;
  kubeconfigPath: string;
  withDataPlane?: boolean;
  leaseName?: string;
  /** Namespace of the Lease; default `default`. */
  leaseNamespace?: string;
  /** Leader election timings; default short ones for tests (3 s / 2 s / 0.5 s). */
  leaseDurationMs?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
  overrides?: KubernetesOverrides;
  /** Settings beyond the test defaults (e.g. service mode). */
  config?: Partial<OperatorConfig>;
  /** Default: pino at PORTICO_TEST_LOG (silent). */
  log?: Logger;
}

export async function startReplica(options: ReplicaOptions): Promise<Replica> {
  const dir = mkdtempSync(join(tmpdir(), `portico-k8s-${options.name}-`));
  const socketPath = join(dir, 'dataplane.sock');
  const logLevel = process.env.PORTICO_TEST_LOG ?? 'silent';
  const log = options.log ?? pino({ level: logLevel, base: { replica: options.name } });
  const config: OperatorConfig = Object.freeze({
    mode: 'kubernetes' as const,
    dir: '',
    socketPath,
    controllerName: CONTROLLER,
    addressPool: '127.0.0.0/8',
    adminAddress: '127.0.0.1',
    adminPort: 0,
    translatorThreads: 0,
    instance: options.name,
    logLevel,
    kubeconfig: options.kubeconfigPath,
    leaseNamespace: options.leaseNamespace ?? 'default',
    leaseName: options.leaseName ?? 'portico-operator',
    leaseDurationMs: options.leaseDurationMs ?? 3000,
    renewDeadlineMs: options.renewDeadlineMs ?? 2000,
    retryPeriodMs: options.retryPeriodMs ?? 500,
    ...options.config,
  });
  let dataPlane: DataPlane | null = null;
  const startPlane = async () => {
    dataPlane = await startDataPlane(
      Object.freeze({
        socketPath,
        shards: 2,
        adminAddress: '127.0.0.1',
        adminPort: 0,
        drainMs: 1000,
        keepAliveTimeoutMs: 5000,
        headersTimeoutMs: 10_000,
        maxHeaderBytes: 16_384,
        connectionsPerEndpoint: 8,
        connectTimeoutMs: 2000,
        upstreamKeepAliveMs: 4000,
        statsIntervalMs: 1000,
        accessLog: false,
        logLevel,
      }),
      log,
    );
    return dataPlane;
  };
  try {
    if (options.withDataPlane !== false) await startPlane();
    let operator = await startKubernetes(config, log, options.overrides);
    let operatorStopped = false;
    const stopOperator = async () => {
      if (operatorStopped) return;
      operatorStopped = true;
      await operator.stop();
    };
    return {
      name: options.name,
      get operator() {
        return operator;
      },
      async restartOperator() {
        await stopOperator();
        operator = await startKubernetes(config, log, options.overrides);
        operatorStopped = false;
        return operator;
      },
      get dataPlane() {
        return dataPlane;
      },
      startDataPlane: startPlane,
      stopOperator,
      async stop() {
        await stopOperator();
        await (dataPlane as DataPlane | null)?.stop();
        rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (error) {
    await (dataPlane as DataPlane | null)?.stop();
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
}
