// Validation of a whole config snapshot, run by the data plane on every generation it receives (and by the operator's
// tests on every IR the translator produces). Returns problems; never throws on malformed input.

import { IR_VERSION, RECORD_KINDS } from '../ir/snapshot.ts';
import type { RecordKind } from '../ir/snapshot.ts';
import { problem } from './problem.ts';
import type { Problem } from './problem.ts';
import {
  validateBackend,
  validateCertificate,
  validateHttpRoute,
  validateListener,
  validateStreamRoute,
} from './records.ts';
import { validateListenerSockets, validateReferences } from './references.ts';
import type { ReadonlyRecordIndex } from '../ir/delta.ts';

// biome-ignore lint/suspicious/noExplicitAny: validators take untrusted records and check every field they read
const validators: { [K in RecordKind]: (record: any, at: string, out: Problem[]) => void } = {
  listeners: validateListener,
  httpRoutes: validateHttpRoute,
  streamRoutes: validateStreamRoute,
  backends: validateBackend,
  certificates: validateCertificate,
};

/** Checks one record on its own. A record that is not even an object with a string key is reported, not thrown. */
export function validateRecord(kind: RecordKind, record: unknown, out: Problem[]): void {
  const key = (record as { key?: unknown } | null)?.key;
  if (typeof record !== 'object' || record === null || typeof key !== 'string' || key.length === 0) {
    out.push(problem('MissingField', kind, `every record in ${kind} needs a non-empty string key`));
    return;
  }
  const before = out.length;
  try {
    validators[kind](record, `${kind}[${key}]`, out);
  } catch (error) {
    // A shape the checks did not foresee (e.g. a string where an object belongs) must still end as a problem.
    if (out.length === before) {
      out.push(problem('InvalidValue', `${kind}[${key}]`, `${kind}[${key}] is malformed: ${(error as Error).message}`));
    }
  }
}

export interface ValidateOptions {
  /** Record objects that already passed; skipped. The caller adds records that pass to it. */
  known?: WeakSet<object>;
}

export function validateIndex(
  index: ReadonlyRecordIndex,
  irVersion: unknown,
  options: ValidateOptions = {},
): Problem[] {
  const out: Problem[] = [];
  if (irVersion !== IR_VERSION) {
    out.push(
      problem(
        'UnsupportedVersion',
        'irVersion',
        `IR version ${String(irVersion)} is not supported; this data plane speaks ${IR_VERSION}`,
      ),
    );
    return out;
  }
  const fresh: object[] = [];
  for (const kind of RECORD_KINDS) {
    for (const record of index[kind].values()) {
      if (options.known?.has(record)) continue;
      const before = out.length;
      validateRecord(kind, record, out);
      if (out.length === before) fresh.push(record);
    }
  }
  if (out.length > 0) return out; // reference checks assume well-formed records
  validateListenerSockets(index, out);
  validateReferences(index, out);
  if (out.length === 0 && options.known) for (const record of fresh) options.known.add(record);
  return out;
}
