import { execFile, spawn } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, expect, it } from 'vitest';

const here = fileURLToPath(new URL('..', import.meta.url));
let port = 0;
let server: ReturnType<typeof spawn>;

beforeAll(async () => {
  port = await new Promise<number>((resolve) => {
    const probe = createServer().listen(0, '127.0.0.1', () => {
      const { port: free } = probe.address() as { port: number };
      probe.close(() => resolve(free));
    });
  });
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: ['ignore', 'pipe', 'ignore'] });
  await new Promise<void>((resolve) => server.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('Ready to accept') && resolve()));
});
afterAll(() => {
  server.kill('SIGKILL');
});

it('runs its replicas as separate processes on Redis and verifies the run', async () => {
  const { stdout } = await promisify(execFile)(
    process.execPath,
    ['dist/main.js', '--endpoints', 'endpoints.redis.yml', '--replicas', '3', '--conversations', '10', '--messages', '20', '--work-ms', '2'],
    { cwd: here, env: { ...process.env, REDIS_PORT: String(port) } },
  );
  expect(stdout).toContain('(one process per replica)');
  expect(stdout).toContain('processed 200 of 200 messages');
  expect(stdout).toContain('ok   handlers ran in ticket (fence) order');
  expect(stdout).toContain('OK: every conversation was processed one message at a time, in ticket order.');
}, 60_000);
