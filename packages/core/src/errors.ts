const brand = Symbol.for('@lockstore/core/error');

/**
 * Every failure lockstore reports, as a stable string. Each is documented in core's README.
 */
export type LockstoreErrorCode =
  /** A waiting acquire passed its `timeoutMs`; its ticket was removed. */
  | 'ACQUIRE_TIMEOUT'
  /** A waiting acquire was cancelled by its `signal`; its ticket was removed. */
  | 'ACQUIRE_ABORTED'
  /** A waiting ticket expired or was deleted before it reached the front of the queue. */
  | 'TICKET_EXPIRED'
  /** A held lock's lease ended (expired, deleted, or could not be renewed in time). */
  | 'LEASE_LOST'
  /** The backend failed (network, timeout, server error); `cause` holds the original error. */
  | 'STORE_FAILURE'
  /** The store was closed, before or while the operation ran. */
  | 'STORE_CLOSED'
  /** The store could not be created because its backend could not connect. */
  | 'CONNECTION_FAILED'
  /** A `lock_store` config value is invalid; the message names the field. */
  | 'INVALID_CONFIG'
  /** An argument of a public method is invalid; the message names it. */
  | 'INVALID_ARGUMENT'
  /** The module that provides the configured backend is not installed or could not be loaded. */
  | 'BACKEND_NOT_FOUND'
  /** The configured module loaded but does not provide a backend that satisfies the contract. */
  | 'INVALID_BACKEND';

/**
 * The one error class of lockstore. Check it with {@link LockstoreError.is}, which works across
 * duplicate installs of `@lockstore/core`, and branch on {@link LockstoreError.code}.
 */
export class LockstoreError extends Error {
  override readonly name = 'LockstoreError';
  readonly code: LockstoreErrorCode;

  constructor(code: LockstoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
    Object.defineProperty(this, brand, { value: true });
  }

  /** True when `value` is a lockstore error (of `code`, when given), from any copy of this package. */
  static is(value: unknown, code?: LockstoreErrorCode): value is LockstoreError {
    if (typeof value !== 'object' || value === null) return false;
    if ((value as Record<symbol, unknown>)[brand] !== true) return false;
    return code === undefined || (value as LockstoreError).code === code;
  }
}

/** Wraps anything a backend threw as a `STORE_FAILURE`, keeping lockstore errors as they are. */
export function storeFailure(action: string, cause: unknown): LockstoreError {
  if (LockstoreError.is(cause)) return cause;
  const detail = cause instanceof Error ? cause.message : String(cause);
  return new LockstoreError('STORE_FAILURE', `The lock store failed to ${action}: ${detail}`, { cause });
}
