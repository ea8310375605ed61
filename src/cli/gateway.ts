/**
 * `trustgate gateway --upstream URL --config FILE [--listen HOST:PORT] [--data-dir DIR | --store URL]
 * [--tls-cert FILE --tls-key FILE]`: the quarantine-gated OCI registry gateway (issue 15).
 */
import { mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { isTrustError } from '../errors.js';
import type { QuarantineStore } from '../quarantine/store.js';
import { COMMON_OPTIONS, defineCommand, warn, type CommandContext } from './command.js';
import { GATEWAY_HELP } from './help.js';
import { parseCommandLine, UsageError } from './options.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  upstream: { type: 'string' },
  listen: { type: 'string' },
  config: { type: 'string' },
  'data-dir': { type: 'string' },
  store: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
} as const;

type Engine = typeof import('./gateway-engine.js');

interface Settings {
  upstream: string;
  host: string;
  port: number;
  config: string;
  dataDir: string;
  store: string | undefined;
  tls: { cert: string; key: string } | undefined;
}

/** `127.0.0.1:5000`, `[::1]:5000` or `localhost:5000`. */
function parseListen(text: string): { host: string; port: number } {
  const m = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/.exec(text);
  if (m?.[1] === undefined || m[2] === undefined || Number(m[2]) > 65535) throw new UsageError('--listen must be HOST:PORT, e.g. 127.0.0.1:5000');
  return { host: m[1].replace(/^\[|\]$/g, ''), port: Number(m[2]) };
}

function settings({ values, positionals }: ReturnType<typeof parseCommandLine<typeof OPTIONS>>): Settings {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  if (values.upstream === undefined || !/^https?:\/\/./.test(values.upstream)) throw new UsageError('--upstream URL (http:// or https://) is required');
  if (values.config === undefined || values.config === '') throw new UsageError('--config FILE is required (users, roles and the quarantine policy)');
  if (values.store !== undefined && values['data-dir'] !== undefined) throw new UsageError('--data-dir and --store are exclusive');
  if (values.store !== undefined && !/^postgres(ql)?:\/\/./.test(values.store)) throw new UsageError('--store takes a postgres:// (or postgresql://) URL');
  if (values['data-dir'] === '') throw new UsageError('--data-dir must not be empty');
  if ((values['tls-cert'] === undefined) !== (values['tls-key'] === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const { host, port } = parseListen(values.listen ?? '127.0.0.1:5000');
  return {
    upstream: values.upstream,
    host,
    port,
    config: values.config,
    dataDir: values['data-dir'] ?? './trustgate-data',
    store: values.store,
    tls: values['tls-cert'] === undefined ? undefined : { cert: values['tls-cert'], key: values['tls-key'] as string },
  };
}

/**
 * Where the machine's state lives (issue 15.7): `--store postgres://…` shares one PostgreSQL
 * database between gateway replicas; otherwise the embedded store (PGlite) under `--data-dir`
 * keeps it across restarts with no server to run. Both are loaded only when asked for, so their
 * optional dependencies (`pg`, `@electric-sql/pglite`) are needed only by those who use them.
 */
function storeFactory(s: Settings): () => Promise<QuarantineStore> {
  if (s.store !== undefined) {
    const url = s.store;
    return async () => (await loadOptional('pg', () => import('../store/postgres.js'))).createPostgresStore({ connectionString: url });
  }
  const dataDir = resolve(s.dataDir);
  return async () => {
    mkdirSync(dataDir, { recursive: true });
    return (await loadOptional('@electric-sql/pglite', () => import('../store/embedded.js'))).createEmbeddedStore({ dataDir });
  };
}

/** Imports a store module, turning a missing optional dependency into a message that says what to install. */
async function loadOptional<T>(dependency: string, load: () => Promise<T>): Promise<T> {
  try {
    return await load();
  } catch (e) {
    if ((e as { code?: unknown }).code !== 'ERR_MODULE_NOT_FOUND') throw e;
    throw new UsageError(`this store needs the optional dependency ${dependency}: npm install ${dependency}`);
  }
}

/** Builds and starts the gateway; returns the usage message when a file or the config is unusable. */
async function start(s: Settings, ctx: CommandContext<Engine>) {
  const { engine } = ctx;
  let tls: { cert: Buffer; key: Buffer } | undefined;
  try {
    tls = s.tls === undefined ? undefined : { cert: readFileSync(s.tls.cert), key: readFileSync(s.tls.key) };
  } catch (e) {
    return `cannot read TLS files: ${(e as Error).message}`;
  }
  const factory = storeFactory(s);
  try {
    const config = engine.loadGatewayConfig(s.config);
    return await engine.createGateway({ upstream: s.upstream, config, storeFactory: factory, ...(tls === undefined ? {} : { tls }) });
  } catch (e) {
    if (isTrustError(e) || e instanceof UsageError) return e.message;
    throw e;
  }
}

/** Listens until SIGTERM or SIGINT (exit 0), or fails to listen (exit 1). */
async function run(s: Settings, ctx: CommandContext<Engine>): Promise<number> {
  const gateway = await start(s, ctx);
  if (typeof gateway === 'string') return ctx.usage(gateway);
  let port: number;
  try {
    port = await gateway.listen(s.port, s.host);
  } catch (e) {
    warn(`trustgate gateway: ${(e as Error).message}`);
    await gateway.close();
    return 1;
  }
  const url = `${s.tls === undefined ? 'http' : 'https'}://${s.host.includes(':') ? `[${s.host}]` : s.host}:${port}`;
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg: 'listening', url, upstream: s.upstream })}\n`);
  return new Promise<number>((resolve) => {
    // The store goes last: the gateway stops taking requests first, then its state is closed cleanly.
    const closeStore = async () => (gateway.store as { close?: () => Promise<void> }).close?.();
    const stop = () => void gateway.close().then(closeStore).then(() => resolve(0));
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}

export const runGateway = defineCommand({
  name: 'gateway',
  options: OPTIONS,
  help: GATEWAY_HELP,
  settings,
  load: () => import('./gateway-engine.js'),
  run,
});
