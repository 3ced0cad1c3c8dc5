import { expect } from 'chai';
import { RECORD_KINDS } from '../../shared/ir/snapshot.ts';
import { FIXED_NOW, loadCases } from '../../test/translate/golden.ts';
import { TranslatorPool } from './translator-threads.ts';
import { buildResourceSnapshot } from '../gateway/resources.ts';
import { translate } from '../gateway/translate.ts';

describe('TranslatorPool', () => {
  const pool = new TranslatorPool({ maxThreads: 5, idleTimeoutMs: 1000 });
  after(() => pool.close());

  it('runs a new session in the worker to the result of translating in-thread, for every golden case', async () => {
    const cases = loadCases('');
    expect(cases.length).to.be.greaterThan(50);
    for (const [i, c] of cases.entries()) {
      const objects = structuredClone(c.objects);
      const options = { ...c.options, now: FIXED_NOW };
      const reply = await pool.session({
        session: `case-${i}`,
        base: 0,
        version: 1,
        upserted: objects,
        removed: [],
        options,
      });
      if (reply.resync) expect.fail(`${c.area}/${c.name}: a new session must not ask for a resync`);
      const inThread = translate(buildResourceSnapshot(objects), options);
      const name = `${c.area}/${c.name}`;
      for (const kind of RECORD_KINDS) {
        const records = [...(reply.output.ir.upsert[kind] as Array<{ key: string }>)].sort((a, b) =>
          a.key < b.key ? -1 : 1,
        );
        expect(records, `${name} ${kind}`).to.deep.equal(inThread.ir[kind]);
      }
      expect(reply.output.statuses.upsert, name).to.deep.equal(inThread.statuses);
    }
  });

  it('runs at most two threads', () => {
    expect(pool.threads).to.be.at.most(2);
  });
});
