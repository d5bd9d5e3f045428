import { LockStore, LockstoreError, createLockStore } from '@lockstore/core';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { KeySpace, RedisBackend, createBackend, createRedisLockStore, encodeConversationId } from '../src/index.js';
import { keysOf, keysWithTickets } from './helpers.js';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';

let server: RedisServer;
let admin: Redis;
beforeAll(async () => {
  server = await startRedis();
  admin = server.client();
});
afterAll(async () => {
  await server.stop();
});

async function backendOn(prefix: string, fenceRetentionMs?: number): Promise<RedisBackend> {
  const client = new Redis({ host: '127.0.0.1', port: server.port });
  const backend = new RedisBackend({ client, keyPrefix: prefix, ownsClient: true, ...(fenceRetentionMs ? { fenceRetentionMs } : {}) });
  await backend.start();
  return backend;
}

async function store(prefix: string): Promise<LockStore> {
  return new LockStore(await backendOn(prefix));
}

const awkwardIds = ['u', 'u:7', '*', '?', '[', '[a-z]', '{', '}', '{tag}', ':', 'lock:u', 'ü', '会话', '😀', '%75', '\u0000', 'x'.repeat(10_240)];

describe('keys', () => {
  it('encodes ids injectively, without characters that reach outside the hash tag', () => {
    const encoded = awkwardIds.map(encodeConversationId);
    expect(new Set(encoded).size).toBe(awkwardIds.length);
    for (const key of encoded) expect(key).toMatch(/^[A-Za-z0-9_.%u-]+$/);
    expect(encodeConversationId('conversation-42')).toBe('conversation-42');
    expect(encodeConversationId('u:7')).toBe('u%3a7');
    expect(encodeConversationId('\ud800')).not.toBe(encodeConversationId('\udbff'));
  });

  it('names keys as Rasa does, under the prefix, one hash-tagged key per conversation', () => {
    expect(new KeySpace('chatbot42').conversation('c1')).toBe('chatbot42:lock:{c1}');
    expect(new KeySpace(undefined).conversation('c1')).toBe('lock:{c1}');
    expect(new KeySpace('chatbot42').conversation('u:7')).toBe('chatbot42:lock:{u%3a7}');
  });

  it('gives every awkward id keys of its own, all under the prefix and all with a TTL', async () => {
    const s = await store('awkward');
    const locks = [];
    for (const id of awkwardIds) locks.push(await s.lock(id, { timeoutMs: 0 }));
    const keys = await keysOf(admin, 'awkward');
    expect(keys).toHaveLength(awkwardIds.length);
    for (const key of keys) {
      expect(key.startsWith('awkward:lock:{')).toBe(true);
      expect(await admin.pttl(key)).toBeGreaterThan(0);
    }
    for (const [i, id] of awkwardIds.entries()) expect((await s.inspect(id)).nowServing).toBe(locks[i]!.fence);
    for (const lock of locks) await lock.release();
    expect(await keysWithTickets(admin, 'awkward')).toEqual([]);
    for (const key of await keysOf(admin, 'awkward')) expect(await admin.pttl(key)).toBeGreaterThan(0);
    await s.close();
  });

  it('leaves nothing but the expiring last fence once every lock is released, and nothing at all later', async () => {
    const backend = await backendOn('hygiene', 300);
    // Keys live until their last ticket would have expired, plus a second: 1.2 s here.
    const s = new LockStore(backend, { lifetimeMs: 200 });
    await Promise.all(Array.from({ length: 30 }, (_, i) => s.withLock(`c${i % 5}`, () => new Promise((r) => setTimeout(r, 2)))));
    expect(await keysWithTickets(admin, 'hygiene')).toEqual([]);
    const left = await admin.hgetall('hygiene:lock:{c0}');
    // An empty queue keeps no positions: only the last fence and until when the key is kept.
    expect(Object.keys(left).sort()).toEqual(['last', 'until']);
    expect(left['last']).toMatch(/^\d+$/);
    for (const key of await keysOf(admin, 'hygiene')) expect(await admin.pttl(key)).toBeLessThanOrEqual(1200);
    await new Promise((r) => setTimeout(r, 1300));
    expect(await keysOf(admin, 'hygiene')).toEqual([]);
    // Fences keep rising after the last fence expired: they are seeded from Redis's clock.
    const before = await s.withLock('c0', (lock) => lock.fence);
    await new Promise((r) => setTimeout(r, 1300));
    expect(await keysOf(admin, 'hygiene')).toEqual([]);
    expect(await s.withLock('c0', (lock) => lock.fence)).toBeGreaterThan(before);
    await s.close();
  });

  it('a crashed process leaves keys that expire by themselves', async () => {
    const backend = await backendOn('crashed', 300);
    await backend.issue('c', 200);
    await backend.close();
    expect(await keysWithTickets(admin, 'crashed')).toHaveLength(1);
    await new Promise((r) => setTimeout(r, 1500));
    expect(await keysOf(admin, 'crashed')).toEqual([]);
  });
});

