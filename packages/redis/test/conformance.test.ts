import { lockStoreSuite } from '@lockstore/testkit';
import { Redis } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { suiteOptions } from './helpers.js';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';

let server: RedisServer;
beforeAll(async () => {
  server = await startRedis();
});
afterAll(async () => {
  await server.stop();
});

lockStoreSuite(suiteOptions(() => new Redis({ host: '127.0.0.1', port: server.port })));
