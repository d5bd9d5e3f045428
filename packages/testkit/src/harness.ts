import { type BackendContext, type Clock, type LockBackend, LockStore, type LockStoreOptions, ManualClock, systemClock } from '@lockstore/core';

/** What a backend author hands to the conformance suite. */
export interface SuiteOptions {
  /**
   * Builds a fresh backend. Called many times: every call with the same `namespace` must share data
   * (as two replicas would), and different namespaces must never see each other's data.
   */
  readonly factory: (context: SuiteContext) => LockBackend | Promise<LockBackend>;
  /**
   * Counts what the backend still stores for a namespace (keys, rows, entries), so the suite can
   * check that nothing is left behind once every lock is released. Skipped when absent.
   */
  readonly leftovers?: (backend: LockBackend, namespace: string) => number | Promise<number>;
  /**
   * The ticket lifetime the suite uses with a backend whose clock it cannot move
   * (`capabilities.clock === 'server'`), in ms: long enough for a few round trips.
   * @default 600
   */
  readonly realTimeLifetimeMs?: number;
  /** Runs of the model-based property test. @default 60 */
  readonly modelRuns?: number;
}

/** Handed to {@link SuiteOptions.factory}. */
export interface SuiteContext extends BackendContext {
  /** A unique namespace for this test: use it as key prefix, table name, directory… */
  readonly namespace: string;
}

let counter = 0;
const runId = `${process.pid.toString(36)}${Date.now().toString(36)}`;

/**
 * One test's world: a namespace, a clock, and the stores opened in it (closed by `dispose`).
 * With an `injected` clock, `advance` moves time at once; with a `server` clock it sleeps.
 */
export class Harness {
  readonly namespace = `lockstoretest${runId}n${counter++}`;
  readonly clock: Clock;
  readonly manual: ManualClock | undefined;
  readonly lifetimeMs: number;
  readonly #options: SuiteOptions;
  readonly #stores: LockStore[] = [];
  readonly #backends: LockBackend[] = [];

  constructor(options: SuiteOptions, injectedClock: boolean) {
    this.#options = options;
    this.manual = injectedClock ? new ManualClock() : undefined;
    this.clock = this.manual ?? systemClock;
    this.lifetimeMs = injectedClock ? 60_000 : (options.realTimeLifetimeMs ?? 600);
  }

  /** A new harness with the same options: a fresh namespace and clock. */
  fork(): Harness {
    return new Harness(this.#options, this.manual !== undefined);
  }

  /** A raw backend in this namespace, closed by `dispose`. */
  async backend(): Promise<LockBackend> {
    const backend = await this.#options.factory({ clock: this.clock, namespace: this.namespace });
    this.#backends.push(backend);
    return backend;
  }

  /** A store on a fresh backend in this namespace (another "replica"), closed by `dispose`. */
  async store(options: Omit<LockStoreOptions, 'clock'> = {}, backend?: LockBackend): Promise<LockStore> {
    const store = new LockStore(backend ?? (await this.#options.factory({ clock: this.clock, namespace: this.namespace })), {
      lifetimeMs: this.lifetimeMs,
      ...options,
      clock: this.clock,
    });
    this.#stores.push(store);
    return store;
  }

  /** Lets time pass: instantly on a manual clock, for real otherwise. */
  async advance(ms: number): Promise<void> {
    if (this.manual) await this.manual.advance(ms);
    else await sleep(ms);
  }

  /** Lets pending promises and pushed grants arrive. */
  async settle(): Promise<void> {
    if (this.manual) await this.manual.advance(0);
    else await sleep(Math.min(50, this.lifetimeMs / 10));
  }

  /** Waits until `condition` holds, checking between settles; fails after `limitMs` of real time. */
  async until(condition: () => boolean | Promise<boolean>, what: string, limitMs = 5000): Promise<void> {
    const start = Date.now();
    while (!(await condition())) {
      if (Date.now() - start > limitMs) throw new Error(`Timed out waiting until ${what}`);
      await this.settle();
    }
  }

  /** What the backend still stores for this namespace, or undefined when the suite cannot tell. */
  async leftovers(): Promise<number | undefined> {
    if (this.#options.leftovers === undefined) return undefined;
    const backend = await this.backend();
    return this.#options.leftovers(backend, this.namespace);
  }

  async dispose(): Promise<void> {
    await Promise.allSettled(this.#stores.map((store) => store.close()));
    await Promise.allSettled(this.#backends.map((backend) => backend.close()));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Observes a promise without awaiting it, so tests can ask whether it has settled yet. */
export function track<T>(promise: Promise<T>): Tracked<T> {
  const tracked: Tracked<T> = { state: 'pending', promise };
  promise.then(
    (value) => Object.assign(tracked, { state: 'resolved', value }),
    (error: unknown) => Object.assign(tracked, { state: 'rejected', error }),
  );
  return tracked;
}

export interface Tracked<T> {
  state: 'pending' | 'resolved' | 'rejected';
  readonly promise: Promise<T>;
  value?: T;
  error?: unknown;
}
