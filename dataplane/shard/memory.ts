// What one V8 isolate (the main thread or a shard) holds, for the admin endpoint's `/memory` and bench/memory.ts:
// measuring per isolate is how the data plane's footprint was taken apart (bench/RESULTS.md). Read on request only,
// never on the request path.

import { monitorEventLoopDelay } from 'node:perf_hooks';
import { getHeapSpaceStatistics, getHeapStatistics } from 'node:v8';

export interface IsolateMemory {
  /** V8's heap reserved (`total_heap_size`) and in use (`used_heap_size`), bytes. */
  heapTotal: number;
  heapUsed: number;
  /** Memory outside the heap that V8 knows of: ArrayBuffers, Buffers (`external_memory`), and V8's own malloc. */
  external: number;
  malloced: number;
  /** Each heap space's reserved size (new_space, old_space, code_space, large_object_space, …), bytes. */
  spaces: Record<string, number>;
  /**
   * The longest event-loop delay since the previous reading, ms (null on the first reading: the monitor starts
   * then, so that an isolate nobody measures pays nothing for it). A shard delayed this long served nothing meanwhile.
   */
  loopDelayMaxMs: number | null;
}

let loopDelay: ReturnType<typeof monitorEventLoopDelay> | null = null;

export function isolateMemory(): IsolateMemory {
  const heap = getHeapStatistics();
  const spaces: Record<string, number> = {};
  for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.space_size;
  let loopDelayMaxMs: number | null = null;
  if (loopDelay === null) {
    loopDelay = monitorEventLoopDelay({ resolution: 10 });
    loopDelay.enable();
  } else {
    loopDelayMaxMs = loopDelay.max / 1e6;
    loopDelay.reset();
  }
  return {
    loopDelayMaxMs,
    heapTotal: heap.total_heap_size,
    heapUsed: heap.used_heap_size,
    external: heap.external_memory,
    malloced: heap.malloced_memory,
    spaces,
  };
}
