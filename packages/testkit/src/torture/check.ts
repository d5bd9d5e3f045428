import type { LogLine } from './protocol.js';

/** A fault the runner injected, as the checker needs it. */
export interface FaultRecord {
  readonly kind: string;
  readonly at: number;
  /** When the fault was over (the same as `at` for a kill). */
  readonly until: number;
  /** The worker killed, for kills. */
  readonly worker?: string;
  /** The conversation a killed worker held, for kills while holding. */
  readonly conversation?: string;
}

/** A critical section: from a lock's grant to the end of its handler. */
export interface Section {
  readonly worker: string;
  readonly message: number;
  readonly conversation: string;
  readonly fence: number;
  readonly start: number;
  readonly end: number;
  /** The lock's signal said the lease was lost before the handler ended. */
  readonly lost: boolean;
  /** The worker was killed inside it; `end` is the kill. */
  readonly killed: boolean;
}

/** What the checker found. Every field but the figures must be zero for a clean run. */
export interface Verdict {
  readonly sections: number;
  /** Critical sections of one conversation that overlapped without a signalled lease loss. */
  readonly overlaps: number;
  /** Overlaps after a signalled lease loss, where the fence orders the two holders (allowed). */
  readonly fencedOverlaps: number;
  /** Overlaps after a lease loss where the fences do not order the holders. */
  readonly unfencedOverlaps: number;
  /**
   * Overlaps where the store lost its data (a `dataLoss` fault) while the earlier holder ran, and the
   * fence orders the holders: the earlier one had not been told yet. Allowed, as documented.
   */
  readonly dataLossOverlaps: number;
  /** Consecutive sections of a conversation whose fences went down: not FIFO. */
  readonly outOfOrder: number;
  /** Messages of surviving workers handled zero times, or more than once, to completion. */
  readonly missing: number;
  readonly duplicated: number;
  readonly lostLeases: number;
  /** Per fault kind, the longest time from the fault's end to the next critical section that started after it (ms). */
  readonly worstRecoveryMs: Record<string, number>;
  /** Handlers that ran longer than a lifetime and kept their lease (renewal at work). */
  readonly overruns: number;
  readonly retries: Record<string, number>;
}

/** Pairs start and end lines into sections; a worker killed inside a section ends it at the kill. */
export function sectionsOf(lines: readonly LogLine[], faults: readonly FaultRecord[]): Section[] {
  const killedAt = new Map(faults.filter((f) => f.worker !== undefined).map((f) => [f.worker!, f.at]));
  const open = new Map<string, Extract<LogLine, { t: 'start' }>>();
  const sections: Section[] = [];
  for (const line of lines) {
    const key = `${line.w}#${line.m}`;
    if (line.t === 'start') open.set(key, line);
    if (line.t !== 'end') continue;
    const start = open.get(key);
    open.delete(key);
    if (start === undefined) continue;
    sections.push({ worker: line.w, message: line.m, conversation: line.c, fence: line.f, start: start.at, end: line.at, lost: line.lost, killed: false });
  }
  for (const start of open.values()) {
    const end = killedAt.get(start.w);
    if (end === undefined) continue;
    sections.push({ worker: start.w, message: start.m, conversation: start.c, fence: start.f, start: start.at, end, lost: false, killed: true });
  }
  return sections;
}

/**
 * Checks a torture run: mutual exclusion (overlaps allowed only after a signalled lease loss, and
 * then ordered by fence), FIFO (fences rise in the order sections start), exactly-once for the
 * messages of surviving workers, and how fast service came back after each fault.
 */
export function checkRun(
  lines: readonly LogLine[],
  faults: readonly FaultRecord[],
  survivors: ReadonlySet<string>,
  lifetimeMs: number,
  dataLossKinds: ReadonlySet<string> = new Set(),
): Verdict {
  const dataLosses = faults.filter((f) => dataLossKinds.has(f.kind)).map((f) => f.at);
  const sections = sectionsOf(lines, faults);
  const byConversation = new Map<string, Section[]>();
  for (const s of sections) byConversation.set(s.conversation, [...(byConversation.get(s.conversation) ?? []), s]);

  let overlaps = 0;
  let fencedOverlaps = 0;
  let unfencedOverlaps = 0;
  let dataLossOverlaps = 0;
  let outOfOrder = 0;
  for (const list of byConversation.values()) {
    list.sort((a, b) => a.start - b.start);
    let latest: Section | undefined;
    for (const [i, s] of list.entries()) {
      if (i > 0 && s.fence < list[i - 1]!.fence) outOfOrder++;
      if (latest !== undefined && s.start < latest.end) {
        const earlier = latest;
        const lostData = dataLosses.some((at) => at >= earlier.start && at <= s.start);
        if (earlier.fence > s.fence) unfencedOverlaps++;
        else if (earlier.lost) fencedOverlaps++;
        else if (lostData) dataLossOverlaps++;
        else overlaps++;
      }
      if (latest === undefined || s.end > latest.end) latest = s;
    }
  }

  const completions = new Map<string, number>();
  for (const s of sections) if (!s.lost && !s.killed) completions.set(`${s.worker}#${s.message}`, (completions.get(`${s.worker}#${s.message}`) ?? 0) + 1);
  let missing = 0;
  let duplicated = 0;
  const taken = new Set(lines.filter((line) => line.t === 'take' && survivors.has(line.w)).map((line) => `${line.w}#${line.m}`));
  for (const message of taken) {
    const count = completions.get(message) ?? 0;
    if (count === 0) missing++;
    if (count > 1) duplicated++;
  }

  const starts = sections.map((s) => s.start).sort((a, b) => a - b);
  const worstRecoveryMs: Record<string, number> = {};
  for (const fault of faults) {
    // A killed holder blocks its conversation until its ticket expires: measure that conversation.
    const candidates = fault.conversation === undefined ? starts : (byConversation.get(fault.conversation) ?? []).map((s) => s.start);
    const next = candidates.find((start) => start >= fault.until);
    const recovery = next === undefined ? Infinity : next - fault.until;
    worstRecoveryMs[fault.kind] = Math.max(worstRecoveryMs[fault.kind] ?? 0, recovery);
  }

  const retries: Record<string, number> = {};
  for (const line of lines) if (line.t === 'retry') retries[line.code] = (retries[line.code] ?? 0) + 1;

  return {
    sections: sections.length,
    overlaps,
    fencedOverlaps,
    unfencedOverlaps,
    dataLossOverlaps,
    outOfOrder,
    missing,
    duplicated,
    lostLeases: sections.filter((s) => s.lost).length,
    worstRecoveryMs,
    overruns: sections.filter((s) => !s.lost && s.end - s.start > lifetimeMs).length,
    retries,
  };
}
