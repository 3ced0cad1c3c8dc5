// The retry decision on its own: every branch the front ends rely on (the same scenarios over real sockets and all
// four client/backend protocol pairs are in test/dataplane/retry-parity.test.ts).

import { expect } from 'chai';
import type { RetryPolicy } from '../../shared/ir/route.ts';
import { BACKEND_TIMEOUT } from '../errors.ts';
import { NO_RETRY, armDeadline, replayableBody, retryDelay } from './retry.ts';

const policy: RetryPolicy = {
  attempts: 2,
  codes: [502, 503],
  backoffMs: 25,
  onConnectionError: true,
  onBackendTimeout: false,
};

describe('core: retry policy', () => {
  it('retries a listed status with the rule backoff, until `attempts` retries were made', () => {
    expect(retryDelay(policy, 0, 503, '', true)).to.equal(25);
    expect(retryDelay(policy, 1, 502, '', true)).to.equal(25);
    expect(retryDelay(policy, 2, 503, '', true)).to.equal(NO_RETRY);
    expect(retryDelay(policy, 0, 500, '', true)).to.equal(NO_RETRY);
  });

  it('never retries without a policy, or a request whose body cannot be replayed', () => {
    expect(retryDelay(null, 0, 503, '', true)).to.equal(NO_RETRY);
    expect(retryDelay(policy, 0, 503, '', false)).to.equal(NO_RETRY);
    expect(retryDelay(policy, 0, 0, 'ECONNREFUSED', false)).to.equal(NO_RETRY);
  });

  it('retries connection errors and backend timeouts only when the rule says so', () => {
    expect(retryDelay(policy, 0, 0, 'ECONNREFUSED', true)).to.equal(25);
    expect(retryDelay(policy, 0, 0, 'ECONNRESET', true)).to.equal(25);
    expect(retryDelay(policy, 0, 0, BACKEND_TIMEOUT, true)).to.equal(NO_RETRY);
    expect(retryDelay({ ...policy, onBackendTimeout: true }, 0, 0, BACKEND_TIMEOUT, true)).to.equal(25);
    expect(retryDelay({ ...policy, onConnectionError: false }, 0, 0, 'ECONNREFUSED', true)).to.equal(NO_RETRY);
    // Not a connection-level failure (a broken response): not retried.
    expect(retryDelay(policy, 0, 0, 'HPE_INVALID_CONSTANT', true)).to.equal(NO_RETRY);
  });

  it('waits at least 1 ms (reply-from reads 0 as "no retry")', () => {
    expect(retryDelay({ ...policy, backoffMs: 0 }, 0, 503, '', true)).to.equal(1);
  });

  it('knows a replayable body, and arms no timer for a deadline of 0', () => {
    expect(replayableBody(undefined)).to.equal(true);
    expect(replayableBody('')).to.equal(true);
    expect(replayableBody({ pipe() {} })).to.equal(false);
    expect(armDeadline(0, () => undefined, null)).to.equal(null);
    const timer = armDeadline(10_000, () => undefined, null);
    expect(timer).to.not.equal(null);
    clearTimeout(timer as NodeJS.Timeout);
  });
});
