import { createRequire } from 'node:module';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BackendContext, LockBackend } from './backend.js';
import { missingBackendMethods } from './backend.js';
import { type Clock, systemClock } from './clock.js';
import { BUILT_IN_TYPES, type LockStoreConfig, configLifetimeMs, parseLockStoreConfig } from './config.js';
import { LockstoreError } from './errors.js';
import { LockStore, type LockStoreOptions } from './lock-store.js';

/**
 * What a backend module exports for `createLockStore`: a function that builds a connected backend
 * from the validated `lock_store` config. `@lockstore/memory` and `@lockstore/redis` export one,
 * and so must a third-party module named by `type`.
 */
export type CreateBackend = (config: LockStoreConfig, context: BackendContext) => LockBackend | Promise<LockBackend>;

/** Options of {@link createLockStore}. */
export interface CreateLockStoreOptions extends Omit<LockStoreOptions, 'lifetimeMs'> {
  /**
   * Where module specifiers (`@lockstore/redis`, or a third-party `type`) are resolved from, so that
   * the application's own dependencies are found.
   * @default process.cwd()
   */
  readonly resolveFrom?: string;
}

/**
 * Builds a store from a Rasa-style `lock_store` config: none, `in_memory` or `memory` gives the
 * in-memory store; `redis` the Redis store; any other `type` is a module specifier (optionally
 * `specifier#exportName`) whose `createBackend` export (or the named export) builds the backend.
 *
 * @throws LockstoreError `INVALID_CONFIG`, `BACKEND_NOT_FOUND`, `INVALID_BACKEND`, `CONNECTION_FAILED`
 */
export async function createLockStore(config?: unknown, options: CreateLockStoreOptions = {}): Promise<LockStore> {
  const parsed = parseLockStoreConfig(config);
  const [specifier, exportName = 'createBackend'] = moduleOf(parsed.type).split('#') as [string, string?];
  const module = await importBackendModule(specifier, options.resolveFrom ?? process.cwd());
  const create = module[exportName];
  if (typeof create !== 'function') {
    throw new LockstoreError('INVALID_BACKEND', `The module ${JSON.stringify(specifier)} has no function export "${exportName}"`);
  }
  const clock: Clock = options.clock ?? systemClock;
  let backend: unknown;
  try {
    backend = await (create as CreateBackend)(parsed, { clock });
  } catch (error) {
    if (LockstoreError.is(error)) throw error;
    throw new LockstoreError('CONNECTION_FAILED', `Cannot connect to lock store: ${(error as Error)?.message ?? String(error)}`, {
      cause: error,
    });
  }
  const missing = missingBackendMethods(backend);
  if (missing.length > 0) {
    throw new LockstoreError(
      'INVALID_BACKEND',
      `The backend built by ${JSON.stringify(specifier)} lacks these methods of the contract: ${missing.join(', ')}`,
    );
  }
  const lifetimeMs = configLifetimeMs(parsed);
  return new LockStore(backend as LockBackend, { ...options, ...(lifetimeMs === undefined ? {} : { lifetimeMs }) });
}

function moduleOf(type: string): string {
  return type in BUILT_IN_TYPES ? BUILT_IN_TYPES[type as keyof typeof BUILT_IN_TYPES] : type;
}

async function importBackendModule(specifier: string, resolveFrom: string): Promise<Record<string, unknown>> {
  const hint = specifier.startsWith('@lockstore/') ? ` Install it: npm install ${specifier}` : '';
  let url: string;
  try {
    url = pathToFileURL(createRequire(join(resolveFrom, 'noop.js')).resolve(specifier)).href;
  } catch (error) {
    throw new LockstoreError('BACKEND_NOT_FOUND', `Cannot find the lock store module ${JSON.stringify(specifier)} from ${resolveFrom}.${hint}`, {
      cause: error,
    });
  }
  try {
    return (await import(url)) as Record<string, unknown>;
  } catch (error) {
    throw new LockstoreError('BACKEND_NOT_FOUND', `Cannot load the lock store module ${JSON.stringify(specifier)}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}
