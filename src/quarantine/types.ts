/**
 * Closed unions and record shapes of the quarantine module.
 *
 * Implements the vocabulary of quarantine.md §4–§6. Everything here is plain data so that a
 * record round-trips through JSON (one SQL row) unchanged. Types with a zod schema (records,
 * bindings, findings, waivers, principals) are derived from it, so each shape is declared once.
 *
 * @module
 */
import type { z } from 'zod';
import type {
  bindingSchema,
  idempotencyEntrySchema,
  recordSchema,
  releaseInfoSchema,
  storedVerdictSchema,
  tagBindingSchema,
  verdictResponseSchema,
} from './revive.js';
import type { findingSchema, principalSchema, waiverSchema } from './schemas.js';

/** `T` with every property and array, at every depth, read-only. */
export type DeepReadonly<T> = T extends readonly (infer U)[]
  ? readonly DeepReadonly<U>[]
  : T extends object
    ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
    : T;

/**
 * Every state a `(repository, digest)` can be in. `Quarantined`, `Passed` and `Failed` are ACR's
 * strings; `Unresolved` and `Released` are trustgate's extensions.
 *
 * @example
 * ```ts
 * import { QUARANTINE_STATES } from 'trustgate/quarantine';
 * QUARANTINE_STATES.includes('Passed'); // true
 * ```
 */
export const QUARANTINE_STATES = Object.freeze([
  'Quarantined',
  'Passed',
  'Failed',
  'Unresolved',
  'Released',
] as const);

/**
 * A quarantine state; see {@link QUARANTINE_STATES}.
 *
 * @example
 * ```ts
 * const s: QuarantineState = 'Unresolved';
 * ```
 */
export type QuarantineState = (typeof QUARANTINE_STATES)[number];

/**
 * The states a manual release can sit on top of (a release only applies to non-visible states).
 *
 * @example
 * ```ts
 * const prev: NonVisibleState = 'Failed';
 * ```
 */
export type NonVisibleState = 'Quarantined' | 'Failed' | 'Unresolved';

/**
 * Every machine event of the transition table. Commands are translated to these after their
 * guards (role, generation, quorum, deadline) have been checked.
 *
 * @example
 * ```ts
 * import { MACHINE_EVENTS } from './types.js';
 * MACHINE_EVENTS.length; // 13
 * ```
 */
export const MACHINE_EVENTS = Object.freeze([
  'push',
  'delete',
  'scan.passed',
  'scan.failed',
  'scan.unresolved',
  'scan.retry',
  'scan.timeout',
  'rescan',
  'release',
  'release.expired',
  'revoke',
  'waiver.expired',
  'policy.changed',
] as const);

/**
 * A machine event; see {@link MACHINE_EVENTS}.
 *
 * @example
 * ```ts
 * const e: MachineEvent = 'scan.passed';
 * ```
 */
export type MachineEvent = (typeof MACHINE_EVENTS)[number];

/**
 * Roles a principal may hold. A principal with no role is "ordinary" (pull of visible content only).
 * `quarantine-writer` implies `quarantine-reader`, as ACR's AcrQuarantineWriter does.
 * `quarantine-admin` changes the policy and its waivers (setPolicy, addWaiver, revokeWaiver) and
 * nothing else: it is neither a reader nor an overrider (quarantine.md §4 "Transitions").
 *
 * @example
 * ```ts
 * import { ROLES } from 'trustgate/quarantine';
 * ROLES; // ['push', 'quarantine-reader', 'quarantine-writer', 'overrider', 'quarantine-admin']
 * ```
 */
export const ROLES = Object.freeze(['push', 'quarantine-reader', 'quarantine-writer', 'overrider', 'quarantine-admin'] as const);

/**
 * A role; see {@link ROLES}.
 *
 * @example
 * ```ts
 * const r: Role = 'quarantine-reader';
 * ```
 */
export type Role = (typeof ROLES)[number];

