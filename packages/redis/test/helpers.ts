import type { SuiteOptions } from '@lockstore/testkit';
import type { Redis } from 'ioredis';
import { KeySpace, RedisBackend } from '../src/index.js';

/** Every key a store with this prefix left in Redis (tests only: a store never scans). */
export async function keysOf(client: Redis, keyPrefix: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await client.scan(cursor, 'MATCH', new KeySpace(keyPrefix).pattern, 'COUNT', 1000);
    found.push(...keys);
    cursor = next;
  } while (cursor !== '0');
  return found;
}

/**
 * Keys of a store that still hold queue entries. What a released conversation keeps — its last
 * fence and queue positions, under a TTL — does not count.
 */
export async function keysWithTickets(client: Redis, keyPrefix: string): Promise<string[]> {
  const found: string[] = [];
  for (const key of await keysOf(client, keyPrefix)) {
    const fields = await client.hkeys(key);
    if (fields.some((field) => !['last', 'head', 'tail', 'until'].includes(field))) found.push(key);
  }
  return found;
}

/** The conformance suite's options for a server reached by `connect`. */
export function suiteOptions(connect: () => Redis): SuiteOptions {
  return {
    async factory({ namespace }) {
      const backend = new RedisBackend({ client: connect(), keyPrefix: namespace, ownsClient: true });
      await backend.start();
      return backend;
    },
    // The last fence is kept on purpose (fences must keep rising); no ticket may be left.
    async leftovers(_backend, namespace) {
      const client = connect();
      try {
        return (await keysWithTickets(client, namespace)).length;
      } finally {
        client.disconnect();
      }
    },
    realTimeLifetimeMs: 2000,
    modelRuns: 30,
  };
}
