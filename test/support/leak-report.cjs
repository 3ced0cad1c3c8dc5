// A root hook of every mocha run: tests must stop what they start, and mocha runs with `exit: false` so that a leak
// shows. When the process is still alive 20 s after the last test, this names what holds it (sockets with their
// addresses, servers, child processes, timers) on stderr and ends the run with mocha's own result, instead of a CI
// job hanging until its time runs out without saying why.
const GRACE_MS = 20_000;

function describe(handle) {
  const name = handle?.constructor?.name ?? typeof handle;
  const parts = [name];
  try {
    if (typeof handle.address === 'function') parts.push(`address ${JSON.stringify(handle.address())}`);
    if (handle.remoteAddress) parts.push(`peer ${handle.remoteAddress}:${handle.remotePort}`);
    if (handle.pid) parts.push(`pid ${handle.pid} ${handle.spawnfile ?? ''}`);
  } catch {
    // a closed handle may throw from address(): its name is enough
  }
  return parts.join(' ');
}

exports.mochaHooks = {
  afterAll() {
    setTimeout(() => {
      const handles = process._getActiveHandles?.() ?? [];
      console.error(
        `\nLEAK: the test process is still alive ${GRACE_MS / 1000} s after the last test. Active resources: ` +
          `${JSON.stringify(process.getActiveResourcesInfo())}\n${handles.map((h) => `  ${describe(h)}`).join('\n')}`,
      );
      process.exit();
    }, GRACE_MS).unref();
  },
};
