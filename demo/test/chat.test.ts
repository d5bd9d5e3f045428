import { createMemoryLockStore } from '@lockstore/memory';
import { describe, expect, it } from 'vitest';
import { type Message, type Processed, handle, percentile, verify } from '../src/chat.js';

const message = (conversation: string, seq: number): Message => ({ conversation, seq, workMs: 1 });
const run = (seq: number, fence: number, start: number, end: number): Processed => ({
  conversation: 'c',
  seq,
  fence,
  replica: 0,
  arrived: 0,
  start,
  end,
});

describe('verify', () => {
  const sent = [message('c', 0), message('c', 1)];

  it('accepts a clean run', () => {
    expect(verify(sent, [run(0, 1, 0, 5), run(1, 2, 5, 9)], true).ok).toBe(true);
  });

  it('counts overlaps, order and exactly-once violations', () => {
    const verdict = verify(sent, [run(1, 1, 0, 5), run(0, 2, 3, 9), run(0, 3, 10, 11)], true);
    expect(verdict.ok).toBe(false);
    expect(verdict.checks.map((c) => [c.name, c.violations])).toEqual([
      ['every message processed exactly once', 1],
      ['one handler at a time per conversation', 1],
      ['handlers ran in ticket (fence) order', 0],
      ['handlers ran in the order messages arrived', 1],
    ]);
  });

  it('catches handlers that ran out of ticket order', () => {
    expect(verify(sent, [run(0, 2, 0, 5), run(1, 1, 6, 9)], false).checks[2]!.violations).toBe(1);
  });
});

describe('handle', () => {
  it('processes the messages of a conversation one at a time, in arrival order', async () => {
    const store = createMemoryLockStore();
    const sent = Array.from({ length: 20 }, (_, seq) => message('c', seq));
    const processed = await Promise.all(sent.map((m) => handle(store, seq(m), m)));
    expect(verify(sent, processed, true).ok).toBe(true);
    await store.close();
  });
});

const seq = (m: Message) => m.seq % 3;

describe('percentile', () => {
  it('takes the nearest rank', () => {
    expect(percentile([5, 1, 4, 2, 3], 50)).toBe(3);
    expect(percentile([5, 1, 4, 2, 3], 100)).toBe(5);
    expect(percentile([], 99)).toBe(0);
  });
});
