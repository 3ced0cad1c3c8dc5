// Translation off the main thread: a piscina pool running the pure translator, so that the operator's event loop
// keeps draining watches and renewing its Lease while 10k routes are translated. piscina is for CPU jobs only (its
// workers sleep between tasks); `threads: 0` translates in the main thread.

import { Piscina } from 'piscina';
import type { Translator } from './translator.ts';
import { inThreadTranslator } from './translator.ts';

const WORKER = new URL('../gateway/translate-worker.ts', import.meta.url).href;

export function createTranslator(threads: number): Translator {
  if (threads === 0) return inThreadTranslator();
  const pool = new Piscina({ filename: WORKER, minThreads: 1, maxThreads: threads, idleTimeout: 60_000 });
  return {
    translate: (resources, options) => pool.run({ resources, options }),
    close: () => pool.destroy(),
  };
}
