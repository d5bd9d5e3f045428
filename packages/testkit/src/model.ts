import { type HeldLock, LockstoreError, type LockstoreErrorCode, type LockStore } from '@lockstore/core';
import fc from 'fast-check';
import { expect } from 'vitest';
import type { Check, CheckGroup } from './checks.js';
import { type Harness, type Tracked, track } from './harness.js';

const CLIENTS = 6;
const CONVERSATIONS = ['model-a', 'model-b'];

interface Entry {
  readonly client: number;
  readonly renew: boolean;
  readonly issuedAt: number;
}

/** The reference: plain FIFO queues, with expiry computed from issue times. */
class Model {
  readonly queues = new Map<string, Entry[]>(CONVERSATIONS.map((c) => [c, []]));
  /** How each client's last acquisition ended, when it ended on its own. */
  readonly ended = new Map<number, LockstoreErrorCode>();
  now: number;

  constructor(
    start: number,
    readonly lifetimeMs: number,
  ) {
    this.now = start;
  }

  find(client: number): { conversation: string; index: number } | undefined {
    for (const [conversation, queue] of this.queues) {
      const index = queue.findIndex((e) => e.client === client);
      if (index >= 0) return { conversation, index };
    }
    return undefined;
  }

  remove(client: number): void {
    const found = this.find(client);
    if (found) this.queues.get(found.conversation)!.splice(found.index, 1);
  }

  /**
   * Drops expired tickets front to back. A ticket that reaches the front is served one millisecond
   * after the ticket before it expired (when the store notices); one that expires no later than that
   * was never served and fails as a waiter.
   */
  expire(): void {
    for (const queue of this.queues.values()) {
      let freedAt = -Infinity;
      for (let i = 0; i < queue.length; ) {
        const entry = queue[i]!;
        const expiresAt = entry.issuedAt + this.lifetimeMs;
        // The commands keep every expiry at least 2 ms away from the instant it is checked.
        if (entry.renew || expiresAt + 2 > this.now) {
          i++;
          continue;
        }
        this.ended.set(entry.client, i === 0 && freedAt + 1 < expiresAt ? 'LEASE_LOST' : 'TICKET_EXPIRED');
        if (i === 0) freedAt = expiresAt;
        queue.splice(i, 1);
      }
    }
  }
}

interface Client {
  readonly tracked: Tracked<HeldLock>;
  readonly controller: AbortController;
}

/** The real side: one store, and each client's latest acquisition. */
interface Real {
  readonly h: Harness;
  readonly store: LockStore;
  readonly clients: Map<number, Client>;
}

type Command = fc.AsyncCommand<Model, Real>;

function endedWith(client: Client): LockstoreErrorCode | 'held' | 'pending' | 'released' {
  const { tracked } = client;
  if (tracked.state === 'pending') return 'pending';
  if (tracked.state === 'rejected') return LockstoreError.is(tracked.error) ? tracked.error.code : 'STORE_FAILURE';
  const lock = tracked.value!;
  if (lock.signal.aborted) return LockstoreError.is(lock.signal.reason) ? lock.signal.reason.code : 'LEASE_LOST';
  return lock.done ? 'released' : 'held';
}

/** What the model says every client should show now. */
function expected(model: Model, client: number): string {
  const found = model.find(client);
  if (found) return found.index === 0 ? 'held' : 'pending';
  return model.ended.get(client) ?? 'released';
}

async function compare(model: Model, real: Real): Promise<void> {
  const matches = () => [...real.clients.keys()].every((c) => endedWith(real.clients.get(c)!) === expected(model, c));
  if (real.h.manual) await real.h.settle();
  else await real.h.until(matches, 'the store matches the model', 3000).catch(() => {});
  for (const [client, state] of real.clients) {
    expect({ client, state: endedWith(state) }).toEqual({ client, state: expected(model, client) });
  }
}

class Acquire implements Command {
  constructor(
    readonly client: number,
    readonly conversation: string,
    readonly renew: boolean,
  ) {}
  check(model: Readonly<Model>) {
    return model.find(this.client) === undefined;
  }
  async run(model: Model, real: Real) {
    const controller = new AbortController();
    const promise = real.store.lock(this.conversation, { renew: this.renew, signal: controller.signal });
    real.clients.set(this.client, { tracked: track(promise), controller });
    model.ended.delete(this.client);
    model.queues.get(this.conversation)!.push({ client: this.client, renew: this.renew, issuedAt: real.h.clock.now() });
    await compare(model, real);
  }
  toString() {
    return `lock(client ${this.client}, ${this.conversation}, renew ${this.renew})`;
  }
}

class Release implements Command {
  constructor(readonly client: number) {}
  check(model: Readonly<Model>) {
    return model.find(this.client)?.index === 0;
  }
  async run(model: Model, real: Real) {
    await real.clients.get(this.client)!.tracked.value!.release();
    model.remove(this.client);
    await compare(model, real);
  }
  toString() {
    return `release(client ${this.client})`;
  }
}

class Abort implements Command {
  constructor(readonly client: number) {}
  check(model: Readonly<Model>) {
    return (model.find(this.client)?.index ?? 0) > 0;
  }
  async run(model: Model, real: Real) {
    real.clients.get(this.client)!.controller.abort();
    model.remove(this.client);
    model.ended.set(this.client, 'ACQUIRE_ABORTED');
    await compare(model, real);
  }
  toString() {
    return `abort(client ${this.client})`;
  }
}

class Advance implements Command {
  constructor(readonly tenths: number) {}
  check() {
    return true;
  }
  async run(model: Model, real: Real) {
    // Whole tenths of a lifetime plus 3 ms, so that no expiry falls on the instant the store checks it.
    const ms = (this.tenths * model.lifetimeMs) / 10 + 3;
    await real.h.advance(ms);
    model.now += ms;
    model.expire();
    await compare(model, real);
  }
  toString() {
    return `advance(${this.tenths}/10 lifetime)`;
  }
}

/**
 * A model-based property test: random interleavings of lock, release, abort, expiry and renewal,
 * checked after every step against plain FIFO queues. Time moves only with an injected clock.
 */
export function modelCheck(runs: number): Check {
  return {
    name: 'random interleavings of lock, release, abort, expiry and renewal match a FIFO model',
    async run(h) {
      const client = fc.integer({ min: 0, max: CLIENTS - 1 });
      const acquire = fc
        .tuple(client, fc.constantFrom(...CONVERSATIONS), fc.boolean())
        .map(([c, conv, renew]) => new Acquire(c, conv, renew));
      // Acquire is listed twice: most random releases and aborts name a client with nothing to do.
      const commands: fc.Arbitrary<Command>[] = [acquire, acquire, client.map((c) => new Release(c)), client.map((c) => new Abort(c))];
      if (h.manual) commands.push(fc.integer({ min: 1, max: 15 }).map((t) => new Advance(t)));
      await fc.assert(
        fc.asyncProperty(fc.commands(commands, { maxCommands: 60, size: 'max' }), async (cmds) => {
          const run = h.fork();
          try {
            const store = await run.store({ onError: () => {} });
            const setup = () => ({ model: new Model(run.clock.now(), run.lifetimeMs), real: { h: run, store, clients: new Map() } });
            await fc.asyncModelRun(setup, cmds);
          } finally {
            await run.dispose();
          }
        }),
        { numRuns: h.manual ? runs : Math.max(5, Math.floor(runs / 6)) },
      );
    },
  };
}

/** The model-based group, as registered by the suite. */
export function modelGroup(runs: number): CheckGroup {
  return { name: 'model', checks: [modelCheck(runs)] };
}
