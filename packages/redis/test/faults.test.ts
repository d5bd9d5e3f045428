import { LockStore, LockstoreError } from '@lockstore/core';
import { rejectionCode, track } from '@lockstore/testkit';
import { Redis } from 'ioredis';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RedisBackend } from '../src/index.js';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';

const LIFETIME = 1000;
let server: RedisServer;
const stores: LockStore[] = [];

beforeEach(async () => {
  server = await startRedis(['--enable-debug-command', 'yes']);
});
afterEach(async () => {
  await Promise.allSettled(stores.splice(0).map((s) => s.close()));
  await server.stop();
});

async function store(socketTimeoutMs = 2000): Promise<LockStore> {
  const client = new Redis({ host: '127.0.0.1', port: server.port, commandTimeout: socketTimeoutMs, maxRetriesPerRequest: 1 });
  client.on('error', () => {});
  const backend = new RedisBackend({ client, keyPrefix: 'faults', ownsClient: true });
  await backend.start();
  const s = new LockStore(backend, { lifetimeMs: LIFETIME, onError: () => {} });
  stores.push(s);
  return s;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('faults', () => {
  it('Redis restarted with its data gone: the holder is told, the waiter fails typed, fences keep rising', async () => {
    const [a, b] = [await store(), await store()];
    const holder = await a.lock('c');
    const waiter = track(b.lock('c'));
    await sleep(100);
    await server.restart();
    for (let i = 0; i < 40 && !(holder.signal.aborted && waiter.state !== 'pending'); i++) await sleep(100);
    expect(LockstoreError.is(holder.signal.reason, 'LEASE_LOST')).toBe(true);
    expect(['TICKET_EXPIRED', 'STORE_FAILURE']).toContain(await rejectionCode(waiter.promise));
    const after = await b.lock('c');
    expect(after.fence).toBeGreaterThan(holder.fence);
    await after.release();
  });

  it('a waiter whose connections are killed still gets the lock when it is released', async () => {
    const [a, b] = [await store(), await store()];
    const holder = await a.lock('c');
    const waiter = track(b.lock('c'));
    await sleep(100);
    const admin = server.client();
    await admin.client('KILL', 'TYPE', 'pubsub');
    await admin.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
    await sleep(200);
    await holder.release().catch(() => {});
    for (let i = 0; i < 30 && waiter.state === 'pending'; i++) await sleep(100);
    expect(waiter.state).toBe('resolved');
    await (await waiter.promise).release();
  });

  it('a stalled Redis fails lock() with STORE_FAILURE within the socket timeout, then recovers', async () => {
    const s = await store(300);
    const admin = server.client();
    void admin.call('DEBUG', 'SLEEP', '1.5').catch(() => {});
    await sleep(50);
    const started = Date.now();
    expect(await rejectionCode(s.lock('c'))).toBe('STORE_FAILURE');
    expect(Date.now() - started).toBeLessThan(1000);
    await sleep(1600);
    const lock = await s.lock('c');
    expect(lock.fence).toBeGreaterThan(0);
    await lock.release();
  });

  it('a holder keeps its lease through a pause shorter than its lifetime', async () => {
    const s = await store();
    const lock = await s.lock('c');
    await server.client().call('CLIENT', 'PAUSE', '250', 'ALL');
    await sleep(LIFETIME * 2);
    expect(lock.signal.aborted).toBe(false);
    await lock.release();
  });
});
