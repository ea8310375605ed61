/**
 * `trustgate verify`: offline verification of each image's trust data and resolution of its tag
 * (or digest) to a signed target, with docker's precedence by default (notary-rules.md §9.3).
 */
import { isTrustError } from '../errors.js';
import { parseReference, type ImageReference } from '../reference/parse.js';
import type { VerifiedRepository } from '../verify/types.js';
import { COMMON_OPTIONS, defineCommand, warn, type CommandContext } from './command.js';
import { colourEnabled, escapeTerminal, jsonText, paint, type Env, type OutStream } from './format.js';
import { VERIFY_HELP } from './help.js';
import { parseCommandLine, USAGE_CODES, UsageError } from './options.js';
import { ONLINE_OPTIONS, fetchForVerify, onlineBase, onlineSettings } from './fetch.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  json: { type: 'boolean' },
  role: { type: 'string', multiple: true },
  'any-role': { type: 'boolean' },
  'pin-root': { type: 'string', multiple: true },
  mode: { type: 'string' },
  online: { type: 'boolean' },
  ...ONLINE_OPTIONS,
} as const;

type Engine = typeof import('./engine.js');

/** One entry of `results` in `--json` output. */
export type VerifyResult =
  | {
      ok: true;
      ref: string;
      gun: string;
      tag: string;
      /** Every tag that carries the digest; only for `name@sha256:…` references. */
      tags?: string[];
      digest: string;
      length: number;
      role: string;
      signers: string[];
    }
  | {
      ok: false;
      ref: string;
      gun: string | null;
      tag: string | null;
      error: { code: string; message: string; role?: string };
    };

interface Settings {
  images: string[];
  json: boolean;
  /** undefined: docker's order and role filter. */
  roles: string[] | undefined;
  pins: string[];
  mode: 'strict' | 'online-equivalent';
  /** `--online` and its flags, when given. */
  online: Parameters<typeof onlineSettings>[0] | undefined;
  /** `--state-dir`: trusted-state records (default: where trustgate fetch keeps them). */
  stateDir: string | undefined;
}

/** A delegation `--mode online-equivalent` dropped (notary-rules.md §7.8.4), as `--json` reports it. */
export interface SkippedEntry {
  gun: string;
  role: string;
  code: string;
  message: string;
}

const KEY_ID = /^[0-9a-f]{64}$/;
const ROLE = /^targets(?:\/[a-z0-9_.-]+)*$/;

function settings({ values, positionals }: ReturnType<typeof parseCommandLine<typeof OPTIONS>>): Settings {
  if (positionals.length === 0) throw new UsageError('verify needs at least one image reference');
  const mode = values.mode ?? 'strict';
  if (mode !== 'strict' && mode !== 'online-equivalent') {
    throw new UsageError(`--mode must be strict or online-equivalent, not ${JSON.stringify(mode)}`);
  }
  const roleList = values.role ?? [];
  if (values['any-role'] === true && roleList.length > 0) throw new UsageError('--role and --any-role cannot be combined');
  for (const r of roleList) {
    if (!ROLE.test(r)) throw new UsageError(`--role ${JSON.stringify(r)} is not a targets role (targets or targets/<name>)`);
  }
  const pins = (values['pin-root'] ?? []).map((p) => p.toLowerCase());
  for (const p of pins) {
    if (!KEY_ID.test(p)) throw new UsageError(`--pin-root ${JSON.stringify(p)} is not a key ID (64 hexadecimal digits)`);
  }
  return {
    images: positionals,
    json: values.json === true,
    // notary's lookup walks the whole tree from `targets`.
    roles: values['any-role'] === true ? ['targets'] : roleList.length > 0 ? roleList : undefined,
    pins,
    mode,
    online: onlineFlags(values),
    stateDir: nonEmpty('state-dir', values['state-dir']),
  };
}

function nonEmpty(flag: string, value: string | undefined): string | undefined {
  if (value === '') throw new UsageError(`--${flag} must not be empty`);
  return value;
}

