/**
 * Docker's resolution of an image reference against verified trust data (notary-rules.md §9.3), the one
 * implementation behind `trustgate verify`, `trustgate check` and the admission webhook:
 *
 * - `name[:tag]` (default `latest`) and `name:tag@digest`: the tag's lookup in the given role
 *   order (docker's by default); with a digest, the signed digest must be that digest.
 * - `name@digest`: some tag must resolve to the digest under the same order; tag-like names only
 *   (a target docker could not pull by tag does not vouch for a digest). The first of those tags
 *   in natural order ({@link naturalCompare}) is the answer, so `v9` comes before `v10`.
 */
import { invalidArgument } from '../arguments.js';
import { TrustError } from '../errors.js';
import { isValidTag } from '../reference/parse.js';
import { checkRepository, listTargets, lookupTarget, type LookupOptions } from './lookup.js';
import { naturalCompare } from './tag-order.js';
import type { SignedTarget, VerifiedRepository } from './types.js';

/** The parts of a reference resolution reads (an `ImageReference` fits). */
export interface ReferenceParts {
  tag?: string | undefined;
  digest?: string | undefined;
}

export interface ResolvedReference {
  /** The signed target that decides: the tag's, or the first tag carrying the digest. */
  target: SignedTarget;
  /** The tag resolved (`latest` when none was written), or undefined for `name@digest`. */
  tag: string | undefined;
  /** For `name@digest` only: every tag carrying the digest, in natural order. */
  signedTags?: string[];
}

/**
 * Resolves a reference to the signed target docker would pull.
 *
 * @example
 * ```ts
 * const { target } = resolveReference(repo, parseReference('docker.io/acme/app:v1'));
 * pull(`${repo.gun}@${target.digest}`);
 * ```
 * @throws {TrustError} `ERR_TARGET_NOT_FOUND` (check `target lookup`, `digest match` or
 *   `signed digest`), `ERR_TARGET_NO_SHA256`, `ERR_INVALID_ARGUMENT`.
 */
export function resolveReference(repo: VerifiedRepository, ref: ReferenceParts, opts: LookupOptions = {}): ResolvedReference {
  checkRepository(repo);
  const stringOrNone = (v: unknown) => v === undefined || typeof v === 'string';
  if (typeof ref !== 'object' || ref === null || !stringOrNone(ref.tag) || !stringOrNone(ref.digest)) {
    throw invalidArgument('resolveReference needs a reference with a tag, a digest or both, as strings');
  }
  if (ref.tag !== undefined || ref.digest === undefined) return resolveTag(repo, ref.tag ?? 'latest', ref.digest, opts);
  return resolveDigest(repo, ref.digest, opts);
}

function resolveTag(repo: VerifiedRepository, tag: string, digest: string | undefined, opts: LookupOptions): ResolvedReference {
  const target = lookupTarget(repo, tag, opts);
  if (digest !== undefined && target.digest !== digest) {
    throw new TrustError('ERR_TARGET_NOT_FOUND', `${repo.gun}: tag ${JSON.stringify(tag)} is signed as ${target.digest}, not ${digest}`, {
      role: target.role,
      check: 'digest match',
      expected: target.digest,
      actual: digest,
    });
  }
  return { target, tag };
}

function resolveDigest(repo: VerifiedRepository, digest: string, opts: LookupOptions): ResolvedReference {
  const hits = listTargets(repo, opts)
    .filter((t) => t.digest === digest && isValidTag(t.name))
    .sort((a, b) => naturalCompare(a.name, b.name));
  const first = hits[0];
  if (first === undefined) {
    const where = opts.roles === undefined ? 'targets/releases or targets' : opts.roles.join(', ');
    throw new TrustError('ERR_TARGET_NOT_FOUND', `${repo.gun}: no tag in ${where} is signed with ${digest}`, {
      check: 'signed digest',
      actual: digest,
    });
  }
  return { target: first, tag: undefined, signedTags: hits.map((t) => t.name) };
}
