/**
 * The Distribution token flow (distribution-spec "Authentication", docker's token auth): with
 * `auth.mode: "token"` a 401 carries `WWW-Authenticate: Bearer realm="<gateway>/token",service=…`,
 * the client trades its basic credentials at that realm for a short-lived token, and sends it as
 * `Authorization: Bearer`. Tokens are the gateway's own, `<claims>.<HMAC-SHA256>` in base64url;
 * they name the user, whose roles are read from the config on every request, so a scope in the
 * request never widens what a role allows.
 *
 * @module
 */
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { z } from 'zod';

/** Issues and checks tokens under one key (configured, so that replicas agree, or random per process). */
export interface TokenIssuer {
  issue(subject: string, now: number): { token: string; expiresIn: number; issuedAt: string };
  /** The subject of a valid, unexpired token, else undefined. */
  verify(token: string, now: number): string | undefined;
}

const claimsSchema = z.strictObject({ sub: z.string().min(1), iat: z.int(), exp: z.int() });

/** A token issuer; `ttlSeconds` bounds each token's life. */
export function createTokenIssuer(secret: string | undefined, ttlSeconds: number): TokenIssuer {
  const key = secret === undefined ? randomBytes(32) : Buffer.from(secret, 'utf8');
  const sign = (payload: string) => createHmac('sha256', key).update(payload).digest('base64url');
  return {
    issue(subject, now) {
      const iat = Math.floor(now / 1000);
      const payload = Buffer.from(JSON.stringify({ sub: subject, iat, exp: iat + ttlSeconds })).toString('base64url');
      return { token: `${payload}.${sign(payload)}`, expiresIn: ttlSeconds, issuedAt: new Date(iat * 1000).toISOString() };
    },
    verify(token, now) {
      const [payload, mac, extra] = token.split('.');
      if (payload === undefined || mac === undefined || extra !== undefined) return undefined;
      const want = Buffer.from(sign(payload));
      const got = Buffer.from(mac);
      if (want.length !== got.length || !timingSafeEqual(want, got)) return undefined;
      let claims: unknown;
      try {
        claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
      } catch {
        return undefined;
      }
      const c = claimsSchema.safeParse(claims);
      return c.success && c.data.exp * 1000 > now ? c.data.sub : undefined;
    },
  };
}

/** The `Bearer` token of an Authorization header. */
export function bearerToken(header: string | undefined): string | undefined {
  return /^Bearer\s+([A-Za-z0-9_.-]+)\s*$/i.exec(header ?? '')?.[1];
}
