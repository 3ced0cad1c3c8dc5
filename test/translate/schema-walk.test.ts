// Nothing silently ignored (issue 11 item 4): every field under `spec` of the Gateway API CRDs Portico reads is either
// applied (removing it, or changing it to another schema-valid value, in a golden case changes an IR record that is
// there either way, or changes the IR with every condition as it was: schema-walk.ts), or refused with the condition
// its GEP names (REFUSED: a golden case sets it and shows that reason, naming the field), or changes nothing on purpose
// (ALLOWED, with the reason). A field whose changes only make refusals or whole records come and go is "checked":
// read, but no case shows it applied; those are listed exactly in CHECKED_ONLY. What is none of these is a gap,
// listed exactly in KNOWN_GAPS. Both lists must match: a new entry fails the test, a closed one must be struck off
// (all in schema-walk-gaps.ts). An object is covered through its fields, a field through a refused or allowed
// ancestor. Kinds Portico does not read get no status at all: they must be listed in NOT_READ and not be watched.
// `SCHEMA_WALK_CRDS=<dir>` walks another CRD version (e.g. the next release's experimental CRDs): the failure then
// lists what is new.

import { expect } from 'chai';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { GATEWAY_GROUP, GATEWAY_X_GROUP, WATCHED_KINDS } from '../../operator/kubernetes/kinds.ts';
import { loadCrdValidator } from './crd-schema.ts';
import { loadCases } from './golden.ts';
import type { GoldenCase } from './golden.ts';
import { loadCrdSpecs, probeField, setsField, walkFields } from './schema-walk.ts';
import type { FieldPath, Probe } from './schema-walk.ts';
import { ALLOWED, CHECKED_ONLY, KNOWN_GAPS, NOT_READ, REFUSED } from './schema-walk-gaps.ts';

const EXPERIMENTAL = fileURLToPath(new URL('../cluster/crds/experimental/', import.meta.url));
const STANDARD = fileURLToPath(new URL('../cluster/crds/standard/', import.meta.url));
const dir = process.env.SCHEMA_WALK_CRDS ?? EXPERIMENTAL;

/** `Kind spec.path` of a field, as the lists spell it. */
const idOf = (f: FieldPath): string => `${f.kind} ${f.path}`;

/** Is `id` the entry `entry` or a field below it? */
function under(id: string, entry: string): boolean {
  return id === entry || id.startsWith(`${entry}.`) || id.startsWith(`${entry}[]`);
}

/** Every condition (with the object's, listeners' and parents' ones) in a case's expected output. */
function conditionsOf(testCase: GoldenCase): Array<{ reason: string; message: string; status: string }> {
  const out: Array<{ reason: string; message: string; status: string }> = [];
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(visit);
    else if (typeof value === 'object' && value !== null) {
      const v = value as Record<string, unknown>;
      if (typeof v.reason === 'string' && typeof v.type === 'string')
        out.push({ reason: v.reason, message: String(v.message), status: String(v.status) });
      else Object.values(v).forEach(visit);
    }
  };
  visit(parse(testCase.expectedText ?? '{}')?.statuses);
  return out;
}

const specs = loadCrdSpecs(dir);
const readKinds = [...specs.keys()].filter((k) => !(k in NOT_READ)).sort();
const cases = loadCases('');
const schema = loadCrdValidator();
const baselines: Parameters<typeof probeField>[3] = new Map();
const fields = readKinds.flatMap((kind) => walkFields(kind, specs.get(kind)));
const probes = new Map<string, Probe>(fields.map((f) => [idOf(f), probeField(f, cases, schema, baselines)]));

describe('schema walk: every CRD field is implemented or refused with its condition', () => {
  it('walks the fields of every kind Portico reads', () => {
    expect(readKinds).to.include.members(['Gateway', 'HTTPRoute', 'GRPCRoute', 'ListenerSet', 'BackendTLSPolicy']);
    expect(fields.length).to.be.greaterThan(300);
  });

  it('reads (watches) exactly the Gateway API kinds not listed as not read', () => {
    const watched = WATCHED_KINDS.filter((k) => k.group === GATEWAY_GROUP || k.group === GATEWAY_X_GROUP).map(
      (k) => k.kind,
    );
    expect([...watched].sort()).to.deep.equal(readKinds);
    for (const kind of Object.keys(NOT_READ)) expect(watched, `${kind} is listed as not read`).to.not.include(kind);
  });

  it('walks the standard channel too: its fields are a subset of the experimental ones', function () {
    if (dir !== EXPERIMENTAL) this.skip(); // another CRD version given: the standard channel is not its
    const experimental = new Set(fields.map(idOf));
    const standard = loadCrdSpecs(STANDARD);
    const extra = [...standard.keys()]
      .filter((k) => !(k in NOT_READ))
      .flatMap((k) => walkFields(k, standard.get(k)).map(idOf))
      .filter((id) => !experimental.has(id));
    expect(extra).to.deep.equal([]);
  });

  for (const [entry, { reason }] of Object.entries(REFUSED)) {
    it(`refuses ${entry} with ${reason} in a golden case`, () => {
      const field = fields.find((f) => idOf(f) === entry);
      expect(field, `${entry} is not a field of the walked CRDs`).to.not.equal(undefined);
      const needle = field!.segments.filter((s) => s !== '[]').at(-1)!;
      const setting = cases.filter((c) => c.objects.some((o) => setsField(o, field!)));
      expect(
        setting.map((c) => c.name),
        `no golden case sets ${entry}`,
      ).to.not.deep.equal([]);
      const shown = setting.some((c) =>
        conditionsOf(c).some(
          (cond) => cond.reason === reason && cond.message.toLowerCase().includes(needle.toLowerCase()),
        ),
      );
      expect(shown, `no golden case setting ${entry} shows ${reason} naming ${needle}`).to.equal(true);
    });
  }

  it('has allow-list and refusal entries that are fields of the CRDs', () => {
    const ids = new Set(fields.map(idOf));
    const stale = [...Object.keys(ALLOWED), ...Object.keys(REFUSED)].filter((e) => !ids.has(e));
    expect(stale).to.deep.equal([]);
  });

  it('finds no field silently ignored but the known gaps, and none only checked but those listed', () => {
    const applied = [...probes].filter(([, p]) => p.verdict === 'applied').map(([id]) => id);
    const checkedIds = [...probes].filter(([, p]) => p.verdict === 'checked').map(([id]) => id);
    const gaps: string[] = [];
    const checked: string[] = [];
    for (const [id, probe] of probes) {
      if (probe.verdict === 'applied') continue;
      if (Object.keys(REFUSED).some((e) => under(id, e)) || Object.keys(ALLOWED).some((e) => under(id, e))) continue;
      if (applied.some((e) => e !== id && under(e, id))) continue; // an object whose fields are applied
      if (probe.verdict === 'checked' || checkedIds.some((e) => e !== id && under(e, id))) checked.push(id);
      else gaps.push(`${id} (${probe.verdict})`);
    }
    const compare = (found: string[], listed: string[], what: string): void => {
      const fresh = found.filter((g) => !listed.includes(g));
      const closed = listed.filter((g) => !found.includes(g));
      const listing = `new ${what}:\n  ${fresh.join('\n  ')}\nclosed (strike them off):\n  ${closed.join('\n  ')}\n`;
      expect({ fresh, closed }, listing).to.deep.equal({ fresh: [], closed: [] });
    };
    compare(gaps, Object.keys(KNOWN_GAPS), 'gaps (implement or refuse them)');
    compare(checked, CHECKED_ONLY, 'fields only checked (show them applied in a case, or list them)');
  });
});
