import type { LockStore } from '@lockstore/core';

/** One message processed under its conversation's lock. */
export interface Processed {
  readonly conversation: string;
  readonly seq: number;
  readonly fence: number;
  readonly replica: number;
  /** When the message arrived at the replica, when its handler started and ended (ms, high resolution). */
  readonly arrived: number;
  readonly start: number;
  readonly end: number;
}

/** A message as the load balancer hands it to a replica. */
export interface Message {
  readonly conversation: string;
  readonly seq: number;
  readonly workMs: number;
}

const now = () => performance.timeOrigin + performance.now();
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** What a replica does with a message: take the conversation's lock, work, record. */
export async function handle(store: LockStore, replica: number, message: Message): Promise<Processed> {
  const arrived = now();
  return store.withLock(message.conversation, async (lock) => {
    const start = now();
    await sleep(message.workMs);
    return { conversation: message.conversation, seq: message.seq, fence: lock.fence, replica, arrived, start, end: now() };
  });
}

/** What the run must show: each failed check is a violation. */
export interface Verdict {
  readonly checks: readonly { readonly name: string; readonly violations: number; readonly detail?: string }[];
  readonly ok: boolean;
}

/**
 * Checks a run: every message processed exactly once; per conversation, no two handlers overlapped
 * and handlers ran in ticket (fence) order; with `arrivalOrdered`, also in the order messages were sent.
 */
export function verify(sent: readonly Message[], processed: readonly Processed[], arrivalOrdered: boolean): Verdict {
  const seen = new Map<string, number>();
  for (const p of processed) seen.set(`${p.conversation}#${p.seq}`, (seen.get(`${p.conversation}#${p.seq}`) ?? 0) + 1);
  const missing = sent.filter((m) => !seen.has(`${m.conversation}#${m.seq}`)).length;
  const duplicated = [...seen.values()].filter((n) => n > 1).length;

  const byConversation = new Map<string, Processed[]>();
  for (const p of processed) byConversation.set(p.conversation, [...(byConversation.get(p.conversation) ?? []), p]);
  let overlaps = 0;
  let outOfTicketOrder = 0;
  let outOfArrivalOrder = 0;
  for (const runs of byConversation.values()) {
    const ordered = [...runs].sort((a, b) => a.start - b.start);
    for (let i = 1; i < ordered.length; i++) {
      const [before, after] = [ordered[i - 1]!, ordered[i]!];
      if (after.start < before.end) overlaps++;
      if (after.fence <= before.fence) outOfTicketOrder++;
      if (after.seq < before.seq) outOfArrivalOrder++;
    }
  }
  const checks = [
    { name: 'every message processed exactly once', violations: missing + duplicated, detail: `${missing} missing, ${duplicated} duplicated` },
    { name: 'one handler at a time per conversation', violations: overlaps },
    { name: 'handlers ran in ticket (fence) order', violations: outOfTicketOrder },
    ...(arrivalOrdered ? [{ name: 'handlers ran in the order messages arrived', violations: outOfArrivalOrder }] : []),
  ];
  return { checks, ok: checks.every((c) => c.violations === 0) };
}

/** The p-th percentile (0–100) of `values`, by nearest rank. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return 0;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}