describe('createLockStore({ type: "redis" })', () => {
  it('connects with the seed config keys and isolates by key_prefix and db', async () => {
    const s = await createLockStore({ type: 'redis', url: '127.0.0.1', port: server.port, db: 3, key_prefix: 'chatbot42' });
    const lock = await s.lock('c1');
    const db3 = server.client();
    await db3.select(3);
    expect(await db3.exists('chatbot42:lock:{c1}')).toBe(1);
    expect(await admin.exists('chatbot42:lock:{c1}')).toBe(0);
    await lock.release();
    await s.close();
  });

  it('uses a client of your own, and leaves it open when the store closes', async () => {
    const client = new Redis({ host: '127.0.0.1', port: server.port });
    const s = await createRedisLockStore({ client, keyPrefix: 'ownclient', lifetimeMs: 5000 });
    expect(s.lifetimeMs).toBe(5000);
    const lock = await s.lock('c');
    expect(await client.exists('ownclient:lock:{c}')).toBe(1);
    await lock.release();
    await s.close();
    expect(await client.ping()).toBe('PONG');
    client.disconnect();
  });

  it('accepts a redis:// URL', async () => {
    const s = await createLockStore({ type: 'redis', url: `redis://127.0.0.1:${server.port}/2`, key_prefix: 'viaurl' });
    expect(await s.withLock('c', (lock) => lock.fence > 0)).toBe(true);
    await s.close();
  });

  it.each([
    ['redis://127.0.0.1:99999', /url: not a valid redis:\/\/ URL/],
    ['redis://127.0.0.1:6379/zero', /url: the database must be a number, got "zero"/],
    ['redis://[bad', /url: not a valid redis:\/\/ URL/],
  ])('refuses the malformed URL %s with INVALID_CONFIG', async (url, pattern) => {
    const error = await createLockStore({ type: 'redis', url }).catch((e: unknown) => e);
    expect(LockstoreError.is(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toMatch(pattern);
  });

  it('refuses a TLS file it cannot read, naming the field', async () => {
    const error = await createLockStore({ type: 'redis', use_ssl: true, ssl_ca_certs: '/nonexistent/ca.pem' }).catch((e: unknown) => e);
    expect(LockstoreError.is(error, 'INVALID_CONFIG')).toBe(true);
    expect((error as Error).message).toBe('Invalid lock_store config: ssl_ca_certs: cannot read "/nonexistent/ca.pem"');
  });

  it('never shows the password when a store or its errors are inspected', async () => {
    const { inspect } = await import('node:util');
    const guarded = await startRedis(['--requirepass', 'hunter2secret']);
    try {
      const refused = await createLockStore({ type: 'redis', url: `redis://:wrongsecret@127.0.0.1:${guarded.port}/0` }).catch((e: unknown) => e);
      expect(LockstoreError.is(refused, 'CONNECTION_FAILED')).toBe(true);
      expect(inspect(refused, { depth: 5 })).not.toContain('wrongsecret');
      const s = await createLockStore({ type: 'redis', url: '127.0.0.1', port: guarded.port, db: 0, password: 'hunter2secret' });
      expect(await s.withLock('c', (lock) => lock.fence > 0)).toBe(true);
      expect(inspect(s, { depth: 10, showHidden: true })).not.toContain('hunter2secret');
      await s.close();
    } finally {
      await guarded.stop();
    }
  });

  it('fails with CONNECTION_FAILED naming host:port within socket_timeout when Redis is unreachable', async () => {
    const started = Date.now();
    const error = await createBackend(
      { type: 'redis', url: '127.0.0.1', port: 1, password: 'hunter2secret', socket_timeout: 1 },
    ).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(3000);
    expect(LockstoreError.is(error, 'CONNECTION_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/^Cannot connect to lock store at 127\.0\.0\.1:1: /);
    expect((error as Error).message).not.toContain('hunter2secret');
  });

  it('fails within socket_timeout when the server accepts but never answers', async () => {
    const { createServer } = await import('node:net');
    const silent = createServer(() => {}).listen(0, '127.0.0.1');
    await new Promise((r) => silent.once('listening', r));
    const port = (silent.address() as { port: number }).port;
    const started = Date.now();
    const error = await createLockStore({ type: 'redis', url: '127.0.0.1', port, socket_timeout: 0.5 }).catch((e: unknown) => e);
    expect(Date.now() - started).toBeLessThan(2000);
    expect(LockstoreError.is(error, 'CONNECTION_FAILED')).toBe(true);
    expect((error as Error).message).toContain(`127.0.0.1:${port}`);
    silent.close();
  });
});
