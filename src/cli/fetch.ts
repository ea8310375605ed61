/**
 * `trustgate fetch <image-ref>...`: update the trust cache of each image's GUN from its
 * notary-server (verified before anything is written) and print what changed. Also the online
 * half of `trustgate verify --online` and of `trustgate mirror`.
 */
import { readFileSync } from 'node:fs';
import { isTrustError, TrustError } from '../errors.js';
import { parseReference } from '../reference/parse.js';
import type { FetchOptions, FetchProgress, FetchResult } from '../fetch/types.js';
import type { VerifiedRepository } from '../verify/types.js';
import { colourEnabled, escapeTerminal, paint, type Env, type OutStream } from './format.js';
import { COMMON_OPTIONS, defineCommand, type CommandContext } from './command.js';
import { UsageError } from './options.js';

export const FETCH_HELP = `Usage: trustgate fetch <image-ref>... [options]

Downloads each image's trust data from its notary-server, verifies all of it, and only then
writes it into the trust directory (in notary's layout; timestamp last). A failed fetch leaves
the cache as it was. A trusted-state record per repository (outside the trust directory) keeps
the last root and the highest versions, so a later cache or server cannot roll them back.

Options:
  --server URL             Notary server (default: $DOCKER_CONTENT_TRUST_SERVER, else the config
                           file's entry for the registry, else docker's choice:
                           https://notary.docker.io for docker.io, https://<registry>)
  --config FILE            Servers per registry (default: $TRUSTGATE_CONFIG, else
                           $XDG_CONFIG_HOME/trustgate/config.json if it exists), e.g.
                           {"registries": {"registry.example.com":
                             {"server": "https://notary.example.com", "tlsCa": "ca.pem"}}}
  --trust-dir DIR          Trust directory (default: $DOCKER_CONFIG/trust, else ~/.docker/trust)
  --state-dir DIR          Trusted-state records (default: $XDG_STATE_HOME/trustgate,
                           else ~/.local/state/trustgate)
  --tls-ca FILE            Extra CA certificates (PEM) for https
  --timeout DURATION       Per request (default 30s); e.g. 500ms, 10s, 2m
  --deadline DURATION      Whole fetch of one repository (default 2m)
  --allow-stale DURATION   When the server is unreachable, accept the cache if it still verifies
                           and was fetched at most this long ago (reported as stale)
  --now RFC3339            Judge expiry at this instant instead of the current time
  --json                   Print one JSON document: {"ok": boolean, "results": [...]}
  -h, --help               Show this help

  --username NAME          With --password-stdin: credentials for the registry's token service
  --password-stdin         Read the password from standard input (as docker login does)

Credentials for the registry's token service come from --username/--password-stdin, else the
docker config ($DOCKER_CONFIG/config.json: auths, credsStore, credHelpers), after an anonymous
attempt.

Exit codes: 0 every repository fetched and verified, 1 a trust or fetch failure, 2 usage error.
`;

/** Flags shared by `fetch`, `mirror` and `verify --online`. */
export const ONLINE_OPTIONS = {
  server: { type: 'string' },
  config: { type: 'string' },
  'state-dir': { type: 'string' },
  'tls-ca': { type: 'string' },
  timeout: { type: 'string' },
  deadline: { type: 'string' },
  'allow-stale': { type: 'string' },
  username: { type: 'string' },
  'password-stdin': { type: 'boolean' },
} as const;

const FETCH_OPTIONS = {
  ...COMMON_OPTIONS,
  ...ONLINE_OPTIONS,
  json: { type: 'boolean' },
} as const;

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `250ms`, `10s`, `5m`, `24h`, `7d`. */
export function parseDuration(flag: string, text: string): number {
  const m = /^(\d+)(ms|s|m|h|d)$/.exec(text);
  if (!m) throw new UsageError(`--${flag}: ${JSON.stringify(text)} is not a duration (e.g. 500ms, 10s, 5m, 24h)`);
  return Number(m[1]) * (UNITS[m[2] as string] as number);
}

