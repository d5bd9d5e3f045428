import { type BackendCapabilities, type HeldLock, type LockBackend, type LockStore, LockstoreError, type LockstoreErrorCode } from '@lockstore/core';
import { expect } from 'vitest';
import { type Harness, track } from './harness.js';

/** One conformance check: a plain async function, so it can run inside or outside a test. */
export interface Check {
  readonly name: string;
  /** Why the backend cannot run this check, from its capabilities; undefined when it can. */
  readonly skip?: (capabilities: BackendCapabilities) => string | undefined;
  readonly run: (h: Harness) => Promise<void>;
}

/** A named group of checks, registered as one `describe` block. */
export interface CheckGroup {
  readonly name: string;
  readonly checks: readonly Check[];
}

const CONVERSATION = 'conversation-1';

/** Resolves to the lockstore error `promise` rejects with; fails when it resolves or rejects otherwise. */
async function rejectionOf(promise: Promise<unknown>): Promise<LockstoreError> {
  try {
    await promise;
  } catch (error) {
    if (LockstoreError.is(error)) return error;
    throw new Error(`Expected a LockstoreError, got ${String(error)}`, { cause: error });
  }
  throw new Error('Expected a rejection, but the promise resolved');
}

/** Resolves to the lockstore error code `promise` rejects with (fails when it resolves). */
export async function rejectionCode(promise: Promise<unknown>): Promise<LockstoreErrorCode> {
  return (await rejectionOf(promise)).code;
}

/** The state of a lock promise, after letting pushed grants arrive. */
async function stateOf(h: Harness, promise: Promise<unknown>): Promise<string> {
  const tracked = track(promise);
  await h.settle();
  return tracked.state;
}

/** Runs `count` acquisitions of one conversation, each holding for `holdMs`; returns their trace. */
async function contend(h: Harness, stores: LockStore[], count: number, holdMs: number) {
  const events: string[] = [];
  let active = 0;
  let maxActive = 0;
  const fences: number[] = [];
  let lostLeases = 0;
  const jobs = Array.from({ length: count }, (_, i) =>
    stores[i % stores.length]!.withLock(CONVERSATION, async (lock) => {
      active++;
      maxActive = Math.max(maxActive, active);
      events.push(`start ${i}`);
      fences.push(lock.fence);
      await h.advance(holdMs);
      if (lock.signal.aborted) lostLeases++;
      events.push(`end ${i}`);
      active--;
    }),
  );
  await Promise.all(jobs);
  // A lease lost (a stalled machine) would explain an overlap; name it rather than hide it.
  expect(lostLeases, 'leases lost during the run').toBe(0);
  return { events, maxActive, fences };
}

const needsMultiProcess = (capabilities: BackendCapabilities) =>
  capabilities.multiProcess ? undefined : 'the backend does not share queues between processes';

