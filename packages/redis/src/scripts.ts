import { readFileSync } from 'node:fs';
import type { Cluster, Redis } from 'ioredis';

/** Bumped whenever a script changes, so that processes of two versions never share a script name. */
const VERSION = 7;

const common = readFileSync(new URL('./lua/common.lua', import.meta.url), 'utf8');

/** Each operation, its script file, and how many of its arguments are keys. */
const SCRIPTS = {
  issue: 1,
  refresh: 1,
  release: 1,
  inspect: 1,
  delete: 1,
} as const;

export type ScriptName = keyof typeof SCRIPTS;

const names = Object.keys(SCRIPTS) as ScriptName[];
const table = <T>(of: (name: ScriptName) => T) => Object.fromEntries(names.map((name) => [name, of(name)])) as Record<ScriptName, T>;

/** Each operation's Lua, read once. */
const BODY = table((name) => readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8'));

/** The name an operation has as a script on an ioredis client, and as a function in Redis. */
const COMMAND = table((name) => `lockstore_${name}_v${VERSION}`);

/** The function library: the shared helpers are defined once, when Redis loads it. */
const LIBRARY = [
  `#!lua name=lockstore_v${VERSION}`,
  common,
  ...names.map((name) => `redis.register_function('${COMMAND[name]}', function(KEYS, ARGV)\n${BODY[name]}\nend)`),
].join('\n');

const isReplyError = (error: unknown) => error instanceof Error && error.name === 'ReplyError';
const isLibraryMissing = (error: unknown) => isReplyError(error) && /function not found/i.test((error as Error).message);
const isLibraryLoaded = (error: unknown) => isReplyError(error) && /already exists/i.test((error as Error).message);

/**
 * Runs the operations' Lua inside Redis, one command each. On Redis 7 and later they are functions
 * of one library, loaded once per server: a call then runs only the operation, where EVALSHA also
 * sets the script up and defines the shared helpers again on every call. A lock cycle so costs Redis
 * about a fifth less time. Where functions cannot be used — Redis 6, an ACL user without FUNCTION, a
 * server that could not be asked at start, or a Cluster, whose every node would need the library —
 * each operation is a script sent as EVALSHA (the script text only after Redis answers NOSCRIPT).
 * Both forms run the same code on the same keys, so processes using either share conversations.
 */
export class Scripts {
  readonly #client: Redis | Cluster;
  #functions = false;

  constructor(client: Redis | Cluster) {
    this.#client = client;
    for (const name of names) {
      client.defineCommand(COMMAND[name], { numberOfKeys: SCRIPTS[name], lua: `${common}\n${BODY[name]}` });
    }
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

  /** Runs an operation on a conversation's key: one command, one round trip. */
  run(name: ScriptName, key: string, args: readonly (string | number)[]): Promise<unknown> {
    if (!this.#functions) {
      const script = (this.#client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[COMMAND[name]]!;
      return script.call(this.#client, key, ...args);
    }
    const call = () => (this.#client as Redis).fcall(COMMAND[name], 1, key, ...args);
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
