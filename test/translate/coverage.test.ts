// Every condition the catalogue (operator/gateway/conditions.ts) can produce appears in at least one golden output,
// so that no reason ships untested. Conditions only the data-plane feedback writes (Programmed=False Pending) are
// covered by operator/gateway/status.test.ts instead.

import { expect } from 'chai';
import * as catalogue from '../../operator/gateway/conditions.ts';
import type { ConditionDraft } from '../../operator/gateway/conditions.ts';
import { loadCases } from './golden.ts';

const NOT_FROM_TRANSLATOR = new Set(['Programmed/False/Pending']);

function catalogueEntries(): string[] {
  const out = new Set<string>();
  for (const [name, build] of Object.entries(catalogue)) {
    if (typeof build !== 'function' || name === 'stampConditions') continue;
    const drafts: ConditionDraft[] =
      build.length === 2 && name.includes('Conflict')
        ? [(build as any)('HostnameConflict', 'm'), (build as any)('ProtocolConflict', 'm')]
        : build.length === 2
          ? [(build as any)(true, 'm'), (build as any)(false, 'm')]
          : [(build as any)('m')];
    for (const d of drafts) out.add(`${d.type}/${d.status}/${d.reason}`);
  }
  return [...out].sort();
}

describe('golden cases cover the condition catalogue', () => {
  it('shows every (type, status, reason) of the catalogue in some golden output', () => {
    const seen = new Set<string>();
    for (const c of loadCases('')) {
      const text = c.expectedText ?? '';
      for (const m of text.matchAll(/reason: (\S+)\n\s+status: "(\w+)"\n\s+type: (\S+)/g))
        seen.add(`${m[3]}/${m[2]}/${m[1]}`);
    }
    const missing = catalogueEntries().filter((entry) => !seen.has(entry) && !NOT_FROM_TRANSLATOR.has(entry));
    expect(missing).to.deep.equal([]);
  });
});
