// pnpm bench [--quick]: every contender on one redis-server, in one run; writes results/report.md and
// results/chart.svg.
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, totalmem } from 'node:os';
import { parseArgs } from 'node:util';
import { startRedis } from '@lockstore/redis-servers';
import { type Contender, asyncMutexMap, contenders, lockstoreMemory, lockstoreRedis, rasa, redisSemaphore } from './contenders.js';
import {
  benchmarkRates,
  ceiling,
  publishFloor,
  commandsPerCycle,
  fifo,
  busyWithoutLock,
  busyHandOff,
  handOff,
  heapAfterConversations,
  heapPerWaiter,
  queueScaling,
  redisMemoryPerWaiter,
  throughputOf,
  uncontended,
} from './measure.js';
import { barChart } from './svg.js';

const { values: args } = parseArgs({ options: { quick: { type: 'boolean', default: false }, out: { type: 'string', default: 'results' } } });
const quick = args.quick;
const log = (line: string) => console.log(line);

// The server runs in a session of its own, as a Redis service does, so that the scheduler shares the
// CPUs between it and the bench's processes rather than counting it as one more bench process.
const server = await startRedis([], { ownSession: true });
// Interrupted, the run still stops it: exiting runs the hook that kills it.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => process.exit(130));
const port = server.port;
const redisVersion = execFileSync('redis-server', ['--version'], { encoding: 'utf8' }).trim();
log(`lockstore bench${quick ? ' (quick)' : ''}: redis-server on port ${port}`);

const limit = { ...(await ceiling(port, quick)), publishFloorMs: await publishFloor(port) };
log(`  ceiling: PING ${limit.pingPerSecond.toFixed(0)}/s, EVALSHA ${limit.evalshaPerSecond.toFixed(0)}/s, round trip ${(limit.pingRttMs * 1000).toFixed(0)} µs`);

const redisContenders = contenders.filter((c) => c.where === 'redis');

const cycle = new Map<string, { p50: number; p99: number; commands: number | undefined }>();
const latencies = await uncontended(contenders, port, quick);
for (const [i, c] of contenders.entries()) {
  const { p50, p99 } = latencies[i]!;
  const commands = c.where === 'redis' ? await commandsPerCycle(c, port) : undefined;
  cycle.set(c.name, { p50, p99, commands });
  log(`  uncontended ${c.name}: p50 ${p50.toFixed(3)} ms, p99 ${p99.toFixed(3)} ms, ${commands ?? 0} commands`);
}

const handoffs = new Map<string, { p50: number; p99: number; stuck: number; order: Awaited<ReturnType<typeof fifo>> }>();
for (const c of redisContenders) {
  const times = await handOff(c, port, quick);
  const order = await fifo(c, port, quick);
  handoffs.set(c.name, { ...times, order });
  log(
    `  hand-off ${c.name}: p50 ${times.p50.toFixed(2)} ms, p99 ${times.p99.toFixed(2)} ms, ${times.stuck} stuck; ` +
      `not FIFO ${order.notFifo}/${order.rounds}, ${order.stuck} stuck`,
  );
}

const busy = new Map<string, Awaited<ReturnType<typeof busyHandOff>>>();
for (const c of redisContenders) {
  const b = await busyHandOff(c, port, quick);
  busy.set(c.name, b);
  log(
    `  busy hand-off ${c.name}: p50 ${b.p50.toFixed(3)} ms (PING in the same run ${b.pingMs.toFixed(3)} ms), ${b.handOffs} of ${b.turns} turns changed process, ${b.overlaps} began before the last ended`,
  );
}
const withoutLock = await busyWithoutLock(port, quick);
log(`  busy relay without a lock, a token passed by a script's PUBLISH: p50 ${withoutLock.p50.toFixed(3)} ms (PING in the same run ${withoutLock.pingMs.toFixed(3)} ms)`);

