import { describe, expect, it } from 'vitest';
import { LockstoreError, lifetimeFromEnv, loadEndpointsConfig, parseLockStoreConfig, redactConfig } from '../src/index.js';

function configError(input: unknown): LockstoreError {
  try {
    parseLockStoreConfig(input);
  } catch (error) {
    if (LockstoreError.is(error, 'INVALID_CONFIG')) return error;
    throw error;
  }
  throw new Error('expected INVALID_CONFIG');
}

describe('parseLockStoreConfig', () => {
  it('no config is the in-memory store', () => {
    expect(parseLockStoreConfig()).toEqual({ type: 'in_memory' });
    expect(parseLockStoreConfig(null)).toEqual({ type: 'in_memory' });
    expect(parseLockStoreConfig({ type: 'memory', lock_lifetime: 5 })).toEqual({ type: 'memory', lock_lifetime: 5 });
  });

  it('fills in the seed defaults for redis', () => {
    expect(parseLockStoreConfig({ type: 'redis' })).toEqual({
      type: 'redis',
      url: 'localhost',
      port: 6379,
      db: 1,
      use_ssl: false,
      socket_timeout: 10,
      deployment_mode: 'standard',
      sentinel_service: 'mymaster',
    });
  });

  it('reads numbers and booleans that arrive as strings from environment variables', () => {
    const config = parseLockStoreConfig({ type: 'redis', port: '6380', db: '0', use_ssl: 'true', socket_timeout: '2.5' });
    expect(config).toMatchObject({ port: 6380, db: 0, use_ssl: true, socket_timeout: 2.5 });
  });

  it.each([
    [{ type: 'redis', port: 70000 }, /port: .*65535.*\(got 70000\)/],
    [{ type: 'redis', port: 'abc' }, /port: .*\(got "abc"\)/],
    [{ type: 'redis', db: -1 }, /db: .*\(got -1\)/],
    [{ type: 'redis', key_prefix: '!asdf234 34#' }, /key_prefix: must be alphanumeric .*\(got "!asdf234 34#"\)/],
    [{ type: 'redis', key_prefix: 'test_prefix' }, /key_prefix: must be alphanumeric/],
    [{ type: 'redis', socket_timeout: 0 }, /socket_timeout/],
    [{ type: 'redis', use_ssl: 'yes' }, /use_ssl/],
    [{ type: 'redis', deployment_mode: 'galaxy' }, /deployment_mode/],
    [{ type: 'redis', deployment_mode: 'cluster' }, /endpoints: is required when deployment_mode is "cluster"/],
    [{ type: 'redis', endpoints: ['nohost'] }, /endpoints\.0: expected "host:port"/],
    [{ type: 'redis', hots: 'x' }, /unknown key "hots"/],
    [{ type: 'memory', url: 'x' }, /unknown key "url"/],
    [{ type: 'memory', lock_lifetime: -3 }, /lock_lifetime/],
    [{ type: '' }, /type/],
    [{ type: 'redis', port: true }, /port: .*\(got true\)/],
    [{ type: 'redis', port: -1 }, /port: .*\(got -1\)/],
    [{ type: 'redis', db: 1.5 }, /db: .*\(got 1.5\)/],
    [{ type: 'redis', url: '' }, /url: .*\(got ""\)/],
    [{ type: 'redis', key_prefix: '' }, /key_prefix: must be alphanumeric/],
    [{ type: 'redis', key_prefix: 'a:b' }, /key_prefix: must be alphanumeric .*\(got "a:b"\)/],
    [{ type: 'redis', key_prefix: 'ü' }, /key_prefix: must be alphanumeric/],
    [{ type: 'redis', endpoints: '127.0.0.1:26379' }, /endpoints: .*\(got "127.0.0.1:26379"\)/],
    [{ type: 'redis', endpoints: [] }, /endpoints: /],
    [{ type: 'redis', sentinel_service: 5 }, /sentinel_service: .*\(got 5\)/],
    [{ type: 'redis', lock_lifetime: 'NaN' }, /lock_lifetime: .*\(got "NaN"\)/],
    [{ type: 'redis', lock_lifetime: 0 }, /lock_lifetime: .*\(got 0\)/],
    [{ type: 'redis', socket_timeout: -2 }, /socket_timeout: .*\(got -2\)/],
    [{ type: 'redis', username: '' }, /username: /],
    [{ type: 42 }, /type: .*\(got 42\)/],
    [['redis'], /expected an object/],
    ['redis', /expected an object/],
  ])('refuses %j naming the field and value', (input, pattern) => {
    expect(configError(input).message).toMatch(pattern);
  });

  it('accepts a prefix of letters and digits', () => {
    expect(parseLockStoreConfig({ type: 'redis', key_prefix: 'chatbot42' })).toMatchObject({ key_prefix: 'chatbot42' });
  });

  it('never shows a password in an error', () => {
    const error = configError({ type: 'redis', password: 12345678 });
    expect(error.message).toContain('password');
    expect(error.message).toContain('[redacted]');
    expect(error.message).not.toContain('12345678');
  });

  it('passes the keys of a third-party store through', () => {
    expect(parseLockStoreConfig({ type: 'my_module.Store', table: 'locks' })).toEqual({ type: 'my_module.Store', table: 'locks' });
  });

  it('redacts secrets for logging', () => {
    expect(redactConfig({ type: 'redis', password: 'hunter2' })).toEqual({ type: 'redis', password: '[redacted]' });
  });
});

