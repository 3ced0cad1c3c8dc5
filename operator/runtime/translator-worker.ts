// The piscina task: the operator's translation session (translator-task.ts), which lives in this worker thread between
// tasks, so that a large configuration (thousands of routes, certificate and regex checks) does not stall the
// operator's event loop (Lease renewal, watches) and each pass sends and translates only what changed. Input and
// output are plain, structured-cloneable data. The pool that runs it has one thread.

import { createSessionHost } from './translator-task.ts';
import type { SessionReply, SessionTask } from './translator-task.ts';

const host = createSessionHost();

export function session(task: SessionTask): SessionReply {
  return host(task);
}
