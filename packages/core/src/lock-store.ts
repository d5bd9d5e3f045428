import type { LockBackend, TicketStatus } from './backend.js';
import { missingBackendMethods } from './backend.js';
import { type Clock, systemClock } from './clock.js';
import { lifetimeFromEnv } from './config.js';
import { LockstoreError, storeFailure } from './errors.js';
import { Scheduler } from './scheduler.js';
import {
  checkConversationId,
  checkLifetime,
  checkOptional,
  checkOptionsObject,
  checkTimeout,
} from './validate.js';

/** Options of one {@link LockStore.lock} call. */
export interface LockOptions {
  /**
   * How long the ticket lives without renewal, in ms. With renewal on, a crashed process stops
   * blocking the conversation at most this long after its last renewal.
   * @default the store's `lifetimeMs`
   */
  readonly lifetimeMs?: number;
  /**
   * Give up waiting after this many ms, with `ACQUIRE_TIMEOUT`. `0` takes the lock only if it is free.
   * @default Infinity — wait as long as the tickets ahead are alive, as Rasa does
   */
  readonly timeoutMs?: number;
  /** Cancels a waiting acquire with `ACQUIRE_ABORTED`; its ticket leaves the queue at once. */
  readonly signal?: AbortSignal;
  /**
   * Renew the ticket (waiting or held) every third of its lifetime. `false` gives Rasa's fixed
   * lifetime: the lease simply ends `lifetimeMs` after the ticket was issued.
   * @default true
   */
  readonly renew?: boolean;
}

/** Options of a {@link LockStore}. */
export interface LockStoreOptions {
  /** Where time and timers come from. @default systemClock */
  readonly clock?: Clock;
  /**
   * The default ticket lifetime, in ms.
   * @default the `TICKET_LOCK_LIFETIME` environment variable (whole seconds) when set and not 0, else 60000
   */
  readonly lifetimeMs?: number;
  /**
   * Told of errors that no caller awaits: a failed release while disposing a lock or after
   * `withLock`'s function. Such a ticket is not stuck: it expires within its lifetime.
   * @default process.emitWarning
   */
  readonly onError?: (error: LockstoreError) => void;
}

/** A held lock. Release it explicitly or with `await using`. */
export interface HeldLock extends AsyncDisposable {
  readonly conversationId: string;
  /**
   * The ticket number: a fencing token, strictly increasing per conversation and never reused.
   * Hand it to the resource you protect so that it can refuse writes from an older holder.
   */
  readonly fence: number;
  /** Aborted, with a `LEASE_LOST` or `STORE_CLOSED` error as reason, if the lease ends before release. */
  readonly signal: AbortSignal;
  /** True once released or lost. */
  readonly done: boolean;
  /**
   * Leaves the queue and hands the lock to the next ticket. Calling it again does nothing.
   * @throws LockstoreError `STORE_FAILURE` when the backend fails; the ticket then expires on its own.
   */
  release(): Promise<void>;
  /** Releases like {@link HeldLock.release}, but reports a failure to `onError` instead of throwing. */
  [Symbol.asyncDispose](): Promise<void>;
}

/** A conversation's lock, as {@link LockStore.inspect} reports it (Rasa's `get_lock`). */
export interface LockState {
  readonly conversationId: string;
  /** Live tickets, oldest first, with their expiry as an estimate on this process's clock. */
  readonly tickets: readonly { readonly ticket: number; readonly expiresAt: number }[];
  /** The ticket that holds the lock, or null when nobody does. */
  readonly nowServing: number | null;
  /** The newest live ticket, or null when there is none. */
  readonly lastIssued: number | null;
  /** How many tickets wait behind the holder. */
  readonly waiting: number;
  /** Rasa's `is_someone_waiting`: true while any ticket is live, the holder's included. */
  readonly isSomeoneWaiting: boolean;
}

type Phase = 'issuing' | 'waiting' | 'held' | 'done';

/** One ticket of this process, from issue to release. */
class Ticket {
  phase: Phase = 'issuing';
  fence = 0;
  /** This process's estimate of the ticket's expiry, kept conservative (measured from send time). */
  expiresAt = 0;
  /** Why a cancel arrived while the ticket was being issued. */
  cancelReason: LockstoreError | undefined;
  resolve: (lock: HeldLock) => void = () => {};
  reject: (error: LockstoreError) => void = () => {};
  cleanup: () => void = () => {};
  // The lease signal is made on first use: most locks are released without anyone asking for it,
  // and an AbortSignal is among the costliest objects of a lock cycle.
  #controller: AbortController | undefined;
  #lostReason: LockstoreError | undefined;

