/**
 * `checkAdmission`: one decision for one image from content trust, a signer policy and the
 * quarantine state. A deny is an expected outcome and is returned, never thrown (STYLE §8.10);
 * only misuse (a bad policy, missing sources, an invalid `now`) throws.
 *
 * The decision is a pipeline of small checks in the documented order: rule action → content
 * trust (verification, metadata age, docker's tag resolution) → signer roles → quarantine
 * visibility. Each check returns its facts or a {@link Deny} value; the first deny ends the
 * pipeline and {@link finish} turns it into the decision (dry-run and break-glass included).
 *
 * @module
 */
import { isTrustError, TrustError, type TrustErrorCode } from '../errors.js';
import type { Principal } from '../quarantine/index.js';
import { parseReference, type ImageReference } from '../reference/parse.js';
import { allTargetsByName } from '../verify/lookup.js';
import { resolveReference, type ResolvedReference } from '../verify/resolve.js';
import type { VerifiedRepository } from '../verify/types.js';
import { narrowToDigest } from './repository-wire.js';
import { matchRule, metadataAgeMs, parsePolicy, type AdmissionMode, type AdmissionPolicy, type CompiledRule } from './policy.js';
import type { QuarantineReader, TrustSource } from './sources.js';

/** One image to decide on. */
export interface AdmissionRequest {
  /** The image reference as written (`alpine`, `docker.io/acme/app:v1`, `name@sha256:…`). */
  image: string;
  /** Who will pull; quarantine visibility is judged for this principal (default: anonymous, no roles). */
  principal?: Principal;
  /** Annotations of the workload; the policy's break-glass annotation is read from here. */
  annotations?: Readonly<Record<string, string>>;
  /**
   * The authenticated requester (Kubernetes `userInfo`): who used break-glass, and whether the
   * policy's `breakGlass.users` / `breakGlass.groups` let them.
   */
  requester?: Requester;
  /** The decision time (default: the current time, read once per decision by {@link decisionTime}). */
  now?: Date;
}

/** Who asked, as the API server authenticated them. */
export interface Requester {
  username: string;
  groups?: readonly string[];
}

/** The facts admission reads. */
export interface AdmissionSources {
  trust: TrustSource;
  /** Needed only when a rule sets `requireQuarantineVisible`. */
  quarantine?: QuarantineReader;
}

/** A role that holds the decided tag with the decided digest. */
export interface SignerEvidence {
  role: string;
  /** Key IDs whose signatures on that role counted. */
  keyIds: readonly string[];
}

/** One use of break-glass, for the audit trail. */
export interface BreakGlassUse {
  annotation: string;
  reason: string;
  by: string | null;
}

/** What would have denied the image, when dry-run or break-glass let it through. */
export interface WouldDeny {
  code: TrustErrorCode;
  reason: string;
}

interface DecisionCommon {
  /** The reference as requested. */
  image: string;
  /** The GUN, or null when the reference did not parse. */
  gun: string | null;
  /** The tag decided on (`latest` when none was written), or null for a digest-only reference. */
  tag: string | null;
  /** The rule that applied (`name`, `rules[i]` or `default`). */
  rule: string;
  mode: AdmissionMode;
  /** What was checked, in order, in a few words each. */
  reasons: string[];
}

/** The image may be used; pull it by `digest`. */
export interface AdmissionAllowed extends DecisionCommon {
  allowed: true;
  /** `sha256:…` to pull by. Null only when content trust was not required and nothing resolved it. */
  digest: string | null;
  /** True when `digest` was proven by content trust. */
  verified: boolean;
  /** For a digest-only reference: the signed tags that carry the digest. */
  signedTags?: string[];
  /** The role docker's lookup resolved the tag in (`targets/releases` or `targets`). */
  role: string | null;
  /** Every role holding the tag with the same digest. */
  signers: SignerEvidence[];
  /** Set when dry-run or break-glass allowed an image the policy denies. */
  wouldDeny?: WouldDeny;
  /** Set when the break-glass annotation overrode a deny; `reason` is its value, `by` the requester (null: unknown). */
  breakGlass?: BreakGlassUse;
}

/** The image must not be used. */
export interface AdmissionDenied extends DecisionCommon {
  allowed: false;
  code: TrustErrorCode;
  reason: string;
  /** The error behind the deny, with its structured fields. */
  error: TrustError;
  /** The digest, when it was resolved before the failing check. */
  digest: string | null;
}

export type AdmissionDecision = AdmissionAllowed | AdmissionDenied;

