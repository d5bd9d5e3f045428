// A bench process of its own, driven by the main process over IPC: it takes locks when told and
// reports when it got them, or runs a throughput loop. Times are on the machine clock, with sub-ms
// precision, comparable across processes.
import { Redis } from 'ioredis';
import { type Locker, contenderNamed } from './contenders.js';
import { machineClock } from './machine-clock.js';

export type AgentCommand =
  | { readonly cmd: 'lock'; readonly tag: number; readonly key: string; readonly holdMs: number; readonly giveUpMs: number }
  | {
      readonly cmd: 'throughput';
      readonly tag: number;
      readonly keys: number;
      readonly concurrency: number;
      readonly durationMs: number;
      readonly holdTurn: boolean;
    }
  | { readonly cmd: 'relay'; readonly tag: number; readonly key: string; readonly durationMs: number }
  | { readonly cmd: 'token'; readonly tag: number; readonly me: 0 | 1; readonly durationMs: number }
  | { readonly cmd: 'close' };

export type AgentReply =
  | { readonly tag: number; readonly acquiredAt: number | null }
  | { readonly tag: number; readonly cycles: number; readonly overlaps: number; readonly stillWaiting: number }
  | { readonly tag: number; readonly turns: RelayTurn[] }
  | { readonly ready: true };

/** One turn of a relay: when this process got the lock, the PING it timed while holding it, and when it let go. */
export interface RelayTurn {
  readonly acquiredAt: number;
  readonly pingMs: number;
  readonly releasedAt: number;
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Lock attempts for a measurement of `durationMs`. An attempt resolves to the release, or to 'late'
 * once the measurement is over: a lock that never comes (Rasa's waiters can poll for ever once their
 * ticket was overwritten) must not hold it past its end. A late lock that comes after all is released
 * then, so that it blocks no later measurement. `stillWaiting` counts the late attempts whose lock has
 * not come yet: work this process would go on doing after its measurement.
 */
function attemptsFor(locker: Locker, durationMs: number) {
  let timer: NodeJS.Timeout | undefined;
  let stillWaiting = 0;
  const late = new Promise<'late'>((resolve) => {
    timer = setTimeout(() => resolve('late'), durationMs + 100);
  });
  return {
    attempt: async (key: string) => {
      const lock = locker.lock(key);
      const outcome = await Promise.race([lock, late]);
      if (outcome === 'late') {
        stillWaiting++;
        void lock
          .then((release) => release())
          .catch(() => {})
          .finally(() => stillWaiting--);
      }
      return outcome;
    },
    stop: () => {
      clearTimeout(timer);
      return stillWaiting;
    },
  };
}

/**
 * Lock/release cycles on random keys, `concurrency` at a time, for `durationMs`. Also counts the
 * times this process saw a key locked twice at once (a broken lock; other processes are not seen);
 * with `holdTurn`, each lock is held across one turn of the event loop, so that overlaps can show.
 */
export async function throughput(
  locker: Locker,
  keys: number,
  concurrency: number,
  durationMs: number,
  holdTurn = false,
): Promise<{ cycles: number; overlaps: number; stillWaiting: number }> {
  const end = performance.now() + durationMs;
  const attempts = attemptsFor(locker, durationMs);
  const held = new Set<string>();
  let cycles = 0;
  let overlaps = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const key = `k${Math.floor(Math.random() * keys)}`;
        const release = await attempts.attempt(key);
        if (release === 'late') break;
        if (held.has(key)) overlaps++;
        held.add(key);
        if (holdTurn) await new Promise<void>((resolve) => setImmediate(resolve));
        held.delete(key);
        await release();
        cycles++;
      }
    }),
  );
  return { cycles, overlaps, stillWaiting: attempts.stop() };
}

/** One turn of a relay, from its start: the holder times one PING, then is ready to let go. */
async function heldTurn(pinger: Redis): Promise<RelayTurn> {
  const acquiredAt = machineClock();
  const sentAt = performance.now();
  await pinger.ping();
  const pingMs = performance.now() - sentAt;
  return { acquiredAt, pingMs, releasedAt: machineClock() };
}

