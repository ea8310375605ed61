/**
 * Fuzzing the fetch adapter's inputs (issue 17): fetchTrustData against an in-test HTTP server on
 * 127.0.0.1 that serves the real Notary root-rotation vectors and, for one file (or every copy of
 * it), answers with a fuzzed status, body, framing (Content-Length, Transfer-Encoding, early
 * close) and WWW-Authenticate / Location headers. The server speaks raw HTTP over node:net so
 * that framing can be wrong in ways node:http would not write.
 *
 * Properties: a refusal is a TrustError with a documented code, within the deadline plus slack,
 * and the trust cache and the trusted-state record are byte for byte what they were; a fetch that
 * succeeds committed only files whose `signed` content is the served original's.
 *
 * Quick profile in `npm test`; `npm run fuzz:long` scales it with FUZZ_RUNS (one fetch per run,
 * so this file runs FUZZ_RUNS / 100 of them).
 */
import { cpSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { createHash } from 'node:crypto';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fetchTrustData } from '../../src/fetch/index.js';
import { ERROR_CODES, isTrustError } from '../../src/errors.js';
import { canonicalString } from '../../src/json/canonical.js';
import { parseStrictJson, type JsonObject, type JsonValue } from '../../src/json/strict-parse.js';
import { snapshotTree } from '../fetch/helpers/notary.js';
import { NOTARY } from '../helpers/vectors.js';

const RUNS = Math.max(25, Math.ceil(Number(process.env['FUZZ_RUNS'] ?? 250) / 100));
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
/** Per request and whole fetch: small, so that a hanging answer costs little. */
const TIMEOUT_MS = 250;
const DEADLINE_MS = 1_200;
const TEST_TIMEOUT = Math.max(60_000, RUNS * 3_000);

const ROT = join(NOTARY, 'root-rotation');
const GUN = 'docker.io/acme/rootrot';
const NOW = new Date(JSON.parse(readFileSync(join(ROT, 'expected.json'), 'utf8')).generated_at as string);
const metadataOf = (trustDir: string) => join(trustDir, 'tuf', ...GUN.split('/'), 'metadata');

/** The server's files by request name (`timestamp`, `3.root`, `snapshot.<sha256>`, …). */
const served = new Map<string, Buffer>();
/** Canonical `signed` text per role, of what the server really serves (root: the newest). */
const signedOf: Record<string, string> = {};
for (const f of readdirSync(join(ROT, 'server'))) {
  const bytes = readFileSync(join(ROT, 'server', f));
  const name = f.replace(/\.json$/, '');
  served.set(name, bytes);
  if (/^[a-z]+$/.test(name)) {
    served.set(`${name}.${createHash('sha256').update(bytes).digest('hex')}`, bytes);
    signedOf[name] = canonicalString((parseStrictJson(bytes, name) as JsonObject)['signed'] as JsonValue);
  }
}

type Target = 'timestamp' | 'snapshot' | 'targets' | 'root' | 'numbered-root' | 'token' | 'first';
type Framing = 'length' | 'length-short' | 'length-long' | 'length-bogus' | 'length-twice' | 'chunked' | 'chunked-bad' | 'chunked-and-length' | 'close' | 'gzip' | 'reset';
interface Fault {
  target: Target;
  /** Every matching request, or only the first. */
  always: boolean;
  status: number;
  body: { kind: 'original' } | { kind: 'empty' } | { kind: 'bytes'; bytes: Uint8Array } | { kind: 'edit'; edits: [number, number, 'flip' | 'set' | 'insert' | 'delete' | 'truncate'][] } | { kind: 'other'; name: string } | { kind: 'pad'; n: number };
  framing: Framing;
  authenticate?: string | undefined;
  location?: string | undefined;
  /** Extra raw header lines (names and values fuzzed, CR/LF stripped). */
  extra: [string, string][];
}

interface Answer {
  head: string;
  body: Buffer;
  framing: Framing;
}