/**
 * The caller of a command or query.
 *
 * @example
 * ```ts
 * const scanner: Principal = { id: 'trivy-bot', roles: ['quarantine-writer'] };
 * ```
 */
export type Principal = DeepReadonly<z.output<typeof principalSchema>>;

/**
 * How a principal is described in audit records (the strongest role it holds).
 *
 * @example
 * ```ts
 * const k: PrincipalKind = 'system';
 * ```
 */
export type PrincipalKind = (typeof PRINCIPAL_KINDS)[number];

/** Every principal kind an audit record can carry; stores validate audit rows against this list. */
export const PRINCIPAL_KINDS = ['ordinary', 'pusher', 'reader', 'writer', 'overrider', 'admin', 'system'] as const;

/**
 * ACR's severity scale (`quarantine-details/schema.json`), lowest first. Any other string is
 * treated as more severe than `Critical` (Q4).
 *
 * @example
 * ```ts
 * import { SEVERITIES } from 'trustgate/quarantine';
 * SEVERITIES.at(-1); // 'Critical'
 * ```
 */
export const SEVERITIES = Object.freeze(['None', 'Low', 'Medium', 'High', 'Critical'] as const);

/**
 * A known severity; see {@link SEVERITIES}.
 *
 * @example
 * ```ts
 * const threshold: Severity = 'High';
 * ```
 */
export type Severity = (typeof SEVERITIES)[number];

/**
 * One vulnerability finding reported by a scanner. `severity` is free text on purpose: unknown
 * strings must still be ranked (as the highest). `fixable: undefined` means "not known";
 * fixable-only policies treat it as fixable (fail closed).
 *
 * @example
 * ```ts
 * const f: Finding = { id: 'CVE-2024-3094', severity: 'Critical', fixable: true };
 * ```
 */
export type Finding = DeepReadonly<z.output<typeof findingSchema>>;

/**
 * What a scanner may report. Anything else is rejected (Q4).
 *
 * @example
 * ```ts
 * import { SCANNER_RESULTS } from 'trustgate/quarantine';
 * SCANNER_RESULTS.includes('unsupported'); // true
 * ```
 */
export const SCANNER_RESULTS = Object.freeze(['pass', 'fail', 'unsupported', 'error'] as const);

/**
 * A scanner result; see {@link SCANNER_RESULTS}.
 *
 * @example
 * ```ts
 * const r: ScannerResult = 'fail';
 * ```
 */
export type ScannerResult = (typeof SCANNER_RESULTS)[number];

/**
 * Why a digest is `Unresolved`.
 *
 * @example
 * ```ts
 * const why: UnresolvedReason = 'timeout';
 * ```
 */
export type UnresolvedReason = NonNullable<DigestRecord['unresolvedReason']>;

/**
 * A time-boxed exception for one finding. `expiresAt` is required (no eternal waivers); it has
 * effect at `now < expiresAt` only (Q18). Times are epoch milliseconds.
 *
 * @example
 * ```ts
 * const w: Waiver = {
 *   id: 'w-1', findingId: 'CVE-2024-0001', scope: { kind: 'registry' }, reason: 'not reachable',
 *   author: 'secops@example.com', createdAt: 0, expiresAt: 86_400_000,
 * };
 * ```
 */
export type Waiver = DeepReadonly<z.output<typeof waiverSchema>>;

/**
 * Where a waiver applies: one digest, one repository, or the whole registry.
 *
 * @example
 * ```ts
 * const scope: WaiverScope = { kind: 'repository', repository: 'team/app' };
 * ```
 */
export type WaiverScope = Waiver['scope'];

/**
 * One scanner's verdict as stored on a record (current generation only).
 *
 * @example
 * ```ts
 * const v: StoredVerdict = {
 *   scannerId: 'trivy', idempotencyKey: 'k1', result: 'pass', outcome: 'pass', findings: [],
 *   validUntil: undefined, at: 0, link: undefined,
 * };
 * ```
 */
export type StoredVerdict = DeepReadonly<z.output<typeof storedVerdictSchema>>;

