/**
 * Policy and waivers as audited commands (quarantine.md §5 Q5, Q22; §6 "Policy commands"):
 * `setPolicy`, `addWaiver` and `revokeWaiver` change the registry-wide policy row, are checked for
 * the `quarantine-admin` role, give the policy a new version, and leave one audit record naming
 * who changed it, when, and from which version to which. Pure: the service loads the row, applies
 * the command here and commits the result with compare-and-set.
 *
 * @module
 */
import { z } from 'zod';
import { TrustError, isTrustError } from '../errors.js';
import type { AuditDraft } from './events.js';
import { hasRole, principalKind } from './principals.js';
import { rejectionAudit } from './rejection.js';
import { configSchema, parseConfig, principalSchema, summarize, waiverSchema } from './schemas.js';
import type { QuarantineConfig, QuarantineConfigInput } from './schemas.js';
import type { Principal, Waiver } from './types.js';

const reason = z.string().max(4096).refine((s) => s.trim().length > 0, 'must not be blank');

/** A policy change: configuration fields to set (not `policyVersion`, not `waivers`). */
export const setPolicySchema = z.strictObject({
  type: z.literal('setPolicy'),
  principal: principalSchema,
  policy: z.record(z.string(), z.unknown()).refine((p) => !('policyVersion' in p) && !('waivers' in p), {
    message: 'policyVersion is assigned by the command and waivers change through addWaiver/revokeWaiver',
  }),
  reason,
});

/** A new waiver. */
export const addWaiverSchema = z.strictObject({ type: z.literal('addWaiver'), principal: principalSchema, waiver: waiverSchema });

/** The end of a waiver before its expiry. */
export const revokeWaiverSchema = z.strictObject({
  type: z.literal('revokeWaiver'),
  principal: principalSchema,
  waiverId: z.string().min(1).max(256),
  reason,
});

const policyCommandSchema = z.discriminatedUnion('type', [setPolicySchema, addWaiverSchema, revokeWaiverSchema]);

/** A policy command as callers write it. */
export type PolicyCommandInput = z.input<typeof policyCommandSchema>;
type PolicyCommand = z.output<typeof policyCommandSchema>;

/**
 * The stored policy row: the configuration fields changed by `setPolicy`, the waivers, and a
 * revision that guards it with compare-and-set.
 */
export interface StoredPolicy {
  readonly revision: number;
  readonly policyVersion: string;
  readonly settings: Readonly<Record<string, unknown>>;
  readonly waivers: readonly Waiver[];
}

/** The configuration in force: the service's base configuration with the stored policy over it. */
export function effectiveConfig(base: QuarantineConfigInput, row: StoredPolicy | undefined): QuarantineConfig {
  if (row === undefined) return parseConfig(base);
  return parseConfig({ ...base, ...row.settings, waivers: row.waivers, policyVersion: row.policyVersion });
}

/** The result of a policy command: the new row and its audit record, or the rejection's. */
export type PolicyResult =
  | { readonly ok: true; readonly row: StoredPolicy; readonly config: QuarantineConfig; readonly audit: AuditDraft }
  | { readonly ok: false; readonly audit: AuditDraft; readonly error: TrustError };

function refuse(code: TrustError['code'], message: string, check: string): never {
  throw new TrustError(code, message, { check });
}

/** The row after `c`, before validation of the configuration it yields. */
function nextRow(current: QuarantineConfig, row: StoredPolicy | undefined, c: PolicyCommand): StoredPolicy {
  const revision = (row?.revision ?? 0) + 1;
  const base = { revision, policyVersion: `${current.policyVersion.split('+')[0]}+${revision}`, settings: row?.settings ?? {}, waivers: current.waivers };
  switch (c.type) {
    case 'setPolicy':
      return { ...base, settings: { ...base.settings, ...c.policy } };
    case 'addWaiver':
      if (current.waivers.some((w) => w.id === c.waiver.id)) refuse('ERR_CONFLICT', `waiver ${c.waiver.id} exists`, 'waiver id');
      return { ...base, waivers: [...current.waivers, c.waiver] };
    case 'revokeWaiver':
      if (!current.waivers.some((w) => w.id === c.waiverId)) refuse('ERR_NOT_FOUND', `unknown waiver ${c.waiverId}`, 'waiver id');
      return { ...base, waivers: current.waivers.filter((w) => w.id !== c.waiverId) };
  }
}

function what(c: PolicyCommand): string {
  if (c.type === 'setPolicy') return `${Object.keys(c.policy).sort().join(', ')}: ${c.reason}`;
  if (c.type === 'addWaiver') return `waiver ${c.waiver.id} for ${c.waiver.findingId}: ${c.waiver.reason}`;
  return `waiver ${c.waiverId}: ${c.reason}`;
}

/**
 * Applies a policy command to the stored row. The new configuration is validated as a whole
 * (Q4: an invalid policy is refused and changes nothing).
 */
export function applyPolicyCommand(
  base: QuarantineConfigInput,
  row: StoredPolicy | undefined,
  raw: unknown,
  now: number,
): PolicyResult {
  const current = effectiveConfig(base, row);
  const parsed = policyCommandSchema.safeParse(raw);
  const principal: Principal | undefined = parsed.success ? parsed.data.principal : undefined;
  try {
    if (!parsed.success) throw new TrustError('ERR_INVALID_COMMAND', `invalid policy command: ${summarize(parsed.error)}`, { cause: parsed.error });
    const c = parsed.data;
    if (!hasRole(c.principal, 'quarantine-admin')) {
      throw new TrustError('ERR_UNAUTHORIZED', `principal ${c.principal.id} lacks role quarantine-admin`, { expected: 'quarantine-admin' });
    }
    const next = nextRow(current, row, c);
    const checked = configSchema.safeParse({ ...base, ...next.settings, waivers: next.waivers, policyVersion: next.policyVersion });
    if (!checked.success) throw new TrustError('ERR_INVALID_COMMAND', `invalid policy: ${summarize(checked.error)}`, { cause: checked.error });
    const audit: AuditDraft = {
      at: now,
      actor: c.principal.id,
      principalKind: principalKind(c.principal),
      command: c.type,
      outcome: 'applied',
      repository: undefined,
      digest: undefined,
      tag: undefined,
      from: undefined,
      to: undefined,
      generation: undefined,
      policyVersion: next.policyVersion,
      reason: `policy ${current.policyVersion} → ${next.policyVersion}: ${what(c)}`,
      code: undefined,
    };
    return { ok: true, row: next, config: checked.data, audit };
  } catch (e) {
    if (!isTrustError(e)) throw e;
    const ctx = { at: now, repository: undefined, policyVersion: current.policyVersion, lookup: () => undefined };
    return { ok: false, audit: rejectionAudit(ctx, raw, principal, e), error: e };
  }
}
