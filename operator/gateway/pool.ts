// A small pool of translator threads (piscina). One or two threads: translations of one operator are serial by
// design (a new one starts when the previous is done, with the events batched meanwhile), so more threads would
// only hold memory. Threads exit after `idleTimeoutMs` without work and start again on demand.

import { Piscina } from 'piscina';
import type { TranslateOptions } from './options.ts';
import type { ResourceSnapshot } from './resources.ts';
import type { TranslateResult } from './translate.ts';
import type { TranslateTask } from './translate-worker.ts';

export interface TranslatorPoolOptions {
  /** 1 or 2 (clamped). */
  maxThreads?: number;
  /** Milliseconds an idle thread is kept; 30 s by default. */
  idleTimeoutMs?: number;
}

const WORKER_FILE = new URL('./translate-worker.ts', import.meta.url).href;

export class TranslatorPool {
  #pool: Piscina<TranslateTask, TranslateResult>;

  constructor(options: TranslatorPoolOptions = {}) {
    const maxThreads = Math.min(2, Math.max(1, Math.floor(options.maxThreads ?? 1)));
    this.#pool = new Piscina<TranslateTask, TranslateResult>({
      filename: WORKER_FILE,
      minThreads: 0,
      maxThreads,
      idleTimeout: options.idleTimeoutMs ?? 30_000,
    });
  }

  /** `translate(resources, options)` in a worker thread. */
  translate(resources: ResourceSnapshot, options: TranslateOptions): Promise<TranslateResult> {
    return this.#pool.run({ resources, options });
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  /** Waits for running translations, then stops the threads. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
