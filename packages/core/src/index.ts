export type {
  BackendCapabilities,
  BackendContext,
  GrantListener,
  IssueResult,
  LockBackend,
  RefreshRequest,
  TicketInfo,
  TicketStatus,
} from './backend.js';
export { missingBackendMethods } from './backend.js';
export { type Clock, ManualClock, systemClock } from './clock.js';
export {
  BUILT_IN_TYPES,
  type CustomConfig,
  DEFAULT_LIFETIME_MS,
  type LockStoreConfig,
  type LockStoreConfigInput,
  type MemoryConfig,
  type RedisConfig,
  configLifetimeMs,
  lifetimeFromEnv,
  loadEndpointsConfig,
  parseLockStoreConfig,
  redactConfig,
} from './config.js';
export { type CreateBackend, type CreateLockStoreOptions, createLockStore } from './factory.js';
export { LockstoreError, type LockstoreErrorCode, storeFailure } from './errors.js';
export { type HeldLock, type LockOptions, type LockState, LockStore, type LockStoreOptions } from './lock-store.js';
export { MAX_CONVERSATION_ID_LENGTH, MAX_LIFETIME_MS, checkConversationId } from './validate.js';
