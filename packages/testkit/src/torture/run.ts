import { type ChildProcess, fork } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLockStore } from '@lockstore/core';
import { type FaultRecord, type Verdict, checkRun } from './check.js';
import type { LogLine, WorkerPlan, WorkerState } from './protocol.js';
import { wallClock } from './protocol.js';

/** The faults every cross-process backend can take: killing workers. */
export const WORKER_FAULTS = ['kill-holder', 'kill-waiter'] as const;

/** Options of {@link runTorture}. */
export interface TortureOptions {
  /** The `lock_store` config of a backend shared across processes. */
  readonly config: unknown;
  /** Where the backend's module is resolved from. @default process.cwd() */
  readonly resolveFrom?: string;
  /** Worker processes running at once. @default 4 */
  readonly workers?: number;
  /** Messages in flight per worker. @default 3 */
  readonly concurrency?: number;
  /** @default 8 */
  readonly conversations?: number;
  /** How long faults are injected, in ms; the run then drains. @default 20_000 */
  readonly durationMs?: number;
  /** Ticket lifetime in ms. @default 2000 */
  readonly lifetimeMs?: number;
  /** Longest handler work in ms. @default 30 */
  readonly workMs?: number;
  /** Mean time between injected faults, in ms. @default 1000 */
  readonly faultEveryMs?: number;
  /** Which faults to inject: worker faults, and the names of `backendFaults`. @default all */
  readonly faults?: readonly string[];
  /** Faults of the backend itself (drop connections, stall, restart), by name; each resolves when over. */
  readonly backendFaults?: Readonly<Record<string, () => Promise<void>>>;
  /** Which of `backendFaults` lose the store's data (a restart without persistence). */
  readonly dataLossFaults?: readonly string[];
  /** Whether workers overrun their lifetime, time out, get aborted, and run with skewed clocks. @default true */
  readonly workerFaults?: boolean;
  /** Counts what the backend still stores once everything drained. */
  readonly leftovers?: () => Promise<number>;
  /** Told of progress about once a second. */
  readonly onProgress?: (line: string) => void;
}

/** The outcome of a torture run. */
export interface TortureReport {
  readonly verdict: Verdict;
  readonly faults: Record<string, number>;
  readonly workersStarted: number;
  /** Workers that ended on their own with an error (a crash, or a store they could not reach at start). */
  readonly workersCrashed: number;
  /** Conversations that could not be locked within one lifetime plus a margin after the last fault. */
  readonly blocked: number;
  /** The longest wait to lock a conversation after the last fault, in ms. */
  readonly drainMs: number;
  readonly leftovers: number | undefined;
  readonly violations: number;
}