const keyCounts = [1, 100, 1000, 10_000];
const rates = new Map<string, number>();
const redisCpu = new Map<string, number>();
const overlaps = new Map<string, number>();
const rateKey = (c: Contender, keys: number, processes: number) => `${c.name}|${keys}|${processes}`;
const memoryContenders = contenders.filter((c) => c.where === 'memory');
for (const keys of keyCounts) {
  for (const [group, processes] of [[redisContenders, 1], [redisContenders, 4], [memoryContenders, 1]] as const) {
    const results = await throughputOf(group, port, keys, processes, quick);
    for (const [i, c] of group.entries()) {
      const { rate, slowest, fastest, redisMicrosPerCycle } = results[i]!;
      rates.set(rateKey(c, keys, processes), rate);
      redisCpu.set(rateKey(c, keys, processes), redisMicrosPerCycle);
      log(
        `  throughput ${c.name}, ${keys} keys, ${processes} process(es): ${rate.toFixed(0)} cycles/s (slices ${slowest.toFixed(0)}–${fastest.toFixed(0)}), Redis CPU ${redisMicrosPerCycle.toFixed(1)} µs per cycle`,
      );
    }
  }
}
// Exclusion: 10 keys, each lock held across one event-loop turn, so that two holders can meet.
const exclusion = await throughputOf(contenders, port, 10, 1, quick, true);
for (const [i, c] of contenders.entries()) {
  overlaps.set(c.name, exclusion[i]!.overlaps);
  log(`  exclusion ${c.name}: ${exclusion[i]!.overlaps} overlaps`);
}

const scaling = new Map<string, Awaited<ReturnType<typeof queueScaling>>>();
for (const where of ['redis', 'memory'] as const) {
  for (const waiters of [1, 1000, 10_000]) {
    const result = await queueScaling(where, port, waiters);
    scaling.set(`${where}|${waiters}`, result);
    log(`  queue scaling ${where}, ${waiters} waiters: ${(result.msPerGrant * 1000).toFixed(1)} µs per grant`);
  }
}

const memory = {
  lockstoreHeap: await heapPerWaiter('lockstore', 100_000),
  asyncMutexHeap: await heapPerWaiter('async-mutex', 100_000),
  redis: await redisMemoryPerWaiter(port, 10_000),
  lockstoreAfter: await heapAfterConversations('lockstore', 1_000_000),
  asyncMutexAfter: await heapAfterConversations('async-mutex', 1_000_000),
};
log(`  memory: ${memory.lockstoreHeap.toFixed(0)} B heap per waiting ticket, ${memory.redis.redisBytes.toFixed(0)} B Redis per waiting ticket`);
// The ceiling again at the end: the higher of the two counts, so that a slow start makes no goal easier.
const lastRates = benchmarkRates(port, quick);
limit.pingPerSecond = Math.max(limit.pingPerSecond, lastRates.pingPerSecond);
limit.evalshaPerSecond = Math.max(limit.evalshaPerSecond, lastRates.evalshaPerSecond);
log(`  ceiling at the end: PING ${lastRates.pingPerSecond.toFixed(0)}/s, EVALSHA ${lastRates.evalshaPerSecond.toFixed(0)}/s`);
await server.stop();

// ---- the report ----
const ms = (v: number) => (Number.isNaN(v) ? '—' : v < 1 ? v.toFixed(3) : v < 100 ? v.toFixed(2) : v.toFixed(0));
const int = (v: number) => Math.round(v).toLocaleString('en-US');
const micros = (v: number) => (Number.isNaN(v) ? '—' : v.toFixed(1));
const rate = (c: Contender, keys: number, processes: number) => rates.get(rateKey(c, keys, processes)) ?? Number.NaN;

