import { expect } from 'chai';
import { FIXED_NOW, loadCases } from '../../test/translate/golden.ts';
import { TranslatorPool } from './translator-threads.ts';
import { createSessionHost } from './translator-task.ts';
import { translate } from '../gateway/translate.ts';
import type { ObjectStatus } from '../gateway/status.ts';
import { ResourceStore } from '../store/resource-store.ts';
import { RECORD_KINDS } from '../../shared/ir/snapshot.ts';
import { SessionTranslator, inThreadTranslator } from './translator.ts';
import type { TranslationUpdate, Translator } from './translator.ts';

/** The update as `translate` shapes its result (sorted records; statuses by key). */
function view(update: TranslationUpdate) {
  const ir: Record<string, unknown[]> = {};
  for (const kind of RECORD_KINDS)
    ir[kind] = [...update.ir[kind].values()].sort((a: any, b: any) => (a.key < b.key ? -1 : 1));
  return { ir, statuses: new Map([...update.statuses].sort()) };
}

function expected(store: ResourceStore, options: object) {
  const result = translate(store.snapshot(), options);
  const key = (s: ObjectStatus) => `${s.kind}/${'namespace' in s ? s.namespace : ''}/${s.name}`;
  return { ir: result.ir, statuses: new Map(result.statuses.map((s) => [key(s), s] as const).sort()) };
}

const cases = loadCases('');
const base =
  cases.find((c) => c.area === 'httproute' && c.objects.filter((o: any) => o.kind === 'HTTPRoute').length >= 2) ??
  cases[0];
const options = { now: FIXED_NOW, ...base.options };

async function exercise(translator: Translator, between?: () => Promise<void>): Promise<TranslationUpdate[]> {
  const store = new ResourceStore();
  const feed = store.feed();
  store.replace([], structuredClone(base.objects));
  const updates = [await translator.translate(feed, options)];
  expect(view(updates[0])).to.deep.equal(expected(store, options));
  await between?.();
  // One route edited, one deleted: the next pass carries only those.
  const routes = base.objects.filter((o: any) => o.kind === 'HTTPRoute');
  const edited = structuredClone(routes[0]);
  edited.spec.hostnames = ['edited.example.com'];
  store.upsert(edited);
  store.delete(`HTTPRoute/${routes[1].metadata.namespace ?? 'default'}/${routes[1].metadata.name}`);
  updates.push(await translator.translate(feed, options));
  expect(view(updates[1])).to.deep.equal(expected(store, options));
  return updates;
}

describe('SessionTranslator', () => {
  it('in-thread: keeps the whole IR and statuses up to date from the changes alone', async () => {
    const [first, second] = await exercise(inThreadTranslator());
    expect(first.mode).to.equal('rebuilt');
    expect(second.mode).to.equal('incremental');
    expect(second.translatedRoutes).to.equal(1);
  });

  it('in a piscina thread: the same; a thread that restarts gets every object again (resync)', async function () {
    this.timeout(30_000);
    const pool = new TranslatorPool({ maxThreads: 1, minThreads: 1, idleTimeoutMs: Infinity });
    const translator = new SessionTranslator(
      (task) => pool.session(task),
      () => pool.close(),
    );
    try {
      const [, incremental] = await exercise(translator);
      expect(incremental.mode).to.equal('incremental');
      const [, afterRestart] = await exercise(new SessionTranslator((task) => pool.session(task)), () =>
        pool.restartThreads(),
      );
      // The session the thread held is gone: the pass after the restart sent everything and started over.
      expect(afterRestart.mode).to.equal('rebuilt');
    } finally {
      await translator.close();
    }
  });

  it('a session that fails mid-pass is started over on the next pass', async () => {
    let fail = false;
    const host = createSessionHost();
    const translator = new SessionTranslator(async (task) => {
      if (fail) throw new Error('worker died');
      return host(task);
    });
    const store = new ResourceStore();
    const feed = store.feed();
    store.replace([], structuredClone(base.objects));
    await translator.translate(feed, options);
    const route = structuredClone(base.objects.find((o: any) => o.kind === 'HTTPRoute'));
    route.spec.hostnames = ['lost.example.com'];
    store.upsert(route);
    fail = true;
    await translator.translate(feed, options).then(
      () => expect.fail('should have failed'),
      () => undefined,
    );
    fail = false;
    const update = await translator.translate(feed, options);
    expect(update.mode).to.equal('rebuilt');
    expect(view(update)).to.deep.equal(expected(store, options));
  });
});
