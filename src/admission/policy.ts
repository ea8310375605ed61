/**
 * The admission policy: an ordered list of rules matched by a glob on the normalised image name,
 * first match wins, and an explicit default. Validated with zod; a bad policy throws
 * `ERR_POLICY_INVALID` (misuse), never a deny.
 *
 * @module
 */
import { z } from 'zod';
import { TrustError } from '../errors.js';
import { resolvePins } from '../verify/index.js';
import type { ResolvedPins, RootPins } from '../verify/types.js';

/** Notary-server's default timestamp lifetime (`notary-server` `timestamp` expiry: 14 days). */
export const DEFAULT_TIMESTAMP_LIFETIME_MS = 14 * 24 * 60 * 60 * 1000;

const DURATION_RE = /^([1-9][0-9]{0,8})(s|m|h|d)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

/**
 * Parses `30s`, `15m`, `12h`, `7d` into milliseconds.
 *
 * @example
 * ```ts
 * parseDuration('7d'); // 604800000
 * ```
 * @throws {TrustError} `ERR_POLICY_INVALID`
 */
export function parseDuration(text: string): number {
  const m = DURATION_RE.exec(text);
  if (!m) throw new TrustError('ERR_POLICY_INVALID', `${JSON.stringify(text)} is not a duration (e.g. 30s, 15m, 12h, 7d)`, { check: 'duration' });
  return Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS];
}

const KEY_ID_RE = /^[0-9a-f]{64}$/;
const ROLE_RE = /^targets(?:\/[A-Za-z0-9_.-]+)+$|^targets$/;
/** Characters of a normalised name plus the glob metacharacters `*` and `?`. */
const PATTERN_RE = /^[A-Za-z0-9._\-:/[\]*?]+$/;

const durationSchema = z.string().regex(DURATION_RE, 'a duration such as 30s, 15m, 12h or 7d');
const patternSchema = z
  .string()
  .min(1)
  .regex(PATTERN_RE, 'a glob over a normalised image name (letters, digits, . _ - : / and * ** ?)')
  .refine((p) => p.includes('/'), 'write the name in full, e.g. docker.io/library/alpine or docker.io/acme/**');

const ruleFields = {
  /** A label for logs and decisions. */
  name: z.string().min(1).max(200).optional(),
  /** `check` (the default) evaluates the checks below; `deny` refuses every image the rule matches. */
  action: z.enum(['check', 'deny']).optional(),
  /** Require a valid Docker Content Trust signature (default true). */
  requireContentTrust: z.boolean().optional(),
  /** Signer roles that must each sign the same digest, at least `threshold` of them (default: all). */
  signers: z
    .strictObject({
      roles: z.array(z.string().regex(ROLE_RE, 'a targets role such as targets/releases')).min(1),
      threshold: z.int().min(1).optional(),
    })
    .optional(),
  /** Root key IDs (as in root.json) the GUN's root must carry; replaces the policy-level pins. */
  rootKeyIds: z.array(z.string().regex(KEY_ID_RE, '64 lower-case hexadecimal digits')).min(1).optional(),
  /** PEM CA bundle that must issue the root certificate; replaces the policy-level pins. */
  rootCa: z.string().includes('-----BEGIN CERTIFICATE-----').optional(),
  /** Largest accepted age of the timestamp, see {@link metadataAgeMs}. */
  maxMetadataAge: durationSchema.optional(),
  /** The timestamp lifetime the server uses (default 14d, notary-server's default). */
  timestampLifetime: durationSchema.optional(),
  /** The digest must be visible to the requesting principal in the quarantine state. */
  requireQuarantineVisible: z.boolean().optional(),
  /** Overrides the policy-level mode. */
  mode: z.enum(['enforce', 'dry-run']).optional(),
  /** Whether the break-glass annotation may override a deny under this rule (default true). */
  allowBreakGlass: z.boolean().optional(),
};

const ruleSchema = z.strictObject({
  /** Globs over the normalised name (`docker.io/library/alpine`); `*` stays within a path segment, `**` crosses them. */
  images: z.union([patternSchema, z.array(patternSchema).min(1)]),
  ...ruleFields,
});

const defaultSchema = z.strictObject(ruleFields);

