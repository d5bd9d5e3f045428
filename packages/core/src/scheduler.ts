import type { Clock } from './clock.js';

interface Entry<T> {
  readonly at: number;
  /** How much earlier than `at` the item may run, to join a batch. */
  readonly slack: number;
  readonly item: T;
}

/**
 * Runs work for many items on one timer: each item has at most one due time, and when the timer fires
 * every due item is handed over in a single batch. This is what lets a process renew and re-check
 * thousands of tickets with one timer and one backend round trip per tick.
 */
export class Scheduler<T extends object> {
  readonly #clock: Clock;
  readonly #onDue: (items: T[]) => void;
  readonly #heap: Entry<T>[] = [];
  // An item's live entry. Entries replaced or cancelled stay in the heap and are skipped when popped,
  // which keeps rescheduling O(log n) without searching the heap.
  readonly #live = new Map<T, Entry<T>>();
  #timer: unknown = undefined;
  #timerAt = Infinity;
  /** The largest slack ever scheduled: how far ahead a firing looks for items to take along. */
  #maxSlack = 0;

  constructor(clock: Clock, onDue: (items: T[]) => void) {
    this.#clock = clock;
    this.#onDue = onDue;
  }

  /**
   * Makes `item` due at `at` (ms since the epoch), replacing any earlier due time. With `slack`, the
   * item may run up to that much earlier, with a batch that fires anyway: renewals of locks taken at
   * nearly the same time then share one tick instead of each costing one.
   */
  schedule(item: T, at: number, slack = 0): void {
    const entry = { at, slack, item };
    this.#maxSlack = Math.max(this.#maxSlack, slack);
    this.#live.set(item, entry);
    this.#push(entry);
    this.#arm();
  }

  /** Forgets `item`'s due time. */
  cancel(item: T): void {
    if (!this.#live.delete(item)) return;
    if (this.#live.size === 0) this.#disarm();
    // Cancelled entries wait in the heap until their time; past twice the live ones, rebuild it, so
    // that thousands of short locks per second do not pile up a lifetime's worth of dead entries.
    else if (this.#heap.length > 2 * this.#live.size + 64) this.#compact();
  }

  #compact(): void {
    const live = [...this.#live.values()];
    this.#heap.length = 0;
    for (const entry of live) this.#push(entry);
  }

  /** Cancels everything. */
  clear(): void {
    this.#live.clear();
    this.#disarm();
  }

  #fire(): void {
    this.#timer = undefined;
    this.#timerAt = Infinity;
    const now = this.#clock.now();
    const due: T[] = [];
    const notYet: Entry<T>[] = [];
    for (let top = this.#heap[0]; top !== undefined && top.at <= now + this.#maxSlack; top = this.#heap[0]) {
      this.#pop();
      if (this.#live.get(top.item) !== top) continue;
      if (top.at - top.slack > now) {
        notYet.push(top);
        continue;
      }
      this.#live.delete(top.item);
      due.push(top.item);
    }
    for (const entry of notYet) this.#push(entry);
    this.#arm();
    if (due.length > 0) this.#onDue(due);
  }

  #arm(): void {
    this.#dropStale();
    const top = this.#heap[0];
    if (top === undefined) return this.#disarm();
    if (top.at >= this.#timerAt) return;
    this.#disarm();
    this.#timerAt = top.at;
    this.#timer = this.#clock.setTimeout(() => this.#fire(), Math.max(0, top.at - this.#clock.now()));
  }

  #disarm(): void {
    if (this.#timer !== undefined) this.#clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#timerAt = Infinity;
    if (this.#live.size === 0) this.#heap.length = 0;
  }

  #dropStale(): void {
    for (let top = this.#heap[0]; top !== undefined; top = this.#heap[0]) {
      if (this.#live.get(top.item) === top) return;
      this.#pop();
    }
  }

  #push(entry: Entry<T>): void {
    const heap = this.#heap;
    heap.push(entry);
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (heap[parent]!.at <= entry.at) break;
      heap[i] = heap[parent]!;
      i = parent;
    }
    heap[i] = entry;
  }

  #pop(): void {
    const heap = this.#heap;
    const last = heap.pop();
    if (last === undefined || heap.length === 0) return;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= heap.length) break;
      const right = left + 1;
      const child = right < heap.length && heap[right]!.at < heap[left]!.at ? right : left;
      if (heap[child]!.at >= last.at) break;
      heap[i] = heap[child]!;
      i = child;
    }
    heap[i] = last;
  }
}
