/**
 * The gateway's configuration file (`trustgate gateway --config FILE`, JSON): users and their
 * roles, anonymous pull, the quarantine machine's policy, webhooks and upstream credentials.
 * Validated with zod; an error names the field (README "Registry gateway").
 *
 * @module
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { TrustError } from '../errors.js';
import { configSchema, summarize } from '../quarantine/schemas.js';

/**
 * The roles a gateway user may hold. `pull` reads what the machine makes visible; `push` writes
 * manifests and blobs; the quarantine roles are the machine's own (quarantine.md §1.4).
 */
export const GATEWAY_ROLES = ['pull', 'push', 'quarantine-reader', 'quarantine-writer', 'overrider', 'quarantine-admin'] as const;

/** A role a gateway user may hold; see {@link GATEWAY_ROLES}. */
export type GatewayRole = (typeof GATEWAY_ROLES)[number];

/** `$2a$`/`$2b$`/`$2y$` bcrypt, as `htpasswd -B` writes it. */
const BCRYPT_RE = /^\$2[aby]\$[0-9]{2}\$[./A-Za-z0-9]{53}$/;

const userSchema = z
  .strictObject({
    name: z.string().min(1).max(256).regex(/^[^:\s]+$/, 'must not contain ":" or white space'),
    password: z.string().min(1).max(1024).optional(),
    passwordHash: z.string().regex(BCRYPT_RE, 'must be a bcrypt hash ($2y$…)').optional(),
    roles: z.array(z.enum(GATEWAY_ROLES)).max(GATEWAY_ROLES.length),
    /** The scanner id this user's ACR PATCHes are recorded under (quarantine.md §1.5). */
    scannerId: z.string().min(1).max(256).optional(),
  })
  .refine((u) => (u.password === undefined) !== (u.passwordHash === undefined), {
    message: 'exactly one of password and passwordHash is required',
    path: ['password'],
  });

const webhookSchema = z.strictObject({
  url: z.url({ protocol: /^https?$/ }),
  /** The HMAC-SHA256 key of the `X-Trustgate-Signature` header. */
  secret: z.string().min(16).max(1024),
  /** ACR webhook actions (quarantine.md §1.6). */
  events: z.array(z.enum(['push', 'quarantine'])).min(1).max(2),
});

/**
 * The configuration file's schema.
 *
 * @example
 * ```ts
 * gatewayConfigSchema.parse({ users: [{ name: 'ci', password: 'secret', roles: ['push'] }], quarantine: { scanners: ['trivy'] } });
 * ```
 */
export const gatewayConfigSchema = z
  .strictObject({
    users: z.array(userSchema).max(10_000).default([]),
    /** Pull without credentials; off by default (issue 15.5). */
    anonymous: z.boolean().default(false),
    quarantine: configSchema,
    webhooks: z.array(webhookSchema).max(64).default([]),
    /**
     * `basic` challenges for HTTP basic credentials; `token` for the Distribution token flow at
     * `<gateway>/token` (tokens signed with `tokenSecret`, random per process when absent).
     */
    auth: z
      .strictObject({
        mode: z.enum(['basic', 'token']).default('basic'),
        service: z.string().min(1).max(255).default('trustgate'),
        tokenSecret: z.string().min(32).max(1024).optional(),
        tokenTtlSeconds: z.int().min(30).max(3600).default(300),
      })
      .default({ mode: 'basic', service: 'trustgate', tokenTtlSeconds: 300 }),
    /** The gateway's own credentials for the upstream registry; clients' credentials never go upstream. */
    upstream: z.strictObject({ username: z.string().min(1), password: z.string() }).optional(),
  })
  .refine((c) => new Set(c.users.map((u) => u.name)).size === c.users.length, { message: 'user names must be unique', path: ['users'] });

/** The parsed configuration. */
export type GatewayConfig = z.output<typeof gatewayConfigSchema>;
/** A configured user. */
export type GatewayUser = GatewayConfig['users'][number];
/** A configured webhook. */
export type WebhookConfig = GatewayConfig['webhooks'][number];
/** What callers may pass (defaults optional). */
export type GatewayConfigInput = z.input<typeof gatewayConfigSchema>;

/**
 * Validates a configuration value.
 *
 * @throws {TrustError} `ERR_GATEWAY_CONFIG`, naming the first invalid fields.
 * @example
 * ```ts
 * const c = parseGatewayConfig({ quarantine: { scanners: ['trivy'] } });
 * c.anonymous; // false
 * ```
 */
export function parseGatewayConfig(input: unknown): GatewayConfig {
  const r = gatewayConfigSchema.safeParse(input);
  if (r.success) return r.data;
  throw new TrustError('ERR_GATEWAY_CONFIG', `invalid gateway config: ${summarize(r.error)}`, { cause: r.error });
}

/**
 * Reads and validates a configuration file.
 *
 * @throws {TrustError} `ERR_GATEWAY_CONFIG` when the file cannot be read, is not JSON or does not validate.
 */
export function loadGatewayConfig(path: string): GatewayConfig {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, 'utf8'));
  } catch (e) {
    throw new TrustError('ERR_GATEWAY_CONFIG', `cannot read gateway config ${path}: ${(e as Error).message}`, { path, cause: e });
  }
  return parseGatewayConfig(json);
}
