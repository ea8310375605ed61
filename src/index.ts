/**
 * trustgate: offline Docker Content Trust (Notary v1) verification, byte-exact with Notary.
 *
 * @example
 * ```ts
 * import { verifyTrustDir, lookupTarget } from 'trustgate';
 * const repo = verifyTrustDir({ gun: 'docker.io/acme/app', trustDir: '/home/me/.docker/trust', now: new Date() });
 * const { digest, role, signers } = lookupTarget(repo, 'v1');
 * ```
 * @module
 */
export { TrustError, isTrustError, ERROR_CODES, ADMISSION_ERROR_CODES } from './errors.js';
export type { TrustErrorCode, TrustErrorDetails } from './errors.js';
export { verifyRepository } from './verify/repository.js';
export { lookupTarget, findTarget, listTargets, allTargetsByName, DOCKER_ROLE_ORDER, NOTARY_ROLE_ORDER } from './verify/lookup.js';
export type { LookupOptions } from './verify/lookup.js';
export { resolveReference } from './verify/resolve.js';
export type { ReferenceParts, ResolvedReference } from './verify/resolve.js';
export { DEFAULT_LIMITS } from './verify/types.js';
export type {
  FailurePolicy,
  MetadataSource,
  VerifyLimits,
  TrustedState,
  VerifyOptions,
  VerifiedRole,
  RoleSummary,
  SkippedRole,
  VerifiedRepository,
  SignedTarget,
  RootPins,
  ResolvedPins,
  FileMetaJson,
  TargetMap,
  TufKeyJson,
} from './verify/types.js';
export { verifyTrustDir, trustDirSource, defaultTrustDir } from './trust-dir/reader.js';
export type { VerifyTrustDirOptions } from './trust-dir/reader.js';
export { canonicalBytes } from './json/canonical.js';
export { tufKeyId, canonicalKeyId } from './verify/keys.js';
export { resolvePins } from './verify/index.js';
export { parseReference, formatReference, isValidTag } from './reference/index.js';
export type { ImageReference } from './reference/index.js';
