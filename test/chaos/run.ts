// Chaos in Kubernetes mode (issue 14 item 5): `npm run chaos`. On the test bed (a real kube-apiserver and etcd), two
// "pods", each an operator process and its own data plane process on a private Unix socket, both data planes binding
// the Gateway's address with SO_REUSEPORT so that the kernel spreads new connections over them. A load client sends
// requests on fresh connections (so that they land on both data planes) to a route that exists throughout, while the
// run, one after the other:
//   1. kills the leader's operator with SIGKILL (its Lease is not released: the other must wait it out), edits a
//      probe route, and measures how long until its status is written; then restarts the killed operator;
//   2. restarts the API server (test/cluster/cluster.sh restart-apiserver), edits the probe route once it answers,
//      and measures from then;
//   3. cuts the operators' watches (a TCP proxy between them and the API server), deletes a route, restarts the API
//      server (which then no longer knows the watches' resourceVersion: 410, a relist), restores the link, and
//      checks the deleted route is gone from both data planes;
//   4. restarts etcd (SIGTERM, then the same command line), edits the probe route once the API server writes again
//      (last: cluster.sh restart-apiserver wants the etcd it recorded);
//   5. kills the leader's data plane with SIGKILL and restarts it (its operator reconnects and publishes again; the
//      leader's statuses wait for its own data plane's ack), edits the probe route, and measures from the restart.
// For each step: requests sent and failed, and the time from the fault (or the edit after it) to the probe route's
// status at the new generation. Prints a Markdown section for bench/RESULTS.md. Every process it starts is stopped
// by its own pid; the cluster and the temp folders are removed.