/** The online flags, checked now so that a bad one is a usage error; they need `--online`. */
function onlineFlags(values: { online?: boolean | undefined } & Parameters<typeof onlineSettings>[0]) {
  if (values.online !== true) {
    // --state-dir also serves offline: the record is the version floor of the trust directory.
    const stray = Object.keys(ONLINE_OPTIONS).find((k) => k !== 'state-dir' && values[k as keyof typeof ONLINE_OPTIONS] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --online`);
    return undefined;
  }
  onlineSettings(values, process.env);
  return values;
}

/** Fills in a failed entry; non-trustgate exceptions are bugs and get `ERR_INTERNAL`. */
function failure(ref: string, parsed: ImageReference | undefined, e: unknown): VerifyResult {
  const error: { code: string; message: string; role?: string } = isTrustError(e)
    ? { code: e.code, message: e.message, ...(e.role === undefined ? {} : { role: e.role }) }
    : { code: 'ERR_INTERNAL', message: `internal error: ${e instanceof Error ? e.message : String(e)}` };
  let tag: string | null = null;
  if (parsed !== undefined) tag = parsed.tag ?? (parsed.digest === undefined ? 'latest' : null);
  return { ok: false, ref, gun: parsed?.gun ?? null, tag, error };
}

/** The trust directory as a memoised source: each GUN verified once per run; dropped delegations are collected and warned about once. */
function trustSource(s: Settings, ctx: CommandContext<Engine>, skipped: SkippedEntry[], fetched: Fetched | undefined) {
  // The trusted-state record of `trustgate fetch`, when the GUN has one, is the version floor.
  const stateDir = s.stateDir ?? ctx.engine.defaultStateDir(ctx.env);
  const base = ctx.engine.trustDirTrustSource({ trustDir: ctx.trustDir.path, mode: s.mode, stateDir });
  return ctx.engine.cachedTrustSource({
    async verify(query) {
      const got = fetched?.get(query.gun);
      if (got instanceof Error) throw got;
      const repo = got ?? (await base.verify(query));
      for (const { role, error } of repo.skipped) {
        skipped.push({ gun: query.gun, role, code: error.code, message: error.message });
        warn(`trustgate verify: warning: ${query.gun}: ignoring ${role} (${error.code}: ${error.message})`);
      }
      return repo;
    },
  });
}

/** Verifies one argument; `check` is the failed check for the human output (the JSON has no field for it). */
async function verifyOne(input: string, s: Settings, ctx: CommandContext<Engine>, verify: (gun: string) => Promise<VerifiedRepository>): Promise<{ result: VerifyResult; check?: string }> {
  let parsed: ImageReference | undefined;
  try {
    parsed = parseReference(input);
    // Online, the fetch creates the trust directory; offline a missing one is the answer.
    if (ctx.trustDir.error && s.online === undefined) throw ctx.trustDir.error;
    const repo = await verify(parsed.gun);
    const { target: hit, signedTags: tags } = ctx.engine.resolveReference(repo, parsed, s.roles === undefined ? {} : { roles: s.roles });
    const result: VerifyResult = { ok: true, ref: input, gun: parsed.gun, tag: hit.name, ...(tags === undefined ? {} : { tags }), digest: hit.digest, length: hit.length, role: hit.role, signers: [...hit.signers] };
    return { result };
  } catch (e) {
    if (!isTrustError(e)) warn(`trustgate verify: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
    const result = failure(input, parsed, e);
    return isTrustError(e) && e.check !== undefined ? { result, check: e.check } : { result };
  }
}

type Fetched = Awaited<ReturnType<typeof fetchForVerify>>;

/** `--online`: fetch each GUN first (notary's update, trustgate fetch's rules); unparsable references are reported by the loop. */
async function fetchFirst(s: Settings, ctx: CommandContext<Engine>, now: Date): Promise<Fetched | undefined | number> {
  if (s.online === undefined) return undefined;
  const online = await onlineBase(s.online, ctx);
  if (typeof online === 'number') return online;
  const guns = s.images.flatMap((i) => {
    try {
      return [parseReference(i).gun];
    } catch {
      return [];
    }
  });
  const pins = s.pins.length > 0 ? { pins: { certs: Object.fromEntries(guns.map((g) => [g, s.pins])) } } : {};
  return fetchForVerify(guns, online, { trustDir: ctx.trustDir.path, now, mode: s.mode, ...pins }, s.json);
}

async function verifyImages(s: Settings, ctx: CommandContext<Engine>): Promise<number> {
  const now = ctx.clock();
  const skipped: SkippedEntry[] = [];
  const fetched = await fetchFirst(s, ctx, now);
  if (typeof fetched === 'number') return fetched; // a usage error (the config file)
  const trust = trustSource(s, ctx, skipped, fetched);
  const verify = (gun: string) => trust.verify({ gun, now, ...(s.pins.length > 0 ? { pins: { certIds: s.pins } } : {}) });
  const results: VerifyResult[] = [];
  const checks = new Map<number, string>();
  for (const input of s.images) {
    const { result, check } = await verifyOne(input, s, ctx, verify);
    if (check !== undefined) checks.set(results.length, check);
    results.push(result);
  }
  const usage = results.some((r) => !r.ok && USAGE_CODES.has(r.error.code));
  const ok = results.every((r) => r.ok);
  if (s.json) process.stdout.write(`${jsonText(s.mode === 'online-equivalent' ? { ok, results, skipped } : { ok, results })}\n`);
  else printHuman(results, checks, process.stdout, ctx.env);
  if (usage) return ctx.hint();
  return ok ? 0 : 1;
}

export const runVerify = defineCommand({ name: 'verify', options: OPTIONS, help: VERIFY_HELP, settings, load: () => import('./engine.js'), run: verifyImages });

const short = (id: string) => id.slice(0, 12);

function printHuman(results: readonly VerifyResult[], checks: ReadonlyMap<number, string>, out: OutStream, env: Env): void {
  const p = paint(colourEnabled(out, env));
  for (const [i, r] of results.entries()) {
    if (r.ok) {
      const what = r.tags === undefined ? r.digest : `signed as ${r.tags.map((t) => `:${t}`).join(', ')}`;
      const signers = r.signers.length > 0 ? r.signers.map(short).join(', ') : 'none';
      out.write(`${p.green('OK')}    ${p.bold(escapeTerminal(r.ref))}  ${escapeTerminal(what)}  role ${escapeTerminal(r.role)}  signed by ${signers}\n`);
    } else {
      const where = [r.error.role === undefined ? undefined : `role ${r.error.role}`, checks.has(i) ? `check: ${checks.get(i)}` : undefined]
        .filter((x) => x !== undefined)
        .join(', ');
      out.write(`${p.red('FAIL')}  ${p.bold(escapeTerminal(r.ref))}  ${r.error.code}${where === '' ? '' : ` (${escapeTerminal(where)})`}: ${escapeTerminal(r.error.message)}\n`);
    }
  }
}
