/**
 * The `rejected` audit record every refused input leaves (quarantine.md §5 Q4, Q22).
 *
 * @module
 */
import type { TrustError } from '../errors.js';
import type { AuditDraft } from './events.js';
import { principalKind } from './principals.js';
import { principalSchema } from './schemas.js';
import type { DigestRecord, Principal } from './types.js';

/**
 * What {@link rejectionAudit} needs besides the rejected input: when, where, under which policy,
 * and the records as the rejection saw them.
 *
 * @internal
 */
export interface RejectionContext {
  readonly at: number;
  /** `undefined` when the input named no valid repository. */
  readonly repository: string | undefined;
  readonly policyVersion: string;
  readonly lookup: (digest: string) => DigestRecord | undefined;
  /** The audit `command`; defaults to the input's `type`. */
  readonly command?: string | undefined;
}

/**
 * The `rejected` audit record of an input refused with `e` (Q4). `raw` is the input as received,
 * so every string taken from it is capped at 512 characters; `principal` is the caller when known
 * (its kind is recorded), else the actor is taken from `raw.principal.id`.
 *
 * @internal
 */
export function rejectionAudit(ctx: RejectionContext, raw: unknown, principal: Principal | undefined, e: TrustError): AuditDraft {
  const o = (typeof raw === 'object' && raw !== null ? raw : {}) as Record<string, unknown>;
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v.slice(0, 512) : undefined);
  const rawP = (typeof o['principal'] === 'object' && o['principal'] !== null ? o['principal'] : {}) as Record<string, unknown>;
  const digest = str(o['digest']);
  const rec = digest === undefined ? undefined : ctx.lookup(digest);
  return {
    at: ctx.at,
    actor: str(principal?.id) ?? str(rawP['id']) ?? 'unknown',
    principalKind: principal !== undefined ? principalKind(principal) : kindOf(o['principal']),
    command: ctx.command ?? str(o['type']) ?? 'unknown',
    outcome: 'rejected',
    repository: ctx.repository,
    digest,
    tag: str(o['tag']),
    from: rec?.state,
    to: rec?.state,
    generation: rec?.generation,
    policyVersion: ctx.policyVersion,
    reason: e.message,
    code: e.code,
  };
}

/**
 * The kind of the caller as far as the input names valid roles: a malformed command from a writer
 * is still a writer's (issue 12); an input with no valid roles is an ordinary caller's.
 */
function kindOf(principal: unknown): AuditDraft['principalKind'] {
  const roles = principalSchema.shape.roles.safeParse(typeof principal === 'object' && principal !== null ? (principal as { roles?: unknown }).roles : undefined);
  return roles.success ? principalKind({ id: '', roles: roles.data }) : 'ordinary';
}