import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { isRunning, startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { startEchoServer } from '../support/echo-server.ts';
import { closeClient, get } from '../support/http-client.ts';
import type { ApiObject } from '../../operator/framework/resource.ts';
import {
  CONTROLLER,
  adminClient,
  apply,
  conditionOf,
  deleteObject,
  eventually,
  gatewayAddress,
  getObject,
  loadFixture,
  nonLoopbackIPv4,
  parentsOf,
} from '../kubernetes/support/kube.ts';
import { startTcpProxy } from '../kubernetes/support/tcp-proxy.ts';
import type { TcpProxy } from '../kubernetes/support/tcp-proxy.ts';
import { Load } from './load.ts';
import { startDataPlane, startOperator } from './pods.ts';
import type { Pod } from './pods.ts';

const PORT = 18_377;
const LOAD_WORKERS = Number(process.env.CHAOS_WORKERS ?? 6);
const SETTLE_MS = Number(process.env.CHAOS_SETTLE_MS ?? 5000);

async function kill(child: ChildProcess | null, signal: NodeJS.Signals): Promise<void> {
  if (child === null || child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill(signal);
  await exited;
}

/**
 * Restarts the cluster's etcd (cluster.sh has no command for it): SIGTERM to the recorded process, then the same
 * command line again, its output to the same log. Returns the new process, which the caller stops (cluster.sh stop
 * knows only the recorded pid) before the cluster.
 */
async function restartEtcd(cluster: Cluster): Promise<{ child: ChildProcess; downMs: number }> {
  const record = cluster.processes().find((p) => p.component === 'etcd');
  if (record === undefined) throw new Error('chaos: the cluster has no recorded etcd');
  const argv = readFileSync(`/proc/${record.pid}/cmdline`, 'utf8').split('\0').filter(Boolean);
  const client = argv.find((a) => a.startsWith('--listen-client-urls='))?.slice('--listen-client-urls='.length);
  if (client === undefined) throw new Error(`chaos: no --listen-client-urls in etcd's command line: ${argv.join(' ')}`);
  const at = Date.now();
  process.kill(record.pid, 'SIGTERM');
  while (isRunning(record)) await new Promise((r) => setTimeout(r, 50));
  const log = openSync(join(cluster.runDir, 'logs', 'etcd-restarted.log'), 'a');
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', log, log] });
  closeSync(log);
  await eventually(
    'etcd healthy again',
    async () => ((await (await fetch(`${client}/health`)).json()) as { health?: string }).health === 'true',
    60_000,
    100,
  );
  return { child, downMs: Date.now() - at };
}

const results: Array<{
  step: string;
  sent: number;
  failed: number;
  errors: string;
  faultMs: number | null;
  convergeMs: number | null;
  /** From the status to both data planes serving the edit (and not the path before it). */
  agreeMs: number;
}> = [];
/** How long the fault of the current step lasted (the API server's restart, the data plane's absence). */
let faultMs: number | null = null;
/** The relist step: from the recovery until the route deleted during the cut is gone from both data planes. */
let goneMs: number | null = null;

async function main(): Promise<void> {
  const backendIp = nonLoopbackIPv4();
  if (backendIp === undefined) throw new Error('chaos: this machine has no non-loopback IPv4 address for the backend');
  const started = Date.now();
  const cluster = await startCluster();
  const client = adminClient(cluster.kubeconfigPath);
  const echo = await startEchoServer('echo', backendIp);
  const address = gatewayAddress();
  const pods: Pod[] = ['pod-a', 'pod-b'].map((name) => {
    const dir = mkdtempSync(join(tmpdir(), `portico-chaos-${name}-`));
    return { name, dir, socket: join(dir, 'dataplane.sock'), operator: null, dataPlane: null };
  });
  let load: Load | null = null;
  /** etcd as this run restarted it (stopped here, before the cluster). */
  let etcd: ChildProcess | null = null;
  // The operators reach the API server through a TCP proxy the run can cut (their watches with it).
  let proxy: TcpProxy | null = null;
  try {
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(cluster.server).port));
    const kubeconfig = join(pods[0].dir, 'kubeconfig-via-proxy.yaml');
    const config = parseYaml(readFileSync(cluster.kubeconfigPath, 'utf8'));
    for (const entry of config.clusters) entry.cluster.server = `https://127.0.0.1:${proxy.port}`;
    writeFileSync(kubeconfig, stringifyYaml(config));
    const fixture = loadFixture('echo.yaml', {
      ADDRESS: address,
      PORT,
      BACKEND_IP: backendIp,
      BACKEND_PORT: echo.port,
    });
    for (const object of fixture) await apply(client, object);
    // The probe: a second route whose edits show when statuses are written again.
    const probe = structuredClone(fixture.find((o) => o.kind === 'HTTPRoute')!) as ApiObject & { spec: any };
    probe.metadata = { name: 'probe', namespace: 'default' };
    let probeVersion = 0;
    const editProbe = async (): Promise<number> => {
      probeVersion++;
      probe.spec.rules[0].matches[0].path.value = `/probe-${probeVersion}`;
      const applied = await apply(client, probe);
      return applied.metadata?.generation as number;
    };
    const probeConverged = async (generation: number) => {
      const route = await getObject(client, 'HTTPRoute', 'default', 'probe');
      const ours = parentsOf(route?.status).find((p) => p.controllerName === CONTROLLER);
      return conditionOf(ours, 'Accepted')?.observedGeneration === generation;
    };
    const converge = async (what: string, generation: number, since: number): Promise<number> => {
      await eventually(what, () => probeConverged(generation), 60_000, 50);
      return Date.now() - since;
    };
    for (const pod of pods) {
      startDataPlane(pod);
      startOperator(pod, kubeconfig);
    }
    const url = `http://${address}:${PORT}/echo/chaos`;
    await eventually(
      'the route is served',
      async () => (await get(url).catch(() => undefined))?.status === 200,
      60_000,
    );
    await converge('first status', await editProbe(), Date.now());
    load = new Load(url, LOAD_WORKERS);
    await new Promise((r) => setTimeout(r, SETTLE_MS));

    const step = async (name: string, fault: () => Promise<number | null>) => {
      load!.phase = name;
      faultMs = null;
      const convergeMs = await fault();
      // No route lost or duplicated: on fresh connections (both data planes), the probe's newest path answers and
      // the one before it is gone.
      const servedAt = Date.now();
      await eventually(
        `both data planes serve /probe-${probeVersion} and no longer /probe-${probeVersion - 1}`,
        async () => {
          for (let i = 0; i < 20; i++) {
            const now = await get(`http://${address}:${PORT}/probe-${probeVersion}/x`, {
              headers: { connection: 'close' },
            });
            const old = await get(`http://${address}:${PORT}/probe-${probeVersion - 1}/x`, {
              headers: { connection: 'close' },
            });
            if (now.status !== 200 || old.status !== 404) return false;
          }
          return true;
        },
        30_000,
        100,
      );
      const agreeMs = Date.now() - servedAt;
      await new Promise((r) => setTimeout(r, SETTLE_MS));
      const count = load!.counts.get(name) ?? { sent: 0, failed: 0, errors: new Map() };
      const errors = [...count.errors].map(([e, n]) => `${e} ×${n}`).join(', ');
      results.push({ step: name, sent: count.sent, failed: count.failed, errors, faultMs, convergeMs, agreeMs });
      console.log(
        `chaos: ${name}: ${count.sent} requests, ${count.failed} failed ${errors}; status after ${convergeMs} ms, ` +
          `both data planes agree ${agreeMs} ms later`,
      );
    };

    await step('baseline (no fault)', async () => {
      const at = Date.now();
      return converge('probe status (baseline)', await editProbe(), at);
    });

    await step('kill the leader (SIGKILL), edit a route', async () => {
      const lease = (await getObject(client, 'Lease', 'default', 'portico-operator'))?.spec as {
        holderIdentity?: string;
      };
      const leader = pods.find((p) => p.name === lease?.holderIdentity);
      if (leader === undefined) throw new Error(`chaos: no pod holds the Lease (${lease?.holderIdentity})`);
      const at = Date.now();
      await kill(leader.operator, 'SIGKILL');
      const ms = await converge('probe status after the leader was killed', await editProbe(), at);
      startOperator(leader, kubeconfig);
      return ms;
    });

    await step('restart the API server, edit a route', async () => {
      const at = Date.now();
      await cluster.restartApiServer();
      faultMs = Date.now() - at;
      // From here the API server answers again: the time to a status counts from its recovery.
      const recovered = Date.now();
      const generation = await eventually(
        'an edit after the restart',
        () => editProbe().catch(() => undefined),
        60_000,
        200,
      );
      return converge('probe status after the API server restart', generation, recovered);
    });

    await step('cut the watches across an API server restart (410, relist), delete a route meanwhile', async () => {
      const path = `/probe-${probeVersion}/x`;
      proxy!.cut();
      await deleteObject(client, 'HTTPRoute', 'default', 'probe');
      const at = Date.now();
      await cluster.restartApiServer();
      proxy!.restore();
      faultMs = Date.now() - at;
      const recovered = Date.now();
      // The deletion happened while no watch ran, and the restarted API server no longer knows the old
      // resourceVersion: only a relist shows it. Both data planes must drop the route.
      await eventually(
        'the deleted route gone from both data planes',
        async () => {
          for (let i = 0; i < 20; i++)
            if ((await get(`http://${address}:${PORT}${path}`, { headers: { connection: 'close' } })).status !== 404)
              return false;
          return true;
        },
        60_000,
        100,
      );
      goneMs = Date.now() - recovered;
      const generation = await eventually(
        'the route created again',
        () => editProbe().catch(() => undefined),
        60_000,
        200,
      );
      return converge('probe status after the relist', generation, recovered);
    });

    await step('restart etcd, edit a route', async () => {
      const restarted = await restartEtcd(cluster);
      etcd = restarted.child;
      faultMs = restarted.downMs;
      const recovered = Date.now();
      const generation = await eventually(
        'an edit after etcd came back',
        () => editProbe().catch(() => undefined),
        60_000,
        200,
      );
      return converge('probe status after the etcd restart', generation, recovered);
    });

    await step("kill the leader's data plane (SIGKILL), restart it", async () => {
      const lease = (await getObject(client, 'Lease', 'default', 'portico-operator'))?.spec as {
        holderIdentity?: string;
      };
      const victim = pods.find((p) => p.name === lease?.holderIdentity) ?? pods[1];
      const at = Date.now();
      await kill(victim.dataPlane, 'SIGKILL');
      await new Promise((r) => setTimeout(r, 1000));
      startDataPlane(victim);
      faultMs = Date.now() - at;
      // Its operator reconnects and publishes; the leader's statuses wait for its own data plane's ack.
      const recovered = Date.now();
      return converge('probe status after a data plane restart', await editProbe(), recovered);
    });

    await load.stop();
    load = null;
    const total = results.reduce((n, r) => n + r.sent, 0);
    const failed = results.reduce((n, r) => n + r.failed, 0);
    const table = [
      `### Chaos in Kubernetes mode (${new Date().toISOString().slice(0, 10)}, \`npm run chaos\`)`,
      '',
      `Two pods (operator + data plane processes each, SO_REUSEPORT on one Gateway address), ${LOAD_WORKERS} load ` +
        `workers on fresh connections to a route that exists throughout, ${SETTLE_MS / 1000} s after each fault. ` +
        '"Fault" is how long the fault lasted (API server restart, etcd down, data plane down); "status after" is the time from ' +
        'the kill (leader) or the recovery (API server, etcd, data plane) to the status of a route edited then; "both data ' +
        'planes agree" is the time after that until 20 fresh connections in a row get the edit (and 404 on the path ' +
        'before it), the 40 requests of the check included.',
      '',
      '| step | requests | failed | failed % | fault | status after | both data planes agree | failures |',
      '|---|---|---|---|---|---|---|---|',
      ...results.map(
        (r) =>
          `| ${r.step} | ${r.sent} | ${r.failed} | ${((100 * r.failed) / Math.max(1, r.sent)).toFixed(3)} | ` +
          `${r.faultMs === null ? '–' : `${(r.faultMs / 1000).toFixed(1)} s`} | ` +
          `${r.convergeMs === null ? '–' : `${(r.convergeMs / 1000).toFixed(1)} s`} | ` +
          `+${(r.agreeMs / 1000).toFixed(1)} s | ${r.errors || '–'} |`,
      ),
      `| all | ${total} | ${failed} | ${((100 * failed) / Math.max(1, total)).toFixed(3)} | | | | |`,
      '',
      `Run time ${Math.round((Date.now() - started) / 1000)} s.`,
    ].join('\n');
    console.log(`\n${table}\n`);
    if (goneMs !== null)
      console.log(`The route deleted during the cut was gone from both data planes ${goneMs} ms after recovery.`);
  } finally {
    await load?.stop();
    for (const pod of pods) {
      await kill(pod.operator, 'SIGTERM');
      await kill(pod.dataPlane, 'SIGTERM');
      rmSync(pod.dir, { recursive: true, force: true });
    }
    await proxy?.close();
    await closeClient();
    await echo.close();
    await client.close();
    await kill(etcd, 'SIGTERM');
    await cluster.stop();
  }
}

await main();
