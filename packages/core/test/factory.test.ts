import { execFileSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { LockstoreError, createLockStore } from '../src/index.js';

const coreEntry = fileURLToPath(new URL('../dist/index.js', import.meta.url));
const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  return LockstoreError.is(error) ? `${error.code}: ${error.message}` : `not a lockstore error: ${String(error)}`;
}

describe('createLockStore', () => {
  it('builds a third-party store named by module, with its config', async () => {
    const store = await createLockStore({ type: fixture('single-slot-backend.mjs'), lock_lifetime: 7 });
    expect(store.lifetimeMs).toBe(7000);
    const lock = await store.lock('a');
    expect((await store.inspect('a')).nowServing).toBe(lock.fence);
    await lock.release();
    await store.close();
  });

  it('takes a named export with #name and checks it satisfies the contract', async () => {
    expect(await code(createLockStore({ type: `${fixture('single-slot-backend.mjs')}#notABackend` }))).toMatch(
      /^INVALID_BACKEND: .*lacks these methods of the contract: refresh, release, inspect, delete, onGrant, close$/,
    );
  });

  it('refuses a module without the factory export', async () => {
    expect(await code(createLockStore({ type: fixture('not-a-store.mjs') }))).toMatch(/^INVALID_BACKEND: .*no function export "createBackend"/);
  });

  it('reports a module that cannot be found', async () => {
    expect(await code(createLockStore({ type: 'no-such-lock-module' }))).toMatch(/^BACKEND_NOT_FOUND: Cannot find .*no-such-lock-module/);
  });

  it('tells to install @lockstore/memory or @lockstore/redis when absent', () => {
    // A clean process in an empty directory, as an application that installed only core would be.
    const script = `
      import { createLockStore } from ${JSON.stringify(pathToFileURL(coreEntry).href)};
      for (const config of [undefined, { type: 'redis' }]) {
        await createLockStore(config).catch((e) => console.log(e.code + ': ' + e.message));
      }`;
    const output = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      cwd: mkdtempSync(join(tmpdir(), 'lockstore-')),
      env: { PATH: process.env['PATH'] },
      encoding: 'utf8',
    });
    const lines = output.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^BACKEND_NOT_FOUND: Cannot find the lock store module "@lockstore\/memory" .*npm install @lockstore\/memory$/);
    expect(lines[1]).toMatch(/^BACKEND_NOT_FOUND: .*npm install @lockstore\/redis$/);
  });

  it('turns a factory that cannot connect into CONNECTION_FAILED', async () => {
    expect(await code(createLockStore({ type: `${fixture('single-slot-backend.mjs')}#failsToConnect` }))).toMatch(
      /^CONNECTION_FAILED: Cannot connect to lock store: connect ECONNREFUSED/,
    );
  });

  it('validates the config before loading anything', async () => {
    expect(await code(createLockStore({ type: 'redis', port: 0 }))).toMatch(/^INVALID_CONFIG: .*port/);
  });
});