const ANONYMOUS: Principal = Object.freeze({ id: 'anonymous', roles: Object.freeze([]) });

/** A check's verdict that the image must not be used: a value, never thrown. */
interface Deny {
  readonly deny: TrustError;
}

const isDeny = (x: unknown): x is Deny => typeof x === 'object' && x !== null && Object.hasOwn(x, 'deny');

const denyWith = (error: TrustError): Deny => ({ deny: error });

const deny = (code: TrustErrorCode, message: string, details: ConstructorParameters<typeof TrustError>[2] = {}): Deny =>
  denyWith(new TrustError(code, message, { check: 'admission', ...details }));

function misuse(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', message, { check: 'checkAdmission arguments' });
}

/**
 * The decision time: `now` when given (it must be a valid Date), else the current time. The one
 * place admission reads the clock, so every check of a decision, and every image of one
 * AdmissionReview, is judged at the same instant (STYLE §8.6).
 *
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` for an invalid Date
 */
export function decisionTime(now: Date | undefined): Date {
  const t = now ?? new Date();
  if (!(t instanceof Date) || Number.isNaN(t.getTime())) throw misuse('request.now must be a valid Date');
  return t;
}

/** What the checks have established so far; a deny reports what was known when it happened. */
interface Facts {
  ref: ImageReference | undefined;
  rule: CompiledRule;
  tag: string | null;
  digest: string | null;
  verified: boolean;
  role: string | null;
  signers: SignerEvidence[];
  signedTags?: string[];
  reasons: string[];
}

/** Everything one decision reads. */
interface Run {
  request: AdmissionRequest;
  policy: AdmissionPolicy;
  sources: AdmissionSources;
  now: Date;
  principal: Principal;
}

function evidence(repo: VerifiedRepository, tag: string, digest: string): SignerEvidence[] {
  return allTargetsByName(repo, tag)
    .filter((t) => t.digest === digest)
    .map((t) => ({ role: t.role, keyIds: [...t.signers] }));
}

function formatAge(ms: number): string {
  const s = Math.round(ms / 1000);
  if (Math.abs(s) < 120) return `${s}s`;
  if (Math.abs(s) < 7200) return `${Math.round(s / 60)}m`;
  if (Math.abs(s) < 172_800) return `${Math.round(s / 3600)}h`;
  return `${(s / 86_400).toFixed(1)}d`;
}

/** Check 0: the reference parses as docker parses it (notary-rules.md §9.2). */
function parseImage(image: string): ImageReference | Deny {
  try {
    return parseReference(image);
  } catch (e) {
    if (isTrustError(e)) return denyWith(e);
    throw e;
  }
}

/** Check 1: the first matching rule's action. */
function ruleAction(rule: CompiledRule, gun: string): Deny | undefined {
  if (rule.action !== 'deny') return undefined;
  return rule.isDefault
    ? deny('ERR_NO_MATCHING_RULE', `${gun}: no rule matches and the default denies`, { check: 'policy rule' })
    : deny('ERR_IMAGE_DENIED', `${gun}: rule ${rule.name} denies it`, { check: 'policy rule' });
}

/** Check 2a: the GUN's trust data verifies, with the rule's pins; no data at all is an unsigned image. */
async function verifyTrust(run: Run, rule: CompiledRule, gun: string): Promise<VerifiedRepository | Deny> {
  const pins = rule.pinsFor(gun);
  try {
    return await run.sources.trust.verify({ gun, now: run.now, ...(pins ? { pins } : {}) });
  } catch (e) {
    if (!isTrustError(e)) throw e;
    if (e.code === 'ERR_METADATA_NOT_FOUND' && e.role === 'root') {
      return deny('ERR_ADMISSION_UNSIGNED', `${gun}: no trust data (${e.message})`, { check: 'trust data', role: 'root', cause: e });
    }
    return denyWith(e);
  }
}

/** Check 2b: age of the timestamp = now − (expires − lifetime); see metadataAgeMs. Returns the reason line. */
function metadataAge(rule: CompiledRule, repo: VerifiedRepository, now: Date): string | Deny | undefined {
  if (rule.maxMetadataAgeMs === undefined) return undefined;
  const age = metadataAgeMs(repo.timestamp.expiresAt, now, rule.timestampLifetimeMs);
  if (age > rule.maxMetadataAgeMs) {
    return deny('ERR_METADATA_TOO_OLD', `${repo.gun}: timestamp is ${formatAge(age)} old (expires ${repo.timestamp.expires}), more than ${formatAge(rule.maxMetadataAgeMs)} allowed`, {
      role: 'timestamp',
      check: 'metadata age',
      expected: rule.maxMetadataAgeMs,
      actual: age,
    });
  }
  return `metadata age ${formatAge(age)} within ${formatAge(rule.maxMetadataAgeMs)}`;
}

