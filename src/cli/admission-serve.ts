/**
 * `trustgate admission serve --policy FILE --tls-cert FILE --tls-key FILE [--port N]`: the
 * Kubernetes admission webhook over HTTPS (`/validate`, `/mutate`, `/healthz`).
 */
import { readFileSync, unwatchFile, watchFile } from 'node:fs';
import { availableParallelism } from 'node:os';
import { isTrustError } from '../errors.js';
import type { AdmissionPolicy, AdmissionServer, TrustSource, VerifierPool, WorkerTrustConfig } from '../admission/index.js';
import { COMMON_OPTIONS, defineCommand, warn, type CommandContext } from './command.js';
import { ONLINE_OPTIONS, onlineSettings, parseDuration, registriesOf } from './fetch.js';
import { ADMISSION_SERVE_HELP } from './help.js';
import { QUARANTINE_OPTIONS, quarantineSettings } from './quarantine-options.js';
import { parseCommandLine, UsageError } from './options.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  policy: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'timeout-ms': { type: 'string' },
  online: { type: 'boolean' },
  ...ONLINE_OPTIONS,
  'trust-ttl': { type: 'string' },
  workers: { type: 'string' },
  ...QUARANTINE_OPTIONS,
} as const;

type Engine = typeof import('./admission-engine.js');

interface Settings {
  policy: string;
  cert: string;
  key: string;
  port: number;
  host: string;
  maxBodyBytes: number | undefined;
  timeoutMs: number | undefined;
  stateDir: string | undefined;
  /** `--online`: forced on; else the policy's `online` decides. */
  online: boolean;
  /** The fetch settings (`--server`, `--tls-ca`, `--timeout`, `--deadline`, `--allow-stale`, `--trust-ttl`). */
  fetch: ReturnType<typeof onlineSettings> & { ttlMs?: number };
  /** `--config`: the per-registry servers, read when the command runs. */
  config: string | undefined;
  quarantine: ReturnType<typeof quarantineSettings>;
  /** Verifier worker threads; 0 decides in the server's own thread. */
  workers: number;
}

function boundedInt(name: string, text: string | undefined, min: number, max: number): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(text);
}

