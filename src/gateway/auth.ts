/**
 * Who is asking: HTTP basic credentials checked against the configured users (plain or bcrypt
 * passwords, as htpasswd writes them), or the anonymous puller when the config allows it
 * (issue 15.5). A bcrypt check costs tens of milliseconds in pure JS, so a verified credential is
 * remembered under a keyed hash of it, never in clear.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import bcrypt from 'bcryptjs';
import type { GatewayConfig, GatewayRole, GatewayUser } from './config.js';
import { ROLES } from '../quarantine/types.js';
import type { Principal, Role } from '../quarantine/types.js';
import { bearerToken, createTokenIssuer } from './token.js';
import type { TokenIssuer } from './token.js';

/** An authenticated caller: its gateway roles, the machine's principal and its scanner id. */
export interface Caller {
  readonly name: string;
  readonly roles: ReadonlySet<GatewayRole>;
  /** The machine's principal: the quarantine roles among the caller's. */
  readonly principal: Principal;
  readonly scannerId: string | undefined;
}

/** What {@link createAuthenticator} returns for a request. */
export type AuthResult = { readonly ok: true; readonly caller: Caller } | { readonly ok: false };

const MACHINE_ROLES: ReadonlySet<string> = new Set(ROLES);

/** The token subject of the anonymous puller: no user name can be it (names have no ':'). */
export const ANONYMOUS_SUBJECT = ':anonymous';

function callerOf(name: string, roles: readonly GatewayRole[], scannerId: string | undefined): Caller {
  const machine = roles.filter((r): r is Role & GatewayRole => MACHINE_ROLES.has(r));
  return { name, roles: new Set(roles), principal: { id: name, roles: machine }, scannerId };
}

/** The user and password of a `Basic` Authorization header. */
function basicCredentials(header: string | undefined): { user: string; password: string } | undefined {
  const m = /^Basic\s+([A-Za-z0-9+/=]+)\s*$/i.exec(header ?? '');
  if (m?.[1] === undefined) return undefined;
  const text = Buffer.from(m[1], 'base64').toString('utf8');
  const i = text.indexOf(':');
  return i <= 0 ? undefined : { user: text.slice(0, i), password: text.slice(i + 1) };
}

function equalSecret(a: string, b: string, key: Buffer): boolean {
  // Keyed digests have equal lengths, so timingSafeEqual never leaks the password length.
  return timingSafeEqual(createHmac('sha256', key).update(a).digest(), createHmac('sha256', key).update(b).digest());
}

async function passwordMatches(u: GatewayUser, password: string, key: Buffer): Promise<boolean> {
  if (u.password !== undefined) return equalSecret(u.password, password, key);
  return u.passwordHash !== undefined && bcrypt.compare(password, u.passwordHash);
}

/** Authenticates requests against `config.users` and `config.anonymous`. */
export interface Authenticator {
  /**
   * The caller of a request with this `Authorization` header (undefined: none sent). In token
   * mode only the token endpoint takes basic credentials; every other request needs a token.
   */
  authenticate(authorization: string | undefined, now: number, forTokenEndpoint?: boolean): Promise<AuthResult>;
  /** The `WWW-Authenticate` challenge of a 401, for a gateway reachable at `self`. */
  challenge(self: string, scope: string | undefined): string;
  readonly tokens: TokenIssuer;
}

/** Builds the authenticator; verified credentials are cached for the process's life, up to 10 000. */
export function createAuthenticator(config: GatewayConfig): Authenticator {
  const key = randomBytes(32);
  const users = new Map(config.users.map((u) => [u.name, u]));
  const callers = new Map(config.users.map((u) => [u.name, callerOf(u.name, u.roles, u.scannerId)]));
  const verified = new Map<string, Caller>();
  const anonymous = config.anonymous ? callerOf(ANONYMOUS_SUBJECT, ['pull'], undefined) : undefined;
  const tokens = createTokenIssuer(config.auth.tokenSecret, config.auth.tokenTtlSeconds);
  const tokenMode = config.auth.mode === 'token';
  return {
    tokens,
    challenge: (self, scope) =>
      tokenMode
        ? `Bearer realm="${self}/token",service="${config.auth.service}"${scope === undefined ? '' : `,scope="${scope}"`}`
        : `Basic realm="${config.auth.service}"`,
    async authenticate(authorization, now, forTokenEndpoint = false) {
      if (authorization === undefined) return anonymous === undefined ? { ok: false } : { ok: true, caller: anonymous };
      const token = bearerToken(authorization);
      if (token !== undefined) {
        const sub = tokens.verify(token, now);
        const caller = sub === ANONYMOUS_SUBJECT ? anonymous : callers.get(sub ?? '');
        return caller === undefined ? { ok: false } : { ok: true, caller };
      }
      if (tokenMode && !forTokenEndpoint) return { ok: false };
      const creds = basicCredentials(authorization);
      if (creds === undefined) return { ok: false };
      const cacheKey = createHmac('sha256', key).update(`${creds.user}\0${creds.password}`).digest('base64');
      const hit = verified.get(cacheKey);
      if (hit !== undefined) return { ok: true, caller: hit };
      const u = users.get(creds.user);
      if (u === undefined || !(await passwordMatches(u, creds.password, key))) return { ok: false };
      const caller = callers.get(u.name) as Caller;
      if (verified.size >= 10_000) verified.clear();
      verified.set(cacheKey, caller);
      return { ok: true, caller };
    },
  };
}

/** Whether `caller` may read (GET/HEAD) repository content at all; the machine decides what it sees. */
export function canRead(caller: Caller): boolean {
  return ['pull', 'push', 'quarantine-reader', 'quarantine-writer'].some((r) => caller.roles.has(r as GatewayRole));
}
