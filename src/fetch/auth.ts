/**
 * Registry token auth as docker does it for notary: a `401` with `WWW-Authenticate: Bearer
 * realm=…,service=…` is answered by asking the realm for a token with scope
 * `repository:<GUN>:pull`, anonymously first, then with credentials (options, then the docker
 * config: `auths`, `credHelpers`/`credsStore` via `docker-credential-<name> get`). Tokens are
 * cached for their lifetime and never appear in messages.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { z } from 'zod';
import { TrustError } from '../errors.js';
import type { Transport } from './transport.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Parses `Bearer realm="…",service="…"` (quoted or bare values); undefined for other schemes. */
export function parseBearerChallenge(header: string | undefined): { realm: string; params: Record<string, string> } | undefined {
  if (header === undefined) return undefined;
  const m = /^\s*bearer\s+(.*)$/i.exec(header);
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of (m[1] as string).matchAll(/([A-Za-z_]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g)) {
    params[(p[1] as string).toLowerCase()] = p[2] !== undefined ? p[2].replace(/\\(.)/g, '$1') : (p[3] ?? '');
  }
  const realm = params['realm'];
  if (realm === undefined || realm === '') return undefined;
  return { realm, params };
}

const tokenAnswer = z.object({
  token: z.string().min(1).optional(),
  access_token: z.string().min(1).optional(),
  expires_in: z.number().int().positive().optional(),
});

/** The docker spec's default when a token service names no lifetime. */
const DEFAULT_TOKEN_SECONDS = 60;
const TOKEN_ANSWER_CAP = 1024 * 1024;

const authError = (message: string, cause?: unknown) =>
  new TrustError('ERR_FETCH_AUTH', message, { check: 'token auth', ...(cause === undefined ? {} : { cause }) });

export class TokenAuth {
  private token: { header: string; expiresAt: number } | undefined;
  private credentials: Promise<Credentials | undefined> | undefined;

  private readonly transport: Transport;
  private readonly scope: string;
  private readonly loadCredentials: () => Promise<Credentials | undefined>;
  private readonly allowHttpRealm: boolean;

  /** `allowHttpRealm`: a plain-http realm is accepted only when the notary server itself is plain http (loopback, tests). */
  constructor(transport: Transport, scope: string, loadCredentials: () => Promise<Credentials | undefined>, allowHttpRealm: boolean) {
    this.transport = transport;
    this.scope = scope;
    this.loadCredentials = loadCredentials;
    this.allowHttpRealm = allowHttpRealm;
  }

  /** The `Authorization` header to send, if a live token is cached. */
  current(): string | undefined {
    if (this.token && Date.now() < this.token.expiresAt) return this.token.header;
    this.token = undefined;
    return undefined;
  }

  /**
   * Answers a challenge. `attempt` 0 asks anonymously, 1 with credentials. Returns false when
   * there is nothing more to try.
   */
  async answer(challenge: string | undefined, attempt: number): Promise<boolean> {
    const bearer = parseBearerChallenge(challenge);
    if (!bearer) {
      // A Basic challenge: only credentials can help.
      if (!/^\s*basic\b/i.test(challenge ?? '') || attempt > 0) return false;
      const c = await this.creds();
      if (!c) return false;
      this.token = { header: basic(c), expiresAt: Number.MAX_SAFE_INTEGER };
      return true;
    }
    let creds: Credentials | undefined;
    if (attempt >= 1) {
      creds = await this.creds();
      if (!creds || attempt > 1) return false;
    }
    let realm: URL;
    try {
      realm = new URL(bearer.realm);
    } catch {
      throw authError(`the token realm ${JSON.stringify(bearer.realm)} is not a URL`);
    }
    if (realm.protocol !== 'https:' && !(realm.protocol === 'http:' && this.allowHttpRealm)) {
      throw authError(`refusing the token realm ${realm.origin}: not https`);
    }
    if (bearer.params['service'] !== undefined) realm.searchParams.set('service', bearer.params['service']);
    realm.searchParams.set('scope', this.scope);
    if (creds) realm.searchParams.set('account', creds.username);
    const started = Date.now();
    const a = await this.transport.get(realm, {
      maxBytes: TOKEN_ANSWER_CAP,
      what: 'token',
      ...(creds ? { headers: { authorization: basic(creds) } } : {}),
    });
    if (a.status === 401 || a.status === 403) {
      if (creds) throw authError(`the token service ${realm.origin} refused the credentials of ${creds.username} (HTTP ${a.status})`);
      return true; // anonymous refused: the caller tries again with credentials
    }
    if (a.status !== 200) throw authError(`the token service ${realm.origin} answered HTTP ${a.status}`);
    let parsed: z.infer<typeof tokenAnswer>;
    try {
      parsed = tokenAnswer.parse(JSON.parse(Buffer.from(a.body).toString('utf8')));
    } catch (e) {
      throw authError(`the token service ${realm.origin} sent an answer that is not a token`, e);
    }
    const token = parsed.token ?? parsed.access_token;
    if (token === undefined) throw authError(`the token service ${realm.origin} sent no token`);
    this.token = { header: `Bearer ${token}`, expiresAt: started + 1000 * (parsed.expires_in ?? DEFAULT_TOKEN_SECONDS) };
    return true;
  }

