/**
 * zod schemas for everything that crosses the module boundary: configuration, commands and
 * stored records. The core never trusts a value that did not pass through one of these.
 *
 * @module
 */
import { z } from 'zod';
import { TrustError } from '../errors.js';
import { ROLES, SCANNER_RESULTS, SEVERITIES } from './types.js';

/** OCI distribution repository name grammar. */
const REPOSITORY_RE = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
/**
 * A digest with an OCI registered algorithm (OCI image-spec descriptor.md "Registered algorithms"):
 * `sha256` with 64 and `sha512` with 128 lowercase hex digits. The general grammar admits more
 * (`sha256:0`, upper case), but a digest the registry cannot verify must not name a record
 * (issue 12.5).
 */
const DIGEST_RE = /^(?:sha256:[a-f0-9]{64}|sha512:[a-f0-9]{128})$/;
/** OCI tag grammar. */
const TAG_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;

/** Epoch milliseconds. */
export const time = z.int().nonnegative();
const nonBlank = z.string().max(4096).refine((s) => s.trim().length > 0, 'must not be blank');

/**
 * A repository name (`team/app`).
 *
 * @example
 * ```ts
 * repositorySchema.parse('team/app');
 * ```
 */
export const repositorySchema = z.string().max(255).regex(REPOSITORY_RE, 'invalid repository name');

/**
 * A content digest (`sha256:…`).
 *
 * @example
 * ```ts
 * digestSchema.parse('sha256:' + 'a'.repeat(64));
 * ```
 */
export const digestSchema = z.string().max(135).regex(DIGEST_RE, 'invalid digest: expected sha256 (64) or sha512 (128) lowercase hex');

/**
 * A tag (`v1.2.3`).
 *
 * @example
 * ```ts
 * tagSchema.parse('latest');
 * ```
 */
export const tagSchema = z.string().regex(TAG_RE, 'invalid tag');

/**
 * A principal: an id and its roles.
 *
 * @example
 * ```ts
 * principalSchema.parse({ id: 'ci', roles: ['push'] });
 * ```
 */
export const principalSchema = z.strictObject({
  id: z.string().min(1).max(512),
  roles: z.array(z.enum(ROLES)).max(ROLES.length).readonly(),
});

/**
 * A finding. `severity` is any string: unknown values rank highest rather than being refused.
 *
 * @example
 * ```ts
 * findingSchema.parse({ id: 'CVE-2024-1', severity: 'High' });
 * ```
 */
export const findingSchema = z.strictObject({
  id: z.string().min(1).max(512),
  severity: z.string().max(64),
  fixable: z.boolean().optional(),
  package: z.string().max(512).optional(),
});

/**
 * A waiver: scope, reason, author and a required expiry.
 *
 * @example
 * ```ts
 * waiverSchema.parse({ id: 'w1', findingId: 'CVE-1', scope: { kind: 'registry' }, reason: 'n/a',
 *   author: 'sec', createdAt: 0, expiresAt: 1000 });
 * ```
 */
export const waiverSchema = z
  .strictObject({
    id: z.string().min(1).max(256),
    findingId: z.string().min(1).max(512),
    scope: z.discriminatedUnion('kind', [
      z.strictObject({ kind: z.literal('digest'), repository: repositorySchema, digest: digestSchema }),
      z.strictObject({ kind: z.literal('repository'), repository: repositorySchema }),
      z.strictObject({ kind: z.literal('registry') }),
    ]),
    reason: nonBlank,
    author: nonBlank,
    ticket: z.string().max(512).optional(),
    createdAt: time,
    expiresAt: time,
  })
  .refine((w) => w.expiresAt > w.createdAt, { message: 'expiresAt must be after createdAt', path: ['expiresAt'] });

const DAY = 86_400_000;

/**
 * Quarantine policy and behaviour switches. Every field except `scanners` has a default.
 *
 * @example
 * ```ts
 * configSchema.parse({ scanners: ['trivy'] }).scanDeadlineMs; // 1_800_000
 * ```
 */
