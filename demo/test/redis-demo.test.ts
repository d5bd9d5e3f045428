import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';
import { afterAll, beforeAll, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));
let server: RedisServer;

beforeAll(async () => {
  server = await startRedis();
});
afterAll(() => server.stop());
it('runs its replicas as separate processes on Redis and verifies the run', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['dist/main.js', '--endpoints', `${here}endpoints.redis.yml`, '--replicas', '3', '--conversations', '10', '--messages', '20', '--work-ms', '2'],
    { cwd: here, env: { ...process.env, REDIS_PORT: String(server.port) } },
  );
  expect(stdout).toContain('(one process per replica)');
  expect(stdout).toContain('processed 200 of 200 messages');
  expect(stdout).toContain('ok   handlers ran in ticket (fence) order');
  expect(stdout).toContain('OK: every conversation was processed one message at a time, in ticket order.');
}, 60_000);
