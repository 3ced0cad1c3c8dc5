// The launcher's own settings for each process (bin/launch-flags.ts), and the re-execution that applies them.

import { spawnSync } from 'node:child_process';
import { expect } from 'chai';
import { launchSettings } from '../../bin/launch-flags.ts';

describe('launcher settings', () => {
  it('adds the data plane and operator flags, and nothing to other commands', () => {
    expect(launchSettings('dataplane', [], {})).to.deep.equal({
      flags: ['--max-semi-space-size=2'],
      env: { MALLOC_ARENA_MAX: '2' },
    });
    expect(launchSettings('operator', [], {}).flags).to.deep.equal(['--max-semi-space-size=2']);
    expect(launchSettings('status', [], {})).to.deep.equal({ flags: [], env: {} });
    expect(launchSettings(undefined, [], {})).to.deep.equal({ flags: [], env: {} });
  });

  it('leaves what the user set: a flag of the same name (either spelling), an environment variable', () => {
    expect(launchSettings('dataplane', ['--max_semi_space_size=8'], { MALLOC_ARENA_MAX: '4' })).to.deep.equal({
      flags: [],
      env: {},
    });
    expect(launchSettings('operator', [], { NODE_OPTIONS: '--max-semi-space-size=16' }).flags).to.deep.equal([]);
  });

  it('re-executes `portico dataplane` in place with them (same process: --help answers from it)', () => {
    // --help prints and exits in the data plane's config reader; the V8 flag and the variable are visible to it.
    const probe = spawnSync(
      process.execPath,
      [
        '--input-type=module',
        '-e',
        `process.argv = [process.argv[0], ${JSON.stringify(new URL('../../bin/portico.ts', import.meta.url).pathname)}, 'dataplane', '--help'];
         process.on('exit', () => console.error(JSON.stringify({ execArgv: process.execArgv, arena: process.env.MALLOC_ARENA_MAX })));
         await import(${JSON.stringify(new URL('../../bin/portico.ts', import.meta.url).href)});`,
      ],
      { encoding: 'utf8', env: { ...process.env, MALLOC_ARENA_MAX: undefined } },
    );
    const report = JSON.parse(probe.stderr.trim().split('\n').at(-1) ?? '{}');
    expect(report.execArgv).to.include('--max-semi-space-size=2');
    expect(report.arena).to.equal('2');
  });
});