/**
 * The answer to a verdict; a duplicate `(scannerId, idempotencyKey)` returns the stored one (Q14).
 * `decision: 'final'` means the generation was already decided.
 *
 * @example
 * ```ts
 * const r: VerdictResponse = { state: 'Passed', generation: 1, decision: 'pass', duplicate: false };
 * ```
 */
export type VerdictResponse = DeepReadonly<z.output<typeof verdictResponseSchema>>;

/**
 * An idempotency entry: the first response to `(scannerId, idempotencyKey)`.
 *
 * @example
 * ```ts
 * const e: IdempotencyEntry = {
 *   scannerId: 'trivy', idempotencyKey: 'k1', fingerprint: '{}',
 *   response: { state: 'Passed', generation: 1, decision: 'pass', duplicate: false },
 * };
 * ```
 */
export type IdempotencyEntry = DeepReadonly<z.output<typeof idempotencyEntrySchema>>;

/**
 * A manual release laid over a non-visible state.
 *
 * @example
 * ```ts
 * const r: ReleaseInfo = { actor: 'alice', reason: 'INC-42 hotfix', expiresAt: 3_600_000, previous: 'Failed', at: 0 };
 * ```
 */
export type ReleaseInfo = DeepReadonly<z.output<typeof releaseInfoSchema>>;

/**
 * The persisted quarantine record of one `(repository, digest)`: one SQL row. The fields are
 * documented on `recordSchema` (revive.ts).
 *
 * @example
 * ```ts
 * declare const rec: DigestRecord;
 * rec.state === 'Passed' && !rec.deleted; // visible (for an image without children)
 * ```
 */
export type DigestRecord = DeepReadonly<z.output<typeof recordSchema>>;

/**
 * One side of a tag binding: the digest and the per-tag push number that created it.
 *
 * @example
 * ```ts
 * const b: Binding = { digest: 'sha256:…', push: 3 };
 * ```
 */
export type Binding = DeepReadonly<z.output<typeof bindingSchema>>;

/**
 * A tag's live binding (what ordinary users resolve) and pending binding (newest push, awaiting
 * visibility). One SQL row; never deleted, so its version keeps growing.
 *
 * @example
 * ```ts
 * declare const t: TagBinding;
 * t.pending?.digest; // the digest a newer push wants this tag to point at
 * ```
 */
export type TagBinding = DeepReadonly<z.output<typeof tagBindingSchema>>;

/**
 * Everything the pure core needs about one repository.
 *
 * Any `ReadonlyMap` is accepted. The maps the core and the memory store return are immutable
 * persistent maps that share structure with the state they were derived from (so a step costs
 * what it touches, not the repository size); they are not `Map` instances.
 *
 * @example
 * ```ts
 * const s: RepositoryState = { repository: 'team/app', records: new Map(), tags: new Map() };
 * ```
 */
export interface RepositoryState {
  readonly repository: string;
  readonly records: ReadonlyMap<string, DigestRecord>;
  readonly tags: ReadonlyMap<string, TagBinding>;
}

/**
 * Event types: ACR's `quarantine` and `push` webhook actions, then trustgate's own.
 *
 * @example
 * ```ts
 * import { EVENT_TYPES } from 'trustgate/quarantine';
 * EVENT_TYPES.includes('quarantine.release_expired'); // true
 * ```
 */
export const EVENT_TYPES = Object.freeze([
  'quarantine',
  'push',
  'quarantine.passed',
  'quarantine.failed',
  'quarantine.unresolved',
  'quarantine.released',
  'quarantine.release_expired',
  'quarantine.revoked',
  'quarantine.findings_changed',
  'quarantine.rescan_unresolved',
  'scan.requested',
  'scan.retry',
  'scan.verdict',
  'manifest.deleted',
  'manifest.restored',
] as const);

/**
 * An event type; see {@link EVENT_TYPES}.
 *
 * @example
 * ```ts
 * const t: EventType = 'quarantine.passed';
 * ```
 */
export type EventType = (typeof EVENT_TYPES)[number];
