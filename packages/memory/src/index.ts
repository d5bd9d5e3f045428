import { type BackendContext, type LockBackend, LockStore, type LockStoreOptions } from '@lockstore/core';
import { MemoryBackend } from './memory-backend.js';

export { MemoryBackend, type MemoryBackendOptions } from './memory-backend.js';

/**
 * A store for one process: `createMemoryLockStore()` is all it takes.
 * Several processes (or replicas) need a shared backend such as `@lockstore/redis`.
 */
export function createMemoryLockStore(options: LockStoreOptions = {}): LockStore {
  return new LockStore(new MemoryBackend(options.clock ? { clock: options.clock } : {}), options);
}

/** The backend factory that `createLockStore({ type: 'in_memory' })` calls. */
export function createBackend(_config: unknown, context: BackendContext): LockBackend {
  return new MemoryBackend({ clock: context.clock });
}
