// A process that only listens: the floor under any push hand-off is a PUBLISH reaching another
// process. It subscribes, then reports over IPC the time (on the machine clock) each message arrived.
import { Redis } from 'ioredis';
import { machineClock } from './machine-clock.js';

const subscriber = new Redis({ port: Number(process.argv[2]) });
subscriber.on('message', () => process.send?.({ at: machineClock() }));
await subscriber.subscribe('lockstore-bench-floor');
process.send?.({ ready: true });
process.on('message', () => {
  subscriber.disconnect();
  process.exit(0);
});
