/**
 * Milliseconds on the machine's monotonic clock, with sub-microsecond precision: one clock for every
 * process of the machine, so that a time taken in one process can be subtracted from a time taken in
 * another. (`performance.timeOrigin + performance.now()` is not: each process sets its origin from
 * the wall clock once, at its start.)
 */
export const machineClock = () => Number(process.hrtime.bigint()) / 1e6;