  private creds(): Promise<Credentials | undefined> {
    this.credentials ??= this.loadCredentials();
    return this.credentials;
  }
}

const basic = (c: Credentials) => `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}`;

const dockerConfig = z.object({
  auths: z.record(z.string(), z.object({ auth: z.string().optional(), username: z.string().optional(), password: z.string().optional() })).optional(),
  credsStore: z.string().optional(),
  credHelpers: z.record(z.string(), z.string()).optional(),
});

/** `$DOCKER_CONFIG`, else `~/.docker`. */
export function defaultDockerConfigDir(env: Readonly<Record<string, string | undefined>> = process.env): string {
  const d = env['DOCKER_CONFIG'];
  return d !== undefined && d !== '' ? d : join(homedir(), '.docker');
}

/** The key docker files a registry's credentials under. */
function registryKey(registry: string): string {
  return registry === 'docker.io' || registry === 'index.docker.io' ? 'https://index.docker.io/v1/' : registry;
}

/**
 * Credentials for `registry` (the GUN's first component) from a docker config directory, the
 * way docker looks them up: a per-registry helper, else the global store, else `auths`.
 * A missing or unreadable config means no credentials; a helper that fails does too.
 */
export async function dockerConfigCredentials(registry: string, configDir: string): Promise<Credentials | undefined> {
  let cfg: z.infer<typeof dockerConfig>;
  try {
    cfg = dockerConfig.parse(JSON.parse(readFileSync(join(configDir, 'config.json'), 'utf8')));
  } catch {
    return undefined;
  }
  const key = registryKey(registry);
  const helper = cfg.credHelpers?.[registry] ?? cfg.credHelpers?.[key] ?? cfg.credsStore;
  if (helper !== undefined && /^[A-Za-z0-9_.-]+$/.test(helper)) return credentialHelper(helper, key);
  const entry = cfg.auths?.[key] ?? cfg.auths?.[`https://${registry}`] ?? cfg.auths?.[`http://${registry}`];
  if (!entry) return undefined;
  if (entry.auth !== undefined && entry.auth !== '') {
    const text = Buffer.from(entry.auth, 'base64').toString('utf8');
    const i = text.indexOf(':');
    if (i > 0) return { username: text.slice(0, i), password: text.slice(i + 1) };
  }
  if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
  return undefined;
}

const helperAnswer = z.object({ Username: z.string(), Secret: z.string() });

/** docker's credential-helper protocol: `docker-credential-<name> get`, server URL on stdin, JSON on stdout. */
function credentialHelper(name: string, serverUrl: string): Promise<Credentials | undefined> {
  return new Promise((resolve) => {
    const child = execFile(`docker-credential-${name}`, ['get'], { timeout: 10_000, maxBuffer: 64 * 1024 }, (err, stdout) => {
      if (err) return resolve(undefined);
      try {
        const a = helperAnswer.parse(JSON.parse(stdout));
        resolve(a.Username === '' && a.Secret === '' ? undefined : { username: a.Username, password: a.Secret });
      } catch {
        resolve(undefined);
      }
    });
    child.stdin?.on('error', () => undefined);
    child.stdin?.end(serverUrl);
  });
}
