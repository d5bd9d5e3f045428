import { type BackendCapabilities, systemClock } from '@lockstore/core';
import { afterEach, describe, it } from 'vitest';
import { type CheckGroup, groups } from './checks.js';
import { Harness, type SuiteOptions } from './harness.js';
import { modelGroup } from './model.js';

function checkOptions(options: SuiteOptions): void {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError('lockStoreSuite(options): options must be an object with a factory');
  }
  if (typeof options.factory !== 'function') {
    throw new TypeError('lockStoreSuite(options): options.factory must be a function returning a LockBackend');
  }
  if (options.leftovers !== undefined && typeof options.leftovers !== 'function') {
    throw new TypeError('lockStoreSuite(options): options.leftovers must be a function when given');
  }
  const lifetime = options.realTimeLifetimeMs;
  if (lifetime !== undefined && !(Number.isInteger(lifetime) && lifetime >= 50)) {
    throw new TypeError(`lockStoreSuite(options): options.realTimeLifetimeMs must be an integer >= 50, got ${String(lifetime)}`);
  }
}

/**
 * Registers one group of checks as a `describe` block. Checks the backend cannot run, by its
 * declared capabilities, are registered as skipped, so they show in the report.
 */
export function describeGroup(group: CheckGroup, options: SuiteOptions): void {
  checkOptions(options);
  let capabilities: Promise<BackendCapabilities> | undefined;
  // Asks a backend once for its capabilities, then closes it.
  const probe = async () => {
    const backend = await options.factory({ clock: systemClock, namespace: 'lockstoreprobe' });
    const found = backend.capabilities ?? {};
    await backend.close();
    return found;
  };
  describe(group.name, () => {
    let harnesses: Harness[] = [];
    afterEach(async () => {
      await Promise.all(harnesses.map((h) => h.dispose()));
      harnesses = [];
    });
    for (const check of group.checks) {
      it(check.name, async (context) => {
        const found = await (capabilities ??= probe());
        const reason = check.skip?.(found);
        if (reason !== undefined) context.skip(reason);
        const h = new Harness(options, (found.clock ?? 'injected') === 'injected');
        harnesses.push(h);
        await check.run(h);
      });
    }
  });
}

/**
 * The whole conformance suite: every group, then the model-based test. Call it at the top level of
 * a vitest test file.
 */
export function lockStoreSuite(options: SuiteOptions): void {
  checkOptions(options);
  for (const group of groups) describeGroup(group, options);
  describeGroup(modelGroup(options.modelRuns ?? 60), options);
}
