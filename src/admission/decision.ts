/**
 * `checkAdmission`: one decision for one image from content trust, a signer policy and the
 * quarantine state. A deny is an expected outcome and is returned, never thrown (STYLE §8.10);
 * only misuse (a bad policy, missing sources, an invalid `now`) throws.
 *
 * @module
 */
import { isTrustError, TrustError, type TrustErrorCode } from '../errors.js';
import type { Principal } from '../quarantine/index.js';
import { parseReference, type ImageReference } from '../reference/parse.js';
import { allTargetsByName } from '../verify/lookup.js';
import { resolveReference, type ResolvedReference } from '../verify/resolve.js';
import type { VerifiedRepository } from '../verify/types.js';
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
  /** The decision time (default: the current time). */
  now?: Date;
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
  /** Set when the break-glass annotation overrode a deny; `reason` is its value. */
  breakGlass?: { annotation: string; reason: string };
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

class Deny {
  readonly error: TrustError;
  constructor(error: TrustError) {
    this.error = error;
  }
}

const deny = (code: TrustErrorCode, message: string, details: ConstructorParameters<typeof TrustError>[2] = {}) =>
  new Deny(new TrustError(code, message, { check: 'admission', ...details }));

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

interface Resolved {
  digest: string;
  role: string;
  tag: string | null;
  signedTags?: string[];
  /** Candidate tags with the roles holding each (tag, digest). */
  candidates: Array<{ tag: string; signers: SignerEvidence[] }>;
}

/**
 * docker's resolution (spec §9.3) through the one shared resolver; a reference that does not
 * resolve is an unsigned image to admission.
 */
function resolve(repo: VerifiedRepository, ref: ImageReference): Resolved {
  let r: ResolvedReference;
  try {
    r = resolveReference(repo, ref);
  } catch (e) {
    if (!isTrustError(e) || e.code !== 'ERR_TARGET_NOT_FOUND') throw e;
    throw deny('ERR_ADMISSION_UNSIGNED', unsignedMessage(ref, e), {
      ...(e.role === undefined ? {} : { role: e.role }),
      check: e.check === 'target lookup' ? 'signed tag' : (e.check ?? 'signed tag'),
      ...(e.expected === undefined ? {} : { expected: e.expected }),
      ...(e.actual === undefined ? {} : { actual: e.actual }),
      cause: e,
    });
  }
  const digest = r.target.digest;
  if (r.signedTags === undefined) {
    const tag = r.tag as string;
    return { digest, role: r.target.role, tag, candidates: [{ tag, signers: evidence(repo, tag, digest) }] };
  }
  return {
    digest,
    role: r.target.role,
    tag: null,
    signedTags: r.signedTags,
    candidates: r.signedTags.map((t) => ({ tag: t, signers: evidence(repo, t, digest) })),
  };
}

/** The deny text for a reference that does not resolve: admission names docker's two roles. */
function unsignedMessage(ref: ImageReference, e: TrustError): string {
  if (e.check === 'target lookup') return `${ref.gun}: tag ${JSON.stringify(ref.tag ?? 'latest')} is not signed in targets/releases or targets`;
  return e.message;
}

function misuse(message: string): TrustError {
  return new TrustError('ERR_INVALID_ARGUMENT', message, { check: 'checkAdmission arguments' });
}

