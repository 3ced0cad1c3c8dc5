// Translation off the main thread, so that the operator's event loop keeps draining watches and renewing its Lease
// while thousands of routes are translated: the translation session (operator/gateway/session.ts) lives in one
// piscina thread, kept for the life of the operator (a thread that goes costs a full resync), and each pass sends
// it the changed objects. One thread whatever `threads` says (above 0): the session is one, and passes are serial.
// `threads: 0` translates in the main thread (tests, small folders).

import { TranslatorPool } from './translator-threads.ts';
import type { Translator } from './translator.ts';
import { SessionTranslator, inThreadTranslator } from './translator.ts';

export function createTranslator(threads: number): Translator {
  if (threads === 0) return inThreadTranslator();
  const pool = new TranslatorPool({ maxThreads: 1, minThreads: 1, idleTimeoutMs: Infinity });
  return new SessionTranslator(
    (task) => pool.session(task),
    () => pool.close(),
  );
}