function settings({ values, positionals }: ReturnType<typeof parseCommandLine<typeof OPTIONS>>): Settings {
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(positionals[0])}`);
  for (const f of ['policy', 'tls-cert', 'tls-key'] as const) {
    if (values[f] === undefined || values[f] === '') throw new UsageError(`--${f} FILE is required`);
  }
  if (values['state-dir'] === '') throw new UsageError('--state-dir must not be empty');
  return {
    policy: values.policy as string,
    cert: values['tls-cert'] as string,
    key: values['tls-key'] as string,
    port: boundedInt('port', values.port, 0, 65535) ?? 8443, // 0: any free port
    host: values.host ?? '0.0.0.0',
    maxBodyBytes: boundedInt('max-body-bytes', values['max-body-bytes'], 1, 64 * 1024 * 1024),
    timeoutMs: boundedInt('timeout-ms', values['timeout-ms'], 1, 60_000),
    stateDir: values['state-dir'],
    online: values.online === true,
    fetch: {
      ...onlineSettings(values, process.env),
      ...(values['trust-ttl'] === undefined ? {} : { ttlMs: parseDuration('trust-ttl', values['trust-ttl']) }),
    },
    config: values.config,
    quarantine: quarantineSettings(values),
    workers: boundedInt('workers', values.workers, 0, 64) ?? Math.min(4, Math.max(1, availableParallelism() - 1)),
  };
}

/**
 * Online trust (policy `online: true` or `--online`): a review that waits for a fetch is answered
 * within `--deadline` (the fetch gets it less an answer reserve, `fetchBudgetMs`), which must be below `--timeout-ms` (default: 1 s less, at most 5 s), so that
 * a slow notary server is a fast deny, not a webhook timeout.
 */
function onlineConfig(s: Settings, ctx: CommandContext<Engine>): WorkerTrustConfig | string {
  const timeoutMs = s.timeoutMs ?? ctx.engine.ADMISSION_SERVER_DEFAULTS.timeoutMs;
  const { deadlineMs: given, allowStale, ...fetch } = s.fetch;
  const deadlineMs = given ?? Math.max(1, Math.min(ctx.engine.ONLINE_TRUST_DEFAULTS.deadlineMs, timeoutMs - 1000));
  if (deadlineMs >= timeoutMs) return `--deadline (${deadlineMs} ms) must be shorter than --timeout-ms (${timeoutMs} ms)`;
  return {
    kind: 'online',
    ...fetch,
    trustDir: ctx.trustDir.path,
    stateDir: s.stateDir ?? ctx.engine.defaultStateDir(ctx.env),
    deadlineMs,
    ...(allowStale === undefined ? {} : { maxStaleMs: allowStale.maxAgeMs }),
  };
}

/**
 * Where trust data comes from: the notary server (online), else the trust directory, verified
 * once per repository and again when its files change or expire, with the trusted-state record
 * as the version floor.
 */
function trustConfig(s: Settings, ctx: CommandContext<Engine>, policy: AdmissionPolicy): WorkerTrustConfig | string {
  if (s.online || policy.online) return onlineConfig(s, ctx);
  if (ctx.trustDir.error) return ctx.trustDir.error.message;
  return { kind: 'trust-dir', trustDir: ctx.trustDir.path, stateDir: s.stateDir ?? ctx.engine.defaultStateDir(ctx.env) };
}

/** The trust source a config describes, in this thread. */
function sourceOf(engine: Engine, config: WorkerTrustConfig): TrustSource {
  const { kind, ...options } = config;
  return kind === 'online' ? engine.onlineTrustSource(options as Parameters<Engine['onlineTrustSource']>[0]) : engine.rememberedTrustSource(options);
}

/** The policy and TLS files, read and checked; the usage message when one is unusable. */
function readInputs(s: Settings, engine: Engine): { policy: AdmissionPolicy; tls: { cert: Buffer; key: Buffer } } | string {
  let tls: { cert: Buffer; key: Buffer };
  try {
    tls = { cert: readFileSync(s.cert), key: readFileSync(s.key) };
  } catch (e) {
    return `cannot read TLS files: ${(e as Error).message}`;
  }
  let policy;
  try {
    policy = engine.loadPolicyFile(s.policy);
  } catch (e) {
    if (isTrustError(e)) return e.message;
    throw e;
  }
  if (engine.policyNeedsQuarantine(policy) && s.quarantine === undefined) {
    return 'the policy requires quarantine visibility: give --quarantine-url (or use createAdmissionServer with a quarantine reader)';
  }
  return { policy, tls };
}

/** The running server and, with `--workers` above 0, the pool that decides for it. */
interface Running {
  server: AdmissionServer;
  pool: VerifierPool | undefined;
}

/** The server, or the usage message when a file, the policy or the trust directory is unusable. */
function build(s: Settings, ctx: CommandContext<Engine>, ready: () => boolean): Running | string {
  const { engine } = ctx;
  const inputs = readInputs(s, engine);
  if (typeof inputs === 'string') return inputs;
  const config = trustConfig(s, ctx, inputs.policy);
  if (typeof config === 'string') return config;
  const quarantine = s.quarantine ? { quarantine: engine.httpQuarantineReader(s.quarantine) } : {};
  // Verification off the event loop: each GUN is verified in its own worker thread, and answered
  // from the server thread's copy while the worker's answer stands.
  const pool = s.workers === 0 ? undefined : engine.createVerifierPool({ size: s.workers, config: { trust: config } });
  try {
    const server = engine.createAdmissionServer({
      policy: inputs.policy,
      sources: { trust: pool ? pool.trust : sourceOf(engine, config), ...quarantine },
      tls: inputs.tls,
      // The command's edge clock: `--now` for recorded data, else the time of each request.
      clock: ctx.clock,
      // Policy, certificate and trust source are loaded before the server exists: ready once it
      // listens and every verifier worker has built its trust source.
      readiness: () => (ready() ? pool?.readiness() : 'not listening yet'),
      // A scrape asks the workers for their trust facts, so /metrics is current when it answers.
      ...(pool ? { metrics: engine.createAdmissionMetrics(pool, ctx.clock) } : {}),
      ...(s.maxBodyBytes === undefined ? {} : { maxBodyBytes: s.maxBodyBytes }),
      ...(s.timeoutMs === undefined ? {} : { timeoutMs: s.timeoutMs }),
    });
    return { server, pool };
  } catch (e) {
    void pool?.close();
    return `cannot start: ${(e as Error).message}`;
  }
}

const logLine = (entry: Record<string, unknown>) => process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), ...entry })}\n`);