export const basics: CheckGroup = {
  name: 'basics',
  checks: [
    {
      name: 'a lock is taken and released, leaving nothing behind',
      async run(h) {
        const store = await h.store();
        const lock = await store.lock(CONVERSATION);
        expect(Number.isSafeInteger(lock.fence) && lock.fence > 0).toBe(true);
        expect(lock.conversationId).toBe(CONVERSATION);
        expect((await store.inspect(CONVERSATION)).nowServing).toBe(lock.fence);
        await lock.release();
        expect(lock.done).toBe(true);
        const state = await store.inspect(CONVERSATION);
        expect(state.tickets).toEqual([]);
        expect(await h.leftovers()).toBeOneOf([0, undefined]);
      },
    },
    {
      name: 'withLock returns the function result and releases',
      async run(h) {
        const store = await h.store();
        const result = await store.withLock(CONVERSATION, (lock) => `fence ${lock.fence}`);
        expect(result).toMatch(/^fence \d+$/);
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
    {
      name: 'withLock rethrows the function error as it is and releases',
      async run(h) {
        const store = await h.store();
        const failure = new Error('handler failed');
        await expect(store.withLock(CONVERSATION, () => Promise.reject(failure))).rejects.toBe(failure);
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
    {
      name: 'await using releases at the end of the scope',
      async run(h) {
        const store = await h.store();
        {
          await using lock = await store.lock(CONVERSATION);
          expect((await store.inspect(CONVERSATION)).nowServing).toBe(lock.fence);
        }
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
    {
      name: 'fencing tokens rise strictly and are never reused, even after the queue emptied',
      async run(h) {
        const store = await h.store();
        const fences: number[] = [];
        for (let i = 0; i < 6; i++) {
          const lock = await store.lock(CONVERSATION);
          fences.push(lock.fence);
          await lock.release();
        }
        for (let i = 1; i < fences.length; i++) expect(fences[i]!).toBeGreaterThan(fences[i - 1]!);
      },
    },
    {
      name: 'releasing twice does nothing the second time',
      async run(h) {
        const store = await h.store();
        const first = await store.lock(CONVERSATION);
        await first.release();
        const second = await store.lock(CONVERSATION);
        await first.release();
        expect((await store.inspect(CONVERSATION)).nowServing).toBe(second.fence);
        await second.release();
      },
    },
  ],
};

export const ordering: CheckGroup = {
  name: 'mutual exclusion and FIFO order',
  checks: [
    {
      name: 'ten messages of one conversation run one at a time in arrival order',
      async run(h) {
        const store = await h.store();
        const { events, maxActive, fences } = await contend(h, [store], 10, h.lifetimeMs / 20);
        expect(maxActive).toBe(1);
        expect(events).toEqual(Array.from({ length: 10 }, (_, i) => [`start ${i}`, `end ${i}`]).flat());
        expect([...fences].sort((a, b) => a - b)).toEqual(fences);
      },
    },
    {
      name: 'finishing the first of two tickets serves the second; finishing both leaves nobody waiting',
      async run(h) {
        const store = await h.store();
        const first = await store.lock(CONVERSATION);
        const second = track(store.lock(CONVERSATION));
        await h.settle();
        expect(second.state).toBe('pending');
        const state = await store.inspect(CONVERSATION);
        expect(state.waiting).toBe(1);
        expect(state.nowServing).toBe(first.fence);
        await first.release();
        const lock = await second.promise;
        expect(lock.fence).toBeGreaterThan(first.fence);
        expect((await store.inspect(CONVERSATION)).nowServing).toBe(lock.fence);
        await lock.release();
        expect((await store.inspect(CONVERSATION)).isSomeoneWaiting).toBe(false);
      },
    },
    {
      name: 'conversations are independent of each other',
      async run(h) {
        const store = await h.store();
        const a = await store.lock('conversation-a');
        expect(await stateOf(h, store.lock('conversation-b').then((b) => b.release()))).toBe('resolved');
        await a.release();
      },
    },
    {
      name: 'many interleaved messages across conversations keep one holder each, in arrival order',
      async run(h) {
        const store = await h.store();
        const active = new Map<string, number>();
        const order = new Map<string, number[]>();
        let violations = 0;
        const jobs = Array.from({ length: 60 }, (_, i) => {
          const conversation = `c${(i * 7) % 4}`;
          return store.withLock(conversation, async () => {
            if ((active.get(conversation) ?? 0) > 0) violations++;
            active.set(conversation, (active.get(conversation) ?? 0) + 1);
            order.set(conversation, [...(order.get(conversation) ?? []), i]);
            await h.advance((i % 3) * (h.lifetimeMs / 60));
            active.set(conversation, active.get(conversation)! - 1);
          });
        });
        await Promise.all(jobs);
        expect(violations).toBe(0);
        for (const [, seen] of order) expect(seen).toEqual([...seen].sort((a, b) => a - b));
        expect([...order.values()].flat()).toHaveLength(60);
      },
    },
    {
      name: 'two replicas sharing the backend serve one conversation one at a time, in ticket order',
      skip: needsMultiProcess,
      async run(h) {
        const stores = [await h.store(), await h.store()];
        const { maxActive, fences } = await contend(h, stores, 12, h.lifetimeMs / 30);
        expect(maxActive).toBe(1);
        expect([...fences].sort((a, b) => a - b)).toEqual(fences);
      },
    },
    {
      name: 'a release on one replica wakes a waiter on another',
      skip: needsMultiProcess,
      async run(h) {
        const [one, two] = [await h.store(), await h.store()];
        const held = await one.lock(CONVERSATION);
        const waiting = track(two.lock(CONVERSATION));
        await h.settle();
        expect(waiting.state).toBe('pending');
        await held.release();
        const lock = await waiting.promise;
        expect(lock.fence).toBeGreaterThan(held.fence);
        await lock.release();
      },
    },
  ],
};

export const expiry: CheckGroup = {
  name: 'expiry',
  checks: [
    {
      name: 'a new lock has no ticket: nobody served, none issued, nobody waiting',
      async run(h) {
        const store = await h.store();
        expect(await store.inspect(CONVERSATION)).toEqual({
          conversationId: CONVERSATION,
          tickets: [],
          nowServing: null,
          lastIssued: null,
          waiting: 0,
          isSomeoneWaiting: false,
        });
      },
    },
    {
      name: 'a ticket with a tiny lifetime is gone once it elapses',
      async run(h) {
        const store = await h.store();
        const lock = await store.lock(CONVERSATION, { lifetimeMs: Math.ceil(h.lifetimeMs / 10), renew: false });
        await h.advance(h.lifetimeMs / 5);
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
        expect(lock.signal.aborted).toBe(true);
      },
    },
    {
      name: 'without renewal a holder loses the lease after its lifetime, and the next waiter is served',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION, { renew: false });
        const waiter = track(store.lock(CONVERSATION));
        await h.advance(h.lifetimeMs * 0.6);
        expect(waiter.state).toBe('pending');
        expect(holder.signal.aborted).toBe(false);
        await h.advance(h.lifetimeMs * 0.6);
        await h.until(() => waiter.state !== 'pending', 'the waiter is served');
        expect(waiter.state).toBe('resolved');
        expect(holder.signal.aborted).toBe(true);
        expect(LockstoreError.is(holder.signal.reason, 'LEASE_LOST')).toBe(true);
        await waiter.value!.release();
      },
    },
    {
      name: 'a waiter whose own ticket expires fails with TICKET_EXPIRED and never runs unprotected',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const waiter = track(store.lock(CONVERSATION, { renew: false }));
        await h.advance(h.lifetimeMs * 1.3);
        await h.until(() => waiter.state !== 'pending', 'the waiter fails');
        expect(await rejectionCode(waiter.promise)).toBe('TICKET_EXPIRED');
        expect(holder.signal.aborted).toBe(false);
        expect((await store.inspect(CONVERSATION)).tickets.map((t) => t.ticket)).toEqual([holder.fence]);
        await holder.release();
      },
    },
    {
      name: 'a crashed holder stops blocking the conversation within one lifetime',
      async run(h) {
        const backend = await h.backend();
        const store = await h.store({}, backend);
        // A ticket issued by a process that died at once: nobody will renew or release it.
        const dead = await backend.issue(CONVERSATION, h.lifetimeMs);
        expect(dead.granted).toBe(true);
        const waiter = track(store.lock(CONVERSATION));
        await h.advance(h.lifetimeMs * 0.8);
        expect(waiter.state).toBe('pending');
        await h.advance(h.lifetimeMs * 0.3);
        await h.until(() => waiter.state === 'resolved', 'the waiter is served');
        expect(waiter.value!.fence).toBeGreaterThan(dead.ticket);
        await waiter.value!.release();
      },
    },
    {
      name: 'a crashed waiter is skipped once its ticket expires',
      async run(h) {
        const backend = await h.backend();
        const store = await h.store({}, backend);
        const holder = await store.lock(CONVERSATION);
        const dead = await backend.issue(CONVERSATION, h.lifetimeMs);
        expect(dead.granted).toBe(false);
        const waiter = track(store.lock(CONVERSATION));
        await h.advance(h.lifetimeMs * 1.2);
        await holder.release();
        await h.until(() => waiter.state === 'resolved', 'the live waiter is served');
        await waiter.value!.release();
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
  ],
};

export const renewal: CheckGroup = {
  name: 'renewal',
  checks: [
    {
      name: 'a renewing holder keeps the lock for many lifetimes',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const waiter = track(store.lock(CONVERSATION));
        for (let i = 0; i < 8; i++) await h.advance(h.lifetimeMs / 2);
        expect(holder.signal.aborted).toBe(false);
        expect(waiter.state).toBe('pending');
        await holder.release();
        const next = await waiter.promise;
        expect(next.signal.aborted).toBe(false);
        await next.release();
      },
    },
    {
      name: 'a renewing waiter keeps its place for many lifetimes',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const first = track(store.lock(CONVERSATION));
        const second = track(store.lock(CONVERSATION));
        for (let i = 0; i < 8; i++) await h.advance(h.lifetimeMs / 2);
        const state = await store.inspect(CONVERSATION);
        expect(state.waiting).toBe(2);
        await holder.release();
        await h.until(() => first.state === 'resolved', 'the first waiter is served');
        expect(second.state).toBe('pending');
        await first.value!.release();
        await (await second.promise).release();
      },
    },
    {
      name: 'deleting a lock ends the holder lease and fails the waiters',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const waiter = track(store.lock(CONVERSATION));
        await h.settle();
        expect(await store.deleteLock(CONVERSATION)).toBe(true);
        expect(await store.deleteLock(CONVERSATION)).toBe(false);
        await h.advance(h.lifetimeMs / 2);
        await h.until(() => holder.signal.aborted && waiter.state !== 'pending', 'both notice the deletion');
        expect(LockstoreError.is(holder.signal.reason, 'LEASE_LOST')).toBe(true);
        expect(await rejectionCode(waiter.promise)).toBe('TICKET_EXPIRED');
      },
    },
  ],
};

export const cancellation: CheckGroup = {
  name: 'cancellation',
  checks: [
    {
      name: 'aborting a waiting acquire removes its ticket at once',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const controller = new AbortController();
        const cancelled = track(store.lock(CONVERSATION, { signal: controller.signal }));
        const next = track(store.lock(CONVERSATION));
        await h.settle();
        controller.abort(new Error('user went away'));
        expect(await rejectionCode(cancelled.promise)).toBe('ACQUIRE_ABORTED');
        await h.until(async () => (await store.inspect(CONVERSATION)).tickets.length === 2, 'the ticket leaves');
        await holder.release();
        await (await next.promise).release();
      },
    },
    {
      name: 'an already aborted signal issues no ticket',
      async run(h) {
        const store = await h.store();
        expect(await rejectionCode(store.lock(CONVERSATION, { signal: AbortSignal.abort() }))).toBe('ACQUIRE_ABORTED');
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
    {
      name: 'a timeout fails the acquire with ACQUIRE_TIMEOUT and removes its ticket',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const waiter = track(store.lock(CONVERSATION, { timeoutMs: h.lifetimeMs / 4 }));
        await h.advance(h.lifetimeMs / 8);
        expect(waiter.state).toBe('pending');
        await h.advance(h.lifetimeMs / 4);
        expect(await rejectionCode(waiter.promise)).toBe('ACQUIRE_TIMEOUT');
        await h.until(async () => (await store.inspect(CONVERSATION)).waiting === 0, 'the ticket leaves');
        await holder.release();
      },
    },
    {
      name: 'timeoutMs 0 takes a free lock and refuses a held one',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION, { timeoutMs: 0 });
        expect(await rejectionCode(store.lock(CONVERSATION, { timeoutMs: 0 }))).toBe('ACQUIRE_TIMEOUT');
        await h.until(async () => (await store.inspect(CONVERSATION)).tickets.length === 1, 'the ticket leaves');
        await holder.release();
      },
    },
    {
      name: 'a grant that races an abort passes the lock on',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const controller = new AbortController();
        const raced = track(store.lock(CONVERSATION, { signal: controller.signal }));
        const next = track(store.lock(CONVERSATION));
        await h.settle();
        const released = holder.release();
        controller.abort();
        await released;
        await h.until(() => raced.state !== 'pending', 'the raced acquire settles');
        if (raced.state === 'resolved') await raced.value!.release();
        else expect(await rejectionCode(raced.promise)).toBe('ACQUIRE_ABORTED');
        await h.until(() => next.state === 'resolved', 'the next ticket is served');
        await next.value!.release();
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
  ],
};

/** Wraps a backend so that chosen methods fail, as a broken network or server would. */
export function failing(backend: LockBackend, methods: Partial<Record<'issue' | 'refresh' | 'release', boolean>>): LockBackend {
  const broken = (name: string) => () => Promise.reject(new Error(`injected ${name} failure`));
  return {
    capabilities: backend.capabilities ?? {},
    issue: methods.issue ? broken('issue') : (...args) => backend.issue(...args),
    refresh: (...args) => (methods.refresh ? broken('refresh')() : backend.refresh(...args)),
    release: (...args) => (methods.release ? broken('release')() : backend.release(...args)),
    inspect: (...args) => backend.inspect(...args),
    delete: (...args) => backend.delete(...args),
    onGrant: (listener) => backend.onGrant(listener),
    close: () => backend.close(),
  };
}

export const failures: CheckGroup = {
  name: 'store failures',
  checks: [
    {
      name: 'a store failure while taking the lock is STORE_FAILURE, not a hang',
      async run(h) {
        const store = await h.store({}, failing(await h.backend(), { issue: true }));
        const error = await store.lock(CONVERSATION).catch((e: unknown) => e);
        expect(LockstoreError.is(error, 'STORE_FAILURE')).toBe(true);
        expect((error as Error).cause).toBeInstanceOf(Error);
      },
    },
    {
      name: 'a backend that throws instead of rejecting is STORE_FAILURE too',
      async run(h) {
        const backend = await h.backend();
        const throwing = failing(backend, {});
        const store = await h.store({}, { ...throwing, issue: () => { throw new Error('synchronous failure'); } });
        expect(await rejectionCode(store.lock(CONVERSATION))).toBe('STORE_FAILURE');
      },
    },
    {
      name: 'a backend whose release throws instead of rejecting: cancelled waiters and close report STORE_FAILURE',
      async run(h) {
        const reported: LockstoreError[] = [];
        const backend = await h.backend();
        const store = await h.store(
          { onError: (e) => reported.push(e) },
          { ...failing(backend, {}), release: () => { throw new Error('synchronous failure'); } },
        );
        const holder = await store.lock(CONVERSATION);
        const controller = new AbortController();
        const waiter = store.lock(CONVERSATION, { signal: controller.signal });
        await h.settle();
        controller.abort();
        expect(await rejectionCode(waiter)).toBe('ACQUIRE_ABORTED');
        await h.settle();
        expect(reported.map((e) => e.code)).toEqual(['STORE_FAILURE']);
        expect(await rejectionCode(holder.release())).toBe('STORE_FAILURE');
        const open = await store.lock(`${CONVERSATION}-open`);
        await store.close();
        expect(open.signal.aborted).toBe(true);
      },
    },
    {
      name: 'a failed release never masks the handler error',
      async run(h) {
        const reported: LockstoreError[] = [];
        const store = await h.store({ onError: (e) => reported.push(e) }, failing(await h.backend(), { release: true }));
        const failure = new Error('handler failed');
        await expect(store.withLock(CONVERSATION, () => Promise.reject(failure))).rejects.toBe(failure);
        expect(reported.map((e) => e.code)).toEqual(['STORE_FAILURE']);
      },
    },
    {
      name: 'a failed release after a successful handler is reported, and the result returned',
      async run(h) {
        const reported: LockstoreError[] = [];
        const store = await h.store({ onError: (e) => reported.push(e) }, failing(await h.backend(), { release: true }));
        expect(await store.withLock(CONVERSATION, () => 42)).toBe(42);
        expect(reported.map((e) => e.code)).toEqual(['STORE_FAILURE']);
      },
    },
    {
      name: 'an explicit release that fails throws STORE_FAILURE',
      async run(h) {
        const store = await h.store({}, failing(await h.backend(), { release: true }));
        const lock = await store.lock(CONVERSATION);
        expect(await rejectionCode(lock.release())).toBe('STORE_FAILURE');
      },
    },
    {
      name: 'a holder that cannot renew loses its lease when its lifetime runs out',
      async run(h) {
        const store = await h.store({ onError: () => {} }, failing(await h.backend(), { refresh: true }));
        const lock = await store.lock(CONVERSATION);
        await h.advance(h.lifetimeMs * 0.5);
        expect(lock.signal.aborted).toBe(false);
        for (let i = 0; i < 4 && !lock.signal.aborted; i++) await h.advance(h.lifetimeMs * 0.3);
        expect(LockstoreError.is(lock.signal.reason, 'LEASE_LOST')).toBe(true);
        expect((lock.signal.reason as Error).cause).toBeInstanceOf(Error);
      },
    },
    {
      name: 'closing the store fails waiters with STORE_CLOSED and aborts holders',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const waiter = track(store.lock(CONVERSATION));
        await h.settle();
        await store.close();
        expect(await rejectionCode(waiter.promise)).toBe('STORE_CLOSED');
        expect(LockstoreError.is(holder.signal.reason, 'STORE_CLOSED')).toBe(true);
        expect(await rejectionCode(store.lock(CONVERSATION))).toBe('STORE_CLOSED');
      },
    },
  ],
};

