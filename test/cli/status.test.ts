// `portico status` against the operator's real admin endpoint (startOperatorAdmin serving fixed statuses as the
// operator would), through the real command (`node bin/portico.ts status`): filters, -o wide, and the exit status an
// app team's CI relies on.

import { execFile } from 'node:child_process';
import type { Server } from 'node:http';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { Registry } from 'prom-client';
import { parseAllDocuments } from 'yaml';
import { startOperatorAdmin } from '../../operator/runtime/admin-server.ts';
import type { StoredStatus } from '../../operator/status/status-board.ts';

const run = promisify(execFile);
const PORTICO = new URL('../../bin/portico.ts', import.meta.url).pathname;
const CONTROLLER = 'portico.dev/gateway-controller';

const condition = (type: string, status: string, reason: string) => ({
  type,
  status,
  reason,
  message: '',
  lastTransitionTime: '2026-12-02T00:00:00Z',
  observedGeneration: 1,
});
const gatewayRef = (name: string) => ({
  group: 'gateway.networking.k8s.io',
  kind: 'Gateway',
  namespace: 'infra',
  name,
});

const STATUSES = [
  {
    kind: 'GatewayClass',
    name: 'portico',
    generation: 1,
    status: { conditions: [condition('Accepted', 'True', 'Accepted')] },
  },
  {
    kind: 'Gateway',
    namespace: 'infra',
    name: 'web',
    generation: 1,
    status: { conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'True', 'Programmed')] },
  },
  {
    kind: 'Gateway',
    namespace: 'infra',
    name: 'pending',
    generation: 1,
    status: {
      conditions: [condition('Accepted', 'True', 'Accepted'), condition('Programmed', 'False', 'AddressNotAssigned')],
    },
  },
  {
    kind: 'HTTPRoute',
    namespace: 'team-a',
    name: 'app',
    generation: 1,
    status: {
      parents: [
        {
          parentRef: gatewayRef('web'),
          controllerName: CONTROLLER,
          conditions: [condition('Accepted', 'True', 'Accepted'), condition('ResolvedRefs', 'True', 'ResolvedRefs')],
        },
      ],
    },
  },
  {
    kind: 'HTTPRoute',
    namespace: 'team-b',
    name: 'app',
    generation: 1,
    status: {
      parents: [
        {
          parentRef: gatewayRef('web'),
          controllerName: CONTROLLER,
          conditions: [condition('Accepted', 'False', 'NotAllowedByListeners')],
        },
      ],
    },
  },
] as unknown as StoredStatus[];

describe('portico status (filters, -o wide, exit status) against the operator admin endpoint', function () {
  this.timeout(30_000);
  let server: Server;
  let admin: string;

  before(async () => {
    const started = await startOperatorAdmin('127.0.0.1', 0, {
      ready: () => true,
      statuses: () => STATUSES,
      fileErrors: () => [],
      servedRecords: () => null,
      registry: new Registry(),
    });
    server = started.server;
    admin = `127.0.0.1:${started.port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  async function status(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
    try {
      const { stdout, stderr } = await run(process.execPath, [PORTICO, 'status', admin, ...args]);
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  }
  const names = (yaml: string) =>
    parseAllDocuments(yaml).map((d) => {
      const o = d.toJS() as { kind: string; metadata: { namespace?: string; name: string } };
      return `${o.kind} ${o.metadata.namespace ?? ''}/${o.metadata.name}`;
    });

  it('without filters prints every object as YAML and fails, naming each object that is not ready', async () => {
    const result = await status();
    expect(names(result.stdout)).to.have.length(5);
    expect(result.code).to.equal(3);
    expect(result.stderr).to.include('not ready: Gateway infra/pending: Programmed=False (AddressNotAssigned)');
    expect(result.stderr).to.include(
      'not ready: HTTPRoute team-b/app: Gateway infra/web: Accepted=False (NotAllowedByListeners)',
    );
    expect(result.stderr).to.not.include('not ready: Gateway infra/web');
    expect(result.stderr.trimEnd().split('\n')).to.have.length(2);
  });

  it('filters by kind (any case), namespace and name, and exits 0 when what is shown is ready', async () => {
    const routes = await status('--kind', 'httproute', '-n', 'team-a');
    expect(names(routes.stdout)).to.deep.equal(['HTTPRoute team-a/app']);
    expect(routes.code, routes.stderr).to.equal(0);
    const byName = await status('--name', 'app');
    expect(names(byName.stdout)).to.deep.equal(['HTTPRoute team-a/app', 'HTTPRoute team-b/app']);
    expect(byName.code).to.equal(3);
    const gateway = await status('--kind', 'Gateway', '--namespace', 'infra', '--name', 'web');
    expect(names(gateway.stdout)).to.deep.equal(['Gateway infra/web']);
    expect(gateway.code).to.equal(0);
    const cls = await status('--kind', 'GatewayClass');
    expect(names(cls.stdout)).to.deep.equal(['GatewayClass /portico']);
    expect(cls.code).to.equal(0);
  });

  it('fails when nothing matches (a CI waiting for a route that does not exist must not pass)', async () => {
    const result = await status('--kind', 'HTTPRoute', '--name', 'missing');
    expect(result.code).to.equal(3);
    expect(result.stdout).to.equal('');
    expect(result.stderr).to.include('no object matches');
  });

  it('-o wide prints one line per object with its conditions and whether it is ready', async () => {
    const result = await status('-o', 'wide');
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).to.have.length(6);
    expect(lines[0]).to.match(/^KIND\s+NAMESPACE\s+NAME\s+READY\s+CONDITIONS$/);
    expect(lines[1]).to.match(/^GatewayClass\s+-\s+portico\s+yes\s+Accepted=True$/);
    expect(lines[2]).to.match(/^Gateway\s+infra\s+web\s+yes\s+Accepted=True Programmed=True$/);
    expect(lines[3]).to.match(
      /^Gateway\s+infra\s+pending\s+no\s+Accepted=True Programmed=False\(AddressNotAssigned\)$/,
    );
    expect(lines[5]).to.match(
      /^HTTPRoute\s+team-b\s+app\s+no\s+\[Gateway infra\/web\] Accepted=False\(NotAllowedByListeners\)$/,
    );
    expect(result.code).to.equal(3);
    const ready = await status('-o', 'wide', '--kind', 'Gateway', '--name', 'web');
    expect(ready.stdout.trimEnd().split('\n')).to.have.length(2);
    expect(ready.code).to.equal(0);
  });

  it('refuses bad usage with exit status 2, and an unreachable operator with 1', async () => {
    const bad = await status('-o', 'json');
    expect(bad.code).to.equal(2);
    expect(bad.stderr).to.include('-o must be yaml or wide');
    const unknown = await status('--colour');
    expect(unknown.code).to.equal(2);
    const closed = await run(process.execPath, [PORTICO, 'status', '127.0.0.1:1']).catch(
      (e: { code: number; stderr: string }) => e,
    );
    expect((closed as { code: number }).code).to.equal(1);
    expect((closed as { stderr: string }).stderr).to.include("cannot reach the operator's admin endpoint");
  });
});
