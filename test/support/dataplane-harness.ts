// Runs a real data plane (supervisor + worker-thread shards + sockets) inside the test process, with a private
// socket directory, and a real Publisher connected to it over the Unix socket. Everything is stopped and removed by
// `stop()`.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pino from 'pino';
import type { DataPlaneConfig } from '../../dataplane/config.ts';
import { startDataPlane } from '../../dataplane/supervisor/supervisor.ts';
import type { DataPlane } from '../../dataplane/supervisor/supervisor.ts';
import { Publisher } from '../../operator/publisher/publisher.ts';
import type { PublishResult } from '../../operator/publisher/publisher.ts';
import type { SnapshotRecords } from '../../shared/ir/snapshot.ts';

export interface Harness {
  dataPlane: DataPlane;
  publisher: Publisher;
  socketPath: string;
  adminUrl: string;
  publish(records: Partial<SnapshotRecords>): Promise<PublishResult>;
  stop(): Promise<void>;
}

export async function startHarness(overrides: Partial<DataPlaneConfig> = {}): Promise<Harness> {
  const dir = mkdtempSync(join(tmpdir(), 'portico-dp-'));
  const socketPath = join(dir, 'dataplane.sock');
  const config: DataPlaneConfig = {
    socketPath,
    shards: 2,
    adminAddress: '127.0.0.1',
    adminPort: 0,
    drainMs: 2000,
    keepAliveTimeoutMs: 5000,
    headersTimeoutMs: 10_000,
    maxHeaderBytes: 16 * 1024,
    connectionsPerEndpoint: 16,
    connectTimeoutMs: 2000,
    upstreamKeepAliveMs: 4000,
    statsIntervalMs: 1000,
    accessLog: false,
    logLevel: process.env.PORTICO_TEST_LOG ?? 'silent',
    ...overrides,
  };
  const log = pino({ level: config.logLevel });
  const dataPlane = await startDataPlane(Object.freeze(config), log);
  const publisher = new Publisher({ socketPath, instance: 'test' });
  return {
    dataPlane,
    publisher,
    socketPath,
    adminUrl: `http://127.0.0.1:${dataPlane.adminPort}`,
    publish: (records) =>
      publisher.publish({
        listeners: [],
        httpRoutes: [],
        streamRoutes: [],
        backends: [],
        certificates: [],
        ...records,
      }),
    async stop() {
      publisher.close();
      await dataPlane.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Loopback addresses for one test file's listeners, so that parallel or leftover runs never share a socket. */
export function testAddress(): string {
  const n = (process.pid % 200) + 20;
  return `127.${n}.${Math.floor(Math.random() * 250) + 1}.${Math.floor(Math.random() * 250) + 1}`;
}
