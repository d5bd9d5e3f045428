// The measurements, one function each. Every contender runs against the same redis-server, in the
// same run, on the same machine.
import { type ChildProcess, execFileSync, fork, spawn } from 'node:child_process';
import { LockStore } from '@lockstore/core';
import { MemoryBackend } from '@lockstore/memory';
import { RedisBackend } from '@lockstore/redis';
import { Mutex as AsyncMutex } from 'async-mutex';
import { Redis } from 'ioredis';
import { type AgentCommand, type AgentReply, type RelayTurn, throughput } from './agent.js';
import { machineClock } from './machine-clock.js';
import { type Contender, lockstoreRedis } from './contenders.js';

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

/**
 * How long a waiter of the hand-off and FIFO scenarios waits before it counts as stuck: a poller can
 * wait for ever once its ticket was lost (Rasa's W2 and W8), while a hand-off takes at most a few
 * poll intervals.
 */
const GIVE_UP_MS = 15_000;

type WithoutTag<T> = T extends unknown ? Omit<T, 'tag'> : never;

/** A bench process running one contender, driven over IPC. */
export class Agent {
  readonly #child: ChildProcess;
  #tag = 0;
  readonly #pending = new Map<number, (reply: AgentReply) => void>();

  private constructor(child: ChildProcess) {
    this.#child = child;
    child.on('message', (reply: AgentReply) => {
      if ('tag' in reply) this.#pending.get(reply.tag)?.(reply);
    });
  }

  static async spawn(contender: Contender, port: number): Promise<Agent> {
    const child = fork(new URL('./agent.js', import.meta.url), [contender.name, String(port)]);
    await new Promise<void>((resolve) => child.once('message', () => resolve()));
    return new Agent(child);
  }

