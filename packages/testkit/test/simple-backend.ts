import type { Clock, GrantListener, IssueResult, LockBackend, RefreshRequest, TicketInfo, TicketStatus } from '@lockstore/core';

/** The ways {@link SimpleBackend} can be broken, to prove the suite catches each. */
export type Flaw = 'none' | 'lifo' | 'two-holders' | 'no-expiry';

/**
 * A deliberately plain backend (arrays, O(n) everywhere) that follows the contract unless told to
 * break one rule. The suite must pass it whole and fail each flaw.
 */
export class SimpleBackend implements LockBackend {
  readonly capabilities = { clock: 'injected' as const };
  readonly #queues = new Map<string, { ticket: number; expiresAt: number }[]>();
  #last = 0;
  #listener: GrantListener = () => {};

  constructor(
    readonly clock: Clock,
    readonly flaw: Flaw = 'none',
  ) {}

  #live(conversationId: string) {
    const now = this.clock.now();
    const before = this.#queues.get(conversationId)?.[0]?.ticket;
    const queue = (this.#queues.get(conversationId) ?? []).filter((t) => this.flaw === 'no-expiry' || t.expiresAt > now);
    if (this.flaw === 'lifo' && queue.length > 1 && queue[0]!.ticket !== before) queue.unshift(queue.pop()!);
    if (queue.length === 0) this.#queues.delete(conversationId);
    else this.#queues.set(conversationId, queue);
    const head = queue[0]?.ticket;
    if (head !== undefined && before !== undefined && head !== before) this.#listener(conversationId, head);
    return queue;
  }

  issue(conversationId: string, lifetimeMs: number): Promise<IssueResult> {
    const queue = this.#live(conversationId);
    const now = this.clock.now();
    const ticket = ++this.#last;
    queue.push({ ticket, expiresAt: now + lifetimeMs });
    this.#queues.set(conversationId, queue);
    const granted = queue.length === 1 || this.flaw === 'two-holders';
    return Promise.resolve({ ticket, granted, expiresInMs: lifetimeMs, headExpiresInMs: granted ? null : queue[0]!.expiresAt - now });
  }

  refresh(requests: readonly RefreshRequest[]): Promise<TicketStatus[]> {
    return Promise.resolve(
      requests.map(({ conversationId, ticket, lifetimeMs }): TicketStatus => {
        const queue = this.#live(conversationId);
        const now = this.clock.now();
        const entry = queue.find((t) => t.ticket === ticket);
        if (entry === undefined) return { state: 'gone' };
        if (lifetimeMs !== null) entry.expiresAt = now + lifetimeMs;
        if (queue[0] === entry || this.flaw === 'two-holders') return { state: 'head', expiresInMs: entry.expiresAt - now };
        return { state: 'waiting', expiresInMs: entry.expiresAt - now, headExpiresInMs: queue[0]!.expiresAt - now };
      }),
    );
  }

  release(conversationId: string, ticket: number): Promise<void> {
    const queue = this.#queues.get(conversationId) ?? [];
    const index = queue.findIndex((t) => t.ticket === ticket);
    if (index >= 0) {
      const wasHead = index === 0;
      queue.splice(index, 1);
      if (this.flaw === 'lifo' && wasHead && queue.length > 1) queue.unshift(queue.pop()!);
      if (queue.length === 0) this.#queues.delete(conversationId);
      else if (wasHead) this.#listener(conversationId, queue[0]!.ticket);
    }
    return Promise.resolve();
  }

  inspect(conversationId: string): Promise<TicketInfo[]> {
    const now = this.clock.now();
    return Promise.resolve(this.#live(conversationId).map((t) => ({ ticket: t.ticket, expiresInMs: t.expiresAt - now })));
  }

  delete(conversationId: string): Promise<boolean> {
    return Promise.resolve(this.#queues.delete(conversationId));
  }

  onGrant(listener: GrantListener): void {
    this.#listener = listener;
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
