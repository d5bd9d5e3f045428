import { describe, expect, it } from 'vitest';
import { type FaultRecord, checkRun, sectionsOf } from '../src/torture/check.js';
import type { LogLine } from '../src/torture/protocol.js';

type Run = [worker: string, message: number, conversation: string, fence: number, start: number, end: number, lost?: boolean];

function log(runs: Run[]): LogLine[] {
  return runs.flatMap(([w, m, c, f, start, end, lost = false]): LogLine[] => [
    { t: 'take', w, m, c },
    { t: 'start', w, m, c, f, at: start },
    { t: 'end', w, m, c, f, at: end, lost },
  ]);
}

const everyone = new Set(['a', 'b']);

describe('the torture checker', () => {
  it('passes a clean run', () => {
    const verdict = checkRun(log([['a', 0, 'c', 1, 0, 10], ['b', 0, 'c', 2, 10, 20], ['a', 1, 'd', 3, 5, 30]]), [], everyone, 100);
    expect(verdict).toMatchObject({ sections: 3, overlaps: 0, outOfOrder: 0, missing: 0, duplicated: 0, fencedOverlaps: 0 });
  });

  it('counts overlapping critical sections of one conversation', () => {
    expect(checkRun(log([['a', 0, 'c', 1, 0, 10], ['b', 0, 'c', 2, 5, 20]]), [], everyone, 100).overlaps).toBe(1);
  });

  it('allows an overlap after a signalled lease loss only when the fence orders the holders', () => {
    const fenced = checkRun(log([['a', 0, 'c', 1, 0, 10, true], ['b', 0, 'c', 2, 5, 20], ['a', 0, 'c', 3, 30, 40]]), [], everyone, 100);
    expect(fenced).toMatchObject({ overlaps: 0, fencedOverlaps: 1, unfencedOverlaps: 0, lostLeases: 1, missing: 0 });
    const unfenced = checkRun(log([['a', 0, 'c', 5, 0, 10, true], ['b', 0, 'c', 2, 5, 20], ['a', 0, 'c', 6, 30, 40]]), [], everyone, 100);
    expect(unfenced.unfencedOverlaps).toBe(1);
  });

  it('allows an overlap across a loss of the store data only when the fence orders the holders', () => {
    const restart: FaultRecord = { kind: 'restart', at: 3, until: 4 };
    const lines = log([['a', 0, 'c', 1, 0, 10], ['b', 0, 'c', 2, 5, 20]]);
    expect(checkRun(lines, [restart], everyone, 100, new Set(['restart']))).toMatchObject({ overlaps: 0, dataLossOverlaps: 1 });
    expect(checkRun(lines, [restart], everyone, 100, new Set())).toMatchObject({ overlaps: 1, dataLossOverlaps: 0 });
    const late: FaultRecord = { kind: 'restart', at: 6, until: 7 };
    expect(checkRun(lines, [late], everyone, 100, new Set(['restart']))).toMatchObject({ overlaps: 1 });
  });

  it('counts tickets served out of FIFO order', () => {
    expect(checkRun(log([['a', 0, 'c', 2, 0, 10], ['b', 0, 'c', 1, 10, 20]]), [], everyone, 100).outOfOrder).toBe(1);
  });

  it('counts messages of survivors processed zero times or twice, and ignores the killed', () => {
    const lines: LogLine[] = [...log([['a', 0, 'c', 1, 0, 10], ['a', 0, 'c', 2, 10, 20]]), { t: 'take', w: 'b', m: 0, c: 'c' }, { t: 'take', w: 'x', m: 0, c: 'c' }];
    expect(checkRun(lines, [], everyone, 100)).toMatchObject({ missing: 1, duplicated: 1 });
  });

  it('ends a killed holder at its kill, and measures recovery on its conversation', () => {
    const lines: LogLine[] = [{ t: 'take', w: 'x', m: 0, c: 'c' }, { t: 'start', w: 'x', m: 0, c: 'c', f: 1, at: 0 }, ...log([['a', 0, 'c', 2, 150, 160]])];
    const kill: FaultRecord = { kind: 'kill-holder', at: 50, until: 50, worker: 'x', conversation: 'c' };
    expect(sectionsOf(lines, [kill]).find((s) => s.worker === 'x')).toMatchObject({ end: 50, killed: true });
    const verdict = checkRun(lines, [kill], everyone, 100);
    expect(verdict.overlaps).toBe(0);
    expect(verdict.worstRecoveryMs).toEqual({ 'kill-holder': 100 });
  });

  it('counts overruns kept by renewal and the codes of retried acquires', () => {
    const lines: LogLine[] = [...log([['a', 0, 'c', 1, 0, 250]]), { t: 'retry', w: 'b', m: 0, code: 'ACQUIRE_TIMEOUT' }];
    expect(checkRun(lines, [], new Set(['a']), 100)).toMatchObject({ overruns: 1, retries: { ACQUIRE_TIMEOUT: 1 } });
  });
});
