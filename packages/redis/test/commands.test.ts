// Round trips counted on a server the test started: MONITOR shows every command, and marks those a
// script ran as coming from "lua", so the others are the client's own requests.
import { LockStore } from '@lockstore/core';
import { track } from '@lockstore/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';

let server: RedisServer;
let monitor: Awaited<ReturnType<Redis['monitor']>> | undefined;
/**
 * A command MONITOR saw; for FCALL and EVALSHA, `keys` is how many keys the call names. `args` counts
 * every word of the command, its name included.
 */
let seen: { command: string; source: string; time: number; keys: number; args: number }[] = [];

beforeAll(async () => {
  server = await startRedis();
  // The connection MONITOR is started from must be ready first: its ready check (an INFO) would
  // otherwise be the first line the monitor sees, and ioredis can take a line that arrives with
  // MONITOR's own reply for the reply to a command it never sent.
  const connection = new Redis({ host: '127.0.0.1', port: server.port });
  await connection.ping();
  monitor = await connection.monitor();
  connection.disconnect();
  monitor.on('monitor', (time: string, args: string[], source: string) => {
    seen.push({ command: args[0]!.toLowerCase(), source: source === 'lua' ? 'lua' : 'client', time: Number(time), keys: Number(args[2]), args: args.length });
  });
});
afterAll(async () => {
  monitor?.disconnect();
  await server.stop();
});

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function storeOn(prefix: string, lifetimeMs = 60_000): Promise<LockStore> {
  const backend = new RedisBackend({ client: new Redis({ host: '127.0.0.1', port: server.port }), keyPrefix: prefix, ownsClient: true });
  await backend.start();
  const store = new LockStore(backend, { lifetimeMs });
  // Warm up: without functions, the first call of each script may load it (NOSCRIPT, then EVAL).
  await (await store.lock('warm-up')).release();
  await backend.refresh([{ conversationId: 'warm-up', ticket: 1, lifetimeMs: null }]);
  return store;
}

/** The commands seen while `fn` ran, after letting MONITOR catch up. */
async function commandsDuring(fn: () => Promise<void>): Promise<typeof seen> {
  await sleep(100);
  seen = [];
  await fn();
  await sleep(100);
  return seen;
}

