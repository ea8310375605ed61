/**
 * Azure Container Registry compatibility: `PATCH /acr/v1/<repo>/_manifests/<digest>` bodies
 * mapped to verdicts, and the attributes a `GET` on the same path returns.
 *
 * quarantine.md §1.3/§1.5: ACR's PATCH is a blind last-writer-wins write. Here it needs an `If-Match`
 * generation (see {@link acrEtag}) and an `Idempotency-Key`, unless the documented
 * `legacyLastWriterWins` mode is on. In that mode a body without `If-Match` applies to the open
 * generation, or opens a new one, so the last PATCH wins, stale ones included: use it only for a
 * single scanner that cannot send headers.
 *
 * @module
 */
import { z } from 'zod';
import { TrustError } from '../errors.js';
import { sha256Hex } from './ids.js';
import { summarize } from './schemas.js';
import type { CommandInput } from './schemas.js';
import type { DigestRecord, Finding, Principal } from './types.js';

/**
 * The PATCH body ACR documents (`quarantineState` is `Passed` or `Failed`).
 *
 * @example
 * ```ts
 * acrPatchBodySchema.parse({ quarantineState: 'Passed', quarantineDetails: '{"state":"scan passed"}' });
 * ```
 */
export const acrPatchBodySchema = z.strictObject({
  quarantineState: z.enum(['Passed', 'Failed']),
  quarantineDetails: z.string().max(65_536).optional(),
});

/**
 * ACR's `quarantine-details/schema.json` (draft-04): no extra top-level members; `result`
 * requires `version` and a `summary` of at most 5 severity counts.
 *
 * @example
 * ```ts
 * acrQuarantineDetailsSchema.parse({ scanner: 'trivy', state: 'scan passed',
 *   result: { version: '0.0.1', summary: [{ severity: 'High', count: 0 }] } });
 * ```
 */
export const acrQuarantineDetailsSchema = z.strictObject({
  scanner: z.string().optional(),
  state: z.string().optional(),
  link: z.string().optional(),
  result: z
    .looseObject({
      version: z.string(),
      summary: z
        .array(
          z.looseObject({
            severity: z.enum(['Critical', 'High', 'Medium', 'Low', 'None']).optional(),
            count: z.int().optional(),
          }),
        )
        .max(5),
      description: z.string().max(1024).optional(),
    })
    .optional(),
});

/**
 * ACR quarantine details, parsed.
 *
 * @example
 * ```ts
 * const d: AcrQuarantineDetails = { state: 'scan passed', link: 'https://scanner/report/1' };
 * ```
 */
export type AcrQuarantineDetails = z.output<typeof acrQuarantineDetailsSchema>;

/**
 * One PATCH as the registry received it.
 *
 * @example
 * ```ts
 * const req: AcrPatchRequest = { repository: 'app', digest: 'sha256:ab', body: { quarantineState: 'Passed' },
 *   ifMatch: '"g1"', idempotencyKey: 'scan-1', principal: { id: 'trivy-bot', roles: ['quarantine-writer'] }, scannerId: 'trivy' };
 * ```
 */
export interface AcrPatchRequest {
  readonly repository: string;
  readonly digest: string;
  readonly body: unknown;
  readonly ifMatch?: string | undefined;
  readonly idempotencyKey?: string | undefined;
  readonly principal: Principal;
  /** The registered scanner id; falls back to `quarantineDetails.scanner`. */
  readonly scannerId?: string | undefined;
}

/**
 * The ETag for a generation, as sent with GET and expected in `If-Match`.
 *
 * @example
 * ```ts
 * import { acrEtag } from 'trustgate/quarantine';
 * acrEtag(3); // '"g3"'
 * ```
 */
export function acrEtag(generation: number): string {
  return `"g${generation}"`;
}

/**
 * Parses an `If-Match` value produced by {@link acrEtag} (weak form accepted).
 *
 * @throws {TrustError} `ERR_INVALID_COMMAND` when the value is not such an ETag.
 * @example
 * ```ts
 * import { parseAcrEtag } from 'trustgate/quarantine';
 * parseAcrEtag('W/"g3"'); // 3
 * ```
 */
export function parseAcrEtag(value: string): number {
  const m = /^(?:W\/)?"g([1-9][0-9]{0,14})"$/.exec(value.trim());
  if (m?.[1] === undefined) throw new TrustError('ERR_INVALID_COMMAND', 'If-Match is not a quarantine generation ETag', { check: 'If-Match' });
  return Number(m[1]);
}

