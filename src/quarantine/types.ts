/**
 * Closed unions and record shapes of the quarantine module.
 *
 * Implements the vocabulary of `shared/spec/quarantine.md` §4–§6. Everything here is plain data
 * so that a record round-trips through JSON (one SQL row) unchanged.
 *
 * @module
 */

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
 * import { MACHINE_EVENTS } from 'trustgate/quarantine';
 * MACHINE_EVENTS.length; // 12
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
 *
 * @example
 * ```ts
 * import { ROLES } from 'trustgate/quarantine';
 * ROLES; // ['push', 'quarantine-reader', 'quarantine-writer', 'overrider']
 * ```
 */
export const ROLES = Object.freeze(['push', 'quarantine-reader', 'quarantine-writer', 'overrider'] as const);

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
export interface Principal {
  readonly id: string;
  readonly roles: readonly Role[];
}

/**
 * How a principal is described in audit records (the strongest role it holds).
 *
 * @example
 * ```ts
 * const k: PrincipalKind = 'system';
 * ```
 */
export type PrincipalKind = 'ordinary' | 'pusher' | 'reader' | 'writer' | 'overrider' | 'system';

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
 * One vulnerability finding reported by a scanner.
 *
 * @example
 * ```ts
 * const f: Finding = { id: 'CVE-2024-3094', severity: 'Critical', fixable: true };
 * ```
 */
export interface Finding {
  readonly id: string;
  /** Free text on purpose: unknown strings must still be ranked (as the highest). */
  readonly severity: string;
  /** `undefined` means "not known"; fixable-only policies treat it as fixable (fail closed). */
  readonly fixable?: boolean | undefined;
  readonly package?: string | undefined;
}

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
export type UnresolvedReason = 'timeout' | 'unsupported' | 'error' | 'quorum';

/**
 * Where a waiver applies.
 *
 * @example
 * ```ts
 * const scope: WaiverScope = { kind: 'repository', repository: 'team/app' };
 * ```
 */
export type WaiverScope =
  | { readonly kind: 'digest'; readonly repository: string; readonly digest: string }
  | { readonly kind: 'repository'; readonly repository: string }
  | { readonly kind: 'registry' };

/**
 * A time-boxed exception for one finding. `expiresAt` is required (no eternal waivers).
 *
 * @example
 * ```ts
 * const w: Waiver = {
 *   id: 'w-1', findingId: 'CVE-2024-0001', scope: { kind: 'registry' }, reason: 'not reachable',
 *   author: 'secops@example.com', createdAt: 0, expiresAt: 86_400_000,
 * };
 * ```
 */
export interface Waiver {
  readonly id: string;
  readonly findingId: string;
  readonly scope: WaiverScope;
  readonly reason: string;
  readonly author: string;
  readonly ticket?: string | undefined;
  /** Epoch milliseconds. */
  readonly createdAt: number;
  /** Epoch milliseconds; the waiver has effect at `now < expiresAt` only (Q18). */
  readonly expiresAt: number;
}

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
export interface StoredVerdict {
  readonly scannerId: string;
  readonly idempotencyKey: string;
  readonly result: ScannerResult;
  /** The result after policy evaluation (findings mode may turn a scanner's `fail` into `pass`). */
  readonly outcome: 'pass' | 'fail' | 'unresolved';
  readonly findings: readonly Finding[];
  /** Earliest expiry of a waiver this outcome depends on. */
  readonly validUntil: number | undefined;
  readonly at: number;
  readonly link: string | undefined;
}

/**
 * The answer to a verdict; a duplicate `(scannerId, idempotencyKey)` returns the stored one (Q14).
 *
 * @example
 * ```ts
 * const r: VerdictResponse = { state: 'Passed', generation: 1, decision: 'pass', duplicate: false };
 * ```
 */
export interface VerdictResponse {
  readonly state: QuarantineState;
  readonly generation: number;
  /** The quorum decision after this verdict; `final` means the generation was already decided. */
  readonly decision: 'pass' | 'fail' | 'unresolved' | 'pending' | 'final';
  readonly duplicate: boolean;
}

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
export interface IdempotencyEntry {
  readonly scannerId: string;
  readonly idempotencyKey: string;
  readonly fingerprint: string;
  readonly response: VerdictResponse;
}

/**
 * A manual release laid over a non-visible state.
 *
 * @example
 * ```ts
 * const r: ReleaseInfo = { actor: 'alice', reason: 'INC-42 hotfix', expiresAt: 3_600_000, previous: 'Failed', at: 0 };
 * ```
 */
export interface ReleaseInfo {
  readonly actor: string;
  readonly reason: string;
  readonly expiresAt: number;
  /** The state the digest falls back to when the release lapses; scan events keep updating it. */
  readonly previous: NonVisibleState;
  readonly at: number;
}

/**
 * The persisted quarantine record of one `(repository, digest)`. One SQL row.
 *
 * @example
 * ```ts
 * declare const rec: DigestRecord;
 * rec.state === 'Passed' && !rec.deleted; // visible (for an image without children)
 * ```
 */
export interface DigestRecord {
  readonly repository: string;
  readonly digest: string;
  readonly state: QuarantineState;
  /**
   * Compare-and-set version: the number of accepted commands that changed this record or bound a
   * tag to it (a binding depends on the record's state, so it must conflict with a change of it).
   */
  readonly version: number;
  /** Sequence number of the last event emitted for this digest (Q21). */
  readonly sequence: number;
  /** Current scan generation; never decreases (Q15). */
  readonly generation: number;
  /** True while the current generation awaits a decision. */
  readonly scanOpen: boolean;
  readonly deadline: number | undefined;
  /** Retries used by the current scan. */
  readonly retries: number;
  /** Generation of the decision in force, if any. */
  readonly verdictGeneration: number | undefined;
  readonly unresolvedReason: UnresolvedReason | undefined;
  readonly release: ReleaseInfo | undefined;
  /** Verdicts of the current generation (one per scanner). */
  readonly verdicts: readonly StoredVerdict[];
  /** Findings of the decision in force. */
  readonly findings: readonly Finding[];
  /** A `Passed` that rests on waivers is re-evaluated at this time (Q18). */
  readonly validUntil: number | undefined;
  readonly responses: readonly IdempotencyEntry[];
  readonly kind: 'image' | 'index';
  readonly children: readonly string[];
  readonly subject: string | undefined;
  readonly mediaType: string | undefined;
  readonly size: number | undefined;
  readonly pusher: string;
  readonly pushedAt: number;
  /** Deleted manifests keep their verdict so that a re-push cannot launder it (Q10). */
  readonly deleted: boolean;
  readonly policyVersion: string;
}

/**
 * One side of a tag binding: the digest and the per-tag push number that created it.
 *
 * @example
 * ```ts
 * const b: Binding = { digest: 'sha256:…', push: 3 };
 * ```
 */
export interface Binding {
  readonly digest: string;
  readonly push: number;
}

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
export interface TagBinding {
  readonly repository: string;
  readonly tag: string;
  readonly version: number;
  readonly live: Binding | undefined;
  readonly pending: Binding | undefined;
  /** Number of pushes of this tag so far. */
  readonly pushes: number;
}

/**
 * Everything the pure core needs about one repository.
 *
 * Any `ReadonlyMap` is accepted. The maps `step`, `emptyRepository` and the memory store return are
 * immutable persistent maps that share structure with the state they were derived from (so a step
 * costs what it touches, not the repository size); they are not `Map` instances.
 *
 * @example
 * ```ts
 * import { emptyRepository } from 'trustgate/quarantine';
 * const s: RepositoryState = emptyRepository('team/app');
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
