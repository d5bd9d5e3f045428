import { randomUUID } from 'node:crypto';
import type {
  BackendCapabilities,
  GrantListener,
  IssueResult,
  LockBackend,
  RefreshRequest,
  TicketInfo,
  TicketStatus,
} from '@lockstore/core';
import type { Cluster, Redis } from 'ioredis';
import { KeySpace } from './keys.js';
import { type ScriptName, Scripts } from './scripts.js';

/** A script's reply of numbers separated by spaces. */
const numbers = (reply: unknown): number[] => (reply as string).split(' ').map(Number);

/** Options of {@link RedisBackend}. */
export interface RedisBackendOptions {
  /**
   * The client for commands. The backend registers its scripts on it and never closes it unless
   * `ownsClient` is true.
   */
  readonly client: Redis | Cluster;
  /** The alphanumeric `key_prefix`: keys become `<prefix>:lock:…`. @default none (`lock:…`) */
  readonly keyPrefix?: string;
  /**
   * How long a conversation's key (with its last fence) is kept after its last use, in ms: between
   * half of this and all of it. Fences are also seeded from Redis's clock, so they keep rising after
   * the key is gone.
   * @default 3_600_000 (one hour)
   */
  readonly fenceRetentionMs?: number;
  /** Close the client (and the subscriber made from it) on `close()`. @default false */
  readonly ownsClient?: boolean;
}

/**
 * Keeps ticket queues in Redis. Every operation is one Lua script, run atomically by Redis on its
 * own clock; a release hands the lock to the next ticket and publishes the grant to that ticket's
 * process in the same script. On one server (or Sentinel), each process listens on one inbox channel,
 * whatever the number of locks it waits for. On Cluster, a script may only publish to a channel of
 * its own slot, so grants go by sharded pub/sub on a channel per conversation, which a process
 * subscribes to only while it has a ticket waiting there.
 */
export class RedisBackend implements LockBackend {
  readonly capabilities: BackendCapabilities = { clock: 'server', multiProcess: true };
  readonly #client: Redis | Cluster;
  readonly #scripts: Scripts;
  readonly #subscriber: Redis | Cluster;
  readonly #keys: KeySpace;
  readonly #ownsClient: boolean;
  #listener: GrantListener = () => {};
  #subscribed: Promise<unknown> | undefined;
  #started = false;
  /** Cluster only: per conversation, our waiting tickets and the subscription to its grant channel. */
  readonly #sharded: boolean;
  readonly #watching = new Map<string, { tickets: Set<number>; ready: Promise<unknown> }>();
  readonly #plainInbox: string;

