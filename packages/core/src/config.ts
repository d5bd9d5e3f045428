import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { LockstoreError } from './errors.js';

/** The default ticket lifetime when neither config nor `TICKET_LOCK_LIFETIME` names one: 60 s. */
export const DEFAULT_LIFETIME_MS = 60_000;

/** The store types built into `createLockStore`; any other `type` is a module specifier. */
export const BUILT_IN_TYPES = { in_memory: '@lockstore/memory', memory: '@lockstore/memory', redis: '@lockstore/redis' } as const;

const REDACTED = '[redacted]';
const SECRET_FIELDS = new Set(['password']);

/**
 * The default lifetime from `TICKET_LOCK_LIFETIME` (whole seconds), as Rasa reads it: unset, empty or
 * `0` means 60 s.
 * @throws LockstoreError `INVALID_CONFIG` when the variable is not a whole number of seconds.
 */
export function lifetimeFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env['TICKET_LOCK_LIFETIME']?.trim();
  if (raw === undefined || raw === '' || raw === '0') return DEFAULT_LIFETIME_MS;
  if (!/^\d+$/.test(raw) || Number(raw) * 1000 > 2_147_483_647) {
    throw new LockstoreError(
      'INVALID_CONFIG',
      `TICKET_LOCK_LIFETIME must be a whole number of seconds from 0 to 2147483, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw) * 1000;
}

// Values from `${ENV}` interpolation arrive as strings; numbers and booleans are read from them.
const integer = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' && /^-?\d+$/.test(v.trim()) ? Number(v) : v), z.number().int().min(min).max(max));
const seconds = z.preprocess(
  (v) => (typeof v === 'string' && v.trim() !== '' && !Number.isNaN(Number(v)) ? Number(v) : v),
  z.number().positive().max(2_147_483),
);
const flag = z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : v), z.boolean());
const hostPort = z.string().regex(/^(\[[0-9a-fA-F:]+\]|[^\s:[\]]+):\d{1,5}$/, 'expected "host:port"');

const redisFields = {
  url: z.string().min(1).default('localhost'),
  port: integer(1, 65535).default(6379),
  db: integer(0, 1_000_000).default(1),
  username: z.string().min(1).optional(),
  password: z.string().optional(),
  use_ssl: flag.default(false),
  ssl_ca_certs: z.string().min(1).optional(),
  ssl_certfile: z.string().min(1).optional(),
  ssl_keyfile: z.string().min(1).optional(),
  key_prefix: z.string().regex(/^[A-Za-z0-9]+$/, 'must be alphanumeric (letters and digits only)').optional(),
  socket_timeout: seconds.default(10),
  deployment_mode: z.enum(['standard', 'sentinel', 'cluster']).default('standard'),
  endpoints: z.array(hostPort).min(1).optional(),
  sentinel_service: z.string().min(1).default('mymaster'),
};

const lifetimeField = { lock_lifetime: seconds.optional() };

const memorySchema = z.strictObject({ type: z.enum(['in_memory', 'memory']), ...lifetimeField });

const redisSchema = z
  .strictObject({ type: z.literal('redis'), ...redisFields, ...lifetimeField })
  .superRefine((config, ctx) => {
    if (config.deployment_mode !== 'standard' && config.endpoints === undefined) {
      ctx.addIssue({ code: 'custom', path: ['endpoints'], message: `is required when deployment_mode is "${config.deployment_mode}"` });
    }
  });

const customSchema = z.looseObject({ type: z.string().min(1), ...lifetimeField });

/** A validated in-memory store config. */
export type MemoryConfig = z.output<typeof memorySchema>;
/** A validated Redis store config, with the seed's defaults filled in. */
export type RedisConfig = z.output<typeof redisSchema>;
/** A validated config for a store provided by another module: its own keys pass through unchecked. */
export type CustomConfig = z.output<typeof customSchema>;
/** A validated `lock_store` config. */
export type LockStoreConfig = MemoryConfig | RedisConfig | CustomConfig;

/** A `lock_store` section as written by hand (in `endpoints.yml` or as an object). */
export type LockStoreConfigInput = { readonly type?: string; readonly [key: string]: unknown };

/**
 * Validates a `lock_store` section and fills in defaults. No config, or no `type`, means the
 * in-memory store.
 * @throws LockstoreError `INVALID_CONFIG` naming the field and its bad value (secrets redacted).
 */
export function parseLockStoreConfig(input: unknown = {}): LockStoreConfig {
  if (input === null || input === undefined) input = {};
  if (typeof input !== 'object' || Array.isArray(input)) {
    throw new LockstoreError('INVALID_CONFIG', `Invalid lock_store config: expected an object, got ${typeof input}`);
  }
  const raw = { type: 'in_memory', ...(input as Record<string, unknown>) };
  const schema = raw.type === 'redis' ? redisSchema : raw.type === 'in_memory' || raw.type === 'memory' ? memorySchema : customSchema;
  const result = schema.safeParse(raw);
  if (result.success) return result.data;
  const problems = result.error.issues.map((issue) => describeIssue(issue, raw));
  throw new LockstoreError('INVALID_CONFIG', `Invalid lock_store config: ${problems.join('; ')}`);
}

function describeIssue(issue: z.core.$ZodIssue, raw: Record<string, unknown>): string {
  if (issue.code === 'unrecognized_keys') {
    return `unknown key${issue.keys.length > 1 ? 's' : ''} ${issue.keys.map((k) => JSON.stringify(k)).join(', ')}`;
  }
  const field = issue.path.join('.') || 'config';
  const top = issue.path[0];
  let value: unknown = raw;
  for (const part of issue.path) value = (value as Record<PropertyKey, unknown> | undefined)?.[part];
  const shown = typeof top === 'string' && SECRET_FIELDS.has(top) ? REDACTED : JSON.stringify(value) ?? 'undefined';
  return `${field}: ${issue.message} (got ${shown})`;
}

/** The `lock_store` lifetime in ms, when the config names one. */
export function configLifetimeMs(config: LockStoreConfig): number | undefined {
  const seconds = config.lock_lifetime;
  return typeof seconds === 'number' ? Math.round(seconds * 1000) : undefined;
}

/** A copy of a config safe to log: secrets are replaced by `[redacted]`. */
export function redactConfig<T extends object>(config: T): T {
  const copy = { ...config } as Record<string, unknown>;
  for (const key of SECRET_FIELDS) if (copy[key] !== undefined) copy[key] = REDACTED;
  return copy as T;
}

const ENV_REFERENCE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** Replaces `${NAME}` in every string of `value` by the environment variable NAME. */
function interpolate(value: unknown, env: NodeJS.ProcessEnv, path: string): unknown {
  if (typeof value === 'string') {
    return value.replace(ENV_REFERENCE, (_, name: string) => {
      const found = env[name];
      if (found === undefined) {
        throw new LockstoreError('INVALID_CONFIG', `Invalid lock_store config: ${path} refers to \${${name}}, which is not set`);
      }
      return found;
    });
  }
  if (Array.isArray(value)) return value.map((item, i) => interpolate(item, env, `${path}.${i}`));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, interpolate(v, env, path ? `${path}.${k}` : k)]));
  }
  return value;
}

/**
 * Reads the `lock_store` section of a Rasa-style endpoints file, with `${ENV_VAR}` references
 * replaced. Resolves to undefined when the file has no `lock_store` section (the in-memory store).
 * @param source the file's path, or `{ text }` for its contents
 * @throws LockstoreError `INVALID_CONFIG` when the file is not valid YAML or names an unset variable.
 */
export async function loadEndpointsConfig(
  source: string | { readonly text: string },
  env: NodeJS.ProcessEnv = process.env,
): Promise<LockStoreConfigInput | undefined> {
  const text = typeof source === 'string' ? await readFile(source, 'utf8') : source.text;
  let document: unknown;
  try {
    document = parseYaml(text);
  } catch (error) {
    throw new LockstoreError('INVALID_CONFIG', `The endpoints file is not valid YAML: ${(error as Error).message}`, { cause: error });
  }
  const section = (document as Record<string, unknown> | null)?.['lock_store'];
  if (section === undefined || section === null) return undefined;
  if (typeof section !== 'object' || Array.isArray(section)) {
    throw new LockstoreError('INVALID_CONFIG', 'Invalid lock_store config: the lock_store section must be a mapping');
  }
  return interpolate(section, env, '') as LockStoreConfigInput;
}
