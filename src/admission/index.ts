/**
 * Pre-pull admission: one decision per image from content trust, a signer policy and the
 * quarantine state, as a library call, a Kubernetes webhook and a shell check.
 *
 * @example
 * ```ts
 * import { parsePolicy, checkAdmission, trustDirTrustSource } from 'trustgate/admission';
 * const policy = parsePolicy({ rules: [{ images: 'docker.io/acme/**', signers: { roles: ['targets/releases'] } }], default: { action: 'deny' } });
 * const d = await checkAdmission({ image: 'docker.io/acme/app:v1' }, policy, { trust: trustDirTrustSource({ trustDir }) });
 * ```
 * @module
 */
export {
  parsePolicy,
  matchRule,
  globToRegExp,
  parseDuration,
  metadataAgeMs,
  policyNeedsQuarantine,
  isCompiledPolicy,
  policySchema,
  DEFAULT_TIMESTAMP_LIFETIME_MS,
} from './policy.js';
export type { AdmissionPolicy, AdmissionPolicyInput, AdmissionMode, CompiledRule } from './policy.js';
export { checkAdmission, decisionTime } from './decision.js';
export type {
  AdmissionRequest,
  AdmissionSources,
  AdmissionDecision,
  AdmissionAllowed,
  AdmissionDenied,
  SignerEvidence,
  WouldDeny,
  Requester,
  BreakGlassUse,
} from './decision.js';
export { trustDirTrustSource, cachedTrustSource, quarantineServiceReader, loadPolicyFile } from './sources.js';
export type {
  TrustSource,
  TrustQuery,
  TrustReuse,
  QuarantineReader,
  QuarantineQuery,
  QuarantineAccessResult,
  TrustDirSourceOptions,
  QuarantineViewProvider,
  QuarantineServiceReaderOptions,
} from './sources.js';
export { rememberedTrustSource } from './remembered-trust.js';
export { httpQuarantineReader } from './quarantine-http.js';
export type { HttpQuarantineReaderOptions, QuarantineCredentials } from './quarantine-http.js';
export { onlineTrustSource, ONLINE_TRUST_DEFAULTS } from './online-trust.js';
export type { OnlineTrustOptions, OnlineTrustSource, OnlineTrustStats } from './online-trust.js';
export type { RememberedTrustOptions, RememberedTrustSource, RememberedTrustStats } from './remembered-trust.js';
export { handleAdmissionReview, parseAdmissionReview, printable, WARNING_MAX_CHARS } from './kubernetes.js';
export type {
  AdmissionReviewOut,
  AdmissionReviewResponse,
  AdmissionReviewRequest,
  AdmissionReviewResult,
  HandleAdmissionReviewOptions,
  ImageDecisionRecord,
  JsonPatchOperation,
} from './kubernetes.js';
export { createAdmissionServer, ADMISSION_SERVER_DEFAULTS } from './server.js';
export type { AdmissionServerOptions, AdmissionServer } from './server.js';
export { createAdmissionMetrics } from './metrics.js';
export { createVerifierPool } from './pool.js';
export type { VerifierPool, VerifierPoolOptions, PooledTrustSource, PooledTrustStats, WorkerConfig, WorkerTrustConfig } from './pool.js';
export type { AdmissionMetrics, TrustFacts, TrustFactsProvider, TrustSnapshot } from './metrics.js';
