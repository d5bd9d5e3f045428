// runTorture itself: a worker that dies on its own is a violation, and the run still ends with a report.
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';
import { formatReport, runTorture } from '@lockstore/testkit/torture';

it('counts workers that crash as violations instead of failing the run', async () => {
  const report = await runTorture({
    config: { type: './test/fixtures/fails-in-workers.mjs' },
    resolveFrom: fileURLToPath(new URL('..', import.meta.url)),
    workers: 2,
    conversations: 2,
    durationMs: 500,
    lifetimeMs: 500,
    faults: [],
    workerFaults: false,
  });
  expect(report).toMatchObject({ workersStarted: 2, workersCrashed: 2, blocked: 0, violations: 2 });
  expect(report.verdict.sections).toBe(0);
  expect(formatReport(report)).toContain('| VIOLATION worker processes that crashed | 2 |');
}, 30_000);
