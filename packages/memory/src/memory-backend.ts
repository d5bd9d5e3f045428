import {
  type BackendCapabilities,
  type Clock,
  type GrantListener,
  type IssueResult,
  type LockBackend,
  type RefreshRequest,
  type TicketInfo,
  type TicketStatus,
  systemClock,
} from '@lockstore/core';

/** A conversation's queue: ticket → expiry (ms on the clock). A Map keeps insertion order: FIFO. */
type Queue = Map<number, number>;

/** Options of {@link MemoryBackend}. */
export interface MemoryBackendOptions {
  /** The clock that decides expiry. @default systemClock */
  readonly clock?: Clock;
}

/**
 * Keeps every conversation's ticket queue in this process. Each operation is O(1) amortized in the
 * number of conversations and of tickets: expired tickets are dropped only when they reach the front,
 * and no timer is kept per ticket. A conversation with no ticket has no entry.
 */
export class MemoryBackend implements LockBackend {
  readonly capabilities: BackendCapabilities = { clock: 'injected', multiProcess: false };
  readonly #clock: Clock;
  readonly #queues = new Map<string, Queue>();
  // One counter for all conversations: fences rise per conversation even after its queue is gone.
  #lastTicket = 0;
  #listener: GrantListener = () => {};

  constructor(options: MemoryBackendOptions = {}) {
    this.#clock = options.clock ?? systemClock;
  }

  /** How many conversations have a queue (tests use it to see that nothing is left behind). */
  get size(): number {
    return this.#queues.size;
  }

  issue(conversationId: string, lifetimeMs: number): Promise<IssueResult> {
    const now = this.#clock.now();
    const queue = this.#queues.get(conversationId) ?? new Map<number, number>();
    const head = this.#settle(conversationId, queue, now);
    const ticket = ++this.#lastTicket;
    queue.set(ticket, now + lifetimeMs);
    this.#queues.set(conversationId, queue);
    const headExpiresInMs = head === undefined ? null : queue.get(head)! - now;
    return Promise.resolve({ ticket, granted: head === undefined, expiresInMs: lifetimeMs, headExpiresInMs });
  }

  refresh(requests: readonly RefreshRequest[]): Promise<TicketStatus[]> {
    const now = this.#clock.now();
    return Promise.resolve(requests.map((request) => this.#refreshOne(request, now)));
  }

  release(conversationId: string, ticket: number): Promise<void> {
    const queue = this.#queues.get(conversationId);
    const head = queue?.keys().next().value;
    if (queue?.delete(ticket)) this.#settle(conversationId, queue, this.#clock.now(), head);
    return Promise.resolve();
  }

  inspect(conversationId: string): Promise<TicketInfo[]> {
    const now = this.#clock.now();
    const live: TicketInfo[] = [];
    for (const [ticket, expiresAt] of this.#queues.get(conversationId) ?? []) {
      if (expiresAt > now) live.push({ ticket, expiresInMs: expiresAt - now });
    }
    return Promise.resolve(live);
  }

  delete(conversationId: string): Promise<boolean> {
    return Promise.resolve(this.#queues.delete(conversationId));
  }

  onGrant(listener: GrantListener): void {
    this.#listener = listener;
  }

  close(): Promise<void> {
    this.#queues.clear();
    return Promise.resolve();
  }

  #refreshOne({ conversationId, ticket, lifetimeMs }: RefreshRequest, now: number): TicketStatus {
    const queue = this.#queues.get(conversationId);
    if (queue === undefined) return { state: 'gone' };
    const head = this.#settle(conversationId, queue, now);
    const expiresAt = queue.get(ticket);
    if (expiresAt === undefined || expiresAt <= now) {
      // An expired ticket behind the head: drop it now that its owner has noticed.
      if (queue.delete(ticket) && queue.size === 0) this.#queues.delete(conversationId);
      return { state: 'gone' };
    }
    const newExpiry = lifetimeMs === null ? expiresAt : now + lifetimeMs;
    queue.set(ticket, newExpiry);
    if (head === ticket) return { state: 'head', expiresInMs: newExpiry - now };
    return { state: 'waiting', expiresInMs: newExpiry - now, headExpiresInMs: queue.get(head!)! - now };
  }

  /**
   * Drops expired tickets from the front of the queue and returns the head. When the head is not
   * `previousHead` (the front ticket before the caller's change), it is announced as granted.
   * An empty queue is removed.
   */
  #settle(conversationId: string, queue: Queue, now: number, previousHead = queue.keys().next().value): number | undefined {
    for (const [ticket, expiresAt] of queue) {
      if (expiresAt > now) {
        if (ticket !== previousHead) this.#listener(conversationId, ticket);
        return ticket;
      }
      queue.delete(ticket);
    }
    this.#queues.delete(conversationId);
    return undefined;
  }
}