interface Resolved {
  digest: string;
  role: string;
  signedTags?: string[];
  /** Candidate tags with the roles holding each (tag, digest). */
  candidates: Array<{ tag: string; signers: SignerEvidence[] }>;
}

/**
 * Resolutions already made per verified repository object: resolution is a pure function of the
 * repository and the reference, and a remembered repository answers the same few tags over and
 * over (a walk of the delegation tree, a JSON parse and a hex encoding per role each time).
 * Bounded per repository; a new verification is a new object with an empty memo. The results
 * are shared between decisions, so they are frozen.
 */
const resolutions = new WeakMap<VerifiedRepository, Map<string, Resolved | Deny>>();
const MAX_RESOLUTIONS_PER_REPOSITORY = 1024;

function resolveTag(repo: VerifiedRepository, ref: ImageReference): Resolved | Deny {
  let memo = resolutions.get(repo);
  if (memo === undefined) resolutions.set(repo, (memo = new Map()));
  const key = `${ref.tag ?? ''}@${ref.digest ?? ''}`;
  let r = memo.get(key);
  if (r === undefined) {
    r = deepFreeze(resolveTagOnce(repo, ref));
    if (memo.size < MAX_RESOLUTIONS_PER_REPOSITORY) memo.set(key, r);
  }
  return r;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value) && !(value instanceof Error)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/**
 * Check 2c: docker's resolution (notary-rules.md §9.3) through the one shared resolver; a
 * reference that does not resolve is an unsigned image to admission.
 */
function resolveTagOnce(whole: VerifiedRepository, ref: ImageReference): Resolved | Deny {
  // A digest-only reference looks at the names signed with that digest only (the same answer, see narrowToDigest).
  const repo = ref.tag === undefined && ref.digest !== undefined ? narrowToDigest(whole, ref.digest) : whole;
  let r: ResolvedReference;
  try {
    r = resolveReference(repo, ref);
  } catch (e) {
    if (!isTrustError(e)) throw e;
    if (e.code !== 'ERR_TARGET_NOT_FOUND') return denyWith(e);
    return deny('ERR_ADMISSION_UNSIGNED', unsignedMessage(ref, e), {
      ...(e.role === undefined ? {} : { role: e.role }),
      check: e.check === 'target lookup' ? 'signed tag' : (e.check ?? 'signed tag'),
      ...(e.expected === undefined ? {} : { expected: e.expected }),
      ...(e.actual === undefined ? {} : { actual: e.actual }),
      cause: e,
    });
  }
  const { digest, role } = r.target;
  const tags = r.signedTags ?? [r.tag as string];
  const candidates = tags.map((t) => ({ tag: t, signers: evidence(repo, t, digest) }));
  return r.signedTags === undefined ? { digest, role, candidates } : { digest, role, signedTags: r.signedTags, candidates };
}

/** The deny text for a reference that does not resolve: admission names docker's two roles. */
function unsignedMessage(ref: ImageReference, e: TrustError): string {
  if (e.check === 'target lookup') return `${ref.gun}: tag ${JSON.stringify(ref.tag ?? 'latest')} is not signed in targets/releases or targets`;
  return e.message;
}

/** For a digest-only reference, the candidate tag that the most required roles signed. */
function bestCandidate(rule: CompiledRule, resolved: Resolved): Resolved['candidates'][number] {
  let best = resolved.candidates[0] as Resolved['candidates'][number];
  const required = rule.signers?.roles ?? [];
  const count = (c: typeof best) => required.filter((r) => c.signers.some((s) => s.role === r)).length;
  for (const c of resolved.candidates) if (count(c) > count(best)) best = c;
  return best;
}

/** Check 3: at least `threshold` of the required roles hold the (tag, digest). Returns the reason line. */
function signerRoles(rule: CompiledRule, best: Resolved['candidates'][number], digest: string, gun: string): string | Deny | undefined {
  if (!rule.signers) return undefined;
  const required = rule.signers.roles;
  const have = required.filter((r) => best.signers.some((s) => s.role === r));
  if (have.length < rule.signers.threshold) {
    const missing = required.filter((r) => !have.includes(r));
    return deny(
      'ERR_SIGNER_THRESHOLD_NOT_MET',
      `${gun}: ${have.length} of the required roles signed ${best.tag} as ${digest}, ${rule.signers.threshold} needed (missing: ${missing.join(', ')})`,
      { check: 'signer roles', expected: rule.signers.threshold, actual: have.length },
    );
  }
  return `signers: ${have.length} of ${required.length} required roles (${have.join(', ')}), threshold ${rule.signers.threshold}`;
}

