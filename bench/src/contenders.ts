// Every contender behind one interface: take a lock on a key, get back its release.
import { LockStore } from '@lockstore/core';
import { createMemoryLockStore } from '@lockstore/memory';
import { RedisBackend } from '@lockstore/redis';
import { Mutex as AsyncMutex } from 'async-mutex';
import { Redis } from 'ioredis';
import { Mutex as SemaphoreMutex } from 'redis-semaphore';
import Redlock from 'redlock';
import { RasaLockStore } from './rasa.js';

export type Release = () => Promise<void>;

export interface Locker {
  lock(key: string): Promise<Release>;
  close(): Promise<void>;
}

export interface Contender {
  readonly name: string;
  readonly where: 'redis' | 'memory';
  /** Whether it is slow to hand off (polls), so scenarios run fewer rounds of it. */
  readonly polls: boolean;
  create(port: number): Promise<Locker>;
}

/** Tries until the lock is taken: what a message handler must do when a lock gives up waiting. */
async function untilAcquired(attempt: () => Promise<Release>): Promise<Release> {
  for (;;) {
    try {
      return await attempt();
    } catch {
      // Gave up waiting: try again.
    }
  }
}

function client(port: number): Redis {
  const redis = new Redis({ host: '127.0.0.1', port });
  redis.on('error', () => {});
  return redis;
}

/** A lockstore store as a contender: lock, and a release to call. */
function lockerOf(store: LockStore): Locker {
  return {
    lock: async (key) => {
      const lock = await store.lock(key);
      return () => lock.release();
    },
    close: () => store.close(),
  };
}

export const lockstoreRedis: Contender = {
  name: 'lockstore redis',
  where: 'redis',
  polls: false,
  async create(port) {
    const backend = new RedisBackend({ client: client(port), keyPrefix: 'bench', ownsClient: true });
    await backend.start();
    return lockerOf(new LockStore(backend));
  },
};

export const rasa: Contender = {
  name: "Rasa's algorithm",
  where: 'redis',
  polls: true,
  create(port) {
    const redis = client(port);
    const store = new RasaLockStore(redis, 'rasabench');
    // Its store raises LockError when a racing cleanup deleted the ticket it polls for: a caller retries.
    return Promise.resolve({ lock: (key) => untilAcquired(() => store.lock(key)), close: async () => void (await redis.quit()) });
  },
};

export const redisSemaphore: Contender = {
  name: 'redis-semaphore Mutex',
  where: 'redis',
  polls: true,
  create(port) {
    const redis = client(port);
    return Promise.resolve({
      // Its defaults: 10 s lease refreshed every 8 s, polling every 10 ms, giving up after 10 s.
      lock: (key) =>
        untilAcquired(async () => {
          const mutex = new SemaphoreMutex(redis, `semaphorebench:${key}`);
          await mutex.acquire();
          return () => mutex.release();
        }),
      close: async () => void (await redis.quit()),
    });
  },
};

export const redlock: Contender = {
  name: 'redlock',
  where: 'redis',
  polls: true,
  create(port) {
    const redis = client(port);
    const redlockClient = new Redlock([redis]);
    redlockClient.on('error', () => {});
    return Promise.resolve({
      // Its defaults: 10 retries 200 ± 100 ms apart, then an error.
      lock: (key) =>
        untilAcquired(async () => {
          const lock = await redlockClient.acquire([`redlockbench:${key}`], 10_000);
          return async () => void (await lock.release());
        }),
      close: async () => void (await redis.quit()),
    });
  },
};

export const lockstoreMemory: Contender = {
  name: 'lockstore memory',
  where: 'memory',
  polls: false,
  create() {
    return Promise.resolve(lockerOf(createMemoryLockStore()));
  },
};

export const asyncMutexMap: Contender = {
  name: 'async-mutex Map',
  where: 'memory',
  polls: false,
  create() {
    // The usual keyed pattern: one Mutex per key, made on demand, dropped when idle.
    const mutexes = new Map<string, AsyncMutex>();
    return Promise.resolve({
      async lock(key) {
        const mutex = mutexes.get(key) ?? new AsyncMutex();
        mutexes.set(key, mutex);
        const release = await mutex.acquire();
        return () => {
          release();
          if (!mutex.isLocked()) mutexes.delete(key);
          return Promise.resolve();
        };
      },
      close: () => Promise.resolve(),
    });
  },
};

export const contenders: readonly Contender[] = [lockstoreRedis, redisSemaphore, redlock, rasa, lockstoreMemory, asyncMutexMap];

export function contenderNamed(name: string): Contender {
  const found = contenders.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no contender named ${name}`);
  return found;
}
