/** What a torture worker is told to do (passed as its first argument, in JSON). */
export interface WorkerPlan {
  readonly worker: string;
  /** The `lock_store` config every worker builds its store from. */
  readonly config: unknown;
  /** Where the store's module is resolved from (the application's directory). */
  readonly resolveFrom: string;
  readonly conversations: readonly string[];
  /** Messages handled at once by this worker. */
  readonly concurrency: number;
  readonly lifetimeMs: number;
  /** Handlers work a random time up to this, in ms. */
  readonly workMs: number;
  /** Every n-th handler runs 2.5 lifetimes (0: never), so that only renewal keeps its lock. */
  readonly overrunEvery: number;
  /** Every n-th acquire gets a short timeout (0: never). */
  readonly timeoutEvery: number;
  /** Every n-th acquire is aborted after a short while (0: never). */
  readonly abortEvery: number;
  /** This worker's clock is off by this much; the store must not care. */
  readonly clockSkewMs: number;
  readonly logFile: string;
}

/** One line of a worker's log. Times are wall-clock ms with sub-ms precision, comparable across processes. */
export type LogLine =
  | { readonly t: 'take'; readonly w: string; readonly m: number; readonly c: string }
  | { readonly t: 'start'; readonly w: string; readonly m: number; readonly c: string; readonly f: number; readonly at: number }
  | { readonly t: 'end'; readonly w: string; readonly m: number; readonly c: string; readonly f: number; readonly at: number; readonly lost: boolean }
  | { readonly t: 'retry'; readonly w: string; readonly m: number; readonly code: string };

/** What a worker reports to the runner whenever it changes. */
export interface WorkerState {
  readonly holding: number;
  readonly waiting: number;
  readonly cycles: number;
}

/** Wall-clock time with sub-millisecond precision, comparable between processes of one machine. */
export const wallClock = () => performance.timeOrigin + performance.now();
