// The V8 flags the launcher gives each process (bin/portico.ts), and why; measured in bench/RESULTS.md.

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

/** The flags `command` runs with that `execArgv` does not set yet (a flag given by the user wins). */
export function launchFlags(command: string | undefined, execArgv: readonly string[]): string[] {
  const wanted = (command !== undefined && Object.hasOwn(FLAGS, command) ? FLAGS[command] : []) as readonly string[];
  const name = (flag: string) => flag.split('=')[0].replaceAll('_', '-');
  const given = new Set(execArgv.map(name));
  return wanted.filter((flag) => !given.has(name(flag)));
}