const goals: [string, boolean, string][] = [];
const goal = (name: string, met: boolean, detail: string) => goals.push([name, met, detail]);
const ours = cycle.get(lockstoreRedis.name)!;
const semaphore = cycle.get(redisSemaphore.name)!;
goal('Uncontended Redis cycle: 2 commands (Rasa: 7)', ours.commands === 2, `${ours.commands} commands; Rasa's port ${cycle.get(rasa.name)!.commands}`);
goal(
  'Uncontended latency within 1.2× of redis-semaphore',
  ours.p50 <= semaphore.p50 * 1.2,
  `p50 ${ms(ours.p50)} ms vs ${ms(semaphore.p50)} ms: ${(ours.p50 / semaphore.p50).toFixed(2)}×`,
);
const ourBusy = busy.get(lockstoreRedis.name)!;
goal(
  'Hand-off p50 within 1.5× of one Redis round trip, on a busy conversation (both timed by the same processes in the same run)',
  ourBusy.p50 <= ourBusy.pingMs * 1.5,
  `${ms(ourBusy.p50)} ms vs a PING of ${ms(ourBusy.pingMs)} ms: ${(ourBusy.p50 / ourBusy.pingMs).toFixed(2)}× ` +
    `(${(ourBusy.p50 / withoutLock.p50).toFixed(2)}× a token passed the same way without a lock, itself ${(withoutLock.p50 / withoutLock.pingMs).toFixed(2)}× its PING)`,
);
const ourHandOff = handoffs.get(lockstoreRedis.name)!;
goal(
  'The same for a lone hand-off, after 20 ms of quiet (against a PING after the same quiet)',
  ourHandOff.p50 <= limit.idleRttMs * 1.5,
  `${ms(ourHandOff.p50)} ms vs ${ms(limit.idleRttMs)} ms: ${(ourHandOff.p50 / limit.idleRttMs).toFixed(2)}× ` +
    `(${(ourHandOff.p50 / limit.publishFloorMs).toFixed(2)}× a bare PUBLISH reaching another process after the same quiet, the floor of any push hand-off)`,
);
const independent = Math.min(
  ...[100, 1000, 10_000].flatMap((k) => [1, 4].map((n) => rate(lockstoreRedis, k, n) / rate(redisSemaphore, k, n))),
);
goal(
  'Throughput on independent conversations at least redis-semaphore’s',
  independent >= 1,
  `worst ratio over 100–10,000 keys, 1 and 4 processes: ${independent.toFixed(2)}×`,
);
const ceilingCycles = limit.evalshaPerSecond / 2;
goal(
  'Throughput with 1,000 conversations in one process at least half the Redis ceiling (EVALSHA rate ÷ 2)',
  rate(lockstoreRedis, 1000, 1) >= ceilingCycles / 2,
  `${int(rate(lockstoreRedis, 1000, 1))} cycles/s vs ceiling ${int(ceilingCycles)}: ${(rate(lockstoreRedis, 1000, 1) / ceilingCycles).toFixed(2)} of it`,
);
const grantRatio = scaling.get('redis|10000')!.msPerGrant / scaling.get('redis|1')!.msPerGrant;
goal('Cost per grant with 10,000 waiters within 1.5× of the cost with 1', grantRatio <= 1.5, `${grantRatio.toFixed(2)}× (Redis store)`);
const memoryRatio = Math.min(...keyCounts.map((k) => rate(lockstoreMemory, k, 1) / rate(asyncMutexMap, k, 1)));
goal('Memory store: at least half of async-mutex’s throughput', memoryRatio >= 0.5, `worst ratio over 1–10,000 keys: ${memoryRatio.toFixed(2)}×`);
goal(
  'Memory store: heap back to baseline after 1,000,000 conversations',
  memory.lockstoreAfter.bytes < 1_000_000,
  `${(memory.lockstoreAfter.bytes / 1024).toFixed(0)} KiB above baseline`,
);

