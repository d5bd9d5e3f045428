// Several OS processes contend for the same conversations through one Redis: every critical section
// is logged and checked for mutual exclusion, FIFO order and exactly-once processing.
import { fileURLToPath } from 'node:url';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';
import { runTorture } from '@lockstore/testkit/torture';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { keysWithTickets } from './helpers.js';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server.stop());

it('three processes contending for four conversations keep mutual exclusion and FIFO order', async () => {
  const report = await runTorture({
    config: { type: 'redis', url: '127.0.0.1', port: server.port, db: 0, key_prefix: 'processes' },
    resolveFrom: fileURLToPath(new URL('..', import.meta.url)),
    workers: 3,
    conversations: 4,
    durationMs: 4000,
    lifetimeMs: 2000,
    workMs: 10,
    faults: [],
    workerFaults: false,
    leftovers: async () => (await keysWithTickets(server.client(), 'processes')).length,
  });
  expect(report.verdict.sections).toBeGreaterThan(100);
  expect(report.verdict).toMatchObject({ overlaps: 0, fencedOverlaps: 0, outOfOrder: 0, missing: 0, duplicated: 0, lostLeases: 0 });
  expect(report).toMatchObject({ blocked: 0, leftovers: 0, violations: 0, workersStarted: 3, workersCrashed: 0 });
}, 60_000);
