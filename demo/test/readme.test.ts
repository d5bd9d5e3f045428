import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const here = fileURLToPath(new URL('..', import.meta.url));

/** Every README of the repository: the root one and each package's. */
function readmes(): string[] {
  const packages = readdirSync(join(root, 'packages')).map((name) => join(root, 'packages', name, 'README.md'));
  return [join(root, 'README.md'), ...packages].filter((path) => {
    try {
      return readFileSync(path, 'utf8').length > 0;
    } catch {
      return false;
    }
  });
}

it('every TypeScript snippet of every README compiles', () => {
  const dir = join(here, 'snippets');
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir);
  let count = 0;
  for (const readme of readmes()) {
    const blocks = [...readFileSync(readme, 'utf8').matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!);
    for (const block of blocks) writeFileSync(join(dir, `snippet-${count++}.ts`), `${block}\nexport {};\n`);
  }
  // The testkit example imports a backend from './map-backend.js': core's README defines it.
  const core = readFileSync(join(root, 'packages/core/README.md'), 'utf8');
  writeFileSync(join(dir, 'map-backend.ts'), mapBackendFrom(core));
  expect(count).toBeGreaterThanOrEqual(7);
  const tsc = join(here, 'node_modules/typescript/bin/tsc');
  try {
    execFileSync(process.execPath, [tsc, '-p', join(here, 'tsconfig.snippets.json')], { encoding: 'utf8' });
  } catch (error) {
    throw new Error(`README snippets do not compile:\n${(error as { stdout?: string }).stdout ?? String(error)}`, { cause: error });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

/** core's example backend, given a clock and a size so the testkit example can use it. */
function mapBackendFrom(readme: string): string {
  const block = [...readme.matchAll(/```ts\n([\s\S]*?)```/g)].map((m) => m[1]!).find((b) => b.includes('class MapBackend'))!;
  const backend = block.slice(0, block.indexOf('const store = new LockStore'));
  return backend
    .replace("import { LockStore } from '@lockstore/core';\n", "import type { Clock } from '@lockstore/core';\n")
    .replace('export class MapBackend implements LockBackend {', 'export class MapBackend implements LockBackend {\n  constructor(readonly clock?: Clock) {}\n  get size() { return this.#queues.size; }');
}
