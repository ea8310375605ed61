/**
 * `trustgate/quarantine`: keeps pushed images invisible to ordinary users until a scan has
 * passed, in the manner of Azure Container Registry's quarantine pattern, with generations,
 * idempotent verdicts, quorum, waivers, time-boxed releases, an outbox and an audit log.
 *
 * Implements docs/spec/quarantine.md; invariants are cited as Q1–Q23. This entry point is what a
 * registry server needs: the service and its options, the store contract and the memory store,
 * the per-request view, configuration, principals and states, event, audit and ACR payloads, the
 * ACR PATCH mapping, and errors. The pure core and its helpers are internal.
 *
 * @example
 * ```ts
 * import { createQuarantineService, createMemoryStore } from 'trustgate/quarantine';
 * const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
 * ```
 *
 * @module
 */
export { createQuarantineService } from './service.js';
export type { QuarantineService, QuarantineServiceOptions, CommandFields, PolicyCommandFields, ViewOptions } from './service.js';
export type { PolicyCommandInput, StoredPolicy } from './policy-commands.js';
export type { CommandResponse } from './machine.js';

export { createMemoryStore } from './memory-store.js';
export type { MemoryStore } from './memory-store.js';
export type { QuarantineStore, UnitOfWork, RecordWrite, TagWrite, OutboxEntry, PolicyWrite } from './store.js';
export { reviveRecord, reviveTag } from './revive.js';

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
} from './registry-view.js';

export { parseConfig } from './schemas.js';
export type { QuarantineConfig, QuarantineConfigInput, Command, CommandInput } from './schemas.js';

export { QUARANTINE_STATES, ROLES, SEVERITIES, SCANNER_RESULTS, EVENT_TYPES } from './types.js';
export type {
  QuarantineState,
  NonVisibleState,
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

export type { QuarantineEvent, AcrWebhookPayload, AcrRequest, AuditDraft, AuditEntry } from './events.js';
export { acrEtag, parseAcrEtag, acrPatchToVerdict, acrAttributes } from './acr.js';
export type { AcrPatchRequest, AcrQuarantineDetails } from './acr.js';

export { TrustError, isTrustError } from '../errors.js';
export type { TrustErrorCode } from '../errors.js';