/** The JSON shape of a policy, as written by people. */
export const policySchema = z.strictObject({
  /** Format version; only 1 exists. */
  version: z.literal(1).optional(),
  /** Policy-wide mode (default `enforce`). */
  mode: z.enum(['enforce', 'dry-run']).optional(),
  /** Fetch trust data from the notary server as reviews come in (`admission serve` as with `--online`). */
  online: z.boolean().optional(),
  /** Root pins in the verifier's format (Notary's `trust_pinning`): `certs` by GUN or `prefix*`, `ca` by GUN prefix. */
  pins: z
    .strictObject({
      certs: z.record(z.string().min(1), z.array(z.string().regex(KEY_ID_RE)).min(1)).optional(),
      ca: z.record(z.string().min(1), z.string().includes('-----BEGIN CERTIFICATE-----')).optional(),
    })
    .optional(),
  /**
   * Break-glass: the annotation whose non-empty value (the justification) lets a denied image in.
   * With `users` and/or `groups`, only a requester (`userInfo`) named in one of them may use it.
   */
  breakGlass: z
    .strictObject({
      annotation: z.string().min(1).max(316),
      users: z.array(z.string().min(1).max(512)).min(1).optional(),
      groups: z.array(z.string().min(1).max(512)).min(1).optional(),
    })
    .optional(),
  /** Ordered rules; the first whose `images` match wins. */
  rules: z.array(ruleSchema),
  /** What applies when no rule matches. Mandatory: a policy states its own default. */
  default: defaultSchema,
});

/** A policy as written (input of {@link parsePolicy}). */
export type AdmissionPolicyInput = z.input<typeof policySchema>;

export type AdmissionMode = 'enforce' | 'dry-run';

/** One rule after validation, with every default filled in. */
export interface CompiledRule {
  /** `name`, else `rules[<i>]` or `default`. */
  name: string;
  /** The source patterns (empty for the default). */
  images: readonly string[];
  action: 'check' | 'deny';
  requireContentTrust: boolean;
  signers: { roles: readonly string[]; threshold: number } | undefined;
  /** Pins to pass to the verifier for a GUN this rule matched, or undefined for none. */
  pinsFor: (gun: string) => ResolvedPins | undefined;
  maxMetadataAgeMs: number | undefined;
  timestampLifetimeMs: number;
  requireQuarantineVisible: boolean;
  mode: AdmissionMode;
  allowBreakGlass: boolean;
  isDefault: boolean;
}

/** A validated policy. Build with {@link parsePolicy} or `loadPolicyFile`. */
export interface AdmissionPolicy {
  readonly rules: readonly CompiledRule[];
  readonly default: CompiledRule;
  readonly breakGlassAnnotation: string | undefined;
  /** Trust data comes from the notary server (`online: true`). */
  readonly online: boolean;
  /** Who may use break-glass; undefined: anyone who can set the annotation. */
  readonly breakGlassPrincipals: { readonly users: readonly string[]; readonly groups: readonly string[] } | undefined;
  /** The validated input, for display. */
  readonly source: z.output<typeof policySchema>;
}

const compiled = new WeakSet<object>();

/** True when `p` came out of {@link parsePolicy}. */
export function isCompiledPolicy(p: unknown): p is AdmissionPolicy {
  return typeof p === 'object' && p !== null && compiled.has(p);
}

/**
 * Compiles a glob into a RegExp: `**` any characters, `*` any characters but `/`, `?` one
 * character but `/`; everything else is literal. The whole name must match.
 */
