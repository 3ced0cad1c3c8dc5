import { expect } from 'chai';
import { Shutdown } from './shutdown.ts';
import { silentLog } from './log.ts';

describe('framework/shutdown', () => {
  it('runs steps last-registered first, once, past failures and timeouts', async () => {
    const ran: string[] = [];
    const warnings: string[] = [];
    const shutdown = new Shutdown({
      ...silentLog,
      warn: (f: object) => void warnings.push(JSON.stringify(f)),
      error: (f: object) => void warnings.push(JSON.stringify(f)),
    });
    shutdown.add('first', () => void ran.push('first'));
    shutdown.add('stuck', () => new Promise<void>(() => ran.push('stuck')), 50);
    shutdown.add('failing', async () => {
      ran.push('failing');
      throw new Error('boom');
    });
    shutdown.add('last', async () => void ran.push('last'));
    await Promise.all([shutdown.stop(), shutdown.stop()]);
    await shutdown.stop();
    expect(ran).to.deep.equal(['last', 'failing', 'stuck', 'first']);
    expect(warnings.join()).to.include('failing').and.to.include('stuck');
  });
});
