import {
  type BackendContext,
  LockStore,
  type LockStoreConfig,
  type LockStoreOptions,
  type RedisConfig,
  configLifetimeMs,
  parseLockStoreConfig,
} from '@lockstore/core';
import type { Cluster, Redis } from 'ioredis';
import { connect, createClient } from './connection.js';
import { RedisBackend } from './redis-backend.js';

export { encodeConversationId, KeySpace } from './keys.js';
export { RedisBackend, type RedisBackendOptions } from './redis-backend.js';

/**
 * Connects to the Redis a validated `lock_store` config describes and returns a started backend.
 * This is what `createLockStore({ type: 'redis', ... })` calls.
 * @throws LockstoreError `CONNECTION_FAILED` within `socket_timeout` when Redis cannot be reached.
 */
export async function createBackend(config: LockStoreConfig, _context?: BackendContext): Promise<RedisBackend> {
  const redisConfig = parseLockStoreConfig({ ...config, type: 'redis' }) as RedisConfig;
  const client = createClient(redisConfig);
  await connect(client, redisConfig);
  const backend = new RedisBackend({
    client,
    ownsClient: true,
    ...(redisConfig.key_prefix === undefined ? {} : { keyPrefix: redisConfig.key_prefix }),
  });
  await backend.start();
  return backend;
}

/** Options of {@link createRedisLockStore}: a `lock_store` config, or a client of your own. */
export type RedisLockStoreOptions = LockStoreOptions &
  (
    | { readonly config: Omit<RedisConfig, 'type'> | Record<string, unknown>; readonly client?: never }
    | { readonly client: Redis | Cluster; readonly keyPrefix?: string; readonly config?: never }
  );

/**
 * A lock store on Redis, from a config (`{ config: { url: 'localhost', db: 0 } }`) or from an ioredis
 * client or Cluster you made (`{ client }`), which the store then uses but never closes.
 */
export async function createRedisLockStore(options: RedisLockStoreOptions): Promise<LockStore> {
  if (options.client !== undefined) {
    const backend = new RedisBackend({ client: options.client, ...(options.keyPrefix === undefined ? {} : { keyPrefix: options.keyPrefix }) });
    await backend.start();
    return new LockStore(backend, options);
  }
  const config = parseLockStoreConfig({ ...options.config, type: 'redis' });
  const lifetimeMs = options.lifetimeMs ?? configLifetimeMs(config);
  return new LockStore(await createBackend(config), { ...options, ...(lifetimeMs === undefined ? {} : { lifetimeMs }) });
}