export type OnlineValues = { [K in Exclude<keyof typeof ONLINE_OPTIONS, 'password-stdin'>]?: string | undefined } & { 'password-stdin'?: boolean | undefined };

/** The fetch options the online flags give, for every GUN of one command run. */
export function onlineSettings(values: OnlineValues, env: Env): Omit<FetchOptions, 'gun' | 'now' | 'trustDir'> {
  const server = values.server ?? (env['DOCKER_CONTENT_TRUST_SERVER'] || undefined);
  let tlsCa: string | undefined;
  if (values['tls-ca'] !== undefined) {
    try {
      tlsCa = readFileSync(values['tls-ca'], 'utf8');
    } catch (e) {
      throw new UsageError(`--tls-ca: cannot read ${values['tls-ca']}: ${(e as Error).message}`);
    }
  }
  if (values['state-dir'] === '') throw new UsageError('--state-dir must not be empty');
  if (values.config === '') throw new UsageError('--config must not be empty');
  const auth = credentials(values);
  return {
    proxyEnv: env,
    ...(auth === undefined ? {} : { auth }),
    ...(server === undefined ? {} : { server }),
    ...(values['state-dir'] === undefined ? {} : { stateDir: values['state-dir'] }),
    ...(tlsCa === undefined ? {} : { tlsCa }),
    ...(values.timeout === undefined ? {} : { timeoutMs: parseDuration('timeout', values.timeout) }),
    ...(values.deadline === undefined ? {} : { deadlineMs: parseDuration('deadline', values.deadline) }),
    ...(values['allow-stale'] === undefined ? {} : { allowStale: { maxAgeMs: parseDuration('allow-stale', values['allow-stale']) } }),
  };
}

/**
 * `--username NAME --password-stdin`, as `docker login` takes them: the password is read from
 * standard input (never from the command line, where other users could see it), once per run.
 */
let stdinPassword: string | undefined;
function credentials(values: OnlineValues): { username: string; password: string } | undefined {
  const { username } = values;
  const fromStdin = values['password-stdin'] === true;
  if (username === undefined && !fromStdin) return undefined;
  if (username === undefined || username === '') throw new UsageError('--password-stdin needs --username NAME');
  if (!fromStdin) throw new UsageError('--username needs --password-stdin (the password is read from standard input)');
  if (stdinPassword === undefined) {
    try {
      stdinPassword = readFileSync(0, 'utf8').replace(/\r?\n$/, '');
    } catch (e) {
      throw new UsageError(`--password-stdin: cannot read standard input: ${(e as Error).message}`);
    }
  }
  if (stdinPassword === '') throw new UsageError('--password-stdin: standard input was empty');
  return { username, password: stdinPassword };
}

export type FetchEntry =
  | {
      ok: true;
      ref: string;
      gun: string;
      server: string;
      changed: boolean;
      rootRotated: boolean;
      bytesDownloaded: number;
      roles: FetchResult['roles'];
      stale?: { code: string; message: string; fetchedAt: string; ageMs: number };
    }
  | { ok: false; ref: string; gun: string | null; error: { code: string; message: string; role?: string } };