  constructor(
    readonly conversationId: string,
    readonly lifetimeMs: number,
    readonly renew: boolean,
  ) {}

  get key(): string {
    return ticketKey(this.conversationId, this.fence);
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController();
      if (this.#lostReason !== undefined) this.#controller.abort(this.#lostReason);
    }
    return this.#controller.signal;
  }

  /** Ends the lease: the signal aborts now, or is born aborted when first asked for. */
  abort(reason: LockstoreError): void {
    this.#lostReason ??= reason;
    this.#controller?.abort(reason);
  }
}

/** The lock handed to the caller: a view of one held ticket. */
class Lock implements HeldLock {
  readonly #ticket: Ticket;
  readonly #release: (ticket: Ticket) => Promise<void>;
  readonly #onError: (error: LockstoreError) => void;

  constructor(ticket: Ticket, release: (ticket: Ticket) => Promise<void>, onError: (error: LockstoreError) => void) {
    this.#ticket = ticket;
    this.#release = release;
    this.#onError = onError;
  }

  get conversationId(): string {
    return this.#ticket.conversationId;
  }

  get fence(): number {
    return this.#ticket.fence;
  }

  get signal(): AbortSignal {
    return this.#ticket.signal;
  }

  get done(): boolean {
    return this.#ticket.phase === 'done';
  }

  release(): Promise<void> {
    return this.#release(this.#ticket);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.#release(this.#ticket).catch((error: unknown) => this.#onError(storeFailure('release', error)));
  }
}

const ticketKey = (conversationId: string, fence: number) => `${fence}:${conversationId}`;

/**
 * A FIFO ticket lock per conversation on top of a {@link LockBackend}. This file is the whole
 * algorithm: issue, wait for a pushed grant, renew, re-check, release, cancel. Backends only store.
 */
export class LockStore {
  readonly #backend: LockBackend;
  readonly #clock: Clock;
  readonly #lifetimeMs: number;
  readonly #onError: (error: LockstoreError) => void;
  readonly #scheduler: Scheduler<Ticket>;
  /** Every ticket of this process that is not done. */
  readonly #tickets = new Set<Ticket>();
  /** Waiting tickets by `fence:conversationId`, for grants pushed by the backend. */
  readonly #waiters = new Map<string, Ticket>();
  /** Issues in flight per conversation, and grants that arrived before their issue's reply. */
  readonly #issuing = new Map<string, { count: number; early?: Set<number> }>();
  /** Held tickets whose renewal is still to be planned, and whether a plan is due at the end of the turn. */
  readonly #unplanned = new Set<Ticket>();
  #planDue = false;
  #closed = false;

  /** Releases a held ticket; shared by every {@link Lock} of this store. A second call does nothing. */
  readonly #releaseHeld = async (ticket: Ticket): Promise<void> => {
    if (ticket.phase !== 'held') return;
    // The command goes out before the local bookkeeping: the next holder is waiting for it.
    const released = rejecting(() => this.#backend.release(ticket.conversationId, ticket.fence));
    this.#finish(ticket);
    try {
      await released;
    } catch (error) {
      throw storeFailure(`release ticket ${ticket.fence} of conversation ${JSON.stringify(ticket.conversationId)}`, error);
    }
  };