  constructor(options: RedisBackendOptions) {
    this.#client = options.client;
    this.#keys = new KeySpace(options.keyPrefix);
    this.inbox = this.#keys.inboxPrefix + randomUUID().replaceAll('-', '');
    this.#plainInbox = `P${this.inbox}`;
    this.#ownsClient = options.ownsClient ?? false;
    this.#scripts = new Scripts(this.#client, options.fenceRetentionMs ?? 3_600_000);
    this.#sharded = (this.#client as { isCluster?: boolean }).isCluster === true;
    // A subscribed connection can do nothing else, hence a second one, shared by all locks.
    this.#subscriber = this.#sharded ? (this.#client as Cluster).duplicate([], { shardedSubscribers: true }) : this.#client.duplicate();
    this.#subscriber.on(this.#sharded ? 'smessage' : 'message', (_channel: string, message: string) => this.#onMessage(message));
    this.#subscriber.on('error', () => {
      // Reconnection is automatic and missed grants are found by the store's re-checks.
    });
  }

  /**
   * This process's inbox: the channel on which Redis tells it that one of its tickets holds a lock
   * (on Cluster, where grants go by conversation, it is not used).
   */
  readonly inbox: string;

  /**
   * Subscribes to this process's inbox and loads the operations' functions where the server has
   * them. Resolves once grants can be received.
   */
  start(): Promise<unknown> {
    // On Cluster, grants come by channels per conversation and operations stay scripts.
    this.#subscribed ??= Promise.all(this.#sharded ? [] : [this.#subscriber.subscribe(this.inbox), this.#scripts.prepare()]).then(() => {
      this.#started = true;
    });
    return this.#subscribed;
  }

  /** Whether operations run as Redis functions (Redis 7 and later) rather than as scripts. */
  get usesFunctions(): boolean {
    return this.#scripts.functions;
  }

  /** Where a ticket's grant is published, as the scripts store it: `P<channel>` or, sharded, `S<channel>`. */
  #grantChannel(key: string): string {
    return this.#sharded ? `S${key}:grants` : this.#plainInbox;
  }

  async issue(conversationId: string, lifetimeMs: number): Promise<IssueResult> {
    if (!this.#started) await this.start();
    const key = this.#keys.conversation(conversationId);
    const args = [lifetimeMs, this.#grantChannel(key), conversationId];
    const [ticket, granted, expiresInMs, headExpiresInMs] = numbers(await this.#run('issue', key, args));
    if (this.#sharded && granted !== 1) await this.#watch(conversationId, key, ticket!);
    return { ticket: ticket!, granted: granted === 1, expiresInMs: expiresInMs!, headExpiresInMs: granted === 1 ? null : headExpiresInMs! };
  }

  refresh(requests: readonly RefreshRequest[]): Promise<TicketStatus[]> {
    // Asked for in one turn, so sent together: one batch command (on Cluster, one command each).
    return Promise.all(
      requests.map(async ({ conversationId, ticket, lifetimeMs }): Promise<TicketStatus> => {
        const key = this.#keys.conversation(conversationId);
        const args = [String(ticket), lifetimeMs ?? '', conversationId];
        const [state, expiresInMs, headExpiresInMs] = numbers(await this.#run('refresh', key, args));
        if (state !== 2) this.#unwatch(conversationId, ticket);
        if (state === 1) return { state: 'head', expiresInMs: expiresInMs! };
        if (state === 2) return { state: 'waiting', expiresInMs: expiresInMs!, headExpiresInMs: headExpiresInMs! };
        return { state: 'gone' };
      }),
    );
  }

  async release(conversationId: string, ticket: number): Promise<void> {
    this.#unwatch(conversationId, ticket);
    const key = this.#keys.conversation(conversationId);
    await this.#run('release', key, [String(ticket), conversationId]);
  }

  async inspect(conversationId: string): Promise<TicketInfo[]> {
    const key = this.#keys.conversation(conversationId);
    const flat = (await this.#run('inspect', key, [conversationId])) as number[];
    const live: TicketInfo[] = [];
    for (let i = 0; i < flat.length; i += 2) live.push({ ticket: flat[i]!, expiresInMs: flat[i + 1]! });
    return live;
  }

  async delete(conversationId: string): Promise<boolean> {
    const key = this.#keys.conversation(conversationId);
    return (await this.#run('delete', key, [])) === 1;
  }

  onGrant(listener: GrantListener): void {
    this.#listener = listener;
  }

  async close(): Promise<void> {
    this.#subscriber.disconnect();
    if (this.#ownsClient) await this.#client.quit().catch(() => this.#client.disconnect());
  }

  #run(name: ScriptName, key: string, args: readonly (string | number)[]): Promise<unknown> {
    return this.#scripts.run({ name, key, args });
  }

  #onMessage(message: string): void {
    const colon = message.indexOf(':');
    const ticket = Number(message.slice(0, colon));
    if (colon <= 0 || !Number.isSafeInteger(ticket)) return;
    const conversationId = message.slice(colon + 1);
    this.#unwatch(conversationId, ticket);
    this.#listener(conversationId, ticket);
  }

  /**
   * Cluster: listens for grants of a waiting ticket's conversation. A grant published before the
   * subscription took effect would be missed, so the ticket is looked at once more after it.
   */
  async #watch(conversationId: string, key: string, ticket: number): Promise<void> {
    let watch = this.#watching.get(conversationId);
    if (watch === undefined) {
      watch = { tickets: new Set(), ready: this.#subscriber.ssubscribe(`${key}:grants`) };
      this.#watching.set(conversationId, watch);
    }
    watch.tickets.add(ticket);
    await watch.ready;
    const [state] = numbers(await this.#run('refresh', key, [String(ticket), '', conversationId]));
    if (state === 1) this.#onMessage(`${ticket}:${conversationId}`);
  }

  /** Cluster: stops listening to a conversation once none of our tickets waits there. */
  #unwatch(conversationId: string, ticket: number): void {
    const watch = this.#watching.get(conversationId);
    if (watch === undefined || !watch.tickets.delete(ticket) || watch.tickets.size > 0) return;
    this.#watching.delete(conversationId);
    this.#subscriber.sunsubscribe(`${this.#keys.conversation(conversationId)}:grants`).catch(() => {});
  }
}