function parseDetails(raw: string | undefined): AcrQuarantineDetails {
  if (raw === undefined) return {};
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch (e) {
    throw new TrustError('ERR_INVALID_COMMAND', 'quarantineDetails is not JSON', { check: 'quarantineDetails', cause: e });
  }
  const r = acrQuarantineDetailsSchema.safeParse(json);
  if (!r.success) {
    throw new TrustError('ERR_INVALID_COMMAND', `quarantineDetails does not match ACR's schema: ${summarize(r.error)}`, {
      check: 'quarantineDetails',
      cause: r.error,
    });
  }
  return r.data;
}

/** Severity counts become findings so that a findings policy can judge ACR summaries. */
function summaryFindings(d: AcrQuarantineDetails): Finding[] {
  const out: Finding[] = [];
  for (const item of d.result?.summary ?? []) {
    if (item.severity === undefined || item.count === undefined) continue;
    const n = Math.min(Math.max(item.count, 0), 1000);
    for (let i = 1; i <= n; i++) out.push({ id: `acr-summary:${item.severity}:${i}`, severity: item.severity });
  }
  return out;
}

/**
 * Maps an ACR PATCH to a verdict command.
 *
 * @throws {TrustError} `ERR_INVALID_COMMAND` for a body or `quarantineDetails` that does not
 *   validate, a missing scanner id, or a missing `If-Match` / `Idempotency-Key` outside legacy mode.
 * @example
 * ```ts
 * import { acrPatchToVerdict } from 'trustgate/quarantine';
 * const cmd = acrPatchToVerdict(req, { legacyLastWriterWins: false, currentGeneration: 1 });
 * cmd.generation; // from If-Match
 * ```
 */
export function acrPatchToVerdict(
  req: AcrPatchRequest,
  options: { readonly legacyLastWriterWins: boolean; readonly currentGeneration: number | undefined },
): Extract<CommandInput, { type: 'verdict' }> {
  const body = acrPatchBodySchema.safeParse(req.body);
  if (!body.success) {
    throw new TrustError('ERR_INVALID_COMMAND', `invalid ACR PATCH body: ${summarize(body.error)}`, { cause: body.error });
  }
  const details = parseDetails(body.data.quarantineDetails);
  const scannerId = req.scannerId ?? details.scanner;
  if (scannerId === undefined) throw new TrustError('ERR_INVALID_COMMAND', 'no scanner id', { check: 'scanner' });
  let generation: number | undefined;
  if (req.ifMatch !== undefined) generation = parseAcrEtag(req.ifMatch);
  else if (!options.legacyLastWriterWins) {
    throw new TrustError('ERR_INVALID_COMMAND', 'If-Match with the scan generation is required', { check: 'If-Match' });
  }
  let idempotencyKey = req.idempotencyKey;
  if (idempotencyKey === undefined) {
    if (!options.legacyLastWriterWins) {
      throw new TrustError('ERR_INVALID_COMMAND', 'Idempotency-Key is required', { check: 'Idempotency-Key' });
    }
    const h = sha256Hex(JSON.stringify(body.data));
    idempotencyKey = `acr-legacy:${options.currentGeneration ?? 0}:${h}`;
  }
  return {
    type: 'verdict',
    repository: req.repository,
    digest: req.digest,
    principal: req.principal,
    scannerId,
    idempotencyKey,
    ...(generation !== undefined ? { generation } : {}),
    result: body.data.quarantineState === 'Passed' ? 'pass' : 'fail',
    findings: summaryFindings(details),
    ...(details.link !== undefined ? { link: details.link } : {}),
  };
}

/**
 * The attributes for `GET /acr/v1/<repo>/_manifests/<digest>`. `quarantineState` is the record's
 * state string: ACR's for `Quarantined`/`Passed`/`Failed`; `Unresolved` and `Released` are
 * neither `Passed` nor `Failed` to an ACR client (quarantine.md §6). `quarantineDetails` conforms to ACR's schema.
 *
 * @example
 * ```ts
 * import { acrAttributes } from 'trustgate/quarantine';
 * declare const rec: DigestRecord;
 * res.setHeader('ETag', acrAttributes(rec).etag);
 * ```
 */
export function acrAttributes(rec: DigestRecord): { quarantineState: string; quarantineDetails: string; etag: string } {
  const link = [...rec.verdicts].reverse().find((v) => v.link !== undefined)?.link;
  const state =
    rec.state === 'Released' && rec.release !== undefined
      ? `released until ${new Date(rec.release.expiresAt).toISOString()} by ${rec.release.actor}: ${rec.release.reason}`
      : rec.state === 'Unresolved'
        ? `unresolved: ${rec.unresolvedReason ?? 'unknown'}`
        : rec.scanOpen
          ? `scan pending (generation ${rec.generation})`
          : `scan ${rec.state.toLowerCase()}`;
  const details: AcrQuarantineDetails = { state, ...(link !== undefined ? { link } : {}) };
  return { quarantineState: rec.state, quarantineDetails: JSON.stringify(details), etag: acrEtag(rec.generation) };
}