  constructor(backend: LockBackend, options: LockStoreOptions = {}) {
    const missing = missingBackendMethods(backend);
    if (missing.length > 0) {
      throw new LockstoreError('INVALID_BACKEND', `The backend lacks these methods: ${missing.join(', ')}`);
    }
    checkOptionsObject('options', options);
    if (options.lifetimeMs !== undefined) checkLifetime('lifetimeMs', options.lifetimeMs);
    checkOptional('onError', options.onError, 'function');
    this.#backend = backend;
    this.#clock = options.clock ?? systemClock;
    this.#lifetimeMs = options.lifetimeMs ?? lifetimeFromEnv();
    this.#onError = options.onError ?? ((error) => process.emitWarning(error));
    this.#scheduler = new Scheduler(this.#clock, (due) => this.#refresh(due));
    backend.onGrant((conversationId, fence) => this.#onGrant(conversationId, fence));
  }

  /** The lifetime a lock gets when its options name none, in ms. */
  get lifetimeMs(): number {
    return this.#lifetimeMs;
  }

  /** The backend's declared capabilities. */
  get capabilities(): NonNullable<LockBackend['capabilities']> {
    return this.#backend.capabilities ?? {};
  }

  /**
   * Takes a ticket for `conversationId` and resolves once it is served: every earlier ticket was
   * released or expired. Tickets are served in the order they were issued, across every process
   * sharing the backend.
   *
   * @throws LockstoreError `ACQUIRE_TIMEOUT`, `ACQUIRE_ABORTED`, `TICKET_EXPIRED`, `STORE_FAILURE`,
   * `STORE_CLOSED`, `INVALID_ARGUMENT`
   */
  async lock(conversationId: string, options: LockOptions = {}): Promise<HeldLock> {
    checkConversationId(conversationId);
    checkOptionsObject('options', options);
    const lifetimeMs = options.lifetimeMs ?? this.#lifetimeMs;
    checkLifetime('lifetimeMs', lifetimeMs);
    const timeoutMs = options.timeoutMs ?? Infinity;
    checkTimeout('timeoutMs', timeoutMs);
    checkOptional('signal', options.signal, 'AbortSignal');
    checkOptional('renew', options.renew, 'boolean');
    this.#assertOpen();
    const { signal } = options;
    if (signal?.aborted) throw aborted(conversationId, signal);

    const ticket = new Ticket(conversationId, lifetimeMs, options.renew ?? true);
    // The backend call is made before the first await, so tickets are issued in call order.
    const sentAt = this.#clock.now();
    const issued = rejecting(() => this.#backend.issue(conversationId, lifetimeMs));
    this.#tickets.add(ticket);
    if (signal !== undefined || Number.isFinite(timeoutMs)) this.#watchCancellation(ticket, timeoutMs, signal);
    const issuing: { count: number; early?: Set<number> } = this.#issuing.get(conversationId) ?? { count: 0 };
    issuing.count++;
    this.#issuing.set(conversationId, issuing);

    let result;
    try {
      result = await issued;
    } catch (error) {
      this.#finish(ticket);
      throw storeFailure(`issue a ticket for conversation ${JSON.stringify(conversationId)}`, error);
    } finally {
      if (--issuing.count === 0) this.#issuing.delete(conversationId);
    }

    ticket.fence = result.ticket;
    ticket.expiresAt = sentAt + result.expiresInMs;
    const grantedEarly = issuing.early?.delete(ticket.fence) ?? false;
    if (ticket.cancelReason !== undefined) {
      this.#finish(ticket);
      this.#releaseQuietly(ticket);
      throw ticket.cancelReason;
    }
    if (result.granted || grantedEarly) return this.#grant(ticket);
    if (this.#clock.now() >= sentAt + timeoutMs) {
      this.#finish(ticket);
      this.#releaseQuietly(ticket);
      throw timedOut(conversationId, timeoutMs);
    }
    // Only a ticket that must wait gets a promise to settle later; most are granted at once.
    const waiting = new Promise<HeldLock>((resolve, reject) => {
      ticket.resolve = resolve;
      ticket.reject = reject;
    });
    ticket.phase = 'waiting';
    this.#waiters.set(ticket.key, ticket);
    this.#scheduleCheck(ticket, result.headExpiresInMs);
    return waiting;
  }

  /**
   * Runs `fn` under the conversation's lock and returns its result. The lock is released however
   * `fn` ends; a failed release never replaces `fn`'s own error (it goes to `onError`).
   */
  async withLock<T>(conversationId: string, fn: (lock: HeldLock) => T | PromiseLike<T>, options?: LockOptions): Promise<T> {
    if (typeof fn !== 'function') throw new LockstoreError('INVALID_ARGUMENT', `fn must be a function, got ${typeof fn}`);
    await using lock = await this.lock(conversationId, options);
    return await fn(lock);
  }

  /** A conversation's lock state (Rasa's `get_lock`). */
  async inspect(conversationId: string): Promise<LockState> {
    checkConversationId(conversationId);
    this.#assertOpen();
    const sentAt = this.#clock.now();
    let tickets;
    try {
      tickets = await this.#backend.inspect(conversationId);
    } catch (error) {
      throw storeFailure(`inspect conversation ${JSON.stringify(conversationId)}`, error);
    }
    return {
      conversationId,
      tickets: tickets.map(({ ticket, expiresInMs }) => ({ ticket, expiresAt: sentAt + expiresInMs })),
      nowServing: tickets[0]?.ticket ?? null,
      lastIssued: tickets.at(-1)?.ticket ?? null,
      waiting: Math.max(0, tickets.length - 1),
      isSomeoneWaiting: tickets.length > 0,
    };
  }

  /**
   * Deletes a conversation's lock whatever it holds (Rasa's `delete_lock`). Holders learn it at
   * their next renewal (their signal aborts with `LEASE_LOST`), waiters fail with `TICKET_EXPIRED`.
   * Resolves to whether there was a lock to delete.
   */
  async deleteLock(conversationId: string): Promise<boolean> {
    checkConversationId(conversationId);
    this.#assertOpen();
    try {
      return await this.#backend.delete(conversationId);
    } catch (error) {
      throw storeFailure(`delete conversation ${JSON.stringify(conversationId)}`, error);
    }
  }

  /**
   * Closes the store: waiting acquires fail with `STORE_CLOSED`, held locks' signals abort with it,
   * every ticket of this process is released, then the backend closes. Calling it again does nothing.
   */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    const error = new LockstoreError('STORE_CLOSED', 'The lock store was closed');
    const ended: Ticket[] = [];
    for (const ticket of [...this.#tickets]) {
      if (ticket.phase === 'issuing') {
        ticket.cancelReason = error;
        continue;
      }
      const wasHeld = ticket.phase === 'held';
      this.#finish(ticket);
      if (wasHeld) ticket.abort(error);
      else ticket.reject(error);
      ended.push(ticket);
    }
    // Released only once every local ticket has ended, so no grant reaches a ticket being closed.
    await Promise.allSettled(ended.map((ticket) => rejecting(() => this.#backend.release(ticket.conversationId, ticket.fence))));
    this.#scheduler.clear();
    await this.#backend.close();
  }

  #assertOpen(): void {
    if (this.#closed) throw new LockstoreError('STORE_CLOSED', 'The lock store is closed');
  }

  #watchCancellation(ticket: Ticket, timeoutMs: number, signal: AbortSignal | undefined): void {
    const { conversationId } = ticket;
    const timer = Number.isFinite(timeoutMs)
      ? // A deadline passing while the ticket is issued is handled when the issue's reply arrives.
        this.#clock.setTimeout(() => {
          if (ticket.phase === 'waiting') this.#cancel(ticket, timedOut(conversationId, timeoutMs));
        }, timeoutMs)
      : undefined;
    const onAbort = () => this.#cancel(ticket, aborted(conversationId, signal));
    signal?.addEventListener('abort', onAbort, { once: true });
    ticket.cleanup = () => {
      if (timer !== undefined) this.#clock.clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
    };
  }

  /** Cancels a ticket that is not yet held; a grant that raced the cancel passes to the next ticket. */
  #cancel(ticket: Ticket, reason: LockstoreError): void {
    if (ticket.phase === 'issuing') {
      ticket.cancelReason ??= reason;
    } else if (ticket.phase === 'waiting') {
      this.#finish(ticket);
      ticket.reject(reason);
      this.#releaseQuietly(ticket);
    }
  }

  #grant(ticket: Ticket): HeldLock {
    if (ticket.phase === 'waiting') this.#waiters.delete(ticket.key);
    ticket.cleanup();
    ticket.phase = 'held';
    // The renewal is planned once the holders of this turn have run up to their first wait: arming a
    // timer costs more than the rest of a grant, and a lock released before then needs none.
    this.#unplanned.add(ticket);
    if (!this.#planDue) {
      this.#planDue = true;
      setImmediate(() => this.#planRenewals());
    }
    const lock = new Lock(ticket, this.#releaseHeld, this.#onError);
    ticket.resolve(lock);
    return lock;
  }

  #planRenewals(): void {
    this.#planDue = false;
    for (const ticket of this.#unplanned) this.#scheduleCheck(ticket, null);
    this.#unplanned.clear();
  }

  #onGrant(conversationId: string, fence: number): void {
    if (this.#closed) return;
    const ticket = this.#waiters.get(ticketKey(conversationId, fence));
    if (ticket !== undefined) this.#grant(ticket);
    else {
      const issuing = this.#issuing.get(conversationId);
      if (issuing !== undefined) (issuing.early ??= new Set()).add(fence);
    }
  }

  /** Plans the ticket's next renewal or re-check: one timer and one backend batch for all tickets. */
  #scheduleCheck(ticket: Ticket, headExpiresInMs: number | null): void {
    const now = this.#clock.now();
    const renewAt = now + ticket.lifetimeMs / 3;
    let at = ticket.renew ? renewAt : ticket.expiresAt;
    // The next waiter must notice a holder that died without releasing: check when its ticket expires.
    if (headExpiresInMs !== null) at = Math.min(at, now + headExpiresInMs + 1);
    // A backend that reports as live a ticket whose time is up must not turn this into a busy loop.
    if (at <= now) at = now + ticket.lifetimeMs / 100;
    // A renewal may go out up to a sixth of a lifetime early, with another batch; a check may not.
    this.#scheduler.schedule(ticket, at, ticket.renew && at === renewAt ? ticket.lifetimeMs / 6 : 0);
  }

  #refresh(tickets: Ticket[]): void {
    const sentAt = this.#clock.now();
    const requests = tickets.map((ticket) => ({
      conversationId: ticket.conversationId,
      ticket: ticket.fence,
      lifetimeMs: ticket.renew ? ticket.lifetimeMs : null,
    }));
    const reply = rejecting(() => this.#backend.refresh(requests));
    reply.then(
      (statuses) => tickets.forEach((ticket, i) => this.#apply(ticket, statuses[i], sentAt)),
      (error: unknown) => tickets.forEach((ticket) => this.#refreshFailed(ticket, error)),
    );
  }

  #apply(ticket: Ticket, status: TicketStatus | undefined, sentAt: number): void {
    if (ticket.phase !== 'waiting' && ticket.phase !== 'held') return;
    if (status === undefined || status.state === 'gone' || (status.state === 'waiting' && ticket.phase === 'held')) {
      this.#end(ticket);
      return;
    }
    ticket.expiresAt = sentAt + status.expiresInMs;
    if (status.state === 'head' && ticket.phase === 'waiting') this.#grant(ticket);
    else this.#scheduleCheck(ticket, status.state === 'waiting' ? status.headExpiresInMs : null);
  }

  #refreshFailed(ticket: Ticket, error: unknown): void {
    if (ticket.phase !== 'waiting' && ticket.phase !== 'held') return;
    const now = this.#clock.now();
    if (now >= ticket.expiresAt) {
      this.#end(ticket, error);
      return;
    }
    // Retry soon, but never past the expiry this process knows of.
    this.#scheduler.schedule(ticket, Math.min(now + Math.min(1000, ticket.lifetimeMs / 10), ticket.expiresAt));
  }

  /**
   * Ends a ticket that the store no longer holds for us: a lost lease, or a waiter that expired.
   * `cause` is the backend error when the store could not be reached in time.
   */
  #end(ticket: Ticket, cause?: unknown): void {
    const wasHeld = ticket.phase === 'held';
    this.#finish(ticket);
    this.#releaseQuietly(ticket);
    const subject = `ticket ${ticket.fence} of conversation ${JSON.stringify(ticket.conversationId)}`;
    const why = cause === undefined ? 'it expired or was deleted' : 'the store could not renew it before it expired';
    if (wasHeld) {
      ticket.abort(new LockstoreError('LEASE_LOST', `Lost the lock on ${subject}: ${why}`, { cause }));
    } else if (cause === undefined) {
      ticket.reject(new LockstoreError('TICKET_EXPIRED', `Could not acquire the lock: ${subject} ${why} while it waited`));
    } else {
      ticket.reject(storeFailure(`keep ${subject} while it waited`, cause));
    }
  }

