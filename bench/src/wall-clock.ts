/** Wall-clock time with sub-millisecond precision, comparable between processes of one machine. */
export const wallClock = () => performance.timeOrigin + performance.now();