/** Checks 2 and 3 together: content trust, when the rule requires it, and then the signer roles. */
async function contentTrust(run: Run, facts: Facts, ref: ImageReference): Promise<Deny | undefined> {
  const { rule, reasons } = facts;
  if (!rule.requireContentTrust) {
    facts.digest = ref.digest ?? null;
    reasons.push('content trust not required');
    return undefined;
  }
  const repo = await verifyTrust(run, rule, ref.gun);
  if (isDeny(repo)) return repo;
  reasons.push(`trust data of ${ref.gun} verified${rule.pinsFor(ref.gun) ? ' against pinned root' : ''}`);
  const age = metadataAge(rule, repo, run.now);
  if (isDeny(age)) return age;
  if (age !== undefined) reasons.push(age);
  const resolved = resolveTag(repo, ref);
  if (isDeny(resolved)) return resolved;
  Object.assign(facts, { digest: resolved.digest, role: resolved.role, verified: true }, resolved.signedTags ? { signedTags: resolved.signedTags } : {});
  reasons.push(`${facts.tag === null ? `digest signed as ${(resolved.signedTags ?? []).join(', ')}` : `tag ${facts.tag}`} → ${resolved.digest} in ${resolved.role}`);
  const best = bestCandidate(rule, resolved);
  facts.signers = best.signers;
  const signed = signerRoles(rule, best, resolved.digest, ref.gun);
  if (isDeny(signed)) return signed;
  if (signed !== undefined) reasons.push(signed);
  return undefined;
}

/** Check 4: the digest is visible to the principal in the quarantine state, at the decision time. */
async function quarantineVisibility(run: Run, facts: Facts, ref: ImageReference): Promise<Deny | undefined> {
  const reader = run.sources.quarantine;
  if (!facts.rule.requireQuarantineVisible || reader === undefined) return undefined;
  const { digest, tag } = facts;
  const { principal } = run;
  const q = await reader.access({ gun: ref.gun, path: ref.path, digest: digest ?? undefined, tag: tag ?? undefined, principal, now: run.now });
  if (!q.visible) {
    const what = digest ?? `tag ${tag ?? 'latest'}`;
    return deny('ERR_QUARANTINED', `${ref.gun}: ${what} is not visible to ${principal.id} in the quarantine state (${q.reason}${q.state ? `, ${q.state}` : ''})`, {
      check: 'quarantine visibility',
      ...(q.state ? { actual: q.state } : {}),
    });
  }
  if (digest !== null && q.digest !== digest) {
    return deny('ERR_QUARANTINED', `${ref.gun}: quarantine answered for ${q.digest}, not ${digest}`, { check: 'quarantine visibility', expected: digest, actual: q.digest });
  }
  facts.digest = q.digest;
  facts.reasons.push(`quarantine: visible to ${principal.id}`);
  return undefined;
}

/** Runs the checks in order; the first deny is returned, else undefined (allowed). */
async function runChecks(run: Run, facts: Facts): Promise<Deny | undefined> {
  const ref = parseImage(run.request.image);
  if (isDeny(ref)) return ref;
  facts.ref = ref;
  facts.tag = ref.tag ?? (ref.digest === undefined ? 'latest' : null);
  facts.rule = matchRule(run.policy, ref.gun);
  facts.reasons.push(`rule ${facts.rule.name}${facts.rule.isDefault ? ' (no rule matched)' : ''}`);
  const action = ruleAction(facts.rule, ref.gun);
  if (action) return action;
  if (facts.rule.requireQuarantineVisible && run.sources.quarantine === undefined) {
    throw misuse(`rule ${facts.rule.name} requires quarantine visibility but no quarantine reader was given`);
  }
  return (await contentTrust(run, facts, ref)) ?? (await quarantineVisibility(run, facts, ref));
}