  /** Forgets a ticket locally; what the backend holds is the caller's business. */
  #finish(ticket: Ticket): void {
    if (ticket.phase === 'waiting') this.#waiters.delete(ticket.key);
    ticket.phase = 'done';
    ticket.cleanup();
    this.#tickets.delete(ticket);
    this.#unplanned.delete(ticket);
    this.#scheduler.cancel(ticket);
  }

  #releaseQuietly(ticket: Ticket): void {
    rejecting(() => this.#backend.release(ticket.conversationId, ticket.fence)).catch((error: unknown) => {
      this.#onError(storeFailure(`release ticket ${ticket.fence} of conversation ${JSON.stringify(ticket.conversationId)}`, error));
    });
  }
}

/**
 * Calls the backend. A backend that throws instead of returning a rejected promise fails the same
 * way, so that its error reaches the same handling (and never escapes a timer or an abort listener).
 */
function rejecting<T>(call: () => Promise<T>): Promise<T> {
  try {
    return call();
  } catch (error) {
    // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors -- passed on as it was thrown
    return Promise.reject(error);
  }
}

function timedOut(conversationId: string, timeoutMs: number): LockstoreError {
  return new LockstoreError(
    'ACQUIRE_TIMEOUT',
    `Could not acquire the lock for conversation ${JSON.stringify(conversationId)} within ${timeoutMs} ms`,
  );
}

function aborted(conversationId: string, signal: AbortSignal | undefined): LockstoreError {
  return new LockstoreError(
    'ACQUIRE_ABORTED',
    `Acquiring the lock for conversation ${JSON.stringify(conversationId)} was aborted`,
    { cause: signal?.reason },
  );
}
