// operator/framework on a real kube-apiserver, piece by piece: reflectors (paged list, clean watch ends resumed
// without a relist, the watchdog on a silent link, a throwing handler), leader election (one leader, release on stop,
// a partitioned leader stops leading before anyone else starts), the status writer (server-side apply under our
// field manager; read-modify-write through a 409 Conflict), and the Event recorder (de-duplicated into a series,
// rate-limited). Generic kinds (ConfigMaps, Leases) where possible; an HTTPRoute where a status subresource is needed.

import { expect } from 'chai';
import { startCluster } from '../cluster/cluster.ts';
import type { Cluster } from '../cluster/cluster.ts';
import { EventRecorder } from '../../operator/framework/events.ts';
import { KubeClient } from '../../operator/framework/kube-client.ts';
import { LeaderElector } from '../../operator/framework/leader-election.ts';
import { silentLog } from '../../operator/framework/log.ts';
import { Reflector } from '../../operator/framework/reflector.ts';
import type { ApiObject, ResourceType } from '../../operator/framework/resource.ts';
import { StatusWriter } from '../../operator/framework/status-writer.ts';
import { RESOURCES, adminClient, apply, eventually, getObject, kubeConfigFor } from './support/kube.ts';
import { startTcpProxy } from './support/tcp-proxy.ts';
import type { TcpProxy } from './support/tcp-proxy.ts';

const CONFIGMAPS: ResourceType = RESOURCES.ConfigMap;
const configMap = (name: string, namespace = 'default', data: Record<string, string> = {}): ApiObject => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name, namespace },
  data,
});

