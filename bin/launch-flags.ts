// What the launcher (bin/portico.ts) gives each process on top of what it was started with, and why; the
// measurements are in bench/RESULTS.md.

/**
 * The young generation is three semi-spaces; V8 grows each up to 16 MiB (8 on small heaps) when allocation is fast.
 * A proxy's and a translator's garbage is almost all short lived: with 2 MiB semi-spaces it is collected before it
 * piles up, and the main thread's young generation stays at ~6 MiB instead of reaching 120 MiB after a 100k-route
 * load. The shards' own young generation is set by the supervisor (`resourceLimits`, dataplane/supervisor/shards.ts).
 */
const SEMI_SPACE = '--max-semi-space-size=2';

const FLAGS: Record<string, readonly string[]> = {
  dataplane: [SEMI_SPACE],
  operator: [SEMI_SPACE],
};

/**
 * glibc gives each thread that allocates its own malloc arena (up to 8 per core), and a shard's socket buffers come
 * from malloc: the arenas of three busy threads fragment and keep their peak. Two arenas held the data plane's
 * resident memory after load ~10 % lower with 1 route and ~12 % with 10k routes (bench/RESULTS.md).
 */
const ENVIRONMENT: Record<string, Readonly<Record<string, string>>> = {
  dataplane: { MALLOC_ARENA_MAX: '2' },
};

export interface Launch {
  /** Node flags to put before the ones the process was started with. */
  flags: string[];
  /** Environment variables to add. */
  env: Record<string, string>;
}

/**
 * What `command` should run with that `execArgv`, NODE_OPTIONS and `env` do not set yet (anything the user set wins).
 */
export function launchSettings(
  command: string | undefined,
  execArgv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): Launch {
  const known = command !== undefined && Object.hasOwn(FLAGS, command);
  const name = (flag: string) => flag.split('=')[0].replaceAll('_', '-');
  // NODE_OPTIONS counts as given too: a flag on the command line would override it.
  const given = new Set([...execArgv, ...(env.NODE_OPTIONS ?? '').split(/\s+/).filter(Boolean)].map(name));
  const flags = (known ? FLAGS[command] : []).filter((flag) => !given.has(name(flag)));
  const wanted = command !== undefined && Object.hasOwn(ENVIRONMENT, command) ? ENVIRONMENT[command] : {};
  return { flags, env: Object.fromEntries(Object.entries(wanted).filter(([key]) => env[key] === undefined)) };
}
