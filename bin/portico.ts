#!/usr/bin/env node
// The `portico` command: `portico status` prints the status of every object the operator handles (standalone mode
// has no API server to hold them), `portico explain …` says how a request is routed and why, `portico operator …`
// and `portico dataplane …` run the two processes.

const [command, ...rest] = process.argv.slice(2);

async function status(): Promise<void> {
  const admin = rest[0] ?? process.env.PORTICO_OPERATOR_ADMIN ?? '127.0.0.1:9902';
  try {
    const res = await fetch(`http://${admin}/status`);
    process.stdout.write(await res.text());
  } catch (error) {
    console.error(`cannot reach the operator's admin endpoint at ${admin}: ${(error as Error).message}`);
    process.exit(1);
  }
}

switch (command) {
  case 'status':
    await status();
    break;
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
      'usage: portico status [ADMIN_HOST:PORT] | portico explain [--help] | portico operator [--help] | portico dataplane [--help]',
    );
    process.exit(command === undefined || command === 'help' || command === '--help' ? 0 : 2);
}