describe('operator/framework on a real API server', function () {
  this.timeout(120_000);
  let cluster: Cluster | undefined;
  let client: KubeClient;
  let proxy: TcpProxy | undefined;
  const cleanups: Array<() => Promise<unknown> | undefined> = [];
  /** A client that reaches the API server through the test's proxy. */
  const proxied = () => {
    const c = new KubeClient(kubeConfigFor(cluster!.kubeconfigPath, `https://127.0.0.1:${proxy!.port}`), {
      requestTimeoutMs: 2000,
    });
    cleanups.push(() => c.close());
    return c;
  };

  before(async () => {
    cluster = await startCluster({ crds: true });
    client = adminClient(cluster.kubeconfigPath);
    proxy = await startTcpProxy('127.0.0.1', Number(new URL(cluster.server).port));
    await apply(client, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'paged' } });
  });

  afterEach(async () => {
    proxy?.restore();
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  after(async () => {
    await proxy?.close();
    await client?.close();
    await cluster?.stop();
  });

  describe('Reflector', () => {
    it('lists in pages and ends with the whole collection, then follows changes', async () => {
      for (let i = 0; i < 7; i++) await apply(client, configMap(`cm-${i}`, 'paged'));
      const reflector = new Reflector({
        client,
        resource: CONFIGMAPS,
        namespace: 'paged',
        pageSize: 3,
        log: silentLog,
      }).start();
      cleanups.push(() => reflector.stop());
      await reflector.synced;
      expect(
        reflector.cache
          .keys()
          .filter((k) => k.startsWith('paged/cm-'))
          .sort(),
      ).to.deep.equal([0, 1, 2, 3, 4, 5, 6].map((i) => `paged/cm-${i}`));
      expect(reflector.stats.lists).to.equal(1);
      expect(reflector.stats.pages, '7 objects, 3 a page').to.equal(3);
      await apply(client, configMap('cm-7', 'paged'));
      await eventually('cm-7 in the cache', async () => reflector.cache.get('paged/cm-7') !== undefined);
    });

    it('resumes from its resourceVersion when the server ends a watch (timeoutSeconds), without relisting or missing a change', async () => {
      const seen: string[] = [];
      const reflector = new Reflector({
        client,
        resource: CONFIGMAPS,
        namespace: 'default',
        minWatchTimeoutSeconds: 1,
        log: silentLog,
        handler: { upserted: (o) => seen.push(String((o.data as Record<string, string>)?.n)) },
      }).start();
      cleanups.push(() => reflector.stop());
      await reflector.synced;
      for (let n = 0; n < 6; n++) {
        await apply(client, configMap('ticker', 'default', { n: String(n) }));
        await new Promise((resolve) => setTimeout(resolve, 700));
      }
      await eventually('the last change', async () => seen.includes('5'));
      expect(reflector.stats.watches, 'watches opened (each ends after 1–2 s)').to.be.at.least(3);
      expect(reflector.stats.relists).to.equal(0);
      expect(reflector.stats.lists).to.equal(1);
      expect(seen).to.deep.equal(['0', '1', '2', '3', '4', '5']);
    });

    it('aborts a silent stream with its watchdog and reopens it', async () => {
      const reflector = new Reflector({
        client: proxied(),
        resource: CONFIGMAPS,
        namespace: 'default',
        watchdogMs: 1000,
        log: silentLog,
        backoff: { initialMs: 50, maxMs: 200 },
      }).start();
      cleanups.push(() => reflector.stop());
      await reflector.synced;
      await eventually('the watch is open', async () => reflector.stats.watches >= 1);
      proxy!.freeze();
      await eventually('the watchdog fired', async () => reflector.stats.watchdogAborts >= 1, 5000);
      proxy!.restore();
      await apply(client, configMap('after-freeze'));
      await eventually(
        'a change after the freeze',
        async () => reflector.cache.get('default/after-freeze') !== undefined,
        15_000,
      );
      expect(reflector.stats.relists).to.equal(0);
    });

    it('keeps going when its handler throws', async () => {
      let calls = 0;
      const reflector = new Reflector({
        client,
        resource: CONFIGMAPS,
        namespace: 'default',
        log: silentLog,
        handler: {
          upserted: () => {
            calls++;
            throw new Error('handler bug');
          },
        },
      }).start();
      cleanups.push(() => reflector.stop());
      await reflector.synced;
      await apply(client, configMap('throw-1'));
      await apply(client, configMap('throw-2'));
      await eventually(
        'both changes cached',
        async () =>
          reflector.cache.get('default/throw-2') !== undefined && reflector.cache.get('default/throw-1') !== undefined,
      );
      expect(calls).to.be.at.least(2);
      expect(reflector.stats.errors).to.equal(0);
    });
  });

  describe('LeaderElector', () => {
    const timings = { leaseDurationMs: 2000, renewDeadlineMs: 1500, retryPeriodMs: 300 };

    function elector(name: string, identity: string, c: KubeClient, log = silentLog) {
      const e = new LeaderElector({ client: c, namespace: 'default', name, identity, log, ...timings }).start();
      cleanups.push(() => e.stop());
      return e;
    }

    it('elects exactly one of two candidates and hands over on release', async () => {
      const one = elector('pair', 'one', client);
      await one.whenLeading();
      const two = elector('pair', 'two', client);
      await new Promise((resolve) => setTimeout(resolve, 2500));
      expect([one.isLeader, two.isLeader]).to.deep.equal([true, false]);
      const started = Date.now();
      await one.stop();
      await two.whenLeading();
      expect(Date.now() - started, 'hand-over after a release').to.be.below(timings.leaseDurationMs);
      expect((await getObject(client, 'Lease', 'default', 'pair'))?.spec).to.include({ holderIdentity: 'two' });
    });

    it('a partitioned leader stops leading before the other candidate starts (never two leaders)', async () => {
      const cut = elector('partition', 'cut', proxied());
      await cut.whenLeading();
      const other = elector('partition', 'other', client);
      let overlap = 0;
      let cutStoppedAt = 0;
      let otherStartedAt = 0;
      const sampler = setInterval(() => {
        if (cut.isLeader && other.isLeader) overlap++;
        if (!cut.isLeader && cutStoppedAt === 0) cutStoppedAt = Date.now();
        if (other.isLeader && otherStartedAt === 0) otherStartedAt = Date.now();
      }, 20);
      cleanups.push(() => {
        clearInterval(sampler);
      });
      proxy!.cut();
      await other.whenLeading();
      await new Promise((resolve) => setTimeout(resolve, 100));
      expect(overlap, 'samples with two leaders').to.equal(0);
      expect(cutStoppedAt).to.be.greaterThan(0);
      expect(otherStartedAt).to.be.at.least(cutStoppedAt);
    });
  });

  describe('StatusWriter', () => {
    const ROUTES = RESOURCES.HTTPRoute;
    const ref = { namespace: 'default', name: 'writer' };
    const accepted = [
      {
        type: 'Accepted',
        status: 'True',
        reason: 'Accepted',
        message: 'ok',
        observedGeneration: 1,
        lastTransitionTime: '2026-01-01T00:00:00Z',
      },
    ];
    const foreign = {
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'theirs' },
      controllerName: 'example.com/other',
      conditions: accepted,
    };
    const ours = {
      parentRef: { group: 'gateway.networking.k8s.io', kind: 'Gateway', name: 'ours' },
      controllerName: 'example.com/us',
      conditions: accepted,
    };

    before(async () => {
      await apply(client, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'HTTPRoute',
        metadata: ref,
        spec: { parentRefs: [{ name: 'ours' }, { name: 'theirs' }] },
      });
    });

    it('read-modify-write retries through a 409 Conflict and keeps what the other writer put there', async () => {
      const writer = new StatusWriter({ client, fieldManager: 'framework-test', log: silentLog });
      const stale = (await getObject(client, 'HTTPRoute', 'default', 'writer'))!;
      // Someone else writes in between: our copy is now stale.
      await writer.update(ROUTES, ref, undefined, () => ({ parents: [foreign] }));
      const result = await writer.update(ROUTES, ref, stale, (status) => {
        const parents = ((status as { parents?: unknown[] } | undefined)?.parents ?? []) as Array<{
          controllerName: string;
        }>;
        return parents.some((p) => p.controllerName === ours.controllerName)
          ? undefined
          : { parents: [...parents, ours] };
      });
      expect(result.written).to.equal(true);
      expect(writer.stats.conflicts).to.equal(1);
      expect(
        ((await getObject(client, 'HTTPRoute', 'default', 'writer'))!.status as { parents: unknown[] }).parents,
      ).to.deep.equal([foreign, ours]);
      // Computing "no change" writes nothing.
      const again = await writer.update(ROUTES, ref, undefined, () => undefined);
      expect(again.written).to.equal(false);
      expect(writer.stats.updates).to.equal(3);
    });

    it('server-side apply writes the status under our field manager, and a repeat changes nothing', async () => {
      const writer = new StatusWriter({ client, fieldManager: 'framework-test', log: silentLog });
      const GATEWAYS = RESOURCES.Gateway;
      await apply(client, {
        apiVersion: 'gateway.networking.k8s.io/v1',
        kind: 'Gateway',
        metadata: { name: 'ssa', namespace: 'default' },
        spec: { gatewayClassName: 'none', listeners: [{ name: 'http', protocol: 'HTTP', port: 80 }] },
      });
      const status = {
        conditions: [
          {
            type: 'Accepted',
            status: 'True',
            reason: 'Accepted',
            message: 'ok',
            observedGeneration: 1,
            lastTransitionTime: '2026-01-01T00:00:00Z',
          },
        ],
      };
      const first = await writer.apply(GATEWAYS, { namespace: 'default', name: 'ssa' }, status);
      const managers = (first!.metadata!.managedFields as Array<{ manager: string; subresource?: string }>).filter(
        (f) => f.manager === 'framework-test',
      );
      expect(managers.map((f) => f.subresource)).to.deep.equal(['status']);
      const second = await writer.apply(GATEWAYS, { namespace: 'default', name: 'ssa' }, status);
      expect(second!.metadata!.resourceVersion, 'a no-op apply does not bump the resourceVersion').to.equal(
        first!.metadata!.resourceVersion,
      );
      expect(await writer.apply(GATEWAYS, { namespace: 'default', name: 'absent' }, status)).to.equal(undefined);
    });
  });

  describe('EventRecorder', () => {
    it('folds repeats into one Event with a series, and drops new Events beyond its burst', async () => {
      const recorder = new EventRecorder({
        client,
        reportingController: 'example.com/framework-test',
        reportingInstance: 'test-1',
        log: silentLog,
        seriesIntervalMs: 200,
        qps: 0.001,
        burst: 2,
      });
      cleanups.push(() => recorder.stop());
      const regarding = { apiVersion: 'v1', kind: 'ConfigMap', namespace: 'default', name: 'evented' };
      for (let i = 0; i < 3; i++) recorder.record(regarding, 'Warning', 'Broken', 'Check', 'same note');
      recorder.record(regarding, 'Normal', 'Fixed', 'Check', 'another note');
      recorder.record(regarding, 'Normal', 'Extra', 'Check', 'over the burst');
      const events = await eventually('the series count', async () => {
        const { items } = await client.request<{
          items: Array<{ reason: string; type: string; series?: { count: number }; reportingController: string }>;
        }>('GET', '/apis/events.k8s.io/v1/namespaces/default/events');
        const ours = items.filter((e) => e.reportingController === 'example.com/framework-test');
        return ours.find((e) => e.reason === 'Broken')?.series?.count === 3 ? ours : undefined;
      });
      expect(events.map((e) => e.reason).sort()).to.deep.equal(['Broken', 'Fixed']);
      expect(recorder.stats).to.include({ created: 2, deduplicated: 2, dropped: 1 });
    });
  });
});