export const configSchema = z
  .strictObject({
    /** Registered scanner ids; verdicts from any other id are rejected (Q4). */
    scanners: z.array(z.string().min(1).max(256)).min(1).max(64),
    quorum: z
      .discriminatedUnion('mode', [
        z.strictObject({ mode: z.literal('all') }),
        z.strictObject({ mode: z.literal('k-of-n'), k: z.int().min(1) }),
      ])
      .default({ mode: 'all' }),
    /** With `true`, one failing scanner fails the generation (Q20 `anyFail ⇒ Failed`). */
    anyFailFails: z.boolean().default(true),
    evaluation: z
      .discriminatedUnion('mode', [
        z.strictObject({ mode: z.literal('verdict') }),
        z.strictObject({
          mode: z.literal('findings'),
          threshold: z.enum(SEVERITIES),
          fixableOnly: z.boolean().default(false),
        }),
      ])
      .default({ mode: 'verdict' }),
    waivers: z.array(waiverSchema).max(10_000).default([]),
    scanDeadlineMs: z.int().positive().default(30 * 60_000),
    maxRetries: z.int().min(0).max(100).default(2),
    onNewFindings: z.enum(['block', 'alert']).default('block'),
    maxReleaseTtlMs: z.int().positive().default(7 * DAY),
    maxWaiverTtlMs: z.int().positive().default(90 * DAY),
    separationOfDuties: z.boolean().default(false),
    hideExistence: z.boolean().default(true),
    onUnverifiedRetag: z.enum(['keepPrevious', 'hideTag']).default('keepPrevious'),
    /**
     * ACR's `quarantinePolicy.status`. `disabled` makes the registry a plain one (Q23): every
     * pushed manifest is served at once, tags follow the newest push, and every push fires a
     * `push` event; scans, verdicts, releases and revokes are still recorded, so that enabling
     * later keeps what has passed visible and hides the rest. Default `enabled` (ACR's default is
     * `disabled`; this library exists to quarantine).
     */
    status: z.enum(['enabled', 'disabled']).default('enabled'),
    /** ACR adapter: accept PATCH bodies without a generation, last writer wins. Off by default. */
    legacyLastWriterWins: z.boolean().default(false),
    policyVersion: z.string().min(1).max(128).default('1'),
  })
  .superRefine((c, ctx) => {
    if (new Set(c.scanners).size !== c.scanners.length) {
      ctx.addIssue({ code: 'custom', message: 'scanner ids must be unique', path: ['scanners'] });
    }
    if (c.quorum.mode === 'k-of-n' && c.quorum.k > c.scanners.length) {
      ctx.addIssue({ code: 'custom', message: 'k exceeds the number of scanners', path: ['quorum', 'k'] });
    }
    c.waivers.forEach((w, i) => {
      if (w.expiresAt - w.createdAt > c.maxWaiverTtlMs) {
        ctx.addIssue({ code: 'custom', message: 'waiver lifetime exceeds maxWaiverTtlMs', path: ['waivers', i, 'expiresAt'] });
      }
    });
  });

/**
 * A validated configuration, defaults filled in.
 *
 * @example
 * ```ts
 * const c: QuarantineConfig = parseConfig({ scanners: ['trivy'] });
 * ```
 */
export type QuarantineConfig = z.output<typeof configSchema>;

/**
 * What callers may pass as configuration (defaults optional).
 *
 * @example
 * ```ts
 * const input: QuarantineConfigInput = { scanners: ['trivy', 'grype'], quorum: { mode: 'all' } };
 * ```
 */
export type QuarantineConfigInput = z.input<typeof configSchema>;

/**
 * Validates a configuration and fills in defaults.
 *
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` when the configuration is not valid.
 * @example
 * ```ts
 * import { parseConfig } from 'trustgate/quarantine';
 * const config = parseConfig({ scanners: ['trivy'], onNewFindings: 'alert' });
 * ```
 */
export function parseConfig(input: unknown): QuarantineConfig {
  const r = configSchema.safeParse(input);
  if (!r.success) {
    throw new TrustError('ERR_INVALID_ARGUMENT', `invalid quarantine config: ${summarize(r.error)}`, { cause: r.error });
  }
  return r.data;
}

const base = { repository: repositorySchema, principal: principalSchema };

/**
 * The registry request behind a push, as ACR's webhook payloads carry it (quarantine.md §1.6):
 * its id, the Host the client addressed, the method and the User-Agent.
 *
 * @example
 * ```ts
 * requestInfoSchema.parse({ id: '7f0c…', host: 'registry.example:5000', method: 'PUT', useragent: 'skopeo/1.9' });
 * ```
 */
export const requestInfoSchema = z.strictObject({
  id: z.string().min(1).max(128),
  host: z.string().max(255),
  method: z.string().min(1).max(16),
  useragent: z.string().max(1024),
});

/**
 * A manifest push (optionally tagging it).
 *
 * @example
 * ```ts
 * pushSchema.parse({ type: 'push', repository: 'app', digest: 'sha256:ab', principal: { id: 'ci', roles: ['push'] } });
 * ```
 */
export const pushSchema = z.strictObject({
  type: z.literal('push'),
  ...base,
  digest: digestSchema,
  tag: tagSchema.optional(),
  kind: z.enum(['image', 'index']).default('image'),
  /** For an index: the child manifests. */
  children: z.array(digestSchema).max(1024).default([]),
  /** For a referrer (signature, SBOM, scan report): the manifest it refers to. */
  subject: digestSchema.optional(),
  mediaType: z.string().max(255).optional(),
  size: z.int().nonnegative().optional(),
  /** The HTTP request of the push, carried into the ACR payloads of its events (§1.6). */
  request: requestInfoSchema.optional(),
});

