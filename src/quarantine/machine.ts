/**
 * The pure quarantine core: `step(state, command, now, config) → { state', events, audit }`.
 *
 * Implements quarantine.md §5–§6 for one repository. No I/O, no timers, no clock:
 * time enters only as `now`, and everything due at or before `now` (scan deadlines, release
 * lapses, waiver expiries) is applied first, in time order, so that evaluating later gives the
 * same result as evaluating on time.
 *
 * @module
 */
import { TrustError, isTrustError } from '../errors.js';
import { applyCommand } from './commands.js';
import { advanceTime } from './clock.js';
import { Draft, reject } from './draft.js';
import type { AuditDraft, QuarantineEvent } from './events.js';
import { PersistentMap } from './pmap.js';
import { reevaluateStale } from './reevaluate.js';
import { rejectionAudit } from './rejection.js';
import type { RejectionContext } from './rejection.js';
import { commandSchema, summarize } from './schemas.js';
import type { Command, QuarantineConfig } from './schemas.js';
import { settle } from './settle.js';
import type { DigestRecord, QuarantineState, RepositoryState, TagBinding, VerdictResponse } from './types.js';

/**
 * What an accepted command answers.
 *
 * @example
 * ```ts
 * declare const r: CommandResponse;
 * r.verdict?.duplicate; // true when an idempotency key was replayed
 * ```
 */
export interface CommandResponse {
  readonly command: Command['type'] | 'setPolicy' | 'addWaiver' | 'revokeWaiver';
  readonly digest: string | undefined;
  readonly state: QuarantineState | undefined;
  readonly generation: number | undefined;
  readonly visible: boolean | undefined;
  readonly verdict: VerdictResponse | undefined;
}

/**
 * The result of {@link step}. A rejected command leaves the state unchanged — the clock's effects
 * included, which the next accepted step applies — and adds exactly one `rejected` audit record
 * (Q4); its error is returned, never swallowed.
 *
 * @example
 * ```ts
 * declare const r: StepResult;
 * if (!r.ok) throw r.error;
 * ```
 */
export type StepResult = StepOutput & ({ readonly ok: true; readonly response: CommandResponse } | { readonly ok: false; readonly error: TrustError });

/** What every step produces, accepted or not. */
interface StepOutput {
  readonly state: RepositoryState;
  readonly events: readonly QuarantineEvent[];
  readonly audit: readonly AuditDraft[];
}

/**
 * A repository with no records and no tags.
 *
 * @example
 * ```ts
 * import { emptyRepository } from './machine.js';
 * emptyRepository('team/app').records.size; // 0
 * ```
 */
export function emptyRepository(repository: string): RepositoryState {
  return { repository, records: PersistentMap.from<string, DigestRecord>([]), tags: PersistentMap.from<string, TagBinding>([]) };
}

function rejectedAudit(d: Draft, raw: unknown, c: Command | undefined, e: TrustError): AuditDraft {
  const ctx: RejectionContext = { at: d.now, repository: d.base.repository, policyVersion: d.config.policyVersion, lookup: d.lookup };
  return rejectionAudit(ctx, raw, c !== undefined && 'principal' in c ? c.principal : undefined, e);
}

/**
 * The pure core. Applies the clock, then `command` (validated here with zod), to one repository.
 * Illegal transitions, unauthorised callers, unknown scanners, malformed, stale or conflicting
 * verdicts are rejected: the result carries the {@link TrustError} and a `rejected` audit record,
 * and the state is unchanged apart from what the clock did.
 *
 * @example
 * ```ts
 * import { step, emptyRepository } from './machine.js';
 * import { parseConfig } from 'trustgate/quarantine';
 * const config = parseConfig({ scanners: ['trivy'] });
 * const r = step(emptyRepository('app'), { type: 'push', repository: 'app', digest: 'sha256:ab',
 *   principal: { id: 'ci', roles: ['push'] } }, Date.now(), config);
 * r.ok && r.response.state; // 'Quarantined'
 * ```
 */
export function step(state: RepositoryState, command: unknown, now: number, config: QuarantineConfig): StepResult {
  if (!Number.isSafeInteger(now) || now < 0) throw new TrustError('ERR_INVALID_ARGUMENT', 'now must be epoch milliseconds');
  const d = new Draft(state, now, config);
  advanceTime(d);
  reevaluateStale(d);
  settle(d, (digest) => d.baseRecords.get(digest), [...d.records.keys()]);
  const cp = d.checkpoint();
  const parsed = commandSchema.safeParse(command);
  let cmd: Command | undefined;
  try {
    if (!parsed.success) reject('ERR_INVALID_COMMAND', `invalid command: ${summarize(parsed.error)}`, { cause: parsed.error });
    cmd = parsed.data;
    if (cmd.repository !== state.repository) {
      reject('ERR_INVALID_ARGUMENT', `command for ${cmd.repository} applied to ${state.repository}`);
    }
    const response = applyCommand(d, cmd);
    // Q14: a replayed verdict leaves state, events and audit exactly as they were, the clock's
    // pending effects included (issue 12.7: committing them here reordered the audit log).
    if (response.verdict?.duplicate === true) return { ok: true, state, events: [], audit: [], response };
    settle(d, d.lookupAt(cp), [...d.touched]);
    return { ok: true, state: d.finish(), events: d.events, audit: d.audit, response };
  } catch (e) {
    if (!isTrustError(e)) throw e;
    // Q4: a rejection changes no state. Not even the clock's effects are kept: the rejection was
    // decided on a snapshot it does not write, so committing them would let it overwrite what a
    // concurrent replica read (Q16). The next accepted step applies them, at their own times.
    d.restore(cp);
    return { ok: false, state, events: [], audit: [rejectedAudit(d, command, cmd, e)], error: e };
  }
}
