import { describe, expect, it } from 'vitest';
import { ManualClock } from '../src/index.js';
import { Scheduler } from '../src/scheduler.js';

describe('Scheduler', () => {
  it('hands over due items in one batch per tick, in due order, with one timer', async () => {
    const clock = new ManualClock(0);
    const batches: string[][] = [];
    const scheduler = new Scheduler<{ name: string }>(clock, (items) => batches.push(items.map((i) => i.name)));
    const [a, b, c, d] = ['a', 'b', 'c', 'd'].map((name) => ({ name }));
    scheduler.schedule(c!, 30);
    scheduler.schedule(a!, 10);
    scheduler.schedule(b!, 10);
    scheduler.schedule(d!, 50);
    expect(clock.pendingTimers).toBe(1);
    await clock.advance(30);
    expect(batches).toEqual([['a', 'b'], ['c']]);
    scheduler.schedule(d!, 40);
    scheduler.cancel(a!);
    await clock.advance(100);
    expect(batches).toEqual([['a', 'b'], ['c'], ['d']]);
    expect(clock.pendingTimers).toBe(0);
  });

  it('cancelled and cleared items never fire, and no timer is left', async () => {
    const clock = new ManualClock(0);
    const fired: number[] = [];
    const scheduler = new Scheduler<{ id: number }>(clock, (items) => fired.push(...items.map((i) => i.id)));
    const items = Array.from({ length: 1000 }, (_, id) => ({ id }));
    for (const item of items) scheduler.schedule(item, 10 + item.id);
    for (const item of items.slice(0, 500)) scheduler.cancel(item);
    await clock.advance(600);
    expect(fired).toEqual(items.slice(500, 591).map((i) => i.id));
    scheduler.clear();
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(10_000);
    expect(fired).toHaveLength(91);
  });
});

describe('Scheduler slack', () => {
  it('takes items whose slack covers the firing into the same batch, and leaves the others', async () => {
    const clock = new ManualClock(0);
    const batches: string[][] = [];
    const scheduler = new Scheduler<{ name: string }>(clock, (items) => batches.push(items.map((i) => i.name)));
    const [a, b, c, d, e] = ['a', 'b', 'c', 'd', 'e'].map((name) => ({ name }));
    scheduler.schedule(a!, 100, 20);
    scheduler.schedule(b!, 110, 20);
    scheduler.schedule(c!, 115, 0);
    scheduler.schedule(d!, 140, 20);
    scheduler.schedule(e!, 130, 20);
    await clock.advance(200);
    expect(batches).toEqual([['a', 'b'], ['c', 'e'], ['d']]);
  });
});
