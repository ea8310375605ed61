/**
 * A throw-away PostgreSQL cluster for the store tests: initdb into a temp dir, pg_ctl start on
 * 127.0.0.1 at a free port, stopped (and deleted) by {@link PgCluster.stop}. Runs the server
 * binaries as the `postgres` user when we are root (initdb refuses root). Under CI a missing
 * server is a failure; elsewhere the caller skips with {@link postgresMissing}'s reason.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { underCi } from './environment.js';

/** The newest `/usr/lib/postgresql/<major>/bin` with initdb and pg_ctl, or undefined. */
export function postgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const majors = readdirSync(root).filter((d) => /^\d+$/.test(d)).sort((a, b) => Number(b) - Number(a));
  for (const m of majors) {
    const bin = join(root, m, 'bin');
    if (existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl'))) return bin;
  }
  return undefined;
}

/**
 * Why the PostgreSQL tests cannot run here, or undefined when they can. Under CI a missing server
 * throws instead: the suite must fail, not skip.
 */
export function postgresMissing(): string | undefined {
  if (postgresBin() !== undefined) return undefined;
  const reason = 'PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin (apt-get install postgresql)';
  if (underCi) throw new Error(`CI: ${reason}`);
  return reason;
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr !== null ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** A running cluster. */
export interface PgCluster {
  readonly port: number;
  /** `postgres://postgres@127.0.0.1:<port>/<database>`. */
  url(database?: string): string;
  /** Creates a database and returns its URL. */
  createDatabase(name: string): string;
  /** pg_ctl restart (waits until the server accepts connections again). */
  restart(): void;
  /** pg_ctl stop -m fast (waits). */
  stopServer(): void;
  /** pg_ctl start (waits). */
  startServer(): void;
  /** The postmaster's PID (its backends are its children), from `postmaster.pid`. */
  serverPid(): number;
  /** Stops the server and deletes its data directory. */
  stop(): void;
}

const asRoot = typeof process.getuid === 'function' && process.getuid() === 0;

/** Runs a server binary, as the postgres user when we are root. */
function run(bin: string, tool: string, args: string[]): string {
  const [cmd, argv] = asRoot ? ['runuser', ['-u', 'postgres', '--', join(bin, tool), ...args]] : [join(bin, tool), args];
  return execFileSync(cmd, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

/** Options for {@link startCluster}. */
export interface ClusterOptions {
  /** Keep fsync on (benchmarks); tests turn it off for speed. Default false. */
  readonly durable?: boolean;
}

/**
 * initdb + pg_ctl start on a free port; trust authentication for the `postgres` superuser on
 * 127.0.0.1 only.
 */
export async function startCluster(options: ClusterOptions = {}): Promise<PgCluster> {
  const bin = postgresBin();
  if (bin === undefined) throw new Error('PostgreSQL server binaries not found');
  const dir = mkdtempSync(join(tmpdir(), 'trustgate-pg-'));
  const data = join(dir, 'data');
  const sock = dir;
  if (asRoot) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim()), Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim()));
  run(bin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--no-sync', '--locale=C']);
  const port = await freePort();
  const serverOpts = [`-k ${sock}`, `-p ${port}`, '-c listen_addresses=127.0.0.1', '-c max_connections=60'];
  if (options.durable !== true) serverOpts.push('-c fsync=off', '-c synchronous_commit=off', '-c full_page_writes=off');
  const ctl = (...args: string[]) => run(bin, 'pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-w', '-t', '60', ...args]);
  const startServer = () => ctl('-o', serverOpts.join(' '), 'start');
  startServer();
  const url = (database = 'postgres') => `postgres://postgres@127.0.0.1:${port}/${database}`;
  let stopped = false;
  return {
    port,
    url,
    createDatabase(name) {
      run(bin, 'psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-qAtc', `CREATE DATABASE "${name}"`]);
      return url(name);
    },
    restart: () => ctl('-m', 'fast', '-o', serverOpts.join(' '), 'restart'),
    stopServer: () => ctl('-m', 'fast', 'stop'),
    startServer,
    serverPid: () => Number(readFileSync(join(data, 'postmaster.pid'), 'utf8').split('\n')[0]),
    stop() {
      if (stopped) return;
      stopped = true;
      try {
        ctl('-m', 'immediate', 'stop');
      } catch {
        /* already down */
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
