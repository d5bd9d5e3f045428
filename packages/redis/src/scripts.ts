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

/** The name a script is registered under on an ioredis client. */
export const commandName = (name: ScriptName) => `lockstore_${name}_v${VERSION}`;

/**
 * Registers every script on a client with `defineCommand`: ioredis sends EVALSHA, and the script
 * text only when Redis answers NOSCRIPT (after a restart or a SCRIPT FLUSH).
 */
export function defineScripts(client: Redis | Cluster): void {
  for (const [name, numberOfKeys] of Object.entries(SCRIPTS)) {
    const body = readFileSync(new URL(`./lua/${name}.lua`, import.meta.url), 'utf8');
    client.defineCommand(commandName(name as ScriptName), { numberOfKeys, lua: `${common}\n${body}` });
  }
}

/** Runs a script registered by {@link defineScripts} on a conversation's key: one EVALSHA, one round trip. */
export function runScript(client: Redis | Cluster, name: ScriptName, key: string, args: readonly (string | number)[]): Promise<unknown> {
  const command = (client as unknown as Record<string, (...a: (string | number)[]) => Promise<unknown>>)[commandName(name)]!;
  return command.call(client, key, ...args);
}
