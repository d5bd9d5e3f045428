import { describe, expect, it } from 'vitest';
import { type Check, Harness, expiry, groups, modelCheck, ordering } from '../src/index.js';
import { type Flaw, SimpleBackend } from './simple-backend.js';

function harnessFor(flaw: Flaw): Harness {
  return new Harness({ factory: ({ clock }) => new SimpleBackend(clock, flaw) }, true);
}

function check(group: { checks: readonly Check[] }, name: string): Check {
  const found = group.checks.find((c) => c.name.startsWith(name));
  if (found === undefined) throw new Error(`no check named ${name}`);
  return found;
}

async function outcome(flaw: Flaw, target: Check): Promise<string> {
  const h = harnessFor(flaw);
  try {
    await target.run(h);
    return 'passed';
  } catch {
    return 'failed';
  } finally {
    await h.dispose();
  }
}

const fifo = check(ordering, 'ten messages of one conversation');
const handOff = check(ordering, 'finishing the first of two tickets');
const crashedHolder = check(expiry, 'a crashed holder stops blocking');
const tinyLifetime = check(expiry, 'a ticket with a tiny lifetime');

describe('the suite catches broken stores', () => {
  it('a correct plain backend passes every check that the flawed ones fail', async () => {
    for (const target of [fifo, handOff, crashedHolder, tinyLifetime]) expect(await outcome('none', target)).toBe('passed');
  });

  it('a store that is not FIFO fails the order check', async () => {
    expect(await outcome('lifo', fifo)).toBe('failed');
  });

  it('a store that lets two holders in fails mutual exclusion', async () => {
    expect(await outcome('two-holders', fifo)).toBe('failed');
    expect(await outcome('two-holders', handOff)).toBe('failed');
  });

  it('a store that never expires tickets fails the expiry checks', async () => {
    expect(await outcome('no-expiry', crashedHolder)).toBe('failed');
    expect(await outcome('no-expiry', tinyLifetime)).toBe('failed');
  });

  it('the model-based test fails each flawed store and passes the correct one', async () => {
    const model = modelCheck(200);
    expect(await outcome('none', model)).toBe('passed');
    expect(await outcome('lifo', model)).toBe('failed');
    expect(await outcome('two-holders', model)).toBe('failed');
    expect(await outcome('no-expiry', model)).toBe('failed');
  });

  it('every check of every group runs on the correct plain backend', async () => {
    const failed: string[] = [];
    for (const group of groups) {
      for (const target of group.checks) {
        if (target.skip?.({ clock: 'injected' }) !== undefined) continue;
        if ((await outcome('none', target)) !== 'passed') failed.push(`${group.name}: ${target.name}`);
      }
    }
    expect(failed).toEqual([]);
  }, 120_000);
});
