import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** Bumped whenever a script changes, so that processes of two versions never share a script name. */
const VERSION = 10;

const lua = (name: string) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
const common = lua('common');

/**
 * Each operation, and how many arguments it takes after its key. Every command also carries the fence
 * retention first, once for all its operations.
 */
const ARITY = {
  issue: 3,
  refresh: 3,
  release: 2,
  inspect: 1,
  delete: 0,
} as const;

export type ScriptName = keyof typeof ARITY;

/** One operation to run: on which conversation's key, with which arguments ({@link ARITY} of them). */
export interface Operation {
  readonly name: ScriptName;
  readonly key: string;
  readonly args: readonly (string | number)[];
}

const names = Object.keys(ARITY) as ScriptName[];
const table = <T>(of: (name: ScriptName) => T) => Object.fromEntries(names.map((name) => [name, of(name)])) as Record<ScriptName, T>;

/** Each operation's Lua, read once. */
const BODY = table(lua);

/** The name an operation has as a script on an ioredis client, and as a function in Redis. */
const COMMAND = table((name) => `lockstore_${name}_v${VERSION}`);
const BATCH = `lockstore_batch_v${VERSION}`;

/**
 * An operation as a Lua function of its key and arguments: plain parameters, so that calling it makes
 * no table (the batch calls one per operation).
 */
const operation = (name: ScriptName) => `function(...)\n${BODY[name]}\nend`;

/** Every operation in the table OPS, and its arity in ARITY, which the batch runs them from. */
const OPS = [
  'local OPS, ARITY = {}, {}',
  ...names.map((name) => `OPS['${name}'], ARITY['${name}'] = ${operation(name)}, ${ARITY[name]}`),
].join('\n');

/** The body of a command running one operation (`fn`): its arguments are the fence retention, then the operation's. */
const single = (fn: string) => `begin_command(ARGV[1]) return ${fn}(KEYS[1], unpack(ARGV, 2))`;

/** The function library: the shared helpers are defined once, when Redis loads it. */
const LIBRARY = [
  `#!lua name=lockstore_v${VERSION}`,
  common,
  OPS,
  ...names.map((name) => `redis.register_function('${COMMAND[name]}', function(KEYS, ARGV) ${single(`OPS['${name}']`)} end)`),
  `redis.register_function('${BATCH}', function(KEYS, ARGV)\n${lua('batch')}\nend)`,
].join('\n');

/** The most operations sent in one batch: a batch runs as one step, which holds Redis up meanwhile. */
const MAX_BATCH = 100;

const isReplyError = (error: unknown) => error instanceof Error && error.name === 'ReplyError';
const isLibraryMissing = (error: unknown) => isReplyError(error) && /function not found/i.test((error as Error).message);
const isLibraryLoaded = (error: unknown) => isReplyError(error) && /already exists/i.test((error as Error).message);

interface Queued {
  readonly operation: Operation;
  readonly resolve: (reply: unknown) => void;
  readonly reject: (error: unknown) => void;
}

/**
 * Runs the operations' Lua inside Redis. On Redis 7 and later they are functions of one library,
 * loaded once per server: a call then runs only the operation, where EVALSHA also sets the script up
 * and defines the shared helpers again on every call. Where functions cannot be used — Redis 6, an
 * ACL user without FUNCTION, a server that could not be asked at start, or a Cluster, whose every
 * node would need the library — each operation is a script sent as EVALSHA (the script text only
 * after Redis answers NOSCRIPT). Both forms run the same code on the same keys, so processes using
 * either share conversations.
 *
 * The first operation asked for in a turn of the event loop goes out at once, so that a lone lock
 * waits for nothing. Those asked for after it in the same turn go out together at the end of the
 * turn, as one batch command that runs each in turn: Redis reads, dispatches and answers one command
 * for all of them, and the client sends and parses one. On Cluster, whose operations of one turn are
 * on keys of different nodes, each goes on its own.
 */
