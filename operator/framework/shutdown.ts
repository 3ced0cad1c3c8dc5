// Graceful shutdown: parts register how they stop, in start order; stop() runs them in reverse (the last started
// stops first), each bounded by its own deadline so that one stuck part cannot keep the process from exiting, and
// an error in one does not skip the others.

import type { Log } from './log.ts';

interface Step {
  name: string;
  stop: () => Promise<void> | void;
  timeoutMs: number;
}

export class Shutdown {
  readonly #steps: Step[] = [];
  readonly #log: Log;
  #stopping: Promise<void> | null = null;

  constructor(log: Log) {
    this.#log = log;
  }

  /** Registers a part; `timeoutMs` bounds how long stop() waits for it (default 10 s). */
  add(name: string, stop: () => Promise<void> | void, timeoutMs = 10_000): void {
    this.#steps.push({ name, stop, timeoutMs });
  }

  /** Runs every step once, last registered first. Safe to call twice (the second call waits for the first). */
  stop(): Promise<void> {
    this.#stopping ??= this.#run();
    return this.#stopping;
  }

  async #run(): Promise<void> {
    for (const step of [...this.#steps].reverse()) {
      let timer: NodeJS.Timeout | undefined;
      const started = performance.now();
      try {
        const outcome = await Promise.race([
          Promise.resolve()
            .then(step.stop)
            .then(() => 'done' as const),
          new Promise<'timeout'>((resolve) => (timer = setTimeout(() => resolve('timeout'), step.timeoutMs))),
        ]);
        if (outcome === 'timeout')
          this.#log.warn({ step: step.name, timeoutMs: step.timeoutMs }, 'shutdown step timed out; going on');
        else this.#log.debug({ step: step.name, ms: Math.round(performance.now() - started) }, 'stopped');
      } catch (error) {
        this.#log.error(
          { step: step.name, err: (error as Error)?.message ?? String(error) },
          'shutdown step failed; going on',
        );
      } finally {
        clearTimeout(timer);
      }
    }
  }
}
