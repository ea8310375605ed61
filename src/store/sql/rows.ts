/**
 * Revives outbox and audit rows read from SQL: the jsonb column must hold an event or audit entry
 * of the shape this code writes, or the read fails with `ERR_STORE_CORRUPT` naming the row; it is
 * never patched with defaults. (Records and tag bindings are raw here: the service revives those.)
 *
 * @module
 */
import { z } from 'zod';
import { ERROR_CODES, TrustError } from '../../errors.js';
import { summarize, waiverSchema } from '../../quarantine/schemas.js';
import { EVENT_TYPES, PRINCIPAL_KINDS, QUARANTINE_STATES } from '../../quarantine/types.js';
import type { AuditEntry, QuarantineEvent } from '../../quarantine/events.js';
import type { StoredPolicy } from '../../quarantine/policy-commands.js';

const opt = <T extends z.ZodType>(t: T) => t.optional();
const state = z.enum(QUARANTINE_STATES);
const count = z.int().nonnegative();

const eventSchema = z.strictObject({
  id: z.string(),
  type: z.enum(EVENT_TYPES),
  repository: z.string(),
  digest: z.string(),
  sequence: count,
  generation: count,
  state,
  from: opt(state),
  at: count,
  tag: opt(z.string()),
  actor: opt(z.string()),
  reason: opt(z.string()),
  acr: opt(z.looseObject({ id: z.string(), timestamp: z.string(), action: z.enum(['quarantine', 'push']), target: z.looseObject({ digest: z.string(), repository: z.string() }) })),
});

const auditSchema = z.strictObject({
  at: count,
  actor: z.string(),
  principalKind: z.enum(PRINCIPAL_KINDS),
  command: z.string(),
  outcome: z.enum(['applied', 'rejected']),
  repository: opt(z.string()),
  digest: opt(z.string()),
  tag: opt(z.string()),
  from: opt(state),
  to: opt(state),
  generation: opt(count),
  policyVersion: z.string(),
  reason: opt(z.string()),
  code: opt(z.enum(ERROR_CODES)),
});

function corrupt(kind: string, row: string, error: z.ZodError): TrustError {
  return new TrustError('ERR_STORE_CORRUPT', `stored ${kind} ${row} is corrupt: ${summarize(error)}`, { check: `stored ${kind}`, path: row, cause: error });
}

/**
 * An outbox row's event, every optional field present (as `undefined` when absent).
 * @throws {TrustError} `ERR_STORE_CORRUPT` when the row is not an event.
 */
export function reviveEvent(raw: unknown, position: number): QuarantineEvent {
  const r = eventSchema.safeParse(raw);
  if (!r.success) throw corrupt('event', `outbox#${position}`, r.error);
  const e = r.data;
  return { ...e, from: e.from, tag: e.tag, actor: e.actor, reason: e.reason, acr: e.acr as QuarantineEvent['acr'] };
}

/**
 * An audit row's entry with its `seq`, every optional field present.
 * @throws {TrustError} `ERR_STORE_CORRUPT` when the row is not an audit entry.
 */
export function reviveAudit(raw: unknown, seq: number): AuditEntry {
  const r = auditSchema.safeParse(raw);
  if (!r.success) throw corrupt('audit entry', `audit#${seq}`, r.error);
  const a = r.data;
  return {
    ...a,
    repository: a.repository,
    digest: a.digest,
    tag: a.tag,
    from: a.from,
    to: a.to,
    generation: a.generation,
    reason: a.reason,
    code: a.code,
    seq,
  };
}

const policySchema = z.strictObject({
  revision: z.int().positive(),
  policyVersion: z.string().min(1),
  settings: z.record(z.string(), z.unknown()),
  waivers: z.array(waiverSchema),
});

/**
 * The registry-wide policy row (policy commands, quarantine.md §6).
 * @throws {TrustError} `ERR_STORE_CORRUPT` when the row is not a stored policy or its revision column disagrees.
 */
export function revivePolicy(raw: unknown, revision: number): StoredPolicy {
  const r = policySchema.safeParse(raw);
  if (!r.success) throw corrupt('policy', `policy@${revision}`, r.error);
  if (r.data.revision !== revision) {
    throw new TrustError('ERR_STORE_CORRUPT', `stored policy row says revision ${r.data.revision} but its column says ${revision}`, { check: 'stored policy', path: `policy@${revision}` });
  }
  return r.data;
}