export function errorOf(e: unknown): { code: string; message: string; role?: string } {
  return isTrustError(e)
    ? { code: e.code, message: e.message, ...(e.role === undefined ? {} : { role: e.role }) }
    : { code: 'ERR_INTERNAL', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
}

export function entryOf(ref: string, r: FetchResult): FetchEntry {
  return {
    ok: true,
    ref,
    gun: r.gun,
    server: r.server,
    changed: r.changed,
    rootRotated: r.rootRotated,
    bytesDownloaded: r.bytesDownloaded,
    roles: r.roles,
    ...(r.stale ? { stale: { code: r.stale.error.code, message: r.stale.error.message, fetchedAt: r.stale.fetchedAt, ageMs: r.stale.ageMs } } : {}),
  };
}

/**
 * Fetches each GUN once, in order. Returns the outcome per GUN: the fetch result or the error
 * (any non-trustgate error is a bug and is rethrown).
 */
export async function fetchEach(
  guns: readonly string[],
  base: Omit<FetchOptions, 'gun'>,
  json = false,
): Promise<Map<string, FetchResult | TrustError>> {
  const { fetchTrustData } = await import('../fetch/fetch.js');
  const out = new Map<string, FetchResult | TrustError>();
  const progress = terminalProgress(process.stderr, json);
  try {
    for (const gun of guns) {
      if (out.has(gun)) continue;
      try {
        out.set(gun, await fetchTrustData({ ...base, gun, ...progress.option }));
      } catch (e) {
        if (!isTrustError(e)) throw e;
        out.set(gun, e);
      }
    }
  } finally {
    progress.end();
  }
  return out;
}

/**
 * One self-overwriting progress line on stderr while files arrive (a repository with many
 * delegations takes a while), only on a terminal and never with --json; cleared when done.
 */
export function terminalProgress(out: OutStream, json: boolean): { option: Pick<FetchOptions, 'onProgress'>; end(): void } {
  if (json || out.isTTY !== true) return { option: {}, end: () => undefined };
  let shown = false;
  let last = 0;
  const onProgress = (p: FetchProgress) => {
    const now = Date.now();
    if (now - last < 100 && p.role !== 'timestamp') return;
    last = now;
    shown = true;
    out.write(`\r\x1b[Kfetching ${escapeTerminal(p.gun)}: ${p.files} files, ${(p.bytes / 1024).toFixed(0)} KiB (${escapeTerminal(p.role)})`);
  };
  return { option: { onProgress }, end: () => void (shown && out.write('\r\x1b[K')) };
}

/** For `verify --online`: fetched repositories by GUN, each a verified repository or its error. */
export async function fetchForVerify(
  guns: readonly string[],
  online: Omit<FetchOptions, 'gun' | 'now' | 'trustDir'>,
  base: Pick<FetchOptions, 'trustDir' | 'now' | 'mode' | 'pins'> & { now: Date },
  json = false,
): Promise<Map<string, VerifiedRepository | TrustError>> {
  const fetched = await fetchEach(guns, { ...online, ...base }, json);
  const pinned = (gun: string) => base.pins?.certs?.[gun];
  return new Map<string, VerifiedRepository | TrustError>(
    [...fetched].map(([gun, r]): [string, VerifiedRepository | TrustError] => {
      if (r instanceof Error) return [gun, r];
      if (r.stale) {
        process.stderr.write(
          `trustgate verify: warning: ${gun}: STALE: the server failed (${r.stale.error.code}: ${r.stale.error.message}); using the cache fetched at ${r.stale.fetchedAt}\n`,
        );
      }
      // The fetch applies pins only to a first root; --pin-root means "this root, now" every time.
      const ids = pinned(gun);
      if (ids && !r.repository.root.signedBy.some((id) => ids.includes(id))) {
        return [gun, new TrustError('ERR_ROOT_PIN_MISMATCH', `the root of ${gun} is not signed by a pinned key (${ids.join(', ')})`, { role: 'root', check: 'root key pin', keyIds: r.repository.root.signedBy })];
      }
      return [gun, r.repository];
    }),
  );
}

interface FetchSettings {
  refs: { ref: string; gun: string | null; error?: unknown }[];
  values: OnlineValues;
  json: boolean;
}

type FetchEngine = typeof import('../trust-dir/reader.js');

/**
 * The per-registry servers of the config file: `--config`, else $TRUSTGATE_CONFIG (either must
 * exist), else `$XDG_CONFIG_HOME/trustgate/config.json` when it exists. Read when the command runs
 * (the reader loads zod), never for help or a usage error.
 */
export async function registriesOf(values: Pick<OnlineValues, 'config'>, env: Env): Promise<Pick<FetchOptions, 'registries'>> {
  const { readFetchConfig, defaultConfigFile } = await import('../fetch/config.js');
  const named = values.config ?? (env['TRUSTGATE_CONFIG'] || undefined);
  try {
    const registries = named === undefined ? readFetchConfig(defaultConfigFile(env), true) : readFetchConfig(named);
    return Object.keys(registries).length === 0 ? {} : { registries };
  } catch (e) {
    if (isTrustError(e) && e.code === 'ERR_INVALID_ARGUMENT') throw new UsageError(e.message);
    throw e;
  }
}

/** The online flags and the config file as fetch options; a bad one is a usage error of the command. */
export async function onlineBase(values: OnlineValues, ctx: CommandContext<unknown>): Promise<Omit<FetchOptions, 'gun' | 'now' | 'trustDir'> | number> {
  try {
    return { ...onlineSettings(values, ctx.env), ...(await registriesOf(values, ctx.env)) };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return ctx.usage(e.message);
  }
}

async function fetchImages(s: FetchSettings, ctx: CommandContext<FetchEngine>): Promise<number> {
  const online = await onlineBase(s.values, ctx);
  if (typeof online === 'number') return online;
  const base = { ...online, trustDir: ctx.trustDir.path, now: ctx.clock() };
  const fetched = await fetchEach(
    s.refs.flatMap((r) => (r.gun === null ? [] : [r.gun])),
    base,
    s.json,
  );
  const results: FetchEntry[] = s.refs.map(({ ref, gun, error }) => {
    if (gun === null) return { ok: false, ref, gun, error: errorOf(error) };
    const r = fetched.get(gun) as FetchResult | TrustError;
    return r instanceof Error ? { ok: false, ref, gun, error: errorOf(r) } : entryOf(ref, r);
  });
  return report('fetch', results, s.json, ctx.env);
}

export const runFetch = defineCommand({
  name: 'fetch',
  options: FETCH_OPTIONS,
  help: FETCH_HELP,
  settings: ({ values, positionals }): FetchSettings => {
    if (positionals.length === 0) throw new UsageError('fetch needs at least one image reference');
    onlineSettings(values, process.env); // a bad flag is a usage error now, before anything loads
    const refs = positionals.map((ref) => {
      try {
        return { ref, gun: parseReference(ref).gun };
      } catch (e) {
        return { ref, gun: null, error: e };
      }
    });
    return { refs, values, json: values.json === true };
  },
  load: () => import('../trust-dir/reader.js'),
  run: fetchImages,
});

/** Prints the entries and returns the exit code (2 if any reference was unusable). */
export function report(command: string, results: readonly FetchEntry[], json: boolean, env: Env, out: OutStream = process.stdout): number {
  const ok = results.every((r) => r.ok);
  if (json) out.write(`${JSON.stringify({ ok, results }, null, 2)}\n`);
  else printHuman(results, out, env);
  const usage = results.some((r) => !r.ok && (r.error.code === 'ERR_INVALID_REFERENCE' || r.error.code === 'ERR_INVALID_ARGUMENT'));
  if (usage) process.stderr.write(`Run "trustgate ${command} --help" for usage.\n`);
  return usage ? 2 : ok ? 0 : 1;
}

function printHuman(results: readonly FetchEntry[], out: OutStream, env: Env): void {
  const p = paint(colourEnabled(out, env));
  for (const r of results) {
    if (!r.ok) {
      out.write(`${p.red('FAIL')}  ${p.bold(r.ref)}  ${r.error.code}${r.error.role === undefined ? '' : ` (role ${r.error.role})`}: ${r.error.message}\n`);
      continue;
    }
    const roles = r.roles
      .map((x) => (x.before === undefined ? `${x.role} v${x.after} (new)` : x.before === x.after ? `${x.role} v${x.after}` : `${x.role} v${x.before}→v${x.after}`))
      .join(', ');
    const what = r.stale
      ? `${p.red('STALE')} cache from ${r.stale.fetchedAt} (server: ${r.stale.code})`
      : r.changed
        ? `updated${r.rootRotated ? ', root rotated' : ''}, ${r.bytesDownloaded} bytes`
        : `up to date, ${r.bytesDownloaded} bytes`;
    out.write(`${p.green('OK')}    ${p.bold(r.ref)}  ${r.gun} from ${r.server}  ${what}\n      ${p.dim(roles)}\n`);
  }
}
