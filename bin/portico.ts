#!/usr/bin/env node
// The `portico` command: `portico status` prints the status of the objects the operator handles (standalone mode has
// no API server to hold them; filters and exit status in status.ts), `portico explain …` says how a request is routed
// and why, `portico operator …` and `portico dataplane …` run the two processes.
//
// The two processes need V8 settings of their own (measured in bench/RESULTS.md), and only the launcher can give them
// to every way of starting Portico through it (the image, the chart, `npm start`, a user's shell): it re-executes
// itself in place (`process.execve`: same pid, same stdio, no second process) with the flags and environment added,
// unless the command line or the environment already sets them.

import { launchSettings } from './launch-flags.ts';

const [command, ...rest] = process.argv.slice(2);

const launch = launchSettings(command, process.execArgv, process.env);
// execve exists on POSIX systems only: elsewhere Portico runs without these settings.
if ((launch.flags.length > 0 || Object.keys(launch.env).length > 0) && process.execve !== undefined) {
  process.execve(process.execPath, [process.execPath, ...launch.flags, ...process.execArgv, ...process.argv.slice(1)], {
    ...process.env,
    ...launch.env,
  });
}

switch (command) {
  case 'status': {
    const { runStatus } = await import('./status.ts');
    process.exitCode = await runStatus(
      rest,
      process.env,
      (text) => process.stdout.write(text),
      (text) => process.stderr.write(text),
    );
    break;
  }
  case 'explain': {
    const { runExplain } = await import('../operator/cli/explain-command.ts');
    process.exit(await runExplain(rest));
    break;
  }
  case 'operator':
    process.argv = [process.argv[0], process.argv[1], ...rest];
    await import('../operator/main.ts');
    break;
  case 'dataplane':
    process.argv = [process.argv[0], process.argv[1], ...rest];
    await import('../dataplane/main.ts');
    break;
  default:
    console.log(
      'usage: portico status [ADMIN_HOST:PORT] [--kind K] [-n NS] [--name N] [-o wide] (--help) | portico explain [--help] | portico operator [--help] | portico dataplane [--help]',
    );
    process.exit(command === undefined || command === 'help' || command === '--help' ? 0 : 2);
}
