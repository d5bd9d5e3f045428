// The torture run, without vitest: import it from '@lockstore/testkit/torture'.
export { type FaultRecord, type Section, type Verdict, checkRun, sectionsOf } from './check.js';
export type { LogLine, WorkerPlan, WorkerState } from './protocol.js';
export { type TortureOptions, type TortureReport, WORKER_FAULTS, formatReport, runTorture } from './run.js';
