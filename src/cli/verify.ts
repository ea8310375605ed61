/**
 * `trustgate verify`: offline verification of each image's trust data and resolution of its tag
 * (or digest) to a signed target, with docker's precedence by default (spec §9.3).
 */
import { isTrustError } from '../errors.js';
import { parseReference, type ImageReference } from '../reference/parse.js';
import { colourEnabled, paint, type Env, type OutStream } from './format.js';
import { VERIFY_HELP } from './help.js';
import { checkTrustDir, parseCommandLine, parseRfc3339, USAGE_CODES, UsageError } from './options.js';
import { verifyOncePerGun } from './verify-cache.js';
import { ONLINE_OPTIONS, fetchForVerify, onlineSettings } from './fetch.js';

const OPTIONS = {
  'trust-dir': { type: 'string' },
  now: { type: 'string' },
  json: { type: 'boolean' },
  role: { type: 'string', multiple: true },
  'any-role': { type: 'boolean' },
  'pin-root': { type: 'string', multiple: true },
  mode: { type: 'string' },
  online: { type: 'boolean' },
  ...ONLINE_OPTIONS,
  help: { type: 'boolean', short: 'h' },
} as const;

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
  trustDir: string | undefined;
  now: Date;
  json: boolean;
  /** undefined: docker's order and role filter. */
  roles: string[] | undefined;
  pins: string[];
  mode: 'strict' | 'online-equivalent';
  /** `--online` and its flags, when given. */
  online: Parameters<typeof onlineSettings>[0] | undefined;
}

const KEY_ID = /^[0-9a-f]{64}$/;
const ROLE = /^targets(?:\/[a-z0-9_.-]+)*$/;

function settings(args: readonly string[]): Settings | 'help' {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help === true) return 'help';
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
  if (values['trust-dir'] === '') throw new UsageError('--trust-dir must not be empty');
  return {
    images: positionals,
    trustDir: values['trust-dir'],
    now: values.now === undefined ? new Date() : parseRfc3339(values.now),
    json: values.json === true,
    // notary's lookup walks the whole tree from `targets`.
    roles: values['any-role'] === true ? ['targets'] : roleList.length > 0 ? roleList : undefined,
    pins,
    mode,
    online: onlineFlags(values),
  };
}

/** The online flags, checked now so that a bad one is a usage error; they need `--online`. */
function onlineFlags(values: { online?: boolean | undefined } & Parameters<typeof onlineSettings>[0]) {
  if (values.online !== true) {
    const stray = Object.keys(ONLINE_OPTIONS).find((k) => values[k as keyof typeof ONLINE_OPTIONS] !== undefined);
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

export async function runVerify(args: readonly string[], env: Env = process.env): Promise<number> {
  let s: Settings | 'help';
  try {
    s = settings(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`trustgate verify: ${e.message}\nRun "trustgate verify --help" for usage.\n`);
    return 2;
  }
  if (s === 'help') {
    process.stdout.write(VERIFY_HELP);
    return 0;
  }

  const engine = await import('./engine.js');
  const trustDir = s.trustDir ?? engine.defaultTrustDir(env);
  const guns = s.images.flatMap((i) => {
    try {
      return [parseReference(i).gun];
    } catch {
      return []; // reported by the loop below
    }
  });
  const fetched = s.online && (await fetchForVerify(guns, s.online, { trustDir, now: s.now, mode: s.mode, ...(s.pins.length > 0 ? { pins: { certs: Object.fromEntries(guns.map((g) => [g, s.pins])) } } : {}) }, env));
  const dirError = fetched ? undefined : checkTrustDir(trustDir, s.trustDir !== undefined);
  const verifyGun = verifyOncePerGun((gun) => {
    const got = fetched ? fetched.get(gun) : undefined;
    if (got instanceof Error) throw got;
    if (got) return got;
    const r = engine.verifyTrustDir({
      gun,
      trustDir,
      now: s.now,
      mode: s.mode,
      ...(s.pins.length > 0 ? { pins: { certs: { [gun]: s.pins } } } : {}),
    });
    for (const skipped of r.skipped) {
      process.stderr.write(`trustgate verify: warning: ${gun}: ignoring ${skipped.role} (${skipped.error.code}: ${skipped.error.message})\n`);
    }
    return r;
  });

  const results: VerifyResult[] = [];
  /** The failed check per failed entry, for the human output (the JSON contract has no field for it). */
  const checks = new Map<number, string>();
  for (const input of s.images) {
    let parsed: ImageReference | undefined;
    try {
      parsed = parseReference(input);
      if (dirError) throw dirError;
      const repo = verifyGun(parsed.gun);
      const { target: hit, signedTags: tags } = engine.resolveReference(repo, parsed, s.roles === undefined ? {} : { roles: s.roles });
      results.push({
        ok: true,
        ref: input,
        gun: parsed.gun,
        tag: hit.name,
        ...(tags === undefined ? {} : { tags }),
        digest: hit.digest,
        length: hit.length,
        role: hit.role,
        signers: [...hit.signers],
      });
    } catch (e) {
      if (!isTrustError(e)) process.stderr.write(`trustgate verify: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      if (isTrustError(e) && e.check !== undefined) checks.set(results.length, e.check);
      results.push(failure(input, parsed, e));
    }
  }

  const usage = results.some((r) => !r.ok && USAGE_CODES.has(r.error.code));
  const ok = results.every((r) => r.ok);
  if (s.json) {
    process.stdout.write(`${JSON.stringify({ ok, results }, null, 2)}\n`);
  } else {
    printHuman(results, checks, process.stdout, env);
  }
  if (usage) process.stderr.write('Run "trustgate verify --help" for usage.\n');
  return usage ? 2 : ok ? 0 : 1;
}

const short = (id: string) => id.slice(0, 12);

function printHuman(results: readonly VerifyResult[], checks: ReadonlyMap<number, string>, out: OutStream, env: Env): void {
  const p = paint(colourEnabled(out, env));
  for (const [i, r] of results.entries()) {
    if (r.ok) {
      const what = r.tags === undefined ? r.digest : `signed as ${r.tags.map((t) => `:${t}`).join(', ')}`;
      const signers = r.signers.length > 0 ? r.signers.map(short).join(', ') : 'none';
      out.write(`${p.green('OK')}    ${p.bold(r.ref)}  ${what}  role ${r.role}  signed by ${signers}\n`);
    } else {
      const where = [r.error.role === undefined ? undefined : `role ${r.error.role}`, checks.has(i) ? `check: ${checks.get(i)}` : undefined]
        .filter((x) => x !== undefined)
        .join(', ');
      out.write(`${p.red('FAIL')}  ${p.bold(r.ref)}  ${r.error.code}${where === '' ? '' : ` (${where})`}: ${r.error.message}\n`);
    }
  }
}
