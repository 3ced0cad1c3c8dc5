// A small pool of translator threads (piscina). One or two threads: translations of one operator are serial by
// design (a new one starts when the previous is done, with the events batched meanwhile), so more threads would
// only hold memory. Threads exit after `idleTimeoutMs` without work and start again on demand, unless
// `minThreads` keeps them: a pool that runs a translation session (`session`) keeps its one thread, which holds the
// session between tasks (a thread that exits costs a full resync).

import { Piscina } from 'piscina';
import type { SessionReply, SessionTask } from './translator-task.ts';

export interface TranslatorPoolOptions {
  /** 1 or 2 (clamped). */
  maxThreads?: number;
  /** Milliseconds an idle thread is kept; 30 s by default; Infinity: never stopped. */
  idleTimeoutMs?: number;
  /** Threads kept even when idle (0 by default). */
  minThreads?: number;
}

const WORKER_FILE = new URL('./translator-worker.ts', import.meta.url).href;

export class TranslatorPool {
  #pool: Piscina<SessionTask, SessionReply>;

  constructor(options: TranslatorPoolOptions = {}) {
    const maxThreads = Math.min(2, Math.max(1, Math.floor(options.maxThreads ?? 1)));
    this.#pool = new Piscina<SessionTask, SessionReply>({
      filename: WORKER_FILE,
      minThreads: Math.min(maxThreads, Math.max(0, Math.floor(options.minThreads ?? 0))),
      maxThreads,
      idleTimeout: options.idleTimeoutMs ?? 30_000,
    });
  }

  /** A translation session task (translator-task.ts); meant for a pool of one thread, which holds the session. */
  session(task: SessionTask): Promise<SessionReply> {
    return this.#pool.run(task, { name: 'session' });
  }

  /** Stops the threads as if they had crashed (tests: a restarted thread must get a full resync). */
  async restartThreads(): Promise<void> {
    await Promise.all(this.#pool.threads.map((thread) => thread.terminate()));
  }

  get threads(): number {
    return this.#pool.threads.length;
  }

  /** Waits for running translations, then stops the threads. */
  close(): Promise<void> {
    return this.#pool.close();
  }
}
