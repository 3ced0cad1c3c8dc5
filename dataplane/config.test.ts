import { expect } from 'chai';
import { readDataPlaneConfig } from './config.ts';

describe('data plane flags: limits', () => {
  it('has limits by default', () => {
    const c = readDataPlaneConfig([], {});
    expect(c.maxConnectionsPerShard).to.equal(50_000);
    expect(c.maxConnectionsPerListener).to.equal(20_000);
    expect(c.streamIdleMs).to.equal(600_000);
    expect(c.udpMaxSessions).to.equal(10_000);
  });

  it('reads them from flags, then the environment; 0 turns a connection limit off', () => {
    const c = readDataPlaneConfig(
      ['--max-connections-per-shard', '0', '--max-connections-per-listener', '7', '--stream-idle-ms', '1000'],
      { PORTICO_UDP_MAX_SESSIONS: '3', PORTICO_MAX_CONNECTIONS_PER_LISTENER: '9' },
    );
    expect(c.maxConnectionsPerShard).to.equal(0);
    expect(c.maxConnectionsPerListener).to.equal(7);
    expect(c.streamIdleMs).to.equal(1000);
    expect(c.udpMaxSessions).to.equal(3);
  });

  it('refuses what is not a non-negative integer', () => {
    expect(() => readDataPlaneConfig(['--max-connections-per-shard=-1'], {})).to.throw(/non-negative integer/);
    expect(() => readDataPlaneConfig([], { PORTICO_STREAM_IDLE_MS: 'soon' })).to.throw(/stream-idle-ms/);
  });
});