export const inspection: CheckGroup = {
  name: 'inspection',
  checks: [
    {
      name: 'inspect lists tickets in order with their expiry, the holder and the newest',
      async run(h) {
        const store = await h.store();
        const before = h.clock.now();
        const holder = await store.lock(CONVERSATION);
        const waiters = [track(store.lock(CONVERSATION)), track(store.lock(CONVERSATION))];
        await h.settle();
        const state = await store.inspect(CONVERSATION);
        expect(state.tickets).toHaveLength(3);
        expect(state.nowServing).toBe(holder.fence);
        expect(state.tickets[0]!.ticket).toBe(holder.fence);
        expect(state.lastIssued).toBe(state.tickets[2]!.ticket);
        expect(state.waiting).toBe(2);
        expect(state.isSomeoneWaiting).toBe(true);
        for (const { expiresAt } of state.tickets) {
          expect(expiresAt).toBeGreaterThan(before + h.lifetimeMs * 0.5);
          expect(expiresAt).toBeLessThanOrEqual(h.clock.now() + h.lifetimeMs + 50);
        }
        await holder.release();
        for (const waiter of waiters) await (await waiter.promise).release();
      },
    },
    {
      name: 'bad arguments are INVALID_ARGUMENT errors naming what was wrong',
      async run(h) {
        const store = await h.store();
        const cases: [Promise<unknown>, RegExp][] = [
          [store.lock(''), /conversationId/],
          [store.lock(42 as unknown as string), /conversationId/],
          [store.lock(CONVERSATION, { lifetimeMs: -1 }), /lifetimeMs/],
          [store.lock(CONVERSATION, { lifetimeMs: Number.NaN }), /lifetimeMs/],
          [store.lock(CONVERSATION, { timeoutMs: Number.NaN }), /timeoutMs/],
          [store.lock(CONVERSATION, { signal: {} as AbortSignal }), /signal/],
          [store.inspect(''), /conversationId/],
        ];
        for (const [promise, pattern] of cases) {
          const error = await promise.catch((e: unknown) => e);
          expect(LockstoreError.is(error, 'INVALID_ARGUMENT')).toBe(true);
          expect((error as Error).message).toMatch(pattern);
        }
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
      },
    },
    {
      name: 'conversation ids with special characters never see each other',
      async run(h) {
        const store = await h.store();
        const ids = ['u', 'u:7', '*', '?', '[a]', '{tag}', 'lock:u', 'ü', '\u0000\n', 'x'.repeat(10_000)];
        const locks: HeldLock[] = [];
        for (const id of ids) locks.push(await store.lock(id, { timeoutMs: 0 }));
        for (const [i, id] of ids.entries()) {
          const state = await store.inspect(id);
          expect(state.tickets.map((t) => t.ticket)).toEqual([locks[i]!.fence]);
        }
        for (const lock of locks) await lock.release();
        for (const id of ids) expect((await store.inspect(id)).tickets).toEqual([]);
      },
    },
  ],
};

