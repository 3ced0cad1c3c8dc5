import { expect } from 'chai';
import { FIXED_NOW, loadCases } from '../../test/translate/golden.ts';
import { TranslatorPool } from './pool.ts';
import { buildResourceSnapshot } from './resources.ts';
import { translate } from './translate.ts';

describe('TranslatorPool', () => {
  const pool = new TranslatorPool({ maxThreads: 5, idleTimeoutMs: 1000 });
  after(() => pool.close());

  it('gives the same result as translating in-thread, for every golden case', async () => {
    const cases = loadCases('');
    expect(cases.length).to.be.greaterThan(50);
    const results = await Promise.all(
      cases.map(async (c) => {
        const resources = buildResourceSnapshot(structuredClone(c.objects));
        const options = { ...c.options, now: new Date(FIXED_NOW) };
        return {
          name: `${c.area}/${c.name}`,
          inWorker: await pool.translate(resources, options),
          inThread: translate(resources, options),
        };
      }),
    );
    for (const { name, inWorker, inThread } of results) expect(inWorker, name).to.deep.equal(inThread);
  });

  it('runs at most two threads', () => {
    expect(pool.threads).to.be.at.most(2);
  });
});