/**
 * Deletion of a manifest (its verdict is retained, Q10).
 *
 * @example
 * ```ts
 * deleteManifestSchema.parse({ type: 'deleteManifest', repository: 'app', digest: 'sha256:ab', principal: { id: 'ci', roles: ['push'] } });
 * ```
 */
export const deleteManifestSchema = z.strictObject({ type: z.literal('deleteManifest'), ...base, digest: digestSchema });

/**
 * Deletion of a tag.
 *
 * @example
 * ```ts
 * deleteTagSchema.parse({ type: 'deleteTag', repository: 'app', tag: 'v1', principal: { id: 'ci', roles: ['push'] } });
 * ```
 */
export const deleteTagSchema = z.strictObject({ type: z.literal('deleteTag'), ...base, tag: tagSchema });

/**
 * A rescan request: opens a new generation.
 *
 * @example
 * ```ts
 * rescanSchema.parse({ type: 'rescan', repository: 'app', digest: 'sha256:ab', principal: { id: 's', roles: ['quarantine-writer'] } });
 * ```
 */
export const rescanSchema = z.strictObject({
  type: z.literal('rescan'),
  ...base,
  digest: digestSchema,
  reason: z.string().max(4096).optional(),
});

/**
 * A scanner verdict. `generation` is required unless `legacyLastWriterWins` is on.
 *
 * @example
 * ```ts
 * verdictSchema.parse({ type: 'verdict', repository: 'app', digest: 'sha256:ab', generation: 1, scannerId: 'trivy',
 *   idempotencyKey: 'k1', result: 'pass', principal: { id: 's', roles: ['quarantine-writer'] } });
 * ```
 */
export const verdictSchema = z.strictObject({
  type: z.literal('verdict'),
  ...base,
  digest: digestSchema,
  generation: z.int().positive().optional(),
  scannerId: z.string().min(1).max(256),
  idempotencyKey: z.string().min(1).max(256),
  result: z.enum(SCANNER_RESULTS),
  findings: z.array(findingSchema).max(100_000).default([]),
  link: z.string().max(2048).optional(),
});

/**
 * A manual, time-boxed release by an overrider.
 *
 * @example
 * ```ts
 * releaseSchema.parse({ type: 'release', repository: 'app', digest: 'sha256:ab', reason: 'INC-1', expiresAt: 3_600_000,
 *   principal: { id: 'alice', roles: ['overrider'] } });
 * ```
 */
export const releaseSchema = z.strictObject({
  type: z.literal('release'),
  ...base,
  digest: digestSchema,
  reason: nonBlank,
  expiresAt: time,
});

/**
 * A manual revocation by an overrider.
 *
 * @example
 * ```ts
 * revokeSchema.parse({ type: 'revoke', repository: 'app', digest: 'sha256:ab', reason: 'CVE-2024-1',
 *   principal: { id: 'alice', roles: ['overrider'] } });
 * ```
 */
export const revokeSchema = z.strictObject({ type: z.literal('revoke'), ...base, digest: digestSchema, reason: nonBlank });

/**
 * A clock evaluation: applies deadlines, release lapses and waiver expiries up to `now`.
 *
 * @example
 * ```ts
 * tickSchema.parse({ type: 'tick', repository: 'app' });
 * ```
 */
export const tickSchema = z.strictObject({ type: z.literal('tick'), repository: repositorySchema });

/**
 * Any command the core accepts.
 *
 * @example
 * ```ts
 * commandSchema.safeParse({ type: 'tick', repository: 'app' }).success; // true
 * ```
 */
export const commandSchema = z.discriminatedUnion('type', [
  pushSchema,
  deleteManifestSchema,
  deleteTagSchema,
  rescanSchema,
  verdictSchema,
  releaseSchema,
  revokeSchema,
  tickSchema,
]);

/**
 * A validated command.
 *
 * @example
 * ```ts
 * const c: Command = { type: 'tick', repository: 'app' };
 * ```
 */
export type Command = z.output<typeof commandSchema>;

/**
 * A command as callers write it (defaults optional).
 *
 * @example
 * ```ts
 * const c: CommandInput = { type: 'push', repository: 'app', digest: 'sha256:ab', principal: { id: 'ci', roles: ['push'] } };
 * ```
 */
export type CommandInput = z.input<typeof commandSchema>;

/** One line per issue: `path: message`. */
export function summarize(error: z.ZodError): string {
  return error.issues
    .slice(0, 5)
    .map((i) => `${i.path.length > 0 ? i.path.join('.') : '(root)'}: ${i.message}`)
    .join('; ');
}
