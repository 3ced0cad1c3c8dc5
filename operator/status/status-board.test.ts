import { expect } from 'chai';
import pino from 'pino';
import { FIXED_NOW, loadCases } from '../../test/translate/golden.ts';
import { buildResourceSnapshot } from '../gateway/resources.ts';
import { statusKey } from '../gateway/keys.ts';
import { translate } from '../gateway/translate.ts';
import { StatusBoard } from './status-board.ts';

describe('StatusBoard.updateChanges', () => {
  it('fed one translation after another, holds exactly the statuses of the last one', () => {
    const board = new StatusBoard(pino({ level: 'silent' }), 'portico.dev/gateway-controller');
    let previous = new Set<string>();
    for (const c of loadCases('').slice(0, 30)) {
      const statuses = translate(buildResourceSnapshot(structuredClone(c.objects)), {
        now: FIXED_NOW,
        ...c.options,
      }).statuses;
      const next = new Set(statuses.map(statusKey));
      board.updateChanges({ upsert: statuses, remove: [...previous].filter((k) => !next.has(k)) });
      previous = next;
      const held = board.all();
      expect(new Set(held.map(statusKey)), `${c.area}/${c.name}`).to.deep.equal(next);
      const generations = new Map(statuses.map((s) => [statusKey(s), s.generation]));
      for (const stored of held) expect(stored.generation).to.equal(generations.get(statusKey(stored)));
    }
  });
});