describe('lifetimeFromEnv', () => {
  it('reads TICKET_LOCK_LIFETIME in whole seconds, with unset and 0 meaning 60 s', () => {
    expect(lifetimeFromEnv({ TICKET_LOCK_LIFETIME: '123' })).toBe(123_000);
    expect(lifetimeFromEnv({})).toBe(60_000);
    expect(lifetimeFromEnv({ TICKET_LOCK_LIFETIME: '0' })).toBe(60_000);
  });

  it.each(['abc', '-5', '1.5', '99999999'])('refuses %j', (value) => {
    expect(() => lifetimeFromEnv({ TICKET_LOCK_LIFETIME: value })).toThrow(/TICKET_LOCK_LIFETIME/);
  });
});

describe('loadEndpointsConfig', () => {
  const text = [
    'tracker_store:',
    '  type: sql',
    'lock_store:',
    '  type: "redis"',
    '  url: ${REDIS_HOST}',
    '  port: ${REDIS_PORT}',
    '  password: ${REDIS_PASSWORD}',
    '  db: 0',
    '  key_prefix: chatbot42',
  ].join('\n');

  it('reads the lock_store section with ${ENV} interpolation', async () => {
    const env = { REDIS_HOST: 'cache.internal', REDIS_PORT: '6380', REDIS_PASSWORD: 's3cret' };
    const section = await loadEndpointsConfig({ text }, env);
    expect(section).toEqual({ type: 'redis', url: 'cache.internal', port: '6380', password: 's3cret', db: 0, key_prefix: 'chatbot42' });
    expect(parseLockStoreConfig(section)).toMatchObject({ port: 6380, url: 'cache.internal' });
  });

  it('names an unset variable', async () => {
    await expect(loadEndpointsConfig({ text }, {})).rejects.toThrow(/url refers to \$\{REDIS_HOST\}, which is not set/);
  });

  it('has no section when the file names no lock store', async () => {
    expect(await loadEndpointsConfig({ text: 'tracker_store:\n  type: sql\n' })).toBeUndefined();
  });

  it('refuses invalid YAML with INVALID_CONFIG', async () => {
    const error = await loadEndpointsConfig({ text: 'lock_store: [unclosed' }).catch((e: unknown) => e);
    expect(LockstoreError.is(error, 'INVALID_CONFIG')).toBe(true);
  });
});
