/**
 * A small docker-style token server for notary-server's `auth: { type: token }`: a throw-away CA
 * (openssl), an ES256 signing certificate issued by it, and JWTs carrying that certificate in
 * `x5c`. Grants what a fixed user list allows; records every request (never its secrets).
 */
import { execFileSync } from 'node:child_process';
import { createPrivateKey, randomBytes, sign, X509Certificate } from 'node:crypto';
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { join } from 'node:path';

export interface TokenRequest {
  service: string | null;
  scope: string | null;
  account: string | null;
  /** `anonymous`, or the user name of valid Basic credentials, or `bad` for wrong ones. */
  who: string;
}

export interface TokenServer {
  realm: string;
  service: string;
  issuer: string;
  caFile: string;
  requests: TokenRequest[];
  stop(): Promise<void>;
}

const b64url = (b: Buffer | string) => Buffer.from(b).toString('base64url');

export interface TokenPolicy {
  users: Record<string, string>;
  /** GUNs anonymous users may pull. */
  publicGuns: readonly string[];
}

export async function startTokenServer(dir: string, policy: TokenPolicy): Promise<TokenServer> {
  mkdirSync(dir, { recursive: true });
  const ossl = (...args: string[]) => execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  const f = (n: string) => join(dir, n);
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('ca.key'));
  ossl('req', '-x509', '-new', '-key', f('ca.key'), '-sha256', '-days', '2', '-subj', '/CN=trustgate token CA',
    '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign', '-out', f('ca.crt'));
  ossl('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', f('signer.key'));
  ossl('req', '-new', '-key', f('signer.key'), '-subj', '/CN=trustgate token signer', '-out', f('signer.csr'));
  ossl('x509', '-req', '-in', f('signer.csr'), '-CA', f('ca.crt'), '-CAkey', f('ca.key'), '-CAcreateserial', '-days', '2', '-sha256', '-out', f('signer.crt'));
  const key = createPrivateKey(readFileSync(f('signer.key')));
  const leafDer = new X509Certificate(readFileSync(f('signer.crt'))).raw;
  const service = 'trustgate-notary';
  const issuer = 'trustgate-token-issuer';
  const requests: TokenRequest[] = [];

  const server: Server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://x');
    let who = 'anonymous';
    const auth = req.headers.authorization;
    if (auth?.startsWith('Basic ')) {
      const [user, pass] = Buffer.from(auth.slice(6), 'base64').toString('utf8').split(':');
      who = user !== undefined && policy.users[user] === pass ? user : 'bad';
    }
    const scope = url.searchParams.get('scope');
    requests.push({ service: url.searchParams.get('service'), scope, account: url.searchParams.get('account'), who });
    if (who === 'bad') {
      res.writeHead(401, { 'content-type': 'application/json' });
      res.end('{"details":"incorrect username or password"}');
      return;
    }
    const access = [];
    const m = /^repository:(.+):([a-z,*]+)$/.exec(scope ?? '');
    if (m) {
      const name = m[1] as string;
      const wanted = (m[2] as string).split(',');
      const actions = who === 'anonymous' ? (policy.publicGuns.includes(name) ? wanted.filter((a) => a === 'pull') : []) : wanted;
      access.push({ type: 'repository', name, actions });
    }
    const now = Math.floor(Date.now() / 1000);
    const header = { typ: 'JWT', alg: 'ES256', x5c: [leafDer.toString('base64')] };
    const claims = { iss: issuer, sub: who, aud: service, exp: now + 300, nbf: now - 10, iat: now, jti: randomBytes(8).toString('hex'), access };
    const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`;
    const sig = sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ token: `${input}.${b64url(sig)}`, expires_in: 300, issued_at: new Date().toISOString() }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const realm = `http://127.0.0.1:${(server.address() as { port: number }).port}/token`;
  return {
    realm,
    service,
    issuer,
    caFile: f('ca.crt'),
    requests,
    stop: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}
