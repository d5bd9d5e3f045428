import { describe, expect, it } from 'vitest';
import { LockstoreError, storeFailure } from '../src/index.js';

describe('LockstoreError', () => {
  it('has a name, a code, a cause and a stack', () => {
    const cause = new Error('boom');
    const error = new LockstoreError('STORE_FAILURE', 'failed', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe('LockstoreError');
    expect(error.code).toBe('STORE_FAILURE');
    expect(error.cause).toBe(cause);
    expect(error.stack).toContain('errors.test.ts');
  });

  it('is recognised by its brand, also from another copy of the package', () => {
    const foreign = Object.assign(new Error('x'), { code: 'LEASE_LOST', [Symbol.for('@lockstore/core/error')]: true });
    expect(LockstoreError.is(foreign)).toBe(true);
    expect(LockstoreError.is(foreign, 'LEASE_LOST')).toBe(true);
    expect(LockstoreError.is(foreign, 'STORE_CLOSED')).toBe(false);
    expect(LockstoreError.is(Object.assign(new Error('x'), { code: 'LEASE_LOST' }))).toBe(false);
    expect(LockstoreError.is(null)).toBe(false);
  });

  it('storeFailure wraps foreign errors and keeps lockstore errors', () => {
    const wrapped = storeFailure('issue', new Error('ETIMEDOUT'));
    expect(wrapped.code).toBe('STORE_FAILURE');
    expect(wrapped.message).toBe('The lock store failed to issue: ETIMEDOUT');
    const own = new LockstoreError('STORE_CLOSED', 'closed');
    expect(storeFailure('issue', own)).toBe(own);
  });
});