describe('round trips', () => {
  it('an uncontended lock and release is exactly two commands', async () => {
    const store = await storeOn('countone');
    // The first lock of a conversation also creates its key and sets its expiry; later ones do not.
    await (await store.lock('conversation')).release();
    const commands = await commandsDuring(async () => {
      const lock = await store.lock('conversation');
      await lock.release();
    });
    expect(commands.filter((c) => c.source === 'client').map((c) => c.command)).toEqual(['fcall', 'fcall']);
    // Inside Redis: issue reads the clock and the queue and writes the ticket; release reads the queue
    // and, as nobody waits, empties it in one write (no clock, no publish).
    expect(commands.filter((c) => c.source === 'lua').map((c) => c.command)).toEqual(['time', 'hmget', 'hset', 'hmget', 'hdel']);
    await store.close();
  });

  it('a contended waiter sends one command to enqueue, none while it waits, and gets a pushed grant', async () => {
    const [holderStore, waiterStore] = [await storeOn('counttwo'), await storeOn('counttwo')];
    const holder = await holderStore.lock('conversation');
    let waiting!: ReturnType<typeof track>;
    const whileWaiting = await commandsDuring(async () => {
      waiting = track(waiterStore.lock('conversation'));
      await sleep(1000);
    });
    expect(whileWaiting.filter((c) => c.source === 'client').map((c) => c.command)).toEqual(['fcall']);
    expect(waiting.state).toBe('pending');

    const handOff = await commandsDuring(async () => {
      await holder.release();
      await waiting.promise;
    });
    // The release script granted the lock and published it: no retry, no poll from the waiter.
    expect(handOff.filter((c) => c.source === 'client').map((c) => c.command)).toEqual(['fcall']);
    expect(handOff.filter((c) => c.command === 'publish').map((c) => c.source)).toEqual(['lua']);
    await ((await waiting.promise) as { release(): Promise<void> }).release();
    await holderStore.close();
    await waiterStore.close();
  });

  it('renewals of many locks go out together: two commands per tick, whatever their number', async () => {
    const store = await storeOn('countrenew', 900);
    const locks = await Promise.all(Array.from({ length: 40 }, (_, i) => store.lock(`conversation-${i}`)));
    const commands = await commandsDuring(() => sleep(1000));
    // Locks taken together renew together: every 300 ms, the first refresh at once, the other 39 in one command.
    const renewals = commands.filter((c) => c.source === 'client');
    expect(renewals.length).toBeGreaterThanOrEqual(4);
    expect(renewals.map((c) => [c.command, c.keys])).toEqual(renewals.map((_, i) => ['fcall', i % 2 === 0 ? 1 : 39]));
    // Inside Redis, each refresh reads its queue and its own entry, and rewrites its entry; the clock
    // is read once per command, however many refreshes it runs.
    expect(commands.filter((c) => c.source === 'lua' && c.command === 'hmget')).toHaveLength(40 * (renewals.length / 2));
    expect(commands.filter((c) => c.source === 'lua' && c.command === 'time')).toHaveLength(renewals.length);
    for (const lock of locks) expect(lock.signal.aborted).toBe(false);
    await Promise.all(locks.map((lock) => lock.release()));
    await store.close();
  });

  it('the first operation of a turn goes out at once, the others of the turn as one batch command, in order, at most 100 each', async () => {
    const store = await storeOn('countbatch');
    const batched = await commandsDuring(async () => {
      const locks = await Promise.all(Array.from({ length: 10 }, (_, i) => store.lock(`conversation-${i}`)));
      // Issued in call order: fences rise with it.
      expect(locks.map((lock) => lock.fence)).toEqual([...locks.map((lock) => lock.fence)].sort((a, b) => a - b));
      await Promise.all(locks.map((lock) => lock.release()));
    });
    // FCALL, its function, the number of keys and the keys, the fence retention once, then each
    // operation's name (in a batch) and arguments: lifetime, inbox and conversation to issue, fence
    // and conversation to release.
    expect(batched.filter((c) => c.source === 'client').map((c) => [c.command, c.keys, c.args])).toEqual([
      ['fcall', 1, 3 + 1 + 1 + 3],
      ['fcall', 9, 3 + 9 + 1 + 9 * 4],
      ['fcall', 1, 3 + 1 + 1 + 2],
      ['fcall', 9, 3 + 9 + 1 + 9 * 3],
    ]);
    // The clock is read once per command: by the first issue, and once for the other nine.
    expect(batched.filter((c) => c.source === 'lua' && c.command === 'time')).toHaveLength(2);

    // Tickets of one conversation issued in one batch, at one instant, still get rising fences.
    const sameTurn = Array.from({ length: 3 }, () => store.lock('same-turn'));
    const fences: number[] = [];
    for (const pending of sameTurn) {
      const lock = await pending;
      fences.push(lock.fence);
      await lock.release();
    }
    expect(fences[1]).toBeGreaterThan(fences[0]!);
    expect(fences[2]).toBe(fences[1]! + 1);

    const large = await commandsDuring(async () => {
      const locks = await Promise.all(Array.from({ length: 250 }, (_, i) => store.lock(`large-${i}`)));
      await Promise.all(locks.map((lock) => lock.release()));
    });
    expect(large.filter((c) => c.source === 'client').map((c) => c.keys)).toEqual([1, 100, 100, 49, 1, 100, 100, 49]);

    const alone = await commandsDuring(async () => {
      await (await store.lock('alone')).release();
    });
    expect(alone.filter((c) => c.source === 'client').map((c) => [c.command, c.keys])).toEqual([
      ['fcall', 1],
      ['fcall', 1],
    ]);
    await store.close();
  });

  it('an operation that fails in a batch fails alone: the others of the batch succeed', async () => {
    const store = await storeOn('countfail');
    const admin = new Redis({ host: '127.0.0.1', port: server.port });
    // A key of the wrong type where one conversation's queue should be.
    await admin.set('countfail:lock:{broken}', 'not a hash');
    const outcomes = await Promise.allSettled([store.lock('before'), store.lock('broken'), store.lock('after')]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const error = (outcomes[1] as PromiseRejectedResult).reason as { code: string; cause: Error };
    expect(error.code).toBe('STORE_FAILURE');
    expect(error.cause.message).toMatch(/WRONGTYPE/);
    for (const outcome of [outcomes[0], outcomes[2]]) await (outcome as PromiseFulfilledResult<{ release(): Promise<void> }>).value.release();
    for (const conversation of ['before', 'after']) expect((await store.inspect(conversation)).tickets).toEqual([]);
    admin.disconnect();
    await store.close();
  });

  it('a server that lost its functions gets them again with the next call, which still succeeds', async () => {
    const store = await storeOn('countreload');
    const admin = new Redis({ host: '127.0.0.1', port: server.port });
    await admin.function('FLUSH');
    const commands = await commandsDuring(async () => {
      const lock = await store.lock('conversation');
      await lock.release();
    });
    // The call that found no function, the library, the same call again, then the release.
    expect(commands.filter((c) => c.source === 'client').map((c) => c.command)).toEqual(['fcall', 'function', 'fcall', 'fcall']);
    expect(await admin.function('LIST')).toHaveLength(1);
    admin.disconnect();
    await store.close();
  });

  it('without functions (here an ACL user that may not use FUNCTION), every operation is a script, same count', async () => {
    const admin = new Redis({ host: '127.0.0.1', port: server.port });
    await admin.acl('SETUSER', 'nofunctions', 'on', '>nofunctionspassword', '~*', '&*', '+@all', '-function');
    const client = new Redis({ host: '127.0.0.1', port: server.port, username: 'nofunctions', password: 'nofunctionspassword' });
    const backend = new RedisBackend({ client, keyPrefix: 'countscripts', ownsClient: true });
    await backend.start();
    expect(backend.usesFunctions).toBe(false);
    const store = new LockStore(backend);
    // The first call of each script loads it (NOSCRIPT, then EVAL).
    await (await store.lock('conversation')).release();
    const commands = await commandsDuring(async () => {
      const lock = await store.lock('conversation');
      await lock.release();
    });
    expect(commands.filter((c) => c.source === 'client').map((c) => c.command)).toEqual(['evalsha', 'evalsha']);
    expect(commands.filter((c) => c.source === 'lua').map((c) => c.command)).toEqual(['time', 'hmget', 'hset', 'hmget', 'hdel']);
    // Batches too are scripts: the first one loads it, the next is one EVALSHA.
    const three = async () => {
      const locks = await Promise.all([store.lock('one'), store.lock('two'), store.lock('three')]);
      await Promise.all(locks.map((lock) => lock.release()));
    };
    await three();
    const batched = await commandsDuring(three);
    expect(batched.filter((c) => c.source === 'client').map((c) => [c.command, c.keys])).toEqual([
      ['evalsha', 1],
      ['evalsha', 2],
      ['evalsha', 1],
      ['evalsha', 2],
    ]);
    expect(batched.filter((c) => c.source === 'lua' && c.command === 'time')).toHaveLength(2);
    await store.close();
    admin.disconnect();
  });
});
