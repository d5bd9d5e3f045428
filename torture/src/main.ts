// pnpm torture: worker processes hammer shared conversations on Redis while faults are injected, then
// every critical section is checked. Exits non-zero on any violation.
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type LockStoreConfigInput, loadEndpointsConfig, parseLockStoreConfig } from '@lockstore/core';
import { type RedisServer, startRedis } from '@lockstore/redis-servers';
import { WORKER_FAULTS, formatReport, runTorture } from '@lockstore/testkit/torture';
import type { Redis } from 'ioredis';

const REDIS_FAULTS = ['redis-connection-kill', 'redis-stall', 'redis-pause', 'redis-restart'] as const;

const { values: args } = parseArgs({
  options: {
    duration: { type: 'string', default: '20' },
    workers: { type: 'string', default: '4' },
    conversations: { type: 'string', default: '8' },
    lifetime: { type: 'string', default: '2000' },
    'fault-every': { type: 'string', default: '1000' },
    faults: { type: 'string', default: 'all' },
    endpoints: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`Usage: pnpm torture [--duration S] [--workers N] [--conversations N] [--lifetime MS]
                    [--fault-every MS] [--faults all|none|LIST] [--endpoints endpoints.yml]

Starts its own redis-server (or uses the lock_store of --endpoints, with worker faults only), runs
worker processes that take locks on shared conversations, injects faults, and checks every critical
section. Faults: ${[...WORKER_FAULTS, ...REDIS_FAULTS].join(', ')}; workers also overrun their
lifetime, time out, abort and run with skewed clocks.`);
  process.exit(0);
}

function number(name: string, raw: string | undefined, min: number): number {
  const value = Number(raw);
  if (!Number.isFinite(value) || value < min) {
    console.error(`--${name} must be a number >= ${min}, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const durationMs = number('duration', args.duration, 1) * 1000;
const lifetimeMs = number('lifetime', args.lifetime, 200);

let server: RedisServer | undefined;
let config: LockStoreConfigInput;
if (args.endpoints) {
  // Relative to where `pnpm torture` was typed (pnpm runs the script in the package's directory).
  config = (await loadEndpointsConfig(resolve(process.env['INIT_CWD'] ?? process.cwd(), args.endpoints))) ?? {};
} else {
  server = await startRedis(['--enable-debug-command', 'yes']);
  config = { type: 'redis', url: '127.0.0.1', port: server.port, db: 0, key_prefix: 'torture', socket_timeout: 1 };
}
const parsed = parseLockStoreConfig({ ...config, lock_lifetime: lifetimeMs / 1000 });
if (parsed.type === 'in_memory' || parsed.type === 'memory') {
  console.error('The torture run needs a store shared across processes (the in-memory store is one process only).');
  process.exit(2);
}

// One control connection: the faults' own CLIENT KILL skips it, and it reconnects after a restart.
const control: Redis | undefined = server?.client();
const admin = (): Redis => control!;
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const backendFaults: Record<string, () => Promise<void>> = server
  ? {
      'redis-connection-kill': async () => {
        const client = admin();
        await client.client('KILL', 'TYPE', 'normal', 'SKIPME', 'yes');
        await client.client('KILL', 'TYPE', 'pubsub');
      },
      'redis-stall': async () => {
        await admin().call('DEBUG', 'SLEEP', (0.2 + Math.random() * 0.4).toFixed(2));
      },
      'redis-pause': async () => {
        await admin().call('CLIENT', 'PAUSE', String(Math.round(lifetimeMs / 3)), 'ALL');
        await sleep(lifetimeMs / 3);
      },
      'redis-restart': () => server.restart(),
    }
  : {};

const all = [...WORKER_FAULTS, ...Object.keys(backendFaults)];
const faults = args.faults === 'all' ? all : args.faults === 'none' ? [] : (args.faults ?? '').split(',').filter(Boolean);

console.log(
  `lockstore torture: ${args.workers} workers, ${args.conversations} conversations, lifetime ${lifetimeMs} ms, ` +
    `${durationMs / 1000} s of faults: ${faults.join(', ') || 'none'}`,
);
const report = await runTorture({
  config: parsed,
  workers: number('workers', args.workers, 1),
  conversations: number('conversations', args.conversations, 1),
  durationMs,
  lifetimeMs,
  faultEveryMs: number('fault-every', args['fault-every'], 10),
  faults,
  backendFaults,
  dataLossFaults: ['redis-restart'],
  workerFaults: args.faults !== 'none',
  onProgress: (line) => console.log(line),
  ...(server
    ? {
        // A released conversation keeps only its last fence and queue positions (under a TTL).
        leftovers: async () => {
          let left = 0;
          for (const key of await admin().keys('torture:lock:*')) {
            if ((await admin().hkeys(key)).some((field) => !['last', 'head', 'tail', 'until'].includes(field))) left++;
          }
          return left;
        },
      }
    : {}),
});
await server?.stop();
console.log(`\n${formatReport(report)}\n`);
console.log(report.violations === 0 ? 'OK: no violations.' : `VIOLATIONS FOUND: ${report.violations}`);
process.exit(report.violations === 0 ? 0 : 1);