/** The break-glass justification the rule accepts, if the request carries one. */
function breakGlassReason(run: Run, rule: CompiledRule): { annotation: string; reason: string } | undefined {
  const annotation = run.policy.breakGlassAnnotation;
  const annotations = run.request.annotations;
  if (annotation === undefined || !rule.allowBreakGlass || !annotations || !Object.hasOwn(annotations, annotation)) return undefined;
  const raw: unknown = annotations[annotation];
  // Annotations come from the API server's JSON: anything but a non-blank string is no justification.
  const why = typeof raw === 'string' ? raw.trim() : '';
  return why === '' ? undefined : { annotation, reason: why };
}

/**
 * Whether the requester may use break-glass: anyone when the policy names no users or groups,
 * else only a requester whose username or one of whose groups it lists. Returns the refusal text.
 */
function breakGlassRefusal(run: Run): string | undefined {
  const allowed = run.policy.breakGlassPrincipals;
  if (allowed === undefined) return undefined;
  const who = run.request.requester;
  if (who !== undefined && (allowed.users.includes(who.username) || (who.groups ?? []).some((g) => allowed.groups.includes(g)))) return undefined;
  return `break-glass refused: ${who === undefined ? 'an unknown requester' : who.username} is not among the policy's breakGlass users or groups`;
}

/** Turns the facts and the first deny (if any) into the decision: dry-run and break-glass allow it. */
function finish(run: Run, facts: Facts, failure: Deny | undefined): AdmissionDecision {
  const { rule, reasons, digest, verified, role, signers } = facts;
  const common: DecisionCommon = { image: run.request.image, gun: facts.ref?.gun ?? null, tag: facts.tag, rule: rule.name, mode: rule.mode, reasons };
  if (failure === undefined) {
    return { ...common, allowed: true, digest, verified, ...(facts.signedTags ? { signedTags: facts.signedTags } : {}), role, signers };
  }
  const { deny: error } = failure;
  const wouldDeny: WouldDeny = { code: error.code, reason: error.message };
  if (rule.mode === 'dry-run') {
    reasons.push(`dry-run: would deny (${error.code})`);
    return { ...common, allowed: true, digest, verified, role, signers, wouldDeny };
  }
  const asked = breakGlassReason(run, rule);
  const refused = asked === undefined ? undefined : breakGlassRefusal(run);
  if (asked !== undefined && refused === undefined) {
    const breakGlass: BreakGlassUse = { ...asked, by: run.request.requester?.username ?? null };
    reasons.push(`break-glass (${breakGlass.annotation}) by ${breakGlass.by ?? 'an unknown requester'}: ${breakGlass.reason}`);
    return { ...common, allowed: true, digest, verified, role, signers, wouldDeny, breakGlass };
  }
  if (refused !== undefined) reasons.push(refused);
  return { ...common, allowed: false, code: error.code, reason: error.message, error, digest };
}

/**
 * Decides whether one image may be used.
 *
 * The checks, in order: the matched rule's action; content trust (verification of the GUN's trust
 * data with the rule's pins, then docker's tag resolution); metadata age; signer roles; quarantine
 * visibility. The first failure is the deny; in `dry-run`, or with a break-glass annotation the
 * rule allows, the image is allowed and the failure is reported as `wouldDeny`. Every check, the
 * quarantine reader included, is judged at `request.now`.
 *
 * @example
 * ```ts
 * const policy = parsePolicy({ rules: [], default: { signers: { roles: ['targets/releases'] } } });
 * const d = await checkAdmission({ image: 'docker.io/acme/app:v1' }, policy, { trust: trustDirTrustSource({ trustDir }) });
 * if (d.allowed) pull(`${d.gun}@${d.digest}`); else console.error(d.code, d.reason);
 * ```
 * @throws {TrustError} `ERR_POLICY_INVALID` for a bad policy; `ERR_INVALID_ARGUMENT` for a bad
 *   request, missing trust source, or a rule that needs a quarantine reader none was given for.
 */
export async function checkAdmission(request: AdmissionRequest, policyInput: AdmissionPolicy | unknown, sources: AdmissionSources): Promise<AdmissionDecision> {
  const policy = parsePolicy(policyInput);
  if (typeof request !== 'object' || request === null || typeof request.image !== 'string') throw misuse('request.image must be a string');
  if (typeof sources !== 'object' || sources === null || typeof sources.trust?.verify !== 'function') throw misuse('sources.trust must be a TrustSource');
  const run: Run = { request, policy, sources, now: decisionTime(request.now), principal: request.principal ?? ANONYMOUS };
  const facts: Facts = { ref: undefined, rule: policy.default, tag: null, digest: null, verified: false, role: null, signers: [], reasons: [] };
  return finish(run, facts, await runChecks(run, facts));
}
