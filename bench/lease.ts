// `node bench/lease.ts`: the operator's Lease at scale in Kubernetes mode, on the test bed's real API server and
// etcd (npm run cluster:build). One replica (operator in this process with the production election timings: 15 s
// lease, 10 s renew deadline, 2 s retry; its translator in a thread; a real data plane) holds the Lease while
// --routes HTTPRoutes are created in bulk; the Lease's renewTime is read every 250 ms until every route has its
// status and 20 s more. Reports the longest gap between two renewals (the renew deadline is 10 s: a gap near it
// means leadership nearly lost) and whether the holder ever changed. Flags: --routes 3000, --record.

import { appendFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { parseArgs } from 'node:util';
import { startCluster } from '../test/cluster/cluster.ts';
import { adminClient, apply, gatewayAddress, getObject, loadFixture } from '../test/kubernetes/support/kube.ts';
import { startReplica } from '../test/kubernetes/support/replica.ts';

const { values: flags } = parseArgs({
  options: { routes: { type: 'string', default: '3000' }, record: { type: 'boolean', default: false } },
});
const ROUTES = Number(flags.routes);
const cluster = await startCluster();
let replica: Awaited<ReturnType<typeof startReplica>> | undefined;
try {
  const client = adminClient(cluster.kubeconfigPath);
  const base = loadFixture('echo.yaml', {
    ADDRESS: gatewayAddress(),
    PORT: 18_290,
    BACKEND_IP: '10.0.0.1',
    BACKEND_PORT: 8080,
  });
  for (const object of base.filter((o) => o.kind !== 'EndpointSlice')) await apply(client, object);
  replica = await startReplica({
    name: 'scale',
    kubeconfigPath: cluster.kubeconfigPath,
    leaseDurationMs: 15_000,
    renewDeadlineMs: 10_000,
    retryPeriodMs: 2_000,
    config: { translatorThreads: 1 },
  });
  const renewals: Array<{ at: number; renewTime: string; holder: string }> = [];
  const started = performance.now();
  let sampling = true;
  const sampler = (async () => {
    while (sampling) {
      const spec = (await getObject(client, 'Lease', 'default', 'portico-operator'))?.spec as
        | { renewTime?: string; holderIdentity?: string }
        | undefined;
      if (spec?.renewTime !== undefined && spec.renewTime !== renewals.at(-1)?.renewTime)
        renewals.push({
          at: performance.now() - started,
          renewTime: spec.renewTime,
          holder: spec.holderIdentity ?? '',
        });
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  // The routes, 32 requests at a time.
  const route = base.find((o) => o.kind === 'HTTPRoute')!;
  let next = 0;
  await Promise.all(
    Array.from({ length: 32 }, async () => {
      while (next < ROUTES) {
        const i = next++;
        await apply(client, { ...route, metadata: { name: `r${i}`, namespace: 'default' } });
      }
    }),
  );
  const created = performance.now() - started;
  // Every route has our status entry: the last one written proves the pass over all of them ended.
  let statused = 0;
  for (;;) {
    const last = await getObject(client, 'HTTPRoute', 'default', `r${ROUTES - 1}`);
    if (((last?.status as { parents?: unknown[] } | undefined)?.parents?.length ?? 0) > 0) break;
    if (performance.now() - started > 600_000) throw new Error('statuses not written within 10 minutes');
    await new Promise((r) => setTimeout(r, 500));
  }
  statused = performance.now() - started;
  await new Promise((r) => setTimeout(r, 20_000));
  sampling = false;
  await sampler;
  const gaps = renewals.slice(1).map((r, i) => r.at - renewals[i].at);
  const holders = new Set(renewals.map((r) => r.holder));
  const lines = [
    `### ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC — the Lease at ${ROUTES} routes (Kubernetes mode, test bed; bench/lease.ts); load average at the end ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')}`,
    '',
    `- ${ROUTES} HTTPRoutes created in ${(created / 1000).toFixed(1)} s; the last one's status written after ${(statused / 1000).toFixed(1)} s; sampled 20 s more`,
    `- ${renewals.length} renewals seen; longest gap between two ${(Math.max(...gaps) / 1000).toFixed(2)} s (retry period 2 s, renew deadline 10 s); holders: ${[...holders].join(', ')}`,
    '',
  ];
  console.log(lines.join('\n'));
  if (flags.record) appendFileSync(new URL('./RESULTS.md', import.meta.url), `${lines.join('\n')}\n`);
} finally {
  await replica?.stop();
  await cluster.stop();
}
process.exit(0);
