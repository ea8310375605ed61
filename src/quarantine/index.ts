/**
 * `trustgate/quarantine`: keeps pushed images invisible to ordinary users until a scan has
 * passed, in the manner of Azure Container Registry's quarantine pattern, with generations,
 * idempotent verdicts, quorum, waivers, time-boxed releases, an outbox and an audit log.
 *
 * Implements `shared/spec/quarantine.md`; invariants are cited as Q1–Q23.
 *
 * @example
 * ```ts
 * import { createQuarantineService, createMemoryStore } from 'trustgate/quarantine';
 * const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
 * ```
 *
 * @module
 */
export {
  QUARANTINE_STATES,
  MACHINE_EVENTS,
  ROLES,
  SEVERITIES,
  SCANNER_RESULTS,
  EVENT_TYPES,
} from './types.js';
export type {
  QuarantineState,
  NonVisibleState,
  MachineEvent,
  Role,
  Principal,
  PrincipalKind,
  Severity,
  Finding,
  ScannerResult,
  UnresolvedReason,
  WaiverScope,
  Waiver,
  StoredVerdict,
  VerdictResponse,
  IdempotencyEntry,
  ReleaseInfo,
  DigestRecord,
  Binding,
  TagBinding,
  RepositoryState,
  EventType,
} from './types.js';
export { TRANSITIONS, transition } from './transitions.js';
export type { TransitionTarget, TransitionGuard, TransitionRule, GuardContext } from './transitions.js';
export { step, emptyRepository } from './machine.js';
export type { StepResult, CommandResponse } from './machine.js';
export { bindOnPush, promote, unbindDigest, clearTag, emptyTag, isTagEmpty } from './tags.js';
export { isRecordVisible, isVisible, visibleDigests, hasRole, isQuarantineReader, principalKind } from './visible.js';
export type { QuarantineStatus } from './visible.js';
export { createView } from './visibility.js';
export type {
  QuarantineView,
  ManifestRef,
  ManifestAccess,
  ReferrersAccess,
  BlobAccess,
  Denied,
  AllowReason,
  DenyReason,
  RegistryErrorResponse,
} from './visibility.js';
export { severityRank, evaluateFindings, scannerOutcome, decideQuorum, UNKNOWN_SEVERITY_RANK } from './policy.js';
export type { FindingsEvaluation, FindingsPolicy, QuorumDecision } from './policy.js';
export { deterministicUuid, buildEvent } from './events.js';
export type { QuarantineEvent, AcrWebhookPayload, AuditDraft, AuditEntry, EventExtras } from './events.js';
export {
  acrPatchBodySchema,
  acrQuarantineDetailsSchema,
  acrEtag,
  parseAcrEtag,
  acrPatchToVerdict,
  acrAttributes,
} from './acr.js';
export type { AcrPatchRequest, AcrQuarantineDetails } from './acr.js';
export { unitOfWork } from './store.js';
export type { QuarantineStore, UnitOfWork, RecordWrite, TagWrite, OutboxEntry } from './store.js';
export { createMemoryStore } from './memory-store.js';
export type { MemoryStore } from './memory-store.js';
export { createQuarantineService } from './service.js';
export type { QuarantineService, QuarantineServiceOptions, CommandFields } from './service.js';
export {
  parseConfig,
  reviveRecord,
  configSchema,
  commandSchema,
  pushSchema,
  deleteManifestSchema,
  deleteTagSchema,
  rescanSchema,
  verdictSchema,
  releaseSchema,
  revokeSchema,
  tickSchema,
  principalSchema,
  findingSchema,
  waiverSchema,
  repositorySchema,
  digestSchema,
  tagSchema,
} from './schemas.js';
export type { QuarantineConfig, QuarantineConfigInput, Command, CommandInput } from './schemas.js';
