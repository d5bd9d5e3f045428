// The demo: a replicated chat service in miniature. A load balancer sends the messages of many
// conversations to random replicas; each replica processes a message under its conversation's lock.
// At the end the run is verified: exactly once, one at a time, in ticket order.
import { fork } from 'node:child_process';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { type LockStoreConfigInput, createLockStore, loadEndpointsConfig, parseLockStoreConfig, redactConfig } from '@lockstore/core';
import { type Message, type Processed, handle, percentile, verify } from './chat.js';

const { values: args } = parseArgs({
  options: {
    endpoints: { type: 'string' },
    replicas: { type: 'string', default: '4' },
    conversations: { type: 'string', default: '50' },
    messages: { type: 'string', default: '200' },
    'work-ms': { type: 'string', default: '10' },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`Usage: pnpm demo [--endpoints endpoints.yml] [--replicas N] [--conversations N] [--messages N] [--work-ms MS]

Without --endpoints the replicas share one in-memory store in this process. With an endpoints file
whose lock_store names another store (type: redis), each replica runs as its own process.`);
  process.exit(0);
}

function positive(name: string, raw: string | undefined): number {
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1) {
    console.error(`--${name} must be a whole number >= 1, got ${JSON.stringify(raw)}`);
    process.exit(2);
  }
  return value;
}

const replicas = positive('replicas', args.replicas);
const conversations = positive('conversations', args.conversations);
const perConversation = positive('messages', args.messages);
const workMs = positive('work-ms', args['work-ms']);

// Relative to where `pnpm demo` was typed (pnpm runs the script in the demo's own directory).
const endpointsPath = args.endpoints && resolve(process.env['INIT_CWD'] ?? process.cwd(), args.endpoints);
const input: LockStoreConfigInput | undefined = endpointsPath ? await loadEndpointsConfig(endpointsPath) : undefined;
const config = parseLockStoreConfig(input);
const inProcess = config.type === 'in_memory' || config.type === 'memory';

/** Sends a message to a replica; resolves when it was processed. */
type Dispatch = (replica: number, message: Message) => Promise<Processed>;

async function inProcessReplicas(): Promise<{ dispatch: Dispatch; stop: () => Promise<void> }> {
  const store = await createLockStore(input);
  return { dispatch: (replica, message) => handle(store, replica, message), stop: () => store.close() };
}

async function processReplicas(): Promise<{ dispatch: Dispatch; stop: () => Promise<void> }> {
  const pending = new Map<string, { resolve: (p: Processed) => void; reject: (e: Error) => void }>();
  const children = await Promise.all(
    Array.from({ length: replicas }, (_, i) => {
      const child = fork(new URL('./replica.js', import.meta.url), [String(i), JSON.stringify(input ?? null)]);
      child.on('message', (reply: { type: string; processed?: Processed; message?: Message; error?: string }) => {
        const key = reply.processed ? `${reply.processed.conversation}#${reply.processed.seq}` : `${reply.message?.conversation}#${reply.message?.seq}`;
        if (reply.type === 'processed') pending.get(key)?.resolve(reply.processed!);
        if (reply.type === 'failed') pending.get(key)?.reject(new Error(reply.error));
      });
      return new Promise<typeof child>((resolve, reject) => {
        child.once('message', () => resolve(child));
        child.once('exit', (code) => reject(new Error(`replica ${i} exited with code ${code} before it was ready`)));
      });
    }),
  );
  return {
    dispatch: (replica, message) =>
      new Promise((resolve, reject) => {
        pending.set(`${message.conversation}#${message.seq}`, { resolve, reject });
        children[replica]!.send(message);
      }),
    stop: async () => {
      await Promise.all(
        children.map((child) => new Promise((resolve) => {
          child.once('exit', resolve);
          child.send({ type: 'stop' });
        })),
      );
    },
  };
}

const random = (max: number) => Math.floor(Math.random() * max);
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

console.log(
  `lockstore demo: ${replicas} replicas, ${conversations} conversations x ${perConversation} messages, ` +
    `store ${JSON.stringify(redactConfig(config))}${inProcess ? ' (one process)' : ' (one process per replica)'}`,
);
const { dispatch, stop } = inProcess ? await inProcessReplicas() : await processReplicas();

const sent: Message[] = [];
const processed: Processed[] = [];
const failures: string[] = [];
const total = conversations * perConversation;
const started = performance.now();
const progress = setInterval(() => {
  const seconds = (performance.now() - started) / 1000;
  console.log(`  ${processed.length}/${total} messages processed, ${(processed.length / seconds).toFixed(0)} msg/s`);
}, 500);

// Each conversation sends its messages one after another, faster than they can be processed, so
// that queues form; each message goes to a random replica, as a load balancer would send it.
await Promise.all(
  Array.from({ length: conversations }, async (_, c) => {
    const jobs: Promise<void>[] = [];
    for (let seq = 0; seq < perConversation; seq++) {
      const message = { conversation: `conversation-${c}`, seq, workMs: 1 + random(workMs * 2) };
      sent.push(message);
      jobs.push(
        dispatch(random(replicas), message).then(
          (p) => void processed.push(p),
          (error: unknown) => void failures.push(String(error)),
        ),
      );
      await sleep(random(workMs));
    }
    await Promise.all(jobs);
  }),
);
clearInterval(progress);
const elapsed = (performance.now() - started) / 1000;
await stop();

const waits = processed.map((p) => p.start - p.arrived);
const verdict = verify(sent, processed, inProcess);
console.log(`\nprocessed ${processed.length} of ${total} messages in ${elapsed.toFixed(2)} s: ${(processed.length / elapsed).toFixed(0)} msg/s`);
console.log(
  `lock wait ms: p50 ${percentile(waits, 50).toFixed(2)}  p95 ${percentile(waits, 95).toFixed(2)}  ` +
    `p99 ${percentile(waits, 99).toFixed(2)}  max ${percentile(waits, 100).toFixed(2)}`,
);
console.log('verification:');
for (const check of verdict.checks) {
  console.log(`  ${check.violations === 0 ? 'ok  ' : 'FAIL'} ${check.name}${check.violations ? ` (${check.violations} violations${check.detail ? `: ${check.detail}` : ''})` : ''}`);
}
if (failures.length > 0) console.log(`  FAIL ${failures.length} messages failed, first: ${failures[0]}`);
const ok = verdict.ok && failures.length === 0;
console.log(ok ? 'OK: every conversation was processed one message at a time, in ticket order.' : 'VIOLATIONS FOUND');
process.exit(ok ? 0 : 1);
