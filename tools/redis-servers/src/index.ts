// Real redis-server processes for the tests: each on a free port, in its own directory, stopped
// afterwards. The tests never touch a server they did not start.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';

export interface RedisServer {
  readonly port: number;
  readonly dir: string;
  /** A plain client to this server (no TLS, no password unless `auth` is given). */
  client(auth?: { username?: string; password?: string }): Redis;
  stop(): Promise<void>;
  /** Stops and starts the server on the same port, with its data gone. */
  restart(): Promise<void>;
}

export function requireRedisServer(): void {
  try {
    execFileSync('redis-server', ['--version'], { stdio: 'ignore' });
  } catch {
    throw new Error('These tests need redis-server on the PATH (Debian: apt-get install redis-server)');
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

function waitForReady(child: ChildProcess, what: string): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`${what} did not start:\n${output}`)), 10_000);
    const onData = (chunk: Buffer) => {
      output += chunk.toString();
      if (/Ready to accept connections|Sentinel ID is/.test(output)) {
        clearTimeout(timer);
        child.stdout?.off('data', onData);
        resolve();
      }
    };
    child.stdout?.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${what} exited with code ${code}:\n${output}`));
    });
  });
}

function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGKILL');
  });
}

/** Options of {@link startRedis}. */
export interface StartOptions {
  /** Listen with `--tls-port` only, on `port`. */
  readonly tlsOnly?: boolean;
  /** The port; a free one when not given. */
  readonly port?: number;
  /**
   * Run the server in a session of its own, as a system service runs: Linux's scheduler (with
   * autogroups) then shares the CPUs between the server and this process's session, instead of
   * counting the server as one more process of this session. The server is killed when this process
   * exits.
   */
  readonly ownSession?: boolean;
}

/** Starts a redis-server on a free port. `args` are extra command-line options. */
export async function startRedis(args: string[] = [], options: StartOptions = {}): Promise<RedisServer> {
  requireRedisServer();
  const port = options.port ?? (await freePort());
  const dir = mkdtempSync(join(tmpdir(), 'lockstore-redis-'));
  const listen = options.tlsOnly ? ['--port', '0', '--tls-port', String(port)] : ['--port', String(port)];
  const argv = [...listen, '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...args];
  const start = () => spawn('redis-server', argv, { stdio: ['ignore', 'pipe', 'pipe'], detached: options.ownSession === true });
  let child = start();
  // A server in its own session gets no signal when this process is interrupted: it is killed on exit.
  const killOnExit = () => child.kill('SIGKILL');
  if (options.ownSession) process.once('exit', killOnExit);
  await waitForReady(child, `redis-server on port ${port}`);
  const clients: Redis[] = [];
  return {
    port,
    dir,
    client(auth = {}) {
      const client = new Redis({ host: '127.0.0.1', port, lazyConnect: false, maxRetriesPerRequest: 1, ...auth });
      client.on('error', () => {});
      clients.push(client);
      return client;
    },
    async stop() {
      for (const client of clients) client.disconnect();
      await stopProcess(child);
      process.off('exit', killOnExit);
      rmSync(dir, { recursive: true, force: true });
    },
    async restart() {
      await stopProcess(child);
      child = start();
      await waitForReady(child, `redis-server on port ${port}`);
    },
  };
}

/** A CA and a server certificate for 127.0.0.1 and localhost, made with openssl. */
export function makeCertificates(): { dir: string; ca: string; cert: string; key: string } {
  const dir = mkdtempSync(join(tmpdir(), 'lockstore-tls-'));
  const path = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => execFileSync('openssl', args, { stdio: 'ignore' });
  openssl('req', '-x509', '-new', '-nodes', '-newkey', 'rsa:2048', '-keyout', path('ca.key'), '-out', path('ca.crt'), '-days', '2', '-subj', '/CN=lockstore test CA');
  openssl('req', '-new', '-nodes', '-newkey', 'rsa:2048', '-keyout', path('server.key'), '-out', path('server.csr'), '-subj', '/CN=localhost');
  writeFileSync(path('san.ext'), 'subjectAltName=DNS:localhost,IP:127.0.0.1\n');
  openssl('x509', '-req', '-in', path('server.csr'), '-CA', path('ca.crt'), '-CAkey', path('ca.key'), '-CAcreateserial', '-out', path('server.crt'), '-days', '2', '-extfile', path('san.ext'));
  return { dir, ca: path('ca.crt'), cert: path('server.crt'), key: path('server.key') };
}

export interface SentinelGroup {
  readonly master: RedisServer;
  readonly replica: RedisServer;
  readonly sentinelPort: number;
  /** Promotes the replica; resolves when the sentinel reports the new master. */
  failover(): Promise<void>;
  stop(): Promise<void>;
}

/** A master, its replica and one sentinel (quorum 1) watching them as `mymaster`. */
export async function startSentinelGroup(): Promise<SentinelGroup> {
  const master = await startRedis();
  const replica = await startRedis(['--replicaof', '127.0.0.1', String(master.port)]);
  const sentinelPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'lockstore-sentinel-'));
  const conf = join(dir, 'sentinel.conf');
  writeFileSync(
    conf,
    [
      `port ${sentinelPort}`,
      'bind 127.0.0.1',
      `dir ${dir}`,
      `sentinel monitor mymaster 127.0.0.1 ${master.port} 1`,
      'sentinel down-after-milliseconds mymaster 1000',
      'sentinel failover-timeout mymaster 5000',
      '',
    ].join('\n'),
  );
  const sentinel = spawn('redis-server', [conf, '--sentinel'], { stdio: ['ignore', 'pipe', 'pipe'] });
  await waitForReady(sentinel, 'redis sentinel');
  const admin = new Redis({ host: '127.0.0.1', port: sentinelPort });
  const masterPort = async () => Number(((await admin.call('SENTINEL', 'get-master-addr-by-name', 'mymaster')) as string[])[1]);
  // Wait until the replica is in sync, so a failover has somewhere to go.
  for (let i = 0; i < 100; i++) {
    const info = await replica.client().info('replication');
    if (info.includes('master_link_status:up')) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  for (let i = 0; i < 100; i++) {
    const replicas = (await admin.call('SENTINEL', 'replicas', 'mymaster')) as unknown[];
    if (replicas.length > 0) break;
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    master,
    replica,
    sentinelPort,
    async failover() {
      const before = await masterPort();
      await admin.call('SENTINEL', 'failover', 'mymaster');
      for (let i = 0; i < 200 && (await masterPort()) === before; i++) await new Promise((r) => setTimeout(r, 50));
      if ((await masterPort()) === before) throw new Error('the sentinel did not fail over');
    },
    async stop() {
      admin.disconnect();
      await stopProcess(sentinel);
      await replica.stop();
      await master.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ClusterGroup {
  readonly ports: number[];
  stop(): Promise<void>;
}

/** Three masters, no replicas, all 16384 slots assigned. */
export async function startCluster(): Promise<ClusterGroup> {
  const nodes = await Promise.all(
    [0, 1, 2].map(async () => {
      const port = await freePort();
      return startRedis(['--cluster-enabled', 'yes', '--cluster-config-file', `nodes-${port}.conf`, '--cluster-node-timeout', '2000'], { port });
    }),
  );
  const ports = nodes.map((n) => n.port);
  execFileSync('redis-cli', ['--cluster', 'create', ...ports.map((p) => `127.0.0.1:${p}`), '--cluster-replicas', '0', '--cluster-yes'], {
    stdio: 'ignore',
  });
  for (const node of nodes) {
    const client = node.client();
    for (let i = 0; i < 200; i++) {
      if ((await client.cluster('INFO')).includes('cluster_state:ok')) break;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  return { ports, stop: async () => void (await Promise.all(nodes.map((n) => n.stop()))) };
}
