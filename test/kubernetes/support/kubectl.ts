// The kubectl built with the test bed, against a test cluster: for what the install docs tell users to run
// (`kubectl apply -k`, server-side dry runs, `create token`, `--as` impersonation).

import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { Cluster } from '../../cluster/cluster.ts';

const run = promisify(execFile);

export interface KubectlResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function kubectl(cluster: Cluster, args: string[]): Promise<KubectlResult> {
  try {
    const { stdout, stderr } = await run(
      join(cluster.binDir, 'kubectl'),
      ['--kubeconfig', cluster.kubeconfigPath, ...args],
      { maxBuffer: 16 << 20 },
    );
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : 1, stdout: e.stdout ?? '', stderr: e.stderr ?? String(error) };
  }
}
