// The conformance suite against TLS, an ACL user, Sentinel (with a failover) and a 3-master Cluster,
// each a set of real redis-server processes started here.
import { type LockStoreConfigInput, LockstoreError, createLockStore, parseLockStoreConfig } from '@lockstore/core';
import { type SuiteOptions, basics, cancellation, describeGroup, expiry, ordering, track } from '@lockstore/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBackend } from '../src/index.js';
import { type ClusterGroup, type RedisServer, type SentinelGroup, makeCertificates, startCluster, startRedis, startSentinelGroup } from '@lockstore/redis-servers';

/** Suite options that build each backend from a `lock_store` config, as an application would. */
function viaConfig(config: () => LockStoreConfigInput): SuiteOptions {
  return {
    async factory({ namespace }) {
      return createBackend(parseLockStoreConfig({ ...config(), type: 'redis', key_prefix: namespace }));
    },
    realTimeLifetimeMs: 2000,
  };
}

function conformance(config: () => LockStoreConfigInput): void {
  for (const group of [basics, ordering, expiry, cancellation]) describeGroup(group, viaConfig(config));
}

describe('TLS with certificate verification', () => {
  let server: RedisServer;
  let certs: ReturnType<typeof makeCertificates>;
  beforeAll(async () => {
    certs = makeCertificates();
    server = await startRedis(
      ['--tls-cert-file', certs.cert, '--tls-key-file', certs.key, '--tls-ca-cert-file', certs.ca, '--tls-auth-clients', 'no'],
      { tlsOnly: true },
    );
  });
  afterAll(() => server.stop());

  conformance(() => ({ url: 'localhost', port: server.port, use_ssl: true, ssl_ca_certs: certs.ca, db: 0 }));

  it('refuses a server whose certificate it cannot verify', async () => {
    const error = await createLockStore({ type: 'redis', url: 'localhost', port: server.port, use_ssl: true, socket_timeout: 2 }).catch((e: unknown) => e);
    expect(LockstoreError.is(error, 'CONNECTION_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/certificate/i);
  });

  it('accepts a rediss:// URL', async () => {
    const store = await createLockStore({ type: 'redis', url: `rediss://localhost:${server.port}/0`, ssl_ca_certs: certs.ca });
    expect(await store.withLock('c', (lock) => lock.fence > 0)).toBe(true);
    await store.close();
  });
});

describe('ACL user with a password', () => {
  let server: RedisServer;
  beforeAll(async () => {
    server = await startRedis(['--user', 'default', 'off', '--user', 'chatbot', 'on', '>s3cretpassword', '~*', '&*', '+@all']);
  });
  afterAll(() => server.stop());

  conformance(() => ({ url: '127.0.0.1', port: server.port, username: 'chatbot', password: 's3cretpassword', db: 0 }));

  it('reports a wrong password without showing it', async () => {
    const error = await createLockStore({
      type: 'redis',
      url: '127.0.0.1',
      port: server.port,
      username: 'chatbot',
      password: 'wrongpassword',
      socket_timeout: 2,
    }).catch((e: unknown) => e);
    expect(LockstoreError.is(error, 'CONNECTION_FAILED')).toBe(true);
    expect((error as Error).message).toMatch(/WRONGPASS|invalid/i);
    expect((error as Error).message).not.toContain('wrongpassword');
  });
});

describe('Sentinel', () => {
  let group: SentinelGroup;
  beforeAll(async () => {
    group = await startSentinelGroup();
  });
  afterAll(() => group.stop());

  const config = () => ({ deployment_mode: 'sentinel', endpoints: [`127.0.0.1:${group.sentinelPort}`], sentinel_service: 'mymaster', db: 0 });
  conformance(config);

  it('keeps serving locks in order across a failover', async () => {
    const store = await createLockStore({ ...config(), type: 'redis', key_prefix: 'failover', socket_timeout: 5 });
    const fences: number[] = [];
    for (let i = 0; i < 5; i++) fences.push(await store.withLock('c', (lock) => lock.fence));
    await group.failover();
    for (let i = 0; i < 5; i++) fences.push(await store.withLock('c', (lock) => lock.fence));
    expect([...fences].sort((a, b) => a - b)).toEqual(fences);
    expect(new Set(fences).size).toBe(10);
    await store.close();
  });
});

describe('Cluster of three masters', () => {
  let cluster: ClusterGroup;
  beforeAll(async () => {
    cluster = await startCluster();
  });
  afterAll(() => cluster.stop());

  const config = () => ({ deployment_mode: 'cluster', endpoints: cluster.ports.map((p) => `127.0.0.1:${p}`) });
  conformance(config);

  it('pushes grants by sharded pub/sub, subscribed only while a ticket waits', async () => {
    const options = { ...config(), type: 'redis', key_prefix: 'sharded' };
    const [one, two] = [await createLockStore(options), await createLockStore(options)];
    const channel = 'sharded:lock:{c}:grants';
    const subscribers = async () => {
      let count = 0;
      for (const port of cluster.ports) {
        const node = new Redis({ port });
        count += Number(((await node.call('PUBSUB', 'SHARDNUMSUB', channel)) as [string, number])[1]);
        node.disconnect();
      }
      return count;
    };
    const holder = await one.lock('c');
    const waiting = track(two.lock('c'));
    await new Promise((r) => setTimeout(r, 200));
    expect(waiting.state).toBe('pending');
    expect(await subscribers()).toBe(1);
    // The lifetime is 60 s: only a pushed grant can wake the waiter this fast.
    const released = Date.now();
    await holder.release();
    const lock = await waiting.promise;
    expect(Date.now() - released).toBeLessThan(1000);
    expect(lock.fence).toBeGreaterThan(holder.fence);
    await new Promise((r) => setTimeout(r, 100));
    expect(await subscribers()).toBe(0);
    await lock.release();
    await one.close();
    await two.close();
  });

  it('spreads conversations over the masters and serves each', async () => {
    const store = await createLockStore({ ...config(), type: 'redis', key_prefix: 'spread' });
    const results = await Promise.all(Array.from({ length: 30 }, (_, i) => store.withLock(`conversation-${i}`, (lock) => lock.fence)));
    expect(results.every((fence) => fence > 0)).toBe(true);
    await store.close();
  });
});