/** Re-reads the policy and the certificate; a bad one is logged and the old one kept. */
function reload({ server }: Running, s: Settings, engine: Engine, why: string): void {
  const inputs = readInputs(s, engine);
  if (typeof inputs === 'string') {
    logLine({ msg: 'reload failed, keeping the running policy and certificate', why, error: inputs });
    return;
  }
  try {
    server.reload(inputs);
    logLine({ msg: 'reloaded policy and certificate', why });
  } catch (e) {
    logLine({ msg: 'reload failed, keeping the running policy and certificate', why, error: (e as Error).message });
  }
}

/**
 * Listens until SIGTERM or SIGINT (exit 0 once reviews in flight are answered), or fails to listen
 * (exit 1). SIGHUP, or a change to the policy or TLS files (polled every 2 s, which also sees a
 * Kubernetes secret's symlink swap), reloads them without dropping a request.
 */
function serve(running: Running, s: Settings, engine: Engine, listening: (v: boolean) => void): Promise<number> {
  const { server } = running;
  const files = [s.policy, s.cert, s.key];
  const onChange = (cur: { mtimeMs: number }, prev: { mtimeMs: number }) => {
    if (cur.mtimeMs !== prev.mtimeMs) reload(running, s, engine, 'file changed');
  };
  const onHup = () => reload(running, s, engine, 'SIGHUP');
  return new Promise<number>((resolve) => {
    server.once('error', (e) => {
      warn(`trustgate admission serve: ${e.message}`);
      void running.pool?.close().then(() => resolve(1));
    });
    server.listen(s.port, s.host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr !== null ? addr.port : s.port;
      listening(true);
      logLine({ msg: 'listening', host: s.host, port: bound });
    });
    for (const f of files) watchFile(f, { interval: 2000, persistent: false }, onChange);
    process.on('SIGHUP', onHup);
    const stop = (signal: string) => {
      logLine({ msg: 'draining', signal });
      for (const f of files) unwatchFile(f, onChange);
      process.off('SIGHUP', onHup);
      const grace = (s.timeoutMs ?? engine.ADMISSION_SERVER_DEFAULTS.timeoutMs) + 1000;
      void server
        .drain(grace)
        .then(() => running.pool?.close())
        .then(() => resolve(0));
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

async function run(given: Settings, ctx: CommandContext<Engine>): Promise<number> {
  let s = given;
  try {
    s = { ...given, fetch: { ...given.fetch, ...(await registriesOf({ config: given.config }, ctx.env)) } };
  } catch (e) {
    if (e instanceof UsageError) return ctx.usage(e.message);
    throw e;
  }
  let listening = false;
  const running = build(s, ctx, () => listening);
  if (typeof running === 'string') return ctx.usage(running);
  return serve(running, s, ctx.engine, (v) => (listening = v));
}

export const runAdmissionServe = defineCommand({
  name: 'admission serve',
  options: OPTIONS,
  help: ADMISSION_SERVE_HELP,
  settings,
  load: () => import('./admission-engine.js'),
  run,
});
