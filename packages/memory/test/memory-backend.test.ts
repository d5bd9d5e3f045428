import { LockStore, ManualClock, createLockStore } from '@lockstore/core';
import { describe, expect, it } from 'vitest';
import { MemoryBackend, createMemoryLockStore } from '../src/index.js';

describe('MemoryBackend', () => {
  it('announces each new head exactly once, in ticket order, across 100,000 waiting tickets', async () => {
    const backend = new MemoryBackend({ clock: new ManualClock() });
    const granted: number[] = [];
    backend.onGrant((_, ticket) => granted.push(ticket));
    const tickets: number[] = [];
    for (let i = 0; i < 100_000; i++) tickets.push((await backend.issue('busy', 60_000)).ticket);
    for (const ticket of tickets) await backend.release('busy', ticket);
    expect(granted).toEqual(tickets.slice(1));
    expect(backend.size).toBe(0);
  });

  it('skips expired tickets when they reach the front, announcing the first live one', async () => {
    const clock = new ManualClock();
    const backend = new MemoryBackend({ clock });
    const granted: number[] = [];
    backend.onGrant((_, ticket) => granted.push(ticket));
    const holder = await backend.issue('c', 1000);
    const shortLived = await backend.issue('c', 500);
    const live = await backend.issue('c', 5000);
    await clock.advance(800);
    await backend.release('c', holder.ticket);
    expect(granted).toEqual([live.ticket]);
    expect((await backend.inspect('c')).map((t) => t.ticket)).toEqual([live.ticket]);
    expect(shortLived.granted).toBe(false);
  });

  it('leaves no entry for a conversation whose tickets all expired', async () => {
    const clock = new ManualClock();
    const backend = new MemoryBackend({ clock });
    await backend.issue('c', 100);
    await clock.advance(200);
    expect(await backend.refresh([{ conversationId: 'c', ticket: 1, lifetimeMs: 100 }])).toEqual([{ state: 'gone' }]);
    expect(backend.size).toBe(0);
  });
});

describe('createMemoryLockStore', () => {
  it('keeps one timer for 10,000 waiting locks and leaves nothing behind', async () => {
    const clock = new ManualClock();
    const backend = new MemoryBackend({ clock });
    const store = new LockStore(backend, { clock });
    const holder = await store.lock('busy');
    const waiters = Array.from({ length: 10_000 }, () => store.lock('busy'));
    await clock.advance(0);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(25_000);
    expect(clock.pendingTimers).toBe(1);
    await holder.release();
    let previous = holder.fence;
    for (const waiter of waiters) {
      const lock = await waiter;
      expect(lock.fence).toBe(previous + 1);
      previous = lock.fence;
      await lock.release();
    }
    expect(backend.size).toBe(0);
    expect(clock.pendingTimers).toBe(0);
  });

  it('arms no timer for a lock released before the event loop turns, and renews one held longer', async () => {
    class CountingClock extends ManualClock {
      armed = 0;
      override setTimeout(callback: () => void, ms: number): unknown {
        this.armed++;
        return super.setTimeout(callback, ms);
      }
    }
    const clock = new CountingClock();
    const store = new LockStore(new MemoryBackend({ clock }), { clock, lifetimeMs: 3000 });
    for (let i = 0; i < 100; i++) await (await store.lock(`quick-${i % 3}`)).release();
    expect(clock.armed).toBe(0);

    const held = await store.lock('held');
    expect(clock.armed).toBe(0);
    await clock.advance(0);
    expect(clock.armed).toBe(1);
    await clock.advance(9000);
    expect(held.signal.aborted).toBe(false);
    expect((await store.inspect('held')).tickets.map((t) => t.ticket)).toEqual([held.fence]);
    await held.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('runs 100,000 conversations through and keeps no entry for any of them', async () => {
    const backend = new MemoryBackend();
    const store = new LockStore(backend);
    for (let i = 0; i < 100_000; i++) await store.withLock(`conversation-${i}`, () => undefined);
    expect(backend.size).toBe(0);
    await store.close();
  });

  it('is what createLockStore builds with no config', async () => {
    const store = await createLockStore(undefined, { resolveFrom: new URL('..', import.meta.url).pathname });
    expect(await store.withLock('a', (lock) => lock.fence)).toBe(1);
    expect(store.capabilities).toEqual({ clock: 'injected', multiProcess: false });
    await store.close();
  });

  it('takes the store options', async () => {
    const store = createMemoryLockStore({ lifetimeMs: 1234 });
    expect(store.lifetimeMs).toBe(1234);
    await store.close();
  });
});
