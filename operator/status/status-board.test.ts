import { expect } from 'chai';
import pino from 'pino';
import { FIXED_NOW, loadCases } from '../../test/translate/golden.ts';
import { buildResourceSnapshot } from '../gateway/resources.ts';
import { statusKey } from '../gateway/keys.ts';
import { translate } from '../gateway/translate.ts';
import { StatusBoard } from './status-board.ts';

describe('StatusBoard.updateChanges', () => {
  it('ends where update() with the whole set ends', () => {
    const full = new StatusBoard(pino({ level: 'silent' }), 'portico.dev/gateway-controller');
    const delta = new StatusBoard(pino({ level: 'silent' }), 'portico.dev/gateway-controller');
    let previous = new Set<string>();
    for (const c of loadCases('').slice(0, 30)) {
      const statuses = translate(buildResourceSnapshot(structuredClone(c.objects)), {
        now: FIXED_NOW,
        ...c.options,
      }).statuses;
      full.update(statuses);
      const next = new Set(statuses.map(statusKey));
      delta.updateChanges({ upsert: statuses, remove: [...previous].filter((k) => !next.has(k)) });
      previous = next;
      expect(delta.all()).to.deep.equal(full.all());
    }
  });
});
