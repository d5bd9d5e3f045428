import type { Clock } from './clock.js';

/**
 * The contract between lockstore's algorithm (in `lock-store.ts`) and a storage backend.
 *
 * A backend keeps, per conversation, a FIFO queue of tickets. A ticket's number is its fencing token:
 * strictly increasing per conversation and never reused. Each ticket has an expiry that the backend
 * measures with its own clock. The *head* of a conversation is its oldest live ticket: the holder.
 * Every method is atomic with respect to every other call, from any process sharing the backend.
 *
 * Core decides when to issue, renew, check and release; the backend only stores and notifies.
 */
export interface LockBackend {
  /** What the backend supports; the conformance suite skips what is not supported. */
  readonly capabilities?: BackendCapabilities;

  /**
   * Drops expired tickets at the front of the queue, appends a new ticket that lives `lifetimeMs`,
   * and reports whether it is already the head (granted at once).
   */
  issue(conversationId: string, lifetimeMs: number): Promise<IssueResult>;

  /**
   * For each request, in order: drops expired tickets at the front of its queue, then reports the
   * ticket's state; when `lifetimeMs` is a number and the ticket is live, its expiry becomes now +
   * `lifetimeMs` first. A batch may span conversations; each request is atomic on its own.
   */
  refresh(requests: readonly RefreshRequest[]): Promise<TicketStatus[]>;

  /**
   * Removes the ticket wherever it is in the queue (a no-op when it is gone). When the head changes,
   * the new head is announced through {@link LockBackend.onGrant}. A queue left empty leaves nothing
   * stored except what keeps fencing tokens increasing.
   */
  release(conversationId: string, ticket: number): Promise<void>;

  /** The live tickets of a conversation, oldest first. */
  inspect(conversationId: string): Promise<TicketInfo[]>;

  /** Removes a conversation's queue whatever it holds; resolves to whether there was one. */
  delete(conversationId: string): Promise<boolean>;

  /**
   * Registers the one listener told when a ticket became the head because the ticket before it was
   * released or expired. Announcements may be lost (the store re-checks on a timer) or repeated.
   */
  onGrant(listener: GrantListener): void;

  /** Releases connections and timers. Called once, by the store's `close()`. */
  close(): Promise<void>;
}

/** Declared by a backend so the conformance suite knows what to expect of it. */
export interface BackendCapabilities {
  /**
   * `injected`: expiry follows the clock handed to the backend's factory, so tests can move time.
   * `server`: expiry follows a clock the tests cannot move, so they wait in real time.
   * @default 'injected'
   */
  readonly clock?: 'injected' | 'server';
  /** True when several processes can share one queue (a network backend). @default false */
  readonly multiProcess?: boolean;
}

/** The reply to {@link LockBackend.issue}. */
export interface IssueResult {
  /** The ticket number, which is also the fencing token. */
  readonly ticket: number;
  /** True when the new ticket is the head of its queue. */
  readonly granted: boolean;
  /** Milliseconds until the new ticket expires. */
  readonly expiresInMs: number;
  /** Milliseconds until the current head expires, when the ticket is not the head; otherwise null. */
  readonly headExpiresInMs: number | null;
}

/** One entry of a {@link LockBackend.refresh} batch. */
export interface RefreshRequest {
  readonly conversationId: string;
  readonly ticket: number;
  /** The new lifetime from now, or null to only read the state. */
  readonly lifetimeMs: number | null;
}

/** The state of one ticket, as {@link LockBackend.refresh} reports it. */
export type TicketStatus =
  | { readonly state: 'head'; readonly expiresInMs: number }
  | { readonly state: 'waiting'; readonly expiresInMs: number; readonly headExpiresInMs: number }
  | { readonly state: 'gone' };

/** One live ticket in a queue, as {@link LockBackend.inspect} reports it. */
export interface TicketInfo {
  readonly ticket: number;
  readonly expiresInMs: number;
}

/** Told that `ticket` became the head of `conversationId`'s queue. */
export type GrantListener = (conversationId: string, ticket: number) => void;

/** Handed to a backend's factory by `createLockStore` and by the conformance suite. */
export interface BackendContext {
  /** The clock a backend with `capabilities.clock === 'injected'` must use for expiry. */
  readonly clock: Clock;
}

const methods = ['issue', 'refresh', 'release', 'inspect', 'delete', 'onGrant', 'close'] as const;

/** Names the methods of the backend contract that `value` lacks (empty when it has them all). */
export function missingBackendMethods(value: unknown): string[] {
  if (typeof value !== 'object' || value === null) return [...methods];
  return methods.filter((name) => typeof (value as Record<string, unknown>)[name] !== 'function');
}
