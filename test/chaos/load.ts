// The chaos run's load client.

import { get } from '../support/http-client.ts';

/** Requests on fresh connections to a route that exists throughout, counted by the phase they were sent in. */
export class Load {
  phase = 'warm-up';
  readonly counts = new Map<string, { sent: number; failed: number; errors: Map<string, number> }>();
  #running = true;
  readonly #done: Promise<void>[] = [];

  constructor(url: string, workers: number) {
    for (let i = 0; i < workers; i++) this.#done.push(this.#worker(url));
  }

  async #worker(url: string): Promise<void> {
    while (this.#running) {
      const phase = this.phase;
      let count = this.counts.get(phase);
      if (count === undefined) this.counts.set(phase, (count = { sent: 0, failed: 0, errors: new Map() }));
      count.sent++;
      let outcome = 'ok';
      try {
        const reply = await get(url, { headers: { connection: 'close' } });
        if (reply.status !== 200) outcome = `status ${reply.status}`;
      } catch (error) {
        outcome = (error as { code?: string }).code ?? (error as Error).message;
      }
      if (outcome !== 'ok') {
        count.failed++;
        count.errors.set(outcome, (count.errors.get(outcome) ?? 0) + 1);
      }
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await Promise.all(this.#done);
  }
}
