// A torture worker: its own process, its own store, taking locks on shared conversations until told
// to stop, logging every critical section synchronously (a SIGKILL loses nothing already written).
import { appendFileSync } from 'node:fs';
import { type Clock, type LockOptions, LockstoreError, createLockStore, systemClock } from '@lockstore/core';
import { type LogLine, type WorkerPlan, type WorkerState, wallClock } from './protocol.js';

const plan = JSON.parse(process.argv[2]!) as WorkerPlan;
const log = (line: LogLine) => appendFileSync(plan.logFile, `${JSON.stringify(line)}\n`);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const random = (max: number) => Math.random() * max;

const skewed: Clock = { ...systemClock, now: () => Date.now() + plan.clockSkewMs };

/** Like a service that starts while its store is restarting or unreachable: tries again for a while. */
async function connect() {
  const giveUpAt = Date.now() + 30_000;
  for (;;) {
    try {
      return await createLockStore(plan.config, { clock: skewed, resolveFrom: plan.resolveFrom, onError: () => {} });
    } catch (error) {
      if (!LockstoreError.is(error, 'CONNECTION_FAILED') || Date.now() > giveUpAt) throw error;
      await sleep(200);
    }
  }
}

const store = await connect();

let state: WorkerState = { holding: 0, waiting: 0, cycles: 0 };
const report = (change: Partial<WorkerState>) => {
  state = { ...state, ...change };
  process.send?.(state);
};
let stopping = false;
process.on('message', () => {
  stopping = true;
});

let attempts = 0;
let nextMessage = 0;

async function handle(m: number, c: string): Promise<void> {
  for (;;) {
    const attempt = ++attempts;
    const options: { -readonly [K in keyof LockOptions]: LockOptions[K] } = { lifetimeMs: plan.lifetimeMs };
    if (plan.timeoutEvery && attempt % plan.timeoutEvery === 0) options.timeoutMs = random(plan.lifetimeMs / 4);
    if (plan.abortEvery && attempt % plan.abortEvery === 0) options.signal = AbortSignal.timeout(Math.ceil(random(plan.lifetimeMs / 4)));
    report({ waiting: state.waiting + 1 });
    let lock;
    try {
      lock = await store.lock(c, options);
    } catch (error) {
      log({ t: 'retry', w: plan.worker, m, code: LockstoreError.is(error) ? error.code : String(error) });
      await sleep(20 + random(50));
      continue;
    } finally {
      report({ waiting: state.waiting - 1 });
    }
    report({ holding: state.holding + 1 });
    log({ t: 'start', w: plan.worker, m, c, f: lock.fence, at: wallClock() });
    const overrun = plan.overrunEvery > 0 && attempt % plan.overrunEvery === 0;
    await sleep(overrun ? plan.lifetimeMs * 2.5 : random(plan.workMs));
    const lost = lock.signal.aborted;
    log({ t: 'end', w: plan.worker, m, c, f: lock.fence, at: wallClock(), lost });
    await lock.release().catch(() => {});
    report({ holding: state.holding - 1, cycles: state.cycles + 1 });
    if (!lost) return;
  }
}

await Promise.all(
  Array.from({ length: plan.concurrency }, async () => {
    while (!stopping) {
      const m = nextMessage++;
      const c = plan.conversations[Math.floor(random(plan.conversations.length))]!;
      log({ t: 'take', w: plan.worker, m, c });
      await handle(m, c);
    }
  }),
);
await store.close();
process.exit(0);