/**
 * A busy conversation: takes the lock on `key` over and over for `durationMs`, queueing again as soon
 * as it lets go, while other processes do the same. Each holder times one PING on its own connection
 * (the round trip a handler would make), so that hand-offs and round trips are measured by the same
 * processes at the same moments.
 */
async function relay(locker: Locker, pinger: Redis, key: string, durationMs: number): Promise<RelayTurn[]> {
  const end = performance.now() + durationMs;
  const turns: RelayTurn[] = [];
  const attempts = attemptsFor(locker, durationMs);
  while (performance.now() < end) {
    const release = await attempts.attempt(key);
    if (release === 'late') break;
    turns.push(await heldTurn(pinger));
    await release();
  }
  attempts.stop();
  return turns;
}

/**
 * A busy relay without a lock, to compare a busy hand-off with: two processes pass a token for
 * `durationMs`, with the moves of a relay but no lock. The holder times one PING, passes the token by
 * a script that publishes it to the other process's channel (as a release publishes a grant) and then
 * sends one more script call (as a releaser queueing again). The scripts go by EVALSHA, loaded once,
 * as a store's do. Process 0 holds the token first, once process 1 listens.
 */
async function tokenRelay(port: number, pinger: Redis, me: 0 | 1, durationMs: number): Promise<RelayTurn[]> {
  const [commands, subscriber] = [new Redis({ port }), new Redis({ port })];
  commands.defineCommand('passToken', { numberOfKeys: 1, lua: "redis.call('PUBLISH', KEYS[1], 'token') return 1" });
  commands.defineCommand('queueAgain', { numberOfKeys: 0, lua: 'return 1' });
  const { passToken, queueAgain } = commands as unknown as Record<'passToken' | 'queueAgain', (...args: string[]) => Promise<unknown>>;
  const channel = (who: number) => `lockstore-bench-token-${who}`;
  const turns: RelayTurn[] = [];
  let end = Infinity;
  const turn = async () => {
    turns.push(await heldTurn(pinger));
    if (performance.now() >= end) return;
    await passToken.call(commands, channel(1 - me));
    await queueAgain.call(commands);
  };
  subscriber.on('message', () => void turn());
  await subscriber.subscribe(channel(me));
  // Loaded before the first turn, so that no turn pays for loading them.
  await passToken.call(commands, 'lockstore-bench-token-none');
  await queueAgain.call(commands);
  if (me === 0) {
    while (((await commands.pubsub('NUMSUB', channel(1))) as [string, number])[1] === 0) await sleep(5);
  }
  end = performance.now() + durationMs;
  if (me === 0) void turn();
  await sleep(durationMs + 100);
  commands.disconnect();
  subscriber.disconnect();
  return turns;
}

if (process.send !== undefined && process.argv[2] !== undefined) {
  const port = Number(process.argv[3]);
  const locker = await contenderNamed(process.argv[2]).create(port);
  const pinger = new Redis({ host: '127.0.0.1', port });
  const reply = (message: AgentReply) => process.send!(message);
  process.on('message', (command: AgentCommand) => {
    if (command.cmd === 'close') {
      pinger.disconnect();
      void locker.close().finally(() => process.exit(0));
    } else if (command.cmd === 'token') {
      void tokenRelay(port, pinger, command.me, command.durationMs).then((turns) => reply({ tag: command.tag, turns }));
    } else if (command.cmd === 'relay') {
      void relay(locker, pinger, command.key, command.durationMs).then((turns) => reply({ tag: command.tag, turns }));
    } else if (command.cmd === 'lock') {
      // A lock that has not come after `giveUpMs` is reported as never coming (null).
      const attempts = attemptsFor(locker, command.giveUpMs);
      void attempts.attempt(command.key).then(async (release) => {
        attempts.stop();
        if (release === 'late') {
          reply({ tag: command.tag, acquiredAt: null });
          return;
        }
        reply({ tag: command.tag, acquiredAt: machineClock() });
        await sleep(command.holdMs);
        await release();
      });
    } else {
      void throughput(locker, command.keys, command.concurrency, command.durationMs, command.holdTurn).then((result) =>
        reply({ tag: command.tag, ...result }),
      );
    }
  });
  reply({ ready: true });
}
