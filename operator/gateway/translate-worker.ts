// The piscina tasks: translate in a worker thread, so that a large configuration (thousands of routes, certificate
// and regex checks) does not stall the operator's event loop (Lease renewal, watches). Input and output are plain,
// structured-cloneable data.
//   - default: `translate` of a whole snapshot (stateless; any thread will do);
//   - `session`: the operator's translation session (session-task.ts), which lives in this thread between tasks,
//     so that each pass sends and translates only what changed. The pool that runs it has one thread.

import type { TranslateOptions } from './options.ts';
import type { ResourceSnapshot } from './resources.ts';
import { createSessionHost } from './session-task.ts';
import type { SessionReply, SessionTask } from './session-task.ts';
import { translate } from './translate.ts';
import type { TranslateResult } from './translate.ts';

export interface TranslateTask {
  resources: ResourceSnapshot;
  options: TranslateOptions;
}

export default function translateTask(task: TranslateTask): TranslateResult {
  return translate(task.resources, task.options);
}

const host = createSessionHost();

export function session(task: SessionTask): SessionReply {
  return host(task);
}
