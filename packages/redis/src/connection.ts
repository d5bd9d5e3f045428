import { readFileSync } from 'node:fs';
import type { ConnectionOptions } from 'node:tls';
import { LockstoreError, type RedisConfig } from '@lockstore/core';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** Where a config points, for messages: host:port or the endpoint list. Never a secret. */
export function describeTarget(config: RedisConfig): string {
  if (config.deployment_mode === 'standard') {
    const target = parseUrl(config);
    return `${target.host}:${target.port}`;
  }
  return `${config.deployment_mode} ${(config.endpoints ?? []).join(', ')}`;
}

interface Target {
  host: string;
  port: number;
  db: number;
  username: string | undefined;
  password: string | undefined;
  tls: boolean;
}

/**
 * `url` is a host (`localhost`, as in Rasa) or a `redis://` / `rediss://` URL; what the URL names
 * (user, password, host, port, db, TLS) wins over the separate keys.
 */
function parseUrl(config: RedisConfig): Target {
  const base: Target = {
    host: config.url,
    port: config.port,
    db: config.db,
    username: config.username,
    password: config.password,
    tls: config.use_ssl,
  };
  if (!/^rediss?:\/\//i.test(config.url)) return base;
  let url: URL;
  try {
    url = new URL(config.url);
  } catch {
    throw new LockstoreError('INVALID_CONFIG', 'Invalid lock_store config: url: not a valid redis:// URL');
  }
  const db = url.pathname.replace(/^\//, '');
  if (db !== '' && !/^\d+$/.test(db)) {
    throw new LockstoreError('INVALID_CONFIG', `Invalid lock_store config: url: the database must be a number, got ${JSON.stringify(db)}`);
  }
  return {
    host: url.hostname.replace(/^\[|\]$/g, ''),
    port: url.port ? Number(url.port) : base.port,
    db: db === '' ? base.db : Number(db),
    username: url.username ? decodeURIComponent(url.username) : base.username,
    password: url.password ? decodeURIComponent(url.password) : base.password,
    tls: url.protocol === 'rediss:' || base.tls,
  };
}

function readFile(field: string, path: string): Buffer {
  try {
    return readFileSync(path);
  } catch (error) {
    throw new LockstoreError('INVALID_CONFIG', `Invalid lock_store config: ${field}: cannot read ${JSON.stringify(path)}`, { cause: error });
  }
}

function tlsOptions(config: RedisConfig, enabled: boolean): ConnectionOptions | undefined {
  if (!enabled) return undefined;
  return {
    ...(config.ssl_ca_certs ? { ca: readFile('ssl_ca_certs', config.ssl_ca_certs) } : {}),
    ...(config.ssl_certfile ? { cert: readFile('ssl_certfile', config.ssl_certfile) } : {}),
    ...(config.ssl_keyfile ? { key: readFile('ssl_keyfile', config.ssl_keyfile) } : {}),
  };
}

function hostPort(endpoint: string): { host: string; port: number } {
  const colon = endpoint.lastIndexOf(':');
  return { host: endpoint.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(endpoint.slice(colon + 1)) };
}

/**
 * Builds (without connecting) the ioredis client a config describes: one server, a Sentinel group,
 * or a Cluster. Every command is bounded by `socket_timeout`, so none can hang.
 */
export function createClient(config: RedisConfig): Redis | Cluster {
  const client = buildClient(config);
  // Connection errors surface as failed commands (typed STORE_FAILURE) or as CONNECTION_FAILED at
  // start; the event itself would only print ioredis's "Unhandled error event" noise.
  client.on('error', () => {});
  return client;
}

function buildClient(config: RedisConfig): Redis | Cluster {
  const timeoutMs = Math.round(config.socket_timeout * 1000);
  const target = parseUrl(config);
  const common: RedisOptions = {
    lazyConnect: true,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: tlsOptions(config, true)! } : {}),
  };
  switch (config.deployment_mode) {
    case 'standard':
      return new Redis({ ...common, host: target.host, port: target.port, db: target.db });
    case 'sentinel':
      return new Redis({
        ...common,
        db: target.db,
        name: config.sentinel_service,
        sentinels: (config.endpoints ?? []).map(hostPort),
        ...(target.tls ? { sentinelTLS: tlsOptions(config, true)!, enableTLSForSentinelMode: true } : {}),
        ...(target.password === undefined ? {} : { sentinelPassword: target.password }),
        ...(target.username === undefined ? {} : { sentinelUsername: target.username }),
      });
    case 'cluster': {
      // Cluster has only database 0, so `db` does not apply.
      const { db: _db, ...redisOptions } = common;
      const options: ClusterOptions = { lazyConnect: true, redisOptions };
      return new Cluster((config.endpoints ?? []).map(hostPort), options);
    }
  }
}

/**
 * Connects a client built by {@link createClient}, within `socket_timeout`.
 * @throws LockstoreError `CONNECTION_FAILED` naming the target, never the password.
 */
export async function connect(client: Redis | Cluster, config: RedisConfig): Promise<void> {
  const timeoutMs = Math.round(config.socket_timeout * 1000);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
  });
  // The connection's own error (a refused connection, a bad certificate, a wrong password) says more
  // than the generic rejection of connect().
  let reason: unknown;
  const onError = (error: unknown) => (reason ??= error);
  client.on('error', onError);
  try {
    await Promise.race([client.connect(), timeout]);
    await Promise.race([client.ping(), timeout]);
  } catch (error) {
    client.disconnect();
    const password = parseUrl(config).password;
    const original = reason ?? error;
    let detail = original instanceof Error ? original.message : String(original);
    if (password) detail = detail.split(password).join('[redacted]');
    // ioredis errors carry the failed command with its arguments (AUTH's include the password), so
    // the cause is a clean copy: its name and message only.
    const cause = Object.assign(new Error(detail), { name: original instanceof Error ? original.name : 'Error' });
    throw new LockstoreError('CONNECTION_FAILED', `Cannot connect to lock store at ${describeTarget(config)}: ${detail}`, { cause });
  } finally {
    clearTimeout(timer);
    client.off('error', onError);
  }
}