  #send(command: WithoutTag<Extract<AgentCommand, { tag: number }>>): Promise<AgentReply> {
    const tag = ++this.#tag;
    return new Promise((resolve) => {
      this.#pending.set(tag, resolve);
      this.#child.send({ ...command, tag });
    });
  }

  /**
   * Asks for the lock; resolves with the time it was acquired, on the machine clock (it is released
   * after `holdMs`), or null when it had not come after {@link GIVE_UP_MS}.
   */
  async lock(key: string, holdMs: number): Promise<number | null> {
    return ((await this.#send({ cmd: 'lock', key, holdMs, giveUpMs: GIVE_UP_MS })) as { acquiredAt: number | null }).acquiredAt;
  }

  async relay(key: string, durationMs: number): Promise<RelayTurn[]> {
    return ((await this.#send({ cmd: 'relay', key, durationMs })) as { turns: RelayTurn[] }).turns;
  }

  async token(me: 0 | 1, durationMs: number): Promise<RelayTurn[]> {
    return ((await this.#send({ cmd: 'token', me, durationMs })) as { turns: RelayTurn[] }).turns;
  }

  async throughput(keys: number, concurrency: number, durationMs: number, holdTurn: boolean) {
    return (await this.#send({ cmd: 'throughput', keys, concurrency, durationMs, holdTurn })) as { cycles: number; overlaps: number; stillWaiting: number };
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.#child.once('exit', resolve));
    this.#child.send({ cmd: 'close' });
    await exited;
  }
}

/** redis-benchmark's PING and EVALSHA rates on the server, 50 clients. */
export function benchmarkRates(port: number, quick: boolean) {
  const n = quick ? 50_000 : 200_000;
  const rate = (...command: string[]) => {
    const out = execFileSync('redis-benchmark', ['-p', String(port), '-n', String(n), '-c', '50', '-q', ...command], { encoding: 'utf8' });
    const match = /([\d.]+) requests per second/.exec(out.split('\r').at(-1)!);
    return Number(match?.[1] ?? Number.NaN);
  };
  const sha = execFileSync('redis-cli', ['-p', String(port), 'script', 'load', 'return 1'], { encoding: 'utf8' }).trim();
  return { pingPerSecond: rate('ping'), evalshaPerSecond: rate('evalsha', sha, '0') };
}

/** The limit: raw round trips on the same server. */
export async function ceiling(port: number, quick: boolean) {
  const admin = new Redis({ port });
  const sha = (await admin.script('LOAD', 'return 1')) as string;
  const rtts: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await admin.ping();
    rtts.push(performance.now() - t);
  }
  // The same, after 20 ms of quiet, as before each hand-off: on a virtual machine, waking an idle
  // process costs more than the network, so this is the round trip a hand-off is compared with.
  const idleRtts: number[] = [];
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    const t = performance.now();
    await admin.ping();
    idleRtts.push(performance.now() - t);
  }
  const evalshaRtts: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t = performance.now();
    await admin.evalsha(sha, 0);
    evalshaRtts.push(performance.now() - t);
  }
  admin.disconnect();
  return {
    ...benchmarkRates(port, quick),
    pingRttMs: percentile(rtts, 50),
    idleRttMs: percentile(idleRtts, 50),
    evalshaRttMs: percentile(evalshaRtts, 50),
  };
}

/** A PUBLISH from this process reaching a subscriber in another, after 20 ms of quiet: the floor under a push hand-off. */
export async function publishFloor(port: number): Promise<number> {
  const child = fork(new URL('./floor.js', import.meta.url), [String(port)]);
  const arrivals: number[] = [];
  let waiting: ((at: number) => void) | undefined;
  child.on('message', (message: { at?: number }) => {
    if (message.at !== undefined) waiting?.(message.at);
  });
  await new Promise<void>((resolve) => child.once('message', () => resolve()));
  const publisher = new Redis({ port });
  for (let i = 0; i < 100; i++) {
    await sleep(20);
    const arrived = new Promise<number>((resolve) => (waiting = resolve));
    const sentAt = machineClock();
    await publisher.publish('lockstore-bench-floor', 'x');
    arrivals.push((await arrived) - sentAt);
  }
  publisher.disconnect();
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.send('stop');
  await exited;
  return percentile(arrivals, 50);
}

/**
 * Sequential lock + release cycles on one key: the latency of each cycle, per contender. The
 * contenders take turns in small batches, so that a machine that speeds up or slows down during the
 * run does not favour whoever ran first.
 */
export async function uncontended(contenders: readonly Contender[], port: number, quick: boolean) {
  const lockers = await Promise.all(contenders.map((c) => c.create(port)));
  const times = contenders.map((): number[] => []);
  for (const locker of lockers) for (let i = 0; i < 50; i++) await (await locker.lock('warm'))();
  for (let round = 0; round < (quick ? 60 : 200); round++) {
    for (const [i, locker] of lockers.entries()) {
      for (let j = 0; j < 25; j++) {
        const t = performance.now();
        await (await locker.lock('uncontended'))();
        times[i]!.push(performance.now() - t);
      }
    }
  }
  await Promise.all(lockers.map((l) => l.close()));
  return contenders.map((c, i) => ({ name: c.name, p50: percentile(times[i]!, 50), p99: percentile(times[i]!, 99) }));
}

/**
 * Commands the client sends per uncontended cycle, counted with MONITOR (run through redis-cli, so
 * that no client library is involved): calls a script makes show as coming from "lua" and are left out.
 */
export async function commandsPerCycle(contender: Contender, port: number) {
  const locker = await contender.create(port);
  for (let i = 0; i < 5; i++) await (await locker.lock('warm-count'))();
  const monitor = spawn('redis-cli', ['-p', String(port), 'monitor'], { stdio: ['ignore', 'pipe', 'ignore'] });
  let output = '';
  monitor.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await sleep(300);
  const cycles = 50;
  for (let i = 0; i < cycles; i++) await (await locker.lock('counted'))();
  await sleep(300);
  monitor.kill();
  await locker.close();
  const count = output.split('\n').filter((line) => /^\d+\.\d+ \[\d+ (?!lua\])/.test(line)).length;
  return count / cycles;
}

/**
 * Release on this process → the waiter on another process starts: the hand-off time. A waiter that
 * never gets the lock counts as stuck, and its process is replaced, since it may go on polling.
 */
export async function handOff(contender: Contender, port: number, quick: boolean) {
  const holder = await contender.create(port);
  let waiter = await Agent.spawn(contender, port);
  const rounds = contender.polls ? (quick ? 8 : 30) : quick ? 100 : 500;
  const times: number[] = [];
  let stuck = 0;
  for (let i = 0; i < rounds; i++) {
    const key = `handoff${i % 10}`;
    const release = await holder.lock(key);
    const acquired = waiter.lock(key, 0);
    await sleep(20);
    const releasedAt = machineClock();
    await release();
    const acquiredAt = await acquired;
    if (acquiredAt === null) {
      stuck++;
      waiter = await replaced(waiter, contender, port);
    } else {
      times.push(acquiredAt - releasedAt);
    }
    await sleep(5);
  }
  await waiter.close();
  await holder.close();
  return { p50: percentile(times, 50), p99: percentile(times, 99), stuck };
}

/** Closes an agent and starts a fresh one of the same contender in its place. */
async function replaced(agent: Agent, contender: Contender, port: number): Promise<Agent> {
  await agent.close();
  return Agent.spawn(contender, port);
}

/**
 * Hand-offs on a busy conversation: two processes relay one lock, each queueing again as soon as it
 * lets go. A hand-off is a release on one process followed by the next holder starting on the other;
 * the round trip is the PING each holder timed in the same run of the same processes.
 */
export async function busyHandOff(contender: Contender, port: number, quick: boolean) {
  const agents = [await Agent.spawn(contender, port), await Agent.spawn(contender, port)];
  const perAgent = await Promise.all(agents.map((agent) => agent.relay('relay', busyMs(quick))));
  for (const agent of agents) await agent.close();
  return handOffsOf(perAgent);
}

/** A busy relay without a lock, to compare a busy hand-off with: a token passed the same way between two processes. */
export async function busyWithoutLock(port: number, quick: boolean) {
  const agents = [await Agent.spawn(lockstoreRedis, port), await Agent.spawn(lockstoreRedis, port)];
  const perAgent = await Promise.all([agents[0]!.token(0, busyMs(quick)), agents[1]!.token(1, busyMs(quick))]);
  for (const agent of agents) await agent.close();
  return handOffsOf(perAgent);
}

const busyMs = (quick: boolean) => (quick ? 3000 : 10_000);

/**
 * The hand-offs of a relay: from one process's release to the other's next turn. A turn that began
 * before the other process's turn ended is no hand-off but a broken lock, counted as an overlap.
 */
function handOffsOf(perAgent: RelayTurn[][]) {
  const events = perAgent.flatMap((turns, agent) => turns.map((turn) => ({ agent, ...turn }))).sort((a, b) => a.acquiredAt - b.acquiredAt);
  const handOffs: number[] = [];
  let overlaps = 0;
  for (let i = 1; i < events.length; i++) {
    const [before, after] = [events[i - 1]!, events[i]!];
    if (after.acquiredAt < before.releasedAt) overlaps++;
    else if (before.agent !== after.agent) handOffs.push(after.acquiredAt - before.releasedAt);
  }
  return {
    p50: percentile(handOffs, 50),
    p99: percentile(handOffs, 99),
    turns: events.length,
    handOffs: handOffs.length,
    overlaps,
    pingMs: percentile(events.map((e) => e.pingMs), 50),
  };
}

/**
 * Waiters enqueued one after another from two processes: how often they are not served in that
 * order, and how often one of them was never served (stuck; its process is then replaced).
 */
export async function fifo(contender: Contender, port: number, quick: boolean) {
  const holder = await contender.create(port);
  const agents = [await Agent.spawn(contender, port), await Agent.spawn(contender, port)];
  const rounds = contender.polls ? (quick ? 3 : 8) : quick ? 20 : 50;
  const waiters = 4;
  let notFifo = 0;
  let stuck = 0;
  for (let r = 0; r < rounds; r++) {
    const key = `fifo${r}`;
    const release = await holder.lock(key);
    const acquired: Promise<number | null>[] = [];
    for (let w = 0; w < waiters; w++) {
      acquired.push(agents[w % 2]!.lock(key, 5));
      await sleep(15);
    }
    await release();
    const times = await Promise.all(acquired);
    if (times.includes(null)) {
      stuck++;
      for (const [i, agent] of agents.entries()) {
        if (times.some((t, w) => t === null && w % 2 === i)) agents[i] = await replaced(agent, contender, port);
      }
    } else if (times.some((t, i) => i > 0 && t! < times[i - 1]!)) {
      notFifo++;
    }
  }
  for (const agent of agents) await agent.close();
  await holder.close();
  return { rounds, notFifo, stuck };
}

/** The CPU time the Redis server has used so far, in µs, as INFO reports it. */
async function redisCpuMicros(admin: Redis): Promise<number> {
  const info = await admin.info('cpu');
  const seconds = (field: string) => Number(new RegExp(`^${field}:([\\d.]+)`, 'm').exec(info)?.[1] ?? Number.NaN);
  return (seconds('used_cpu_sys') + seconds('used_cpu_user')) * 1e6;
}

/**
 * Lock cycles per second over `keys` keys, from `processes` processes at once, for each contender,
 * the overlaps each saw, and the CPU time Redis spent per cycle. The contenders take turns in short
 * slices and each one's median slice counts, so that a machine that slows down for a while favours
 * nobody.
 */
export async function throughputOf(
  contenders: readonly Contender[],
  port: number,
  keys: number,
  processes: number,
  quick: boolean,
  holdTurn = false,
): Promise<{ rate: number; slowest: number; fastest: number; overlaps: number; redisMicrosPerCycle: number }[]> {
  const [rounds, sliceMs] = quick ? [3, 700] : [5, 1500];
  const concurrency = 64;
  const runners = await Promise.all(
    contenders.map(async (contender) => {
      if (contender.where === 'memory') {
        const locker = await contender.create(port);
        return {
          run: async () => [await throughput(locker, keys, concurrency, sliceMs, holdTurn)],
          close: () => locker.close(),
        };
      }
      const agents = await Promise.all(Array.from({ length: processes }, () => Agent.spawn(contender, port)));
      return {
        run: async () => {
          const results = await Promise.all(agents.map((a) => a.throughput(keys, concurrency, sliceMs, holdTurn)));
          // A process still waiting for locks (Rasa's pollers can wait for ever) would go on loading
          // Redis and the CPUs during the next contender's slice: it is replaced by a fresh one.
          await Promise.all(
            results.map(async ({ stillWaiting }, i) => {
              if (stillWaiting === 0) return;
              agents[i] = await replaced(agents[i]!, contender, port);
            }),
          );
          return results;
        },
        close: async () => void (await Promise.all(agents.map((a) => a.close()))),
      };
    }),
  );
  const rates = contenders.map((): number[] => []);
  const redisMicros = contenders.map((): number[] => []);
  const overlaps = contenders.map(() => 0);
  const admin = new Redis({ port });
  for (let round = 0; round < rounds; round++) {
    // Each round runs the contenders in a new random order, so that none always runs right after the
    // same one: a slice can leave the machine busy for a moment (replaced processes warming up, say).
    for (const i of shuffled(runners.keys())) {
      const cpuBefore = await redisCpuMicros(admin);
      const results = await runners[i]!.run();
      const cycles = results.reduce((sum, r) => sum + r.cycles, 0);
      rates[i]!.push(cycles / (sliceMs / 1000));
      const cpu = (await redisCpuMicros(admin)) - cpuBefore;
      if (cycles > 0) redisMicros[i]!.push(cpu / cycles);
      overlaps[i]! += results.reduce((sum, r) => sum + r.overlaps, 0);
    }
  }
  for (const runner of runners) await runner.close();
  admin.disconnect();
  return contenders.map((_, i) => ({
    rate: percentile(rates[i]!, 50),
    slowest: Math.min(...rates[i]!),
    fastest: Math.max(...rates[i]!),
    overlaps: overlaps[i]!,
    redisMicrosPerCycle: percentile(redisMicros[i]!, 50),
  }));
}

function shuffled<T>(items: Iterable<T>): T[] {
  const result = [...items];
  for (let i = result.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [result[i], result[j]] = [result[j]!, result[i]!];
  }
  return result;
}

/**
 * Cost per grant with `waiters` tickets queued on one conversation: all are enqueued, then the lock
 * passes down the queue, each holder releasing at once. Redis's own time per script call is read from
 * INFO commandstats, so it shows what the server spends, apart from the network.
 */
export async function queueScaling(where: 'redis' | 'memory', port: number, waiters: number) {
  const client = new Redis({ port, enableAutoPipelining: true });
  const backend = where === 'redis' ? new RedisBackend({ client, keyPrefix: 'scaling' }) : new MemoryBackend();
  if (backend instanceof RedisBackend) await backend.start();
  const store = new LockStore(backend);
  const admin = new Redis({ port });
  const repeat = waiters === 1 ? 300 : 1;
  let total = 0;
  let serverUsec = 0;
  for (let r = 0; r < repeat; r++) {
    const key = `scaling-${waiters}-${r}`;
    const holder = await store.lock(key);
    const queued = Array.from({ length: waiters }, () => store.lock(key).then((lock) => lock.release()));
    while ((await store.inspect(key)).waiting < waiters) await sleep(5);
    await admin.config('RESETSTAT');
    const t = performance.now();
    await holder.release();
    await Promise.all(queued);
    total += performance.now() - t;
    const stats = await admin.info('commandstats');
    if (where === 'redis') serverUsec += scriptUsecPerCall(stats);
  }
  await store.close();
  client.disconnect();
  admin.disconnect();
  return { msPerGrant: total / repeat / waiters, serverUsecPerCall: where === 'redis' ? serverUsec / repeat : Number.NaN };
}

/**
 * Redis's own time per call of lockstore's operations, from INFO commandstats: FCALL where the store
 * uses functions, EVALSHA where it runs scripts (both are counted, in case the store switched).
 */
function scriptUsecPerCall(commandstats: string): number {
  let calls = 0;
  let usec = 0;
  for (const [, count, time] of commandstats.matchAll(/cmdstat_(?:fcall|evalsha):calls=(\d+),usec=(\d+)/g)) {
    calls += Number(count);
    usec += Number(time);
  }
  if (calls === 0) throw new Error('INFO commandstats shows no FCALL or EVALSHA');
  return usec / calls;
}

const gc = () => {
  (globalThis as { gc?: () => void }).gc?.();
};
const heapUsed = () => {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
};

/** Heap per waiting ticket, in this process, with `n` waiters on one key. */
export async function heapPerWaiter(kind: 'lockstore' | 'async-mutex', n: number) {
  const before = heapUsed();
  let bytes: number;
  if (kind === 'lockstore') {
    const store = new LockStore(new MemoryBackend());
    const holder = await store.lock('k');
    const waiting = Array.from({ length: n }, () => store.lock('k'));
    await sleep(10);
    bytes = (heapUsed() - before) / n;
    await holder.release();
    for (const w of waiting) await (await w).release();
    await store.close();
  } else {
    const mutex = new AsyncMutex();
    const release = await mutex.acquire();
    const waiting = Array.from({ length: n }, () => mutex.acquire());
    await sleep(10);
    bytes = (heapUsed() - before) / n;
    release();
    for (const w of waiting) (await w)();
  }
  return bytes;
}

/** Redis memory per waiting ticket, and this process's heap per waiter, with `n` waiters. */
export async function redisMemoryPerWaiter(port: number, n: number) {
  const admin = new Redis({ port });
  const client = new Redis({ port, enableAutoPipelining: true });
  const backend = new RedisBackend({ client, keyPrefix: 'memory' });
  await backend.start();
  const store = new LockStore(backend);
  const holder = await store.lock('k');
  const used = async () => Number(/used_memory:(\d+)/.exec(await admin.info('memory'))![1]);
  const before = await used();
  const heapBefore = heapUsed();
  const waiting = Array.from({ length: n }, () => store.lock('k'));
  while ((await store.inspect('k')).waiting < n) await sleep(10);
  const redisBytes = ((await used()) - before) / n;
  const heapBytes = (heapUsed() - heapBefore) / n;
  await holder.release();
  for (const w of waiting) await (await w).release();
  await store.close();
  client.disconnect();
  admin.disconnect();
  return { redisBytes, heapBytes };
}

/** Heap growth after `n` conversations were each locked once and released. */
export async function heapAfterConversations(kind: 'lockstore' | 'async-mutex', n: number) {
  const mutexes = new Map<string, AsyncMutex>();
  const store = new LockStore(new MemoryBackend());
  const before = heapUsed();
  for (let i = 0; i < n; i++) {
    const key = `conversation-${i}`;
    if (kind === 'lockstore') {
      await store.withLock(key, () => undefined);
    } else {
      const mutex = mutexes.get(key) ?? new AsyncMutex();
      mutexes.set(key, mutex);
      const release = await mutex.acquire();
      release();
      if (!mutex.isLocked()) mutexes.delete(key);
    }
  }
  const after = heapUsed();
  await store.close();
  return { bytes: after - before };
}