/**
 * Decides whether one image may be used.
 *
 * The checks, in order: the matched rule's action; content trust (verification of the GUN's trust
 * data with the rule's pins, then docker's tag resolution); metadata age; signer roles; quarantine
 * visibility. The first failure is the deny; in `dry-run`, or with a break-glass annotation the
 * rule allows, the image is allowed and the failure is reported as `wouldDeny`.
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
  const now = request.now ?? new Date();
  if (!(now instanceof Date) || Number.isNaN(now.getTime())) throw misuse('request.now must be a valid Date');
  const principal = request.principal ?? ANONYMOUS;

  const reasons: string[] = [];
  let ref: ImageReference | undefined;
  let rule: CompiledRule = policy.default;
  let tag: string | null = null;
  let digest: string | null = null;
  let verified = false;
  let role: string | null = null;
  let signers: SignerEvidence[] = [];

  const finish = (failure: Deny): AdmissionDecision => {
    const { error } = failure;
    const common: DecisionCommon = { image: request.image, gun: ref?.gun ?? null, tag, rule: rule.name, mode: rule.mode, reasons };
    const wouldDeny: WouldDeny = { code: error.code, reason: error.message };
    if (rule.mode === 'dry-run') {
      reasons.push(`dry-run: would deny (${error.code})`);
      return { ...common, allowed: true, digest, verified, role, signers, wouldDeny };
    }
    const annotation = policy.breakGlassAnnotation;
    const raw = annotation !== undefined && request.annotations && Object.hasOwn(request.annotations, annotation) ? request.annotations[annotation] : undefined;
    // Annotations come from the API server's JSON: anything but a string is no justification.
    const why = typeof raw === 'string' ? raw.trim() : undefined;
    if (annotation !== undefined && why !== undefined && why !== '' && rule.allowBreakGlass) {
      reasons.push(`break-glass (${annotation}): ${why}`);
      return { ...common, allowed: true, digest, verified, role, signers, wouldDeny, breakGlass: { annotation, reason: why } };
    }
    return { ...common, allowed: false, code: error.code, reason: error.message, error, digest };
  };

  try {
    try {
      ref = parseReference(request.image);
    } catch (e) {
      if (isTrustError(e)) throw new Deny(e);
      throw e;
    }
    tag = ref.tag ?? (ref.digest === undefined ? 'latest' : null);
    rule = matchRule(policy, ref.gun);
    reasons.push(`rule ${rule.name}${rule.isDefault ? ' (no rule matched)' : ''}`);
    if (rule.action === 'deny') {
      throw rule.isDefault
        ? deny('ERR_NO_MATCHING_RULE', `${ref.gun}: no rule matches and the default denies`, { check: 'policy rule' })
        : deny('ERR_IMAGE_DENIED', `${ref.gun}: rule ${rule.name} denies it`, { check: 'policy rule' });
    }
    if (rule.requireQuarantineVisible && sources.quarantine === undefined) {
      throw misuse(`rule ${rule.name} requires quarantine visibility but no quarantine reader was given`);
    }

    let signedTags: string[] | undefined;
    if (rule.requireContentTrust) {
      const pins = rule.pinsFor(ref.gun);
      let repo: VerifiedRepository;
      try {
        repo = await sources.trust.verify({ gun: ref.gun, now, ...(pins ? { pins } : {}) });
      } catch (e) {
        if (!isTrustError(e)) throw e;
        if (e.code === 'ERR_METADATA_NOT_FOUND' && e.role === 'root') {
          throw deny('ERR_ADMISSION_UNSIGNED', `${ref.gun}: no trust data (${e.message})`, { check: 'trust data', role: 'root', cause: e });
        }
        throw new Deny(e);
      }
      reasons.push(`trust data of ${ref.gun} verified${pins ? ' against pinned root' : ''}`);

      if (rule.maxMetadataAgeMs !== undefined) {
        // Age of the timestamp = now − (expires − lifetime); see metadataAgeMs.
        const age = metadataAgeMs(repo.timestamp.expiresAt, now, rule.timestampLifetimeMs);
        if (age > rule.maxMetadataAgeMs) {
          throw deny('ERR_METADATA_TOO_OLD', `${ref.gun}: timestamp is ${formatAge(age)} old (expires ${repo.timestamp.expires}), more than ${formatAge(rule.maxMetadataAgeMs)} allowed`, {
            role: 'timestamp',
            check: 'metadata age',
            expected: rule.maxMetadataAgeMs,
            actual: age,
          });
        }
        reasons.push(`metadata age ${formatAge(age)} within ${formatAge(rule.maxMetadataAgeMs)}`);
      }

      let resolved: Resolved;
      try {
        resolved = resolve(repo, ref);
      } catch (e) {
        if (e instanceof Deny) throw e;
        if (isTrustError(e)) throw new Deny(e);
        throw e;
      }
      digest = resolved.digest;
      role = resolved.role;
      verified = true;
      signedTags = resolved.signedTags;
      reasons.push(`${tag === null ? `digest signed as ${(signedTags ?? []).join(', ')}` : `tag ${tag}`} → ${digest} in ${role}`);
      let best = resolved.candidates[0] as (typeof resolved.candidates)[number];
      signers = best.signers;
      if (rule.signers) {
        const required = rule.signers.roles;
        const count = (c: typeof best) => required.filter((r) => c.signers.some((s) => s.role === r)).length;
        for (const c of resolved.candidates) if (count(c) > count(best)) best = c;
        signers = best.signers;
        const have = required.filter((r) => best.signers.some((s) => s.role === r));
        if (have.length < rule.signers.threshold) {
          const missing = required.filter((r) => !have.includes(r));
          throw deny(
            'ERR_SIGNER_THRESHOLD_NOT_MET',
            `${ref.gun}: ${have.length} of the required roles signed ${best.tag} as ${digest}, ${rule.signers.threshold} needed (missing: ${missing.join(', ')})`,
            { check: 'signer roles', expected: rule.signers.threshold, actual: have.length },
          );
        }
        reasons.push(`signers: ${have.length} of ${required.length} required roles (${have.join(', ')}), threshold ${rule.signers.threshold}`);
      }
    } else {
      digest = ref.digest ?? null;
      reasons.push('content trust not required');
    }

    if (rule.requireQuarantineVisible && sources.quarantine) {
      const path = ref.path;
      const q = await sources.quarantine.access({ gun: ref.gun, path, digest: digest ?? undefined, tag: tag ?? undefined, principal });
      if (!q.visible) {
        const what = digest ?? `tag ${tag ?? 'latest'}`;
        throw deny('ERR_QUARANTINED', `${ref.gun}: ${what} is not visible to ${principal.id} in the quarantine state (${q.reason}${q.state ? `, ${q.state}` : ''})`, {
          check: 'quarantine visibility',
          ...(q.state ? { actual: q.state } : {}),
        });
      }
      if (digest !== null && q.digest !== digest) {
        throw deny('ERR_QUARANTINED', `${ref.gun}: quarantine answered for ${q.digest}, not ${digest}`, { check: 'quarantine visibility', expected: digest, actual: q.digest });
      }
      digest = q.digest;
      reasons.push(`quarantine: visible to ${principal.id}`);
    }

    return {
      image: request.image,
      gun: ref.gun,
      tag,
      rule: rule.name,
      mode: rule.mode,
      reasons,
      allowed: true,
      digest,
      verified,
      ...(signedTags ? { signedTags } : {}),
      role,
      signers,
    };
  } catch (e) {
    if (e instanceof Deny) return finish(e);
    throw e;
  }
}
