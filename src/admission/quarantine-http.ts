/**
 * Quarantine over HTTP: a {@link QuarantineReader} that asks a registry whether a digest may be
 * pulled, through ACR's manifest attributes API, `GET /acr/v1/<repo>/_manifests/<digest>`
 * (quarantine.md §1.5 step 4), as trustgate's own gateway serves it from `acrAttributes`
 * (src/quarantine/acr.ts). The answer is read from `quarantineState`, wherever ACR or the gateway
 * puts it: `manifest.changeableAttributes`, `manifest`, `changeableAttributes` or the top level.
 *
 * Visible means visible to an ordinary puller (quarantine.md §1.7: a quarantined digest is
 * disallowed to anyone without AcrQuarantineReader): `Passed`, or `Released` while the release
 * lasts at the decision time (quarantine.md §5, Q18: expiry is exact). Every other state, every
 * error, a non-JSON answer, a missing digest and no answer within the timeout are "not visible":
 * the reader fails closed.
 *
 * @module
 */
import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { TrustError } from '../errors.js';
import type { QuarantineAccessResult, QuarantineQuery, QuarantineReader } from './sources.js';

/** Credentials for the registry: HTTP basic, or a bearer token. */
export type QuarantineCredentials = { username: string; password: string } | { token: string };

export interface HttpQuarantineReaderOptions {
  /** The registry's base URL, e.g. `https://registry.example.com`. */
  url: string;
  /** Per question, in milliseconds (default 2000); no answer by then is "not visible". */
  timeoutMs?: number;
  credentials?: QuarantineCredentials;
  /** Extra CA certificates (PEM) for https. */
  tlsCa?: string;
  /** Maps a query to the registry's repository name; default: the registry-local path. */
  repositoryFor?: (query: QuarantineQuery) => string;
}

/** Largest attributes document read, in bytes. */
const MAX_ANSWER_BYTES = 256 * 1024;
const DIGEST_RE = /^sha256:[0-9a-f]{64}$/;

interface Answer {
  status: number;
  body: string;
}

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);

/** One GET with a hard timeout covering connect, headers and body. */
function get(url: URL, headers: Record<string, string>, timeoutMs: number, ca: string | undefined): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
    const req = send(url, { method: 'GET', headers, ...(ca === undefined ? {} : { ca }) }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_ANSWER_BYTES) req.destroy(new Error(`answer larger than ${MAX_ANSWER_BYTES} bytes`));
        else chunks.push(c);
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    const timer = setTimeout(() => req.destroy(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs);
    req.on('close', () => clearTimeout(timer));
    req.on('error', reject);
    req.end();
  });
}

/** The attributes object holding `quarantineState`, in ACR's or the gateway's layout. */
function attributesOf(doc: unknown): JsonObject | undefined {
  if (!isObject(doc)) return undefined;
  const manifest = doc['manifest'];
  const candidates = [isObject(manifest) ? manifest['changeableAttributes'] : undefined, manifest, doc['changeableAttributes'], doc];
  return candidates.find((c): c is JsonObject => isObject(c) && typeof c['quarantineState'] === 'string');
}

/** The end of a release, from the details `acrAttributes` writes (`released until <ISO> by …`). */
function releasedUntil(details: unknown): number | undefined {
  if (typeof details !== 'string') return undefined;
  try {
    const state: unknown = (JSON.parse(details) as JsonObject)['state'];
    const m = typeof state === 'string' ? /^released until (\S+) by /.exec(state) : null;
    const t = m ? Date.parse(m[1] as string) : Number.NaN;
    return Number.isNaN(t) ? undefined : t;
  } catch {
    return undefined;
  }
}

/** The verdict for one 200 answer. */
function verdict(body: string, digest: string, now: Date): QuarantineAccessResult {
  let doc: unknown;
  try {
    doc = JSON.parse(body);
  } catch {
    return { visible: false, reason: 'the registry answered with something that is not JSON' };
  }
  const attrs = attributesOf(doc);
  if (attrs === undefined) return { visible: false, reason: 'the registry answer has no quarantineState' };
  const state = attrs['quarantineState'] as string;
  if (state === 'Passed') return { visible: true, digest };
  if (state === 'Released') {
    const until = releasedUntil(attrs['quarantineDetails']);
    if (until !== undefined && now.getTime() < until) return { visible: true, digest };
    return { visible: false, reason: 'the release has lapsed or names no end', state };
  }
  return { visible: false, reason: `the registry reports ${state}`, state };
}

function authorization(c: QuarantineCredentials | undefined): Record<string, string> {
  if (c === undefined) return {};
  if ('token' in c) return { authorization: `Bearer ${c.token}` };
  return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password}`, 'utf8').toString('base64')}` };
}

/**
 * A {@link QuarantineReader} over a registry's `GET /acr/v1/<repo>/_manifests/<digest>`.
 *
 * @example
 * ```ts
 * const quarantine = httpQuarantineReader({ url: 'https://registry.example.com', credentials: { token }, timeoutMs: 1500 });
 * createAdmissionServer({ policy, sources: { trust, quarantine }, tls });
 * ```
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` for a URL that is not http(s)
 */
export function httpQuarantineReader(opts: HttpQuarantineReaderOptions): QuarantineReader {
  let base: URL;
  try {
    base = new URL(opts.url);
  } catch {
    throw new TrustError('ERR_INVALID_ARGUMENT', `quarantine URL ${JSON.stringify(opts.url)} is not a URL`);
  }
  if (base.protocol !== 'https:' && base.protocol !== 'http:') throw new TrustError('ERR_INVALID_ARGUMENT', `quarantine URL must be http or https, not ${base.protocol}`);
  const timeoutMs = opts.timeoutMs ?? 2_000;
  const headers = { accept: 'application/json', ...authorization(opts.credentials) };
  return {
    async access(query) {
      const digest = query.digest;
      if (digest === undefined || !DIGEST_RE.test(digest)) return { visible: false, reason: 'quarantine over HTTP is asked by digest, and there is none' };
      const repository = opts.repositoryFor ? opts.repositoryFor(query) : query.path;
      const path = `acr/v1/${repository.split('/').map(encodeURIComponent).join('/')}/_manifests/${digest}`;
      const url = new URL(path, base.href.endsWith('/') ? base.href : `${base.href}/`);
      let answer: Answer;
      try {
        answer = await get(url, headers, timeoutMs, opts.tlsCa);
      } catch (e) {
        return { visible: false, reason: `the registry did not answer: ${(e as Error).message}` };
      }
      if (answer.status === 200) return verdict(answer.body, digest, query.now);
      if (answer.status === 404) return { visible: false, reason: 'the registry does not know the digest' };
      return { visible: false, reason: `the registry answered HTTP ${answer.status}` };
    },
  };
}