/** A raw HTTP/1.1 server: every answer closes its connection unless the framing leaves it hanging. */
class RawServer {
  fault: Fault | undefined;
  hits = 0;
  private readonly srv = net.createServer((s) => this.onSocket(s));
  private readonly sockets = new Set<net.Socket>();
  port = 0;

  async start(): Promise<void> {
    await new Promise<void>((r) => this.srv.listen(0, '127.0.0.1', () => r()));
    this.port = (this.srv.address() as net.AddressInfo).port;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  stop(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    return new Promise((r) => this.srv.close(() => r()));
  }

  private onSocket(s: net.Socket): void {
    this.sockets.add(s);
    s.on('close', () => this.sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d: Buffer) => {
      buf += d.toString('latin1');
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) return;
      const path = (/^[A-Z]+ (\S+) HTTP/.exec(buf)?.[1] ?? '/').split('?')[0] as string;
      buf = '';
      this.answer(s, this.respond(path));
    });
  }

  private matches(target: Target, path: string): boolean {
    const name = /\/_trust\/tuf\/(.+)\.json$/.exec(path)?.[1] ?? '';
    switch (target) {
      case 'first':
        return this.hits === 0;
      case 'token':
        return path === '/token';
      case 'numbered-root':
        return /^\d+\.root$/.test(name);
      case 'root':
        return name === 'root' || name.startsWith('root.');
      default:
        return name === target || name.startsWith(`${target}.`);
    }
  }

  private respond(path: string): Answer {
    const f = this.fault;
    const hit = f !== undefined && this.matches(f.target, path) && (f.always || this.hits === 0);
    const original = this.original(path);
    if (!hit) return plain(original === undefined ? 404 : 200, original ?? Buffer.from('{"errors":[{"code":"METADATA_NOT_FOUND"}]}'));
    this.hits++;
    const fault = f as Fault;
    const lines = [`HTTP/1.1 ${fault.status} Fuzz`, 'Content-Type: application/json'];
    if (fault.authenticate !== undefined) lines.push(`WWW-Authenticate: ${fault.authenticate.replace(/__SELF__/g, this.url)}`);
    if (fault.location !== undefined) lines.push(`Location: ${fault.location.replace(/__SELF__/g, this.url)}`);
    for (const [k, v] of fault.extra) lines.push(`${k}: ${v}`);
    return { head: lines.join('\r\n'), body: fuzzBody(fault.body, original ?? Buffer.alloc(0)), framing: fault.framing };
  }

  private original(path: string): Buffer | undefined {
    if (path === '/token') return Buffer.from('{"token":"fuzz-token","expires_in":60}');
    const m = new RegExp(`^/v2/${GUN}/_trust/tuf/(.+)\\.json$`).exec(path);
    return m ? served.get(m[1] as string) : undefined;
  }

  private answer(s: net.Socket, a: Answer): void {
    const { head, body } = a;
    const send = (h: string, b: Buffer | string, close = true) => {
      s.write(`${h}\r\n\r\n`, 'latin1');
      s.write(b);
      if (close) s.end();
    };
    switch (a.framing) {
      case 'length':
        return send(`${head}\r\nContent-Length: ${body.length}\r\nConnection: close`, body);
      case 'length-short':
        return send(`${head}\r\nContent-Length: ${Math.max(0, body.length - 7)}\r\nConnection: close`, body);
      case 'length-long':
        // Promises more than it sends and keeps the connection open: only a timeout ends it.
        return send(`${head}\r\nContent-Length: ${body.length + 100}`, body, false);
      case 'length-bogus':
        return send(`${head}\r\nContent-Length: -${body.length}x\r\nConnection: close`, body);
      case 'length-twice':
        return send(`${head}\r\nContent-Length: ${body.length}\r\nContent-Length: ${body.length + 1}\r\nConnection: close`, body);
      case 'chunked':
        return send(`${head}\r\nTransfer-Encoding: chunked\r\nConnection: close`, Buffer.concat([chunk(body.subarray(0, 10)), chunk(body.subarray(10)), Buffer.from('0\r\n\r\n')]));
      case 'chunked-bad':
        return send(`${head}\r\nTransfer-Encoding: chunked\r\nConnection: close`, Buffer.concat([Buffer.from(`zz${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')]));
      case 'chunked-and-length':
        return send(`${head}\r\nTransfer-Encoding: chunked\r\nContent-Length: ${body.length}\r\nConnection: close`, Buffer.concat([chunk(body), Buffer.from('0\r\n\r\n')]));
      case 'close':
        return send(`${head}\r\nConnection: close`, body);
      case 'gzip':
        return send(`${head}\r\nTransfer-Encoding: gzip\r\nConnection: close`, body);
      case 'reset':
        s.write(`${head}\r\nContent-Length: ${body.length}\r\n\r\n`, 'latin1');
        s.write(body.subarray(0, body.length >> 1));
        s.destroy();
        return;
    }
  }
}

const chunk = (b: Buffer) => Buffer.concat([Buffer.from(`${b.length.toString(16)}\r\n`), b, Buffer.from('\r\n')]);

function plain(status: number, body: Buffer): Answer {
  return { head: `HTTP/1.1 ${status} ${status === 200 ? 'OK' : 'Not Found'}\r\nContent-Type: application/json`, body, framing: 'length' };
}

function fuzzBody(b: Fault['body'], original: Buffer): Buffer {
  switch (b.kind) {
    case 'original':
      return original;
    case 'empty':
      return Buffer.alloc(0);
    case 'bytes':
      return Buffer.from(b.bytes);
    case 'other':
      return served.get(b.name) ?? Buffer.alloc(0);
    case 'pad':
      return Buffer.concat([original, Buffer.alloc(b.n, 0x20)]);
    case 'edit': {
      let out = Buffer.from(original);
      for (const [pos, byte, op] of b.edits) {
        const at = out.length === 0 ? 0 : pos % out.length;
        if (op === 'flip' && out.length > 0) out[at] = (out[at] as number) ^ (1 << (byte % 8));
        else if (op === 'set' && out.length > 0) out[at] = byte;
        else if (op === 'insert') out = Buffer.concat([out.subarray(0, at), Buffer.from([byte]), out.subarray(at)]);
        else if (op === 'delete') out = Buffer.concat([out.subarray(0, at), out.subarray(at + 1)]);
        else if (op === 'truncate') out = out.subarray(0, at);
      }
      return out;
    }
  }
}

const headerText = fc.string({ maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ''));
const faultArb: fc.Arbitrary<Fault> = fc.record({
  target: fc.constantFrom<Target>('timestamp', 'timestamp', 'snapshot', 'targets', 'root', 'numbered-root', 'token', 'first'),
  always: fc.boolean(),
  status: fc.oneof({ weight: 3, arbitrary: fc.constant(200) }, fc.constantFrom(204, 206, 301, 302, 303, 304, 307, 308, 400, 401, 401, 403, 404, 407, 416, 429, 500, 502, 503), fc.integer({ min: 100, max: 999 })),
  body: fc.oneof(
    fc.constant({ kind: 'original' as const }),
    fc.constant({ kind: 'empty' as const }),
    fc.uint8Array({ maxLength: 64 }).map((bytes) => ({ kind: 'bytes' as const, bytes })),
    fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 }), fc.constantFrom<'flip' | 'set' | 'insert' | 'delete' | 'truncate'>('flip', 'set', 'insert', 'delete', 'truncate')), { minLength: 1, maxLength: 3 }).map((edits) => ({ kind: 'edit' as const, edits })),
    fc.constantFrom(...[...served.keys()].filter((k) => !k.includes('.') || /^\d/.test(k))).map((name) => ({ kind: 'other' as const, name })),
    fc.integer({ min: 1, max: 3 * 1024 * 1024 }).map((n) => ({ kind: 'pad' as const, n })),
  ),
  framing: fc.oneof({ weight: 3, arbitrary: fc.constant<Framing>('length') }, fc.constantFrom<Framing>('length-short', 'length-long', 'length-bogus', 'length-twice', 'chunked', 'chunked-bad', 'chunked-and-length', 'close', 'gzip', 'reset')),
  authenticate: fc.option(
    fc.oneof(
      fc.constantFrom(
        'Bearer realm="__SELF__/token",service="fuzz"',
        'Bearer realm=__SELF__/token',
        'Bearer realm="https://127.0.0.1:1/token"',
        'Bearer realm="ftp://x/token"',
        'Bearer realm="not a url"',
        'Bearer realm=""',
        'Bearer service="x"',
        'Basic realm="fuzz"',
        'Negotiate',
        `Bearer realm="__SELF__/token",scope="${'x'.repeat(2000)}"`,
      ),
      headerText,
    ),
    { nil: undefined },
  ),
  location: fc.option(
    fc.oneof(
      fc.constantFrom(
        `/v2/${GUN}/_trust/tuf/timestamp.json`,
        `__SELF__/v2/${GUN}/_trust/tuf/snapshot.json`,
        'http://localhost:1/x.json',
        'https://127.0.0.1/x.json',
        '//evil.example/x.json',
        '../../../../etc/passwd',
        'http://[::1',
        '',
      ),
      headerText,
    ),
    { nil: undefined },
  ),
  extra: fc.array(fc.tuple(fc.stringMatching(/^[A-Za-z-]{1,12}$/), headerText), { maxLength: 2 }),
});

type Mode = 'fresh' | 'cached-root-v1' | 'recorded';

describe(`fuzzing fetched bytes and HTTP headers (${RUNS} fetches)`, () => {
  const tmp = mkdtempSync(join(tmpdir(), 'trustgate-fetch-fuzz-'));
  const server = new RawServer();
  /** Trust and state directories as each mode starts them. */
  const templates = {} as Record<Mode, { trust: string; state: string }>;
  let n = 0;

  const options = (trustDir: string, stateDir: string, extra: object = {}) => ({
    gun: GUN,
    server: server.url,
    trustDir,
    stateDir,
    now: NOW,
    dockerConfigDir: false as const,
    proxyEnv: {},
    retries: 0,
    backoffMs: 5,
    timeoutMs: TIMEOUT_MS,
    deadlineMs: DEADLINE_MS,
    ...extra,
  });

  const copyOf = (mode: Mode) => {
    const dir = join(tmp, `run-${n++}`);
    cpSync(templates[mode].trust, join(dir, 'trust'), { recursive: true });
    cpSync(templates[mode].state, join(dir, 'state'), { recursive: true });
    return { dir, trust: join(dir, 'trust'), state: join(dir, 'state') };
  };

  beforeAll(async () => {
    await server.start();
    for (const mode of ['fresh', 'cached-root-v1', 'recorded'] as const) {
      const dir = join(tmp, `template-${mode}`);
      templates[mode] = { trust: join(dir, 'trust'), state: join(dir, 'state') };
      mkdirSync(templates[mode].trust, { recursive: true });
      mkdirSync(templates[mode].state, { recursive: true });
      if (mode !== 'fresh') cpSync(metadataOf(join(ROT, 'trust-root-v1')), metadataOf(templates[mode].trust), { recursive: true });
    }
    // The recorded mode starts where a verified fetch left it: root v3 cached, the record written.
    server.fault = undefined;
    await fetchTrustData(options(templates.recorded.trust, templates.recorded.state));
  }, 60_000);

  afterAll(async () => {
    await server.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  it('the unfaulted server: every mode fetches and verifies root v3 (the properties below are not vacuous)', async () => {
    for (const mode of ['fresh', 'cached-root-v1', 'recorded'] as const) {
      const d = copyOf(mode);
      server.fault = undefined;
      const r = await fetchTrustData(options(d.trust, d.state));
      expect(r.repository.root.version, mode).toBe(3);
      expect(r.rootRotated, mode).toBe(mode === 'cached-root-v1');
      rmSync(d.dir, { recursive: true, force: true });
    }
  });

  it('found by this fuzz: a redirect whose Location is not a URL is ERR_FETCH_SERVER (redirect), not a TypeError', async () => {
    const d = copyOf('recorded');
    const before = { cache: snapshotTree(d.trust), state: snapshotTree(d.state) };
    server.fault = { target: 'timestamp', always: true, status: 302, body: { kind: 'empty' }, framing: 'length', location: 'http://[::1', extra: [] };
    server.hits = 0;
    try {
      await expect(fetchTrustData(options(d.trust, d.state))).rejects.toMatchObject({ code: 'ERR_FETCH_SERVER', check: 'redirect', role: 'timestamp' });
    } finally {
      server.fault = undefined;
    }
    expect(server.hits).toBe(1);
    expect(snapshotTree(d.trust)).toEqual(before.cache);
    expect(snapshotTree(d.state)).toEqual(before.state);
  });

  it(
    'one fuzzed answer: a typed refusal with cache and record unchanged, in bounded time, or only original signed content committed',
    async () => {
      let refusals = 0;
      let faulted = 0;
      const codes = new Map<string, number>();
      await fc.assert(
        fc.asyncProperty(fc.constantFrom<Mode>('fresh', 'cached-root-v1', 'recorded'), faultArb, fc.integer({ min: 0, max: 1 }), fc.boolean(), async (mode, fault, retries, withCredentials) => {
          const d = copyOf(mode);
          const before = { cache: snapshotTree(d.trust), state: snapshotTree(d.state) };
          server.fault = fault;
          server.hits = 0;
          const t0 = Date.now();
          let caught: unknown;
          try {
            await fetchTrustData(options(d.trust, d.state, { retries, ...(withCredentials ? { auth: { username: 'fuzz', password: 'pw' } } : {}) }));
          } catch (e) {
            caught = e;
          } finally {
            server.fault = undefined;
          }
          const elapsed = Date.now() - t0;
          if (server.hits > 0) faulted++;
          try {
            // Retries back off within the deadline; slack for a loaded machine.
            expect(elapsed, 'bounded time').toBeLessThan(DEADLINE_MS + 3_000);
            if (caught !== undefined) {
              refusals++;
              const c = String((caught as { code?: unknown }).code);
              codes.set(c, (codes.get(c) ?? 0) + 1);
              expect(isTrustError(caught), String(caught)).toBe(true);
              expect(ERROR_CODES).toContain((caught as { code: string }).code);
              expect(snapshotTree(d.trust), 'cache unchanged after a refusal').toEqual(before.cache);
              expect(snapshotTree(d.state), 'record unchanged after a refusal').toEqual(before.state);
            } else {
              const dir = metadataOf(d.trust);
              for (const role of ['root', 'timestamp', 'snapshot', 'targets']) {
                const doc = parseStrictJson(readFileSync(join(dir, `${role}.json`)), role) as JsonObject;
                expect(canonicalString(doc['signed'] as JsonValue), `${role} committed with changed signed content`).toBe(signedOf[role]);
              }
            }
          } finally {
            rmSync(d.dir, { recursive: true, force: true });
          }
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      // Most faults must refuse; a fuzz in which nothing is refused tests nothing.
      expect(refusals).toBeGreaterThan(0);
      expect(faulted).toBeGreaterThan(RUNS / 3);
      if (process.env['FUZZ_REPORT']) console.log({ faulted, refusals, codes: Object.fromEntries(codes) });
    },
    TEST_TIMEOUT,
  );
});
