// The protocol between the operator and its translation session (session.ts) when the session lives in a piscina
// worker: the operator sends object changes, the worker answers with IR and status changes, both plain
// structured-cloneable data, so that a pass costs what changed (the objects are not sent every time).
// Each task names the session and the version it builds on. A worker that does not hold that version (it was
// restarted, or never saw the session) answers `resync`, and the operator sends every object again with base 0,
// which starts a new session.

import type { TranslateOptions } from '../gateway/options.ts';
import type { KubeObject } from '../gateway/resources.ts';
import { TranslationSession } from '../gateway/session.ts';
import type { SessionOutput } from '../gateway/session.ts';

export interface SessionTask {
  /** Names the caller's session (a worker holds one). */
  session: string;
  /** The version of the session these changes build on; 0: a new session, `upserted` holds every object. */
  base: number;
  /** The version after this task. */
  version: number;
  /** Objects that came or changed; `removed` names those that went by `objectKey` (keys.ts). */
  upserted: KubeObject[];
  removed: string[];
  options: TranslateOptions;
}

export type SessionReply = { resync: false; output: SessionOutput } | { resync: true };

/** Runs session tasks against one session at a time (in a worker thread, or in-thread). */
export function createSessionHost(): (task: SessionTask) => SessionReply {
  let current: { id: string; version: number; session: TranslationSession } | null = null;
  return (task) => {
    if (task.base === 0) current = { id: task.session, version: 0, session: new TranslationSession() };
    else if (current === null || current.id !== task.session || current.version !== task.base) return { resync: true };
    const held = current as { id: string; version: number; session: TranslationSession };
    // Whatever happens next, this version is not the one the caller will build on unless the run completes.
    held.version = -1;
    held.session.apply(task.upserted, task.removed);
    const output = held.session.run(task.options);
    held.version = task.version;
    return { resync: false, output };
  };
}
