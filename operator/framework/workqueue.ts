// A rate-limited, de-duplicating work queue with its own bounded pool of workers, after client-go's workqueue:
//  - a key added while it waits is not queued twice (the `dirty` set);
//  - a key added while it is being processed is not processed concurrently: it is queued again when the current
//    run ends (the `processing` set), so the handler always sees the latest state once more;
//  - a failed key is retried after a per-key exponential delay (base × 2^failures, capped), and all retries together
//    are held to a token bucket, so that a broken API server is not flooded; success forgets the failures;
//  - at most `concurrency` keys run at once.
// The handler reads the current desired state itself; the queue carries keys only.

export interface WorkQueueOptions<K> {
  process(key: K): Promise<void>;
  /** Keys processed at once. Default 4. */
  concurrency?: number;
  /** First retry delay of a key. Default 5 ms. */
  baseDelayMs?: number;
  /** Cap of a key's retry delay. Default 5 minutes. */
  maxDelayMs?: number;
  /** Retries per second across all keys, and the burst allowed. Default 10 and 100. */
  qps?: number;
  burst?: number;
  /** Told about every failure (the key will be retried). */
  onError?(key: K, error: unknown, failures: number): void;
}

/** client-go's per-item exponential limiter. */
export class ExponentialLimiter<K> {
  readonly #failures = new Map<K, number>();
  readonly #baseMs: number;
  readonly #maxMs: number;

  constructor(baseMs: number, maxMs: number) {
    this.#baseMs = baseMs;
    this.#maxMs = maxMs;
  }

  when(key: K): number {
    const failures = this.#failures.get(key) ?? 0;
    this.#failures.set(key, failures + 1);
    return Math.min(this.#maxMs, this.#baseMs * 2 ** failures);
  }

  failures(key: K): number {
    return this.#failures.get(key) ?? 0;
  }

  forget(key: K): void {
    this.#failures.delete(key);
  }
}

/** A token bucket: `reserve()` takes a token and says how long to wait until it is really available. */
export class TokenBucket {
  readonly #qps: number;
  readonly #burst: number;
  readonly #now: () => number;
  #tokens: number;
  #last: number;

  constructor(qps: number, burst: number, now: () => number = () => performance.now()) {
    this.#qps = qps;
    this.#burst = burst;
    this.#now = now;
    this.#tokens = burst;
    this.#last = now();
  }

  reserve(): number {
    const now = this.#now();
    this.#tokens = Math.min(this.#burst, this.#tokens + ((now - this.#last) / 1000) * this.#qps);
    this.#last = now;
    this.#tokens -= 1;
    return this.#tokens >= 0 ? 0 : Math.ceil((-this.#tokens / this.#qps) * 1000);
  }
}

export class WorkQueue<K> {
  readonly #options: WorkQueueOptions<K>;
  readonly #concurrency: number;
  readonly #limiter: ExponentialLimiter<K>;
  readonly #bucket: TokenBucket;
  readonly #queue: K[] = [];
  readonly #dirty = new Set<K>();
  readonly #processing = new Set<K>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #shuttingDown = false;
  #idleWaiters: Array<() => void> = [];

  constructor(options: WorkQueueOptions<K>) {
    this.#options = options;
    this.#concurrency = Math.max(1, options.concurrency ?? 4);
    this.#limiter = new ExponentialLimiter(options.baseDelayMs ?? 5, options.maxDelayMs ?? 300_000);
    this.#bucket = new TokenBucket(options.qps ?? 10, options.burst ?? 100);
  }

  /** Keys waiting (not counting those being processed or waiting for a delay). */
  get length(): number {
    return this.#queue.length;
  }

  get processing(): number {
    return this.#processing.size;
  }

  /** Failures of a key since it last succeeded (or was forgotten). */
  failures(key: K): number {
    return this.#limiter.failures(key);
  }

  add(key: K): void {
    if (this.#shuttingDown || this.#dirty.has(key)) return;
    this.#dirty.add(key);
    if (!this.#processing.has(key)) this.#queue.push(key);
    this.#pump();
  }

  addAfter(key: K, delayMs: number): void {
    if (this.#shuttingDown) return;
    if (delayMs <= 0) return this.add(key);
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.add(key);
    }, delayMs);
    this.#timers.add(timer);
  }

  /** Adds the key after its rate-limited delay (the later of its own backoff and the shared bucket). */
  addRateLimited(key: K): void {
    this.addAfter(key, Math.max(this.#limiter.when(key), this.#bucket.reserve()));
  }

  /** Clears a key's failure count (done automatically after a successful run). */
  forget(key: K): void {
    this.#limiter.forget(key);
  }

  /** Resolves when nothing is queued or running (delayed keys do not count). */
  whenIdle(): Promise<void> {
    if (this.#queue.length === 0 && this.#processing.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  /**
   * Stops taking keys and drops delayed ones; resolves when the runs in progress ended, or after `drainMs`
   * (queued keys still start meanwhile, so a short drain flushes pending writes).
   */
  async shutDown(drainMs = 0): Promise<void> {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
    if (drainMs > 0) {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.whenIdle(), new Promise<void>((resolve) => (timer = setTimeout(resolve, drainMs)))]);
      clearTimeout(timer);
    }
    this.#shuttingDown = true;
    this.#queue.length = 0;
    this.#dirty.clear();
    while (this.#processing.size > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
  }

  #pump(): void {
    while (!this.#shuttingDown && this.#processing.size < this.#concurrency && this.#queue.length > 0) {
      const key = this.#queue.shift()!;
      this.#dirty.delete(key);
      this.#processing.add(key);
      void this.#run(key);
    }
  }

  async #run(key: K): Promise<void> {
    let failed = false;
    try {
      await this.#options.process(key);
    } catch (error) {
      failed = true;
      try {
        this.#options.onError?.(key, error, this.#limiter.failures(key) + 1);
      } catch {
        // a reporting hook must not break the queue
      }
    }
    this.#processing.delete(key);
    if (failed) this.addRateLimited(key);
    else this.#limiter.forget(key);
    // Added while it ran: it waits in `dirty` but not in the queue; queue it now.
    if (this.#dirty.has(key) && !this.#shuttingDown) this.#queue.push(key);
    this.#pump();
    if (this.#queue.length === 0 && this.#processing.size === 0) {
      const waiters = this.#idleWaiters;
      this.#idleWaiters = [];
      for (const resolve of waiters) resolve();
    }
  }
}
