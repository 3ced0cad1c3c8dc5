// The chaos run's "pods": an operator process and a data plane process each, started through the portico command.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const PORTICO = fileURLToPath(new URL('../../bin/portico.ts', import.meta.url));

export interface Pod {
  name: string;
  dir: string;
  socket: string;
  operator: ChildProcess | null;
  dataPlane: ChildProcess | null;
}

function run(args: string[], name: string): ChildProcess {
  const child = spawn(process.execPath, [PORTICO, ...args], {
    env: { ...process.env, POD_NAME: name },
    stdio: ['ignore', 'ignore', process.env.CHAOS_LOG ? 'inherit' : 'ignore'],
  });
  return child;
}

export function startDataPlane(pod: Pod): void {
  pod.dataPlane = run(
    [
      'dataplane',
      '--socket',
      pod.socket,
      '--admin',
      '127.0.0.1:0',
      '--shards',
      '1',
      '--drain-ms',
      '1000',
      '--log-level',
      'warn',
    ],
    pod.name,
  );
}

export function startOperator(pod: Pod, kubeconfig: string): void {
  pod.operator = run(
    [
      'operator',
      '--mode',
      'kubernetes',
      '--kubeconfig',
      kubeconfig,
      '--socket',
      pod.socket,
      '--admin',
      '127.0.0.1:0',
      '--translator-threads',
      '0',
      '--address-pool',
      '127.0.0.0/8',
      '--lease-namespace',
      'default',
      '--lease-duration',
      '3s',
      '--renew-deadline',
      '2s',
      '--retry-period',
      '500ms',
      '--log-level',
      'warn',
    ],
    pod.name,
  );
}