export function globToRegExp(glob: string): RegExp {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i] as string;
    if (c === '*') {
      if (glob[i + 1] === '*') {
        // `a/**/b` also matches `a/b`.
        if (glob[i + 2] === '/') {
          out += '(?:.*/)?';
          i += 2;
        } else {
          out += '.*';
          i += 1;
        }
      } else {
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else {
      out += c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return new RegExp(`^${out}$`);
}

function policyError(message: string, cause?: unknown): TrustError {
  return new TrustError('ERR_POLICY_INVALID', message, { check: 'admission policy', ...(cause === undefined ? {} : { cause }) });
}

type RuleFields = z.output<typeof defaultSchema>;

function compileRule(
  r: RuleFields,
  images: readonly string[],
  label: string,
  policyMode: AdmissionMode,
  policyPins: RootPins | undefined,
  isDefault: boolean,
): CompiledRule & { matchers: RegExp[] } {
  const requireContentTrust = r.requireContentTrust ?? true;
  const action = r.action ?? 'check';
  if (!requireContentTrust && (r.signers || r.rootKeyIds || r.rootCa || r.maxMetadataAge)) {
    throw policyError(`${label}: signers, rootKeyIds, rootCa and maxMetadataAge need requireContentTrust (it is false)`);
  }
  if (r.rootKeyIds && r.rootCa) throw policyError(`${label}: give rootKeyIds or rootCa, not both`);
  let signers: CompiledRule['signers'];
  if (r.signers) {
    const roles = [...new Set(r.signers.roles)];
    if (roles.length !== r.signers.roles.length) throw policyError(`${label}: signers.roles lists a role twice`);
    const threshold = r.signers.threshold ?? roles.length;
    if (threshold > roles.length) throw policyError(`${label}: signers.threshold ${threshold} is more than the ${roles.length} roles listed`);
    signers = { roles, threshold };
  }
  const timestampLifetimeMs = r.timestampLifetime === undefined ? DEFAULT_TIMESTAMP_LIFETIME_MS : parseDuration(r.timestampLifetime);
  const maxMetadataAgeMs = r.maxMetadataAge === undefined ? undefined : parseDuration(r.maxMetadataAge);
  const rootKeyIds = r.rootKeyIds;
  const rootCa = r.rootCa;
  // A rule's own pins are already for the GUN it matched: hand them over resolved, not wrapped
  // in a table the verifier would look the GUN up in again.
  const pinsFor = (gun: string): ResolvedPins | undefined => {
    if (rootKeyIds) return { certIds: [...rootKeyIds] };
    if (rootCa) return { ca: rootCa };
    const resolved = policyPins === undefined ? undefined : resolvePins(policyPins, gun);
    return resolved?.certIds !== undefined || resolved?.ca !== undefined ? resolved : undefined;
  };
  return {
    name: r.name ?? label,
    images,
    matchers: images.map(globToRegExp),
    action,
    requireContentTrust,
    signers,
    pinsFor,
    maxMetadataAgeMs,
    timestampLifetimeMs,
    requireQuarantineVisible: r.requireQuarantineVisible ?? false,
    mode: r.mode ?? policyMode,
    allowBreakGlass: r.allowBreakGlass ?? true,
    isDefault,
  };
}

const matchersOf = new WeakMap<CompiledRule, readonly RegExp[]>();

/**
 * Validates a policy and fills in its defaults.
 *
 * @example
 * ```ts
 * const policy = parsePolicy({
 *   rules: [{ images: 'docker.io/acme/**', signers: { roles: ['targets/releases', 'targets/bob'], threshold: 2 } }],
 *   default: { action: 'deny' },
 * });
 * ```
 * @throws {TrustError} `ERR_POLICY_INVALID`
 */
export function parsePolicy(input: unknown): AdmissionPolicy {
  if (isCompiledPolicy(input)) return input;
  const r = policySchema.safeParse(input);
  if (!r.success) {
    const detail = r.error.issues.map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`).join('; ');
    throw policyError(`invalid admission policy: ${detail}`, r.error);
  }
  const p = r.data;
  const mode = p.mode ?? 'enforce';
  const pins: RootPins | undefined = p.pins ? { ...(p.pins.certs ? { certs: p.pins.certs } : {}), ...(p.pins.ca ? { ca: p.pins.ca } : {}) } : undefined;
  const rules = p.rules.map((rule, i) => {
    const images = typeof rule.images === 'string' ? [rule.images] : rule.images;
    const { images: _ignored, ...fields } = rule;
    const c = compileRule(fields, images, `rules[${i}]`, mode, pins, false);
    const { matchers, ...rest } = c;
    const out: CompiledRule = Object.freeze(rest);
    matchersOf.set(out, matchers);
    return out;
  });
  const { matchers: _none, ...def } = compileRule(p.default, [], 'default', mode, pins, true);
  const policy: AdmissionPolicy = Object.freeze({
    rules: Object.freeze(rules),
    default: Object.freeze(def),
    breakGlassAnnotation: p.breakGlass?.annotation,
    online: p.online ?? false,
    breakGlassPrincipals:
      p.breakGlass?.users === undefined && p.breakGlass?.groups === undefined
        ? undefined
        : Object.freeze({ users: Object.freeze([...(p.breakGlass.users ?? [])]), groups: Object.freeze([...(p.breakGlass.groups ?? [])]) }),
    source: p,
  });
  compiled.add(policy);
  return policy;
}

/**
 * The rule for a normalised name (`docker.io/library/alpine`): the first rule with a matching
 * glob, else the default.
 */
export function matchRule(policy: AdmissionPolicy, name: string): CompiledRule {
  for (const rule of policy.rules) {
    if ((matchersOf.get(rule) ?? []).some((m) => m.test(name))) return rule;
  }
  return policy.default;
}

/** True when some rule (or the default) needs a quarantine reader. */
export function policyNeedsQuarantine(policy: AdmissionPolicy): boolean {
  return [...policy.rules, policy.default].some((r) => r.action === 'check' && r.requireQuarantineVisible);
}

/**
 * The age of the repository's trust data as this module defines it.
 *
 * Notary metadata records no signing time. The timestamp is the role re-signed most often
 * (notary-server re-signs it with a fixed lifetime, 14 days by default), so its signing time is
 * estimated as `timestamp.expires − lifetime`, and the age is `now − that`. Put differently, a
 * rule with `maxMetadataAge: A` demands that the timestamp still has at least `lifetime − A` of
 * validity left — a fact the signed data proves without trusting any clock but ours. A server
 * with another lifetime must be described with `timestampLifetime`; a negative age (expiry
 * further out than the lifetime) counts as fresh.
 */
export function metadataAgeMs(timestampExpiresAt: Date, now: Date, lifetimeMs: number): number {
  return now.getTime() - (timestampExpiresAt.getTime() - lifetimeMs);
}