const lines: string[] = [];
const table = (header: string[], rows: (string | number)[][]) => {
  lines.push(`| ${header.join(' | ')} |`, `| ${header.map((_, i) => (i === 0 ? '---' : '---:')).join(' | ')} |`);
  for (const row of rows) lines.push(`| ${row.join(' | ')} |`);
  lines.push('');
};
lines.push(
  '# lockstore benchmarks',
  '',
  `Run ${new Date().toISOString()}${quick ? ' in quick mode' : ''} on ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}, ` +
    `${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${redisVersion.split(' sha')[0]}, one redis-server on loopback shared by every contender, in a session of its own as a service runs.`,
  '',
  '## Goals',
  '',
);
table(['goal', 'met', 'measured'], goals.map(([name, met, detail]) => [name, met ? 'yes' : '**no**', detail]));
lines.push('## The limit', '');
table(
  ['', 'value'],
  [
    ['PING (redis-benchmark, 50 clients; the higher of a run at the start and one at the end)', `${int(limit.pingPerSecond)}/s`],
    ['EVALSHA of `return 1` (redis-benchmark, 50 clients; likewise)', `${int(limit.evalshaPerSecond)}/s`],
    ['one PING round trip, back to back, p50', `${ms(limit.pingRttMs)} ms`],
    ['one PING round trip after 20 ms of quiet (as before each hand-off), p50', `${ms(limit.idleRttMs)} ms`],
    ['a PUBLISH reaching a subscriber in another process after 20 ms of quiet, p50', `${ms(limit.publishFloorMs)} ms`],
    [
      "a busy relay's hand-off without a lock: a token passed between two processes by a script's PUBLISH, each timing a PING meanwhile, p50",
      `${ms(withoutLock.p50)} ms (PING meanwhile ${ms(withoutLock.pingMs)} ms)`,
    ],
    ['one EVALSHA round trip, p50', `${ms(limit.evalshaRttMs)} ms`],
  ],
);
lines.push('## Uncontended lock + release', '');
table(
  ['contender', 'p50 ms', 'p99 ms', 'Redis commands per cycle'],
  contenders.map((c) => [c.name, ms(cycle.get(c.name)!.p50), ms(cycle.get(c.name)!.p99), cycle.get(c.name)!.commands ?? '—']),
);
lines.push(
  '## Hand-off between processes',
  '',
  'From a release on one process to the next holder starting on another. *Busy*: two processes relay one lock for a few seconds, each queueing again as soon as it lets go and timing one PING while it holds the lock, so that the round trip is measured by the same processes at the same moments; a turn that began before the last one ended is a broken lock, not a hand-off, and is counted apart. *Lone*: one hand-off after 20 ms of quiet, when waking the waiting process costs most. *Not FIFO*: how often four waiters, enqueued 15 ms apart from two processes, were not served in that order. *Stuck*: a waiter, lone or in the FIFO rounds, that still had no lock after 15 s (a poller whose ticket was lost waits for ever); its round counts for nothing else and its process is replaced.',
  '',
);
table(
  [
    'contender',
    'busy p50 ms',
    'busy p99 ms',
    'PING meanwhile p50 ms',
    'turns that changed process',
    'turns begun before the last ended',
    'lone p50 ms',
    'lone p99 ms',
    'not FIFO',
    'stuck',
  ],
  redisContenders.map((c) => {
    const h = handoffs.get(c.name)!;
    const b = busy.get(c.name)!;
    const { notFifo, rounds, stuck } = h.order;
    const stuckCell = `${h.stuck} lone, ${stuck} FIFO rounds`;
    return [
      c.name,
      ms(b.p50),
      ms(b.p99),
      ms(b.pingMs),
      `${int(b.handOffs)} of ${int(b.turns)}`,
      int(b.overlaps),
      ms(h.p50),
      ms(h.p99),
      `${notFifo} of ${rounds} rounds`,
      stuckCell,
    ];
  }),
);
lines.push(
  '## Throughput (lock cycles per second, 64 in flight per process)',
  '',
  `The contenders of a column take turns in slices of ${quick ? '0.7' : '1.5'} s, ${quick ? 3 : 5} each, in a new random order each round; the median slice is shown. A process still waiting for locks when its slice ends (Rasa's pollers can wait for ever) is replaced by a fresh one, so that its leftover work does not slow the next contender. The last column is a separate run on 10 keys where each lock is held across one event-loop turn: the times a process saw one key held twice at once, that is, a broken lock (summed over the slices).`,
  '',
);
table(
  ['contender', ...keyCounts.flatMap((k) => [`${int(k)} keys, 1 proc`, `${int(k)} keys, 4 procs`]), 'overlaps seen'],
  contenders.map((c) => [
    c.name,
    ...keyCounts.flatMap((k) => [int(rate(c, k, 1)), c.where === 'redis' ? int(rate(c, k, 4)) : '—']),
    overlaps.get(c.name) ?? 0,
  ]),
);
lines.push(
  "Redis's own CPU time per lock cycle in the same slices (µs, from INFO cpu, median slice). With four processes on two cores, Redis competes with them for the CPUs, so this cost bounds the throughput.",
  '',
);
table(
  ['contender', ...keyCounts.flatMap((k) => [`${int(k)} keys, 1 proc`, `${int(k)} keys, 4 procs`])],
  redisContenders.map((c) => [c.name, ...keyCounts.flatMap((k) => [1, 4].map((p) => micros(redisCpu.get(rateKey(c, k, p))!)))]),
);
lines.push('## Queue length', '', 'One conversation with N waiting tickets; the lock passes down the queue, each holder releasing at once.', '');
table(
  ['store', ...[1, 1000, 10_000].map((n) => `${int(n)} waiters: µs per grant`), 'Redis µs per script call (1 / 10,000)'],
  (['redis', 'memory'] as const).map((where) => [
    where === 'redis' ? lockstoreRedis.name : lockstoreMemory.name,
    ...[1, 1000, 10_000].map((n) => (scaling.get(`${where}|${n}`)!.msPerGrant * 1000).toFixed(1)),
    where === 'redis' ? `${scaling.get('redis|1')!.serverUsecPerCall.toFixed(2)} / ${scaling.get('redis|10000')!.serverUsecPerCall.toFixed(2)}` : '—',
  ]),
);
lines.push('## Memory', '');
table(
  ['', 'value'],
  [
    ['lockstore memory: heap per waiting ticket (100,000 waiting)', `${int(memory.lockstoreHeap)} B`],
    ['async-mutex: heap per waiting acquire (100,000 waiting)', `${int(memory.asyncMutexHeap)} B`],
    ['lockstore redis: Redis memory per waiting ticket (10,000 waiting)', `${int(memory.redis.redisBytes)} B`],
    ['lockstore redis: client heap per waiting ticket', `${int(memory.redis.heapBytes)} B`],
    ['lockstore memory: heap above baseline after 1,000,000 conversations', `${int(memory.lockstoreAfter.bytes / 1024)} KiB`],
    ['async-mutex Map: heap above baseline after 1,000,000 conversations', `${int(memory.asyncMutexAfter.bytes / 1024)} KiB`],
  ],
);
lines.push(
  '## Notes',
  '',
  "- Rasa's algorithm is a faithful port of its RedisLockStore (JSON ticket list with GET/SET, 1 s polling), run for comparison only.",
  '- redis-semaphore and redlock run with their defaults; when they give up waiting, the caller retries, as a message handler must.',
  '- The memory contenders run in one process: they have no hand-off between processes.',
  '- In the busy relay, a dash means that no turn changed process, so no hand-off was measured: one process took every turn.',
  "- Rasa's figures with few keys include its races: concurrent issues read the same list and run together (its weakness W1), which inflates its throughput.",
  '- Every Redis contender uses the same ioredis client, with its default options.',
  "- The redis-server runs in a session of its own, as a Redis service does. As a plain child of the bench, Linux's autogroup scheduling would count it as one more process of the bench's session, which delays its wake-ups and slows every contender.",
  '',
  '![chart](chart.svg)',
  '',
);

mkdirSync(args.out, { recursive: true });
writeFileSync(`${args.out}/report.md`, lines.join('\n'));
writeFileSync(
  `${args.out}/chart.svg`,
  barChart('Hand-off p50 between processes (ms, log scale) and throughput with 1,000 conversations (cycles/s, log scale)', [
    { label: 'hand-off p50, busy conversation (ms)', values: redisContenders.map((c) => ({ name: c.name, value: busy.get(c.name)!.p50 })) },
    { label: 'cycles/s, 1,000 keys, 1 process', values: contenders.map((c) => ({ name: c.name, value: rate(c, 1000, 1) })) },
  ]),
);
log(`\n${goals.map(([name, met, detail]) => `${met ? 'met    ' : 'NOT MET'} ${name}: ${detail}`).join('\n')}`);
log(`\nwrote ${args.out}/report.md and ${args.out}/chart.svg`);
process.exit(0);