export class Scripts {
  readonly #client: Redis | Cluster;
  readonly #batches: boolean;
  readonly #retentionMs: number;
  #functions = false;
  /** Whether an operation went out in this turn of the event loop; the ones after it wait in #queued. */
  #turnStarted = false;
  #queued: Queued[] = [];

  /**
   * @param client where the operations run
   * @param retentionMs how long a conversation's hash is kept after its last use, given to every command
   */
  constructor(client: Redis | Cluster, retentionMs: number) {
    this.#client = client;
    this.#retentionMs = retentionMs;
    this.#batches = (client as { isCluster?: boolean }).isCluster !== true;
    // The number of keys is each call's first argument, as for FCALL.
    for (const name of names) {
      client.defineCommand(COMMAND[name], { lua: `${common}\nlocal operation = ${operation(name)}\n${single('operation')}` });
    }
    client.defineCommand(BATCH, { lua: `${common}\n${OPS}\n${lua('batch')}` });
  }

  /** Whether operations run as functions (else as scripts). */
  get functions(): boolean {
    return this.#functions;
  }

  /**
   * Loads the library; until it is loaded, and for good if it cannot be, operations go as scripts.
   * Resolves either way. Not for a Cluster, whose every node would need the library.
   */
  async prepare(): Promise<void> {
    try {
      await this.#load();
      this.#functions = true;
    } catch {
      // No functions here: every operation goes as a script.
    }
  }

  /** Runs an operation on a conversation's key; resolves to its reply. */
  run(operation: Operation): Promise<unknown> {
    if (!this.#batches || !this.#turnStarted) {
      if (this.#batches) {
        this.#turnStarted = true;
        process.nextTick(() => this.#endTurn());
      }
      return this.#send(operation);
    }
    return new Promise((resolve, reject) => {
      this.#queued.push({ operation, resolve, reject });
    });
  }

  #send({ name, key, args }: Operation): Promise<unknown> {
    return this.#call(COMMAND[name], [1, key, this.#retentionMs, ...args]);
  }

  /** Sends the operations queued in this turn, in order, in batches of at most {@link MAX_BATCH}. */
  #endTurn(): void {
    this.#turnStarted = false;
    const queued = this.#queued;
    this.#queued = [];
    for (let from = 0; from < queued.length; from += MAX_BATCH) {
      const part = queued.slice(from, from + MAX_BATCH);
      if (part.length === 1) {
        const [{ operation, resolve, reject }] = part as [Queued];
        this.#send(operation).then(resolve, reject);
        continue;
      }
      // The number of keys, the keys, the fence retention, then each operation's name and arguments.
      const command: (string | number)[] = [part.length];
      for (const { operation } of part) command.push(operation.key);
      command.push(this.#retentionMs);
      for (const { operation } of part) command.push(operation.name, ...operation.args);
      this.#call(BATCH, command).then(
        (replies) => {
          part.forEach(({ resolve, reject }, i) => {
            // An operation that failed in the batch has its error as its reply.
            const reply = (replies as unknown[])[i];
            if (reply instanceof Error) reject(reply);
            else resolve(reply);
          });
        },
        (error: unknown) => {
          for (const { reject } of part) reject(error);
        },
      );
    }
  }

  /** One command: `args` are the number of keys, the keys, then the other arguments. */
  #call(command: string, args: readonly (string | number)[]): Promise<unknown> {
    if (!this.#functions) {
      const script = (this.#client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[command]!;
      return script.apply(this.#client, args as (string | number)[]);
    }
    const call = () => (this.#client as Redis).fcall(command, ...(args as [number, ...(string | number)[]]));
    return call().catch((error: unknown) => {
      if (!isLibraryMissing(error)) throw error;
      // The server lost its functions (it restarted without its data, or they were flushed). The
      // library goes out again and the call right behind it, before anything else is written.
      this.#load().catch(() => {});
      return call();
    });
  }

  async #load(): Promise<void> {
    await (this.#client as Redis).function('LOAD', LIBRARY).catch((error: unknown) => {
      if (!isLibraryLoaded(error)) throw error;
    });
  }
}
