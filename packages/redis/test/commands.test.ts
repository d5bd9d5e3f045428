// Round trips counted on a server the test started: MONITOR shows every command, and marks those a
// script ran as coming from "lua", so the others are the client's own requests.
import { LockStore } from '@lockstore/core';
import { track } from '@lockstore/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';

let server: RedisServer;
let monitor: Awaited<ReturnType<Redis['monitor']>>;
let seen: { command: string; source: string; time: number }[] = [];

beforeAll(async () => {
  server = await startRedis();
  monitor = await new Redis({ host: '127.0.0.1', port: server.port }).monitor();
  monitor.on('monitor', (time: string, args: string[], source: string) => {
    seen.push({ command: args[0]!.toLowerCase(), source: source === 'lua' ? 'lua' : 'client', time: Number(time) });
  });
});
afterAll(async () => {
  monitor.disconnect();
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

  it('renewals of many locks go out together, one batch per tick', async () => {
    const store = await storeOn('countrenew', 900);
    const locks = await Promise.all(Array.from({ length: 40 }, (_, i) => store.lock(`conversation-${i}`)));
    const commands = await commandsDuring(() => sleep(1000));
    const renewals = commands.filter((c) => c.source === 'client');
    // Locks taken together renew together: every 300 ms, 40 refreshes sent in one go.
    expect(renewals.length % 40).toBe(0);
    expect(renewals.length).toBeGreaterThanOrEqual(80);
    for (let i = 0; i < renewals.length; i += 40) {
      const batch = renewals.slice(i, i + 40);
      expect(batch.every((c) => c.command === 'fcall')).toBe(true);
      expect(batch.at(-1)!.time - batch[0]!.time).toBeLessThan(0.05);
    }
    for (const lock of locks) expect(lock.signal.aborted).toBe(false);
    await Promise.all(locks.map((lock) => lock.release()));
    await store.close();
  });

  it('the first command of a turn goes out at once, the others of the turn in groups of four, in order', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port });
    const backend = new RedisBackend({ client, keyPrefix: 'countwrites', ownsClient: true });
    await backend.start();
    const store = new LockStore(backend);
    await (await store.lock('warm-up')).release();
    const socket = client.stream as unknown as { _write: (...a: unknown[]) => void; _writev: (...a: unknown[]) => void };
    const writes: number[] = [];
    const [write, writev] = [socket._write.bind(socket), socket._writev.bind(socket)];
    socket._write = (...a) => {
      writes.push(1);
      write(...a);
    };
    socket._writev = (chunks, ...rest) => {
      writes.push((chunks as unknown[]).length);
      writev(chunks, ...rest);
    };
    const commands = await commandsDuring(async () => {
      const locks = await Promise.all(Array.from({ length: 10 }, (_, i) => store.lock(`conversation-${i}`)));
      expect(locks.map((lock) => lock.fence)).toEqual([...locks.map((lock) => lock.fence)].sort((a, b) => a - b));
      expect(writes).toEqual([1, 4, 4, 1]);
      writes.length = 0;
      await Promise.all(locks.map((lock) => lock.release()));
      expect(writes).toEqual([1, 4, 4, 1]);
      // A command alone in its turn is written at once.
      writes.length = 0;
      await (await store.lock('alone')).release();
      expect(writes).toEqual([1, 1]);
    });
    expect(commands.filter((c) => c.source === 'client')).toHaveLength(22);
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
    await store.close();
    admin.disconnect();
  });
});
