// A replica in its own process: builds its store from the config it is given, then handles the
// messages the load balancer (the parent process) sends it, reporting each one back.
import { createLockStore } from '@lockstore/core';
import { type Message, handle } from './chat.js';

const replica = Number(process.argv[2]);
const config = JSON.parse(process.argv[3] ?? 'null') as unknown;
const store = await createLockStore(config);
let inFlight = 0;
let stopping = false;

async function stopWhenIdle() {
  if (!stopping || inFlight > 0) return;
  await store.close();
  process.disconnect?.();
}

process.on('message', (message: Message | { type: 'stop' }) => {
  if ('type' in message) {
    stopping = true;
    void stopWhenIdle();
    return;
  }
  inFlight++;
  handle(store, replica, message).then(
    (processed) => process.send?.({ type: 'processed', processed }),
    (error: unknown) => process.send?.({ type: 'failed', message, error: String(error) }),
  ).finally(() => {
    inFlight--;
    void stopWhenIdle();
  });
});
process.send?.({ type: 'ready' });