/** Calls `call` and returns `CODE: message` of the lockstore error it fails with, or why it did not. */
async function failure(call: () => Promise<unknown>): Promise<string> {
  const error = await rejectionOf(call()).catch((e: unknown) => e as Error);
  return LockstoreError.is(error) ? `${error.code}: ${error.message}` : error.message;
}

const wrong = <T>(value: unknown) => value as T;

export const badInput: CheckGroup = {
  name: 'bad input',
  checks: [
    {
      name: 'every bad argument is a typed error naming it, and leaves nothing locked',
      async run(h) {
        const store = await h.store();
        const cases: [() => Promise<unknown>, RegExp][] = [
          [() => store.lock(wrong(undefined)), /^INVALID_ARGUMENT: conversationId must be a string, got undefined$/],
          [() => store.lock(wrong(null)), /^INVALID_ARGUMENT: conversationId must be a string, got null$/],
          [() => store.lock(wrong(7)), /^INVALID_ARGUMENT: conversationId must be a string, got 7$/],
          [() => store.lock(wrong({ id: 1 })), /^INVALID_ARGUMENT: conversationId must be a string, got a object$/],
          [() => store.lock(wrong(Symbol('s'))), /^INVALID_ARGUMENT: conversationId must be a string, got a symbol$/],
          [() => store.lock(''), /^INVALID_ARGUMENT: conversationId must not be empty$/],
          [() => store.lock('x'.repeat(65_537)), /^INVALID_ARGUMENT: conversationId is 65537 characters long; the limit is 65536$/],
          [() => store.lock(CONVERSATION, wrong('fast')), /^INVALID_ARGUMENT: options must be an object, got "fast"$/],
          [() => store.lock(CONVERSATION, { lifetimeMs: -5 }), /^INVALID_ARGUMENT: lifetimeMs must be .*got -5$/],
          [() => store.lock(CONVERSATION, { lifetimeMs: 0 }), /^INVALID_ARGUMENT: lifetimeMs .*got 0$/],
          [() => store.lock(CONVERSATION, { lifetimeMs: Number.NaN }), /^INVALID_ARGUMENT: lifetimeMs .*got NaN$/],
          [() => store.lock(CONVERSATION, { lifetimeMs: Infinity }), /^INVALID_ARGUMENT: lifetimeMs .*got Infinity$/],
          [() => store.lock(CONVERSATION, { lifetimeMs: 1.5 }), /^INVALID_ARGUMENT: lifetimeMs .*got 1.5$/],
          [() => store.lock(CONVERSATION, { lifetimeMs: wrong('1000') }), /^INVALID_ARGUMENT: lifetimeMs .*got "1000"$/],
          [() => store.lock(CONVERSATION, { timeoutMs: -1 }), /^INVALID_ARGUMENT: timeoutMs .*got -1$/],
          [() => store.lock(CONVERSATION, { timeoutMs: Number.NaN }), /^INVALID_ARGUMENT: timeoutMs .*got NaN$/],
          [() => store.lock(CONVERSATION, { signal: wrong({ aborted: false }) }), /^INVALID_ARGUMENT: signal must be an AbortSignal, got a object$/],
          [() => store.lock(CONVERSATION, { renew: wrong('yes') }), /^INVALID_ARGUMENT: renew must be a boolean, got "yes"$/],
          [() => store.withLock(CONVERSATION, wrong(undefined)), /^INVALID_ARGUMENT: fn must be a function, got undefined$/],
          [() => store.inspect(wrong(undefined)), /^INVALID_ARGUMENT: conversationId/],
          [() => store.deleteLock(''), /^INVALID_ARGUMENT: conversationId/],
        ];
        const seen: string[] = [];
        for (const [call, pattern] of cases) {
          const outcome = await failure(call);
          seen.push(outcome);
          expect(outcome).toMatch(pattern);
        }
        expect(seen).toHaveLength(cases.length);
        expect((await store.inspect(CONVERSATION)).tickets).toEqual([]);
        const lock = await store.lock(CONVERSATION, { timeoutMs: 0 });
        await lock.release();
      },
    },
    {
      name: 'a released, lost or disposed lock can be released again without effect',
      async run(h) {
        const store = await h.store();
        const first = await store.lock(CONVERSATION);
        await first[Symbol.asyncDispose]();
        await first.release();
        await first[Symbol.asyncDispose]();
        expect(first.done).toBe(true);
        const second = await store.lock(CONVERSATION);
        await first.release();
        expect((await store.inspect(CONVERSATION)).nowServing).toBe(second.fence);
        await store.deleteLock(CONVERSATION);
        await h.advance(h.lifetimeMs / 2);
        await h.until(() => second.signal.aborted, 'the deletion is noticed');
        await second.release();
        expect(second.done).toBe(true);
      },
    },
    {
      name: 'an acquire aborted while waiting leaves nothing behind, and the signal does nothing after',
      async run(h) {
        const store = await h.store();
        const holder = await store.lock(CONVERSATION);
        const controller = new AbortController();
        const waiter = store.lock(CONVERSATION, { signal: controller.signal });
        await h.settle();
        controller.abort();
        expect(await rejectionCode(waiter)).toBe('ACQUIRE_ABORTED');
        controller.abort();
        await holder.release();
        await h.until(async () => (await store.inspect(CONVERSATION)).tickets.length === 0, 'the queue empties');
      },
    },
    {
      name: 'a closed store refuses every call with STORE_CLOSED, and closing again does nothing',
      async run(h) {
        const store = await h.store();
        const lock = await store.lock(CONVERSATION);
        await store.close();
        await store.close();
        for (const call of [() => store.lock(CONVERSATION), () => store.inspect(CONVERSATION), () => store.deleteLock(CONVERSATION), () => store.withLock(CONVERSATION, () => 1)]) {
          expect(await failure(call)).toMatch(/^STORE_CLOSED: /);
        }
        expect(lock.done).toBe(true);
        await lock.release();
      },
    },
  ],
};

/** Every group of checks, in the order the suite runs them (the model test is in `model.ts`). */
export const groups: readonly CheckGroup[] = [basics, ordering, expiry, renewal, cancellation, failures, inspection, badInput];
