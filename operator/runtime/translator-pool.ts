// Translation off the main thread (the translator's own piscina pool), so that the operator's event loop keeps
// draining watches and renewing its Lease while thousands of routes are translated; `threads: 0` translates in the
// main thread (tests, small folders).

import { TranslatorPool } from '../gateway/pool.ts';
import type { Translator } from './translator.ts';
import { inThreadTranslator } from './translator.ts';

export function createTranslator(threads: number): Translator {
  if (threads === 0) return inThreadTranslator();
  const pool = new TranslatorPool({ maxThreads: threads, idleTimeoutMs: 60_000 });
  return { translate: (resources, options) => pool.translate(resources, options), close: () => pool.close() };
}
