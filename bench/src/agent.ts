// A bench process of its own, driven by the main process over IPC: it takes locks when told and
// reports when it got them, or runs a throughput loop. Times are wall-clock with sub-ms precision,
// comparable across processes.
import { type Locker, type Release, contenderNamed } from './contenders.js';
import { wallClock } from './wall-clock.js';

export type AgentCommand =
  | { readonly cmd: 'lock'; readonly tag: number; readonly key: string; readonly holdMs: number }
  | {
      readonly cmd: 'throughput';
      readonly tag: number;
      readonly keys: number;
      readonly concurrency: number;
      readonly durationMs: number;
      readonly holdTurn: boolean;
    }
  | { readonly cmd: 'close' };

export type AgentReply =
  | { readonly tag: number; readonly acquiredAt: number }
  | { readonly tag: number; readonly cycles: number; readonly overlaps: number }
  | { readonly ready: true };

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

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
): Promise<{ cycles: number; overlaps: number }> {
  const end = performance.now() + durationMs;
  // A lock that never comes (Rasa's waiters can poll for ever once their ticket was overwritten) must
  // not hold the measurement past its end.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), durationMs + 100);
  });
  const held = new Set<string>();
  let cycles = 0;
  let overlaps = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (performance.now() < end) {
        const key = `k${Math.floor(Math.random() * keys)}`;
        let release: Release | undefined;
        try {
          release = await Promise.race([locker.lock(key), deadline]);
        } catch {
          // Rasa's store raises LockError when a racing cleanup deleted its ticket: a caller retries.
          continue;
        }
        if (release === undefined) break;
        if (held.has(key)) overlaps++;
        held.add(key);
        if (holdTurn) await new Promise<void>((resolve) => setImmediate(resolve));
        held.delete(key);
        await release();
        cycles++;
      }
    }),
  );
  clearTimeout(timer);
  return { cycles, overlaps };
}

if (process.send !== undefined && process.argv[2] !== undefined) {
  const locker = await contenderNamed(process.argv[2]).create(Number(process.argv[3]));
  const reply = (message: AgentReply) => process.send!(message);
  process.on('message', (command: AgentCommand) => {
    if (command.cmd === 'close') {
      void locker.close().finally(() => process.exit(0));
    } else if (command.cmd === 'lock') {
      void locker.lock(command.key).then(async (release) => {
        reply({ tag: command.tag, acquiredAt: wallClock() });
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