interface Worker {
  readonly id: string;
  readonly child: ChildProcess;
  state: WorkerState;
  killed: boolean;
  crashed: boolean;
  exited: Promise<void>;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const pick = <T>(items: readonly T[]): T | undefined => items[Math.floor(Math.random() * items.length)];

/**
 * Runs worker processes against one store while injecting faults, then checks every critical
 * section they logged. Reusable for any backend whose queues are shared across processes.
 */
export async function runTorture(options: TortureOptions): Promise<TortureReport> {
  const lifetimeMs = options.lifetimeMs ?? 2000;
  const durationMs = options.durationMs ?? 20_000;
  const workerFaults = options.workerFaults ?? true;
  const backendFaults = options.backendFaults ?? {};
  const enabled = options.faults ?? [...WORKER_FAULTS, ...Object.keys(backendFaults)];
  const unknown = enabled.filter((f) => !(WORKER_FAULTS as readonly string[]).includes(f) && !(f in backendFaults));
  if (unknown.length > 0) throw new TypeError(`runTorture: unknown faults ${unknown.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'lockstore-torture-'));
  const conversations = Array.from({ length: options.conversations ?? 8 }, (_, i) => `conversation-${i}`);
  const workerScript = new URL('./worker.js', import.meta.url);
  const workers: Worker[] = [];
  const records: FaultRecord[] = [];
  let started = 0;

  const spawnWorker = (): Worker => {
    const id = `w${started++}`;
    const plan: WorkerPlan = {
      worker: id,
      config: options.config,
      resolveFrom: options.resolveFrom ?? process.cwd(),
      conversations,
      concurrency: options.concurrency ?? 3,
      lifetimeMs,
      workMs: options.workMs ?? 30,
      overrunEvery: workerFaults ? 40 : 0,
      timeoutEvery: workerFaults ? 15 : 0,
      abortEvery: workerFaults ? 17 : 0,
      // One worker in three runs with a clock five minutes fast or slow.
      clockSkewMs: workerFaults && started % 3 === 0 ? (started % 2 ? 1 : -1) * 300_000 : 0,
      logFile: join(dir, `${id}.log`),
    };
    const child = fork(workerScript, [JSON.stringify(plan)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    const worker: Worker = { id, child, state: { holding: 0, waiting: 0, cycles: 0 }, killed: false, crashed: false, exited: Promise.resolve() };
    worker.exited = new Promise((resolve) =>
      child.once('exit', (code) => {
        worker.crashed = !worker.killed && code !== 0;
        resolve();
      }),
    );
    child.on('message', (state: WorkerState) => {
      worker.state = state;
    });
    workers.push(worker);
    return worker;
  };

  const kill = async (kind: 'kill-holder' | 'kill-waiter'): Promise<boolean> => {
    const live = workers.filter((w) => !w.killed);
    const target = kind === 'kill-holder' ? pick(live.filter((w) => w.state.holding > 0)) : pick(live.filter((w) => w.state.waiting > 0));
    if (target === undefined) return false;
    target.killed = true;
    const at = wallClock();
    target.child.kill('SIGKILL');
    await target.exited;
    const holdingIn = kind === 'kill-holder' ? lastStartedConversation(join(dir, `${target.id}.log`)) : undefined;
    records.push({ kind, at, until: at, worker: target.id, ...(holdingIn === undefined ? {} : { conversation: holdingIn }) });
    spawnWorker();
    return true;
  };

  for (let i = 0; i < (options.workers ?? 4); i++) spawnWorker();
  const begin = Date.now();
  let lastProgress = begin;
  while (Date.now() - begin < durationMs) {
    await sleep((options.faultEveryMs ?? 1000) * (0.5 + Math.random()));
    const kind = pick(enabled);
    if (kind === 'kill-holder' || kind === 'kill-waiter') {
      await kill(kind);
    } else if (kind !== undefined) {
      const at = wallClock();
      await backendFaults[kind]!();
      records.push({ kind, at, until: wallClock() });
    }
    if (Date.now() - lastProgress >= 1000) {
      lastProgress = Date.now();
      const cycles = workers.reduce((sum, w) => sum + w.state.cycles, 0);
      options.onProgress?.(`  ${((Date.now() - begin) / 1000).toFixed(0)} s: ${cycles} lock cycles, ${records.length} faults`);
    }
  }

  // Let service resume after the last fault, then stop the workers and see that nothing stays blocked.
  await sleep(lifetimeMs * 2);
  const survivors = workers.filter((w) => !w.killed);
  for (const w of survivors) if (w.child.connected) w.child.send('stop');
  await Promise.all(survivors.map((w) => w.exited));
  const { blocked, drainMs } = await drain(options, conversations, lifetimeMs);
  const leftovers = options.leftovers ? await options.leftovers() : undefined;

  const workersCrashed = workers.filter((w) => w.crashed).length;
  const lines = readdirSync(dir).flatMap((file) => parseLog(join(dir, file)));
  rmSync(dir, { recursive: true, force: true });
  const verdict = checkRun(lines, records, new Set(survivors.map((w) => w.id)), lifetimeMs, new Set(options.dataLossFaults ?? []));
  const faults: Record<string, number> = {};
  for (const record of records) faults[record.kind] = (faults[record.kind] ?? 0) + 1;
  const violations =
    verdict.overlaps + verdict.unfencedOverlaps + verdict.outOfOrder + verdict.missing + verdict.duplicated + blocked + (leftovers ?? 0) + workersCrashed;
  return { verdict, faults, workersStarted: started, workersCrashed, blocked, drainMs, leftovers, violations };
}

async function drain(options: TortureOptions, conversations: readonly string[], lifetimeMs: number) {
  const store = await createLockStore(options.config, { resolveFrom: options.resolveFrom ?? process.cwd(), onError: () => {} });
  const begin = Date.now();
  let blocked = 0;
  let drainMs = 0;
  await Promise.all(
    conversations.map(async (c) => {
      try {
        const t = Date.now();
        await store.withLock(c, () => undefined, { timeoutMs: lifetimeMs + 1000 });
        drainMs = Math.max(drainMs, Date.now() - t);
      } catch {
        blocked++;
        drainMs = Math.max(drainMs, Date.now() - begin);
      }
    }),
  );
  await store.close();
  return { blocked, drainMs };
}

function parseLog(path: string): LogLine[] {
  // A worker killed mid-write may leave a partial last line: it is not a record.
  return readFileSync(path, 'utf8')
    .split('\n')
    .filter((line) => line.endsWith('}'))
    .map((line) => JSON.parse(line) as LogLine);
}

function lastStartedConversation(path: string): string | undefined {
  const open = new Map<string, string>();
  for (const line of parseLog(path)) {
    if (line.t === 'start') open.set(`${line.m}`, line.c);
    if (line.t === 'end') open.delete(`${line.m}`);
  }
  return [...open.values()].at(-1);
}

/** The report as a markdown table of figures. */
export function formatReport(report: TortureReport): string {
  const v = report.verdict;
  const rows: [string, string | number][] = [
    ['critical sections (lock cycles)', v.sections],
    ['worker processes started', report.workersStarted],
    ...Object.entries(report.faults).map(([kind, n]): [string, number] => [`fault: ${kind}`, n]),
    ['handlers that overran their lifetime (kept by renewal)', v.overruns],
    ...Object.entries(v.retries).map(([code, n]): [string, number] => [`acquire ended with ${code} (retried)`, n]),
    ['signalled lease losses', v.lostLeases],
    ['overlaps after a signalled loss, ordered by fence', v.fencedOverlaps],
    ['overlaps across a loss of the store’s data, ordered by fence', v.dataLossOverlaps],
    ['VIOLATION overlapping critical sections', v.overlaps],
    ['VIOLATION overlaps the fence does not order', v.unfencedOverlaps],
    ['VIOLATION tickets served out of FIFO order', v.outOfOrder],
    ['VIOLATION messages of surviving workers not processed', v.missing],
    ['VIOLATION messages processed more than once', v.duplicated],
    ['VIOLATION conversations still blocked after the last fault', report.blocked],
    ['VIOLATION keys left in the store', report.leftovers ?? 'not counted'],
    ['VIOLATION worker processes that crashed', report.workersCrashed],
    ['longest wait to lock a conversation after the last fault (ms)', report.drainMs],
    ...Object.entries(v.worstRecoveryMs).map(([kind, ms]): [string, string] => [`worst recovery after ${kind} (ms)`, Number.isFinite(ms) ? ms.toFixed(0) : 'never']),
  ];
  return ['| figure | value |', '| --- | ---: |', ...rows.map(([k, n]) => `| ${k} | ${n} |`)].join('\n');
}
