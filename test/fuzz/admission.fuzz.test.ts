/**
 * Fuzzing AdmissionReview bodies (issue 17): the fixtures of every workload kind, mutated field by
 * field (kinds, operations, subresources, container lists, images drawn from signed, unsigned and
 * malformed references), answered by `handleAdmissionReview` in-process and by the webhook server
 * over loopback HTTPS with fuzzed methods, paths, content types and bytes.
 *
 * Properties: the handler returns a well-formed AdmissionReview (uid echoed, a 403 status on every
 * deny) or throws ERR_INVALID_ARGUMENT; it never allows a review whose judged containers hold an
 * image that is not signed (an independent oracle below says which reviews are judged); a pin
 * patch only ever names the digest the real Notary client resolves. The server answers 200 with
 * such a review or a 4xx, never a 5xx.
 *
 * Quick profile in `npm test`; `npm run fuzz:long` scales it with FUZZ_RUNS (FUZZ_RUNS / 20 reviews
 * in-process, a fifth of that over HTTPS).
 */
import { rmSync } from 'node:fs';
import { request } from 'node:https';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createAdmissionServer, handleAdmissionReview, parsePolicy } from '../../src/admission/index.js';
import { isTrustError } from '../../src/errors.js';
import { assertInChunks } from './chunked.js';
import { BASIC, DELEG, decodePatch, digestOf, fixture, HUB, NOW, selfSignedCert, vectorTrust } from '../admission/helpers.js';
import { closeServer, listenLocal } from '../helpers/listen.js';

const RUNS = Math.max(125, Math.ceil(Number(process.env['FUZZ_RUNS'] ?? 250) / 20));
const HTTP_RUNS = Math.max(25, Math.ceil(RUNS / 5));
const SEED = process.env['FUZZ_SEED'] === undefined ? undefined : Number(process.env['FUZZ_SEED']);
const TIMEOUT = Math.max(60_000, RUNS * 40);

/** Images docker's resolution finds signed (targets/releases, then targets), with the digest the real client resolves. */
const SIGNED: Record<string, string> = {
  'docker.io/acme/hub:v1': `docker.io/acme/hub@${digestOf(HUB, 'v1')}`,
  'acme/hub': `docker.io/acme/hub@${digestOf(HUB, 'latest')}`,
  'index.docker.io/acme/deleg:v2': `docker.io/acme/deleg@${digestOf(DELEG, 'v2')}`,
  'acme/deleg:latest': `docker.io/acme/deleg@${digestOf(DELEG, 'latest')}`,
  'acme/app:v1': `docker.io/acme/app@${digestOf(BASIC, 'v1')}`,
  [`docker.io/acme/app@${digestOf(BASIC, 'v1')}`]: `docker.io/acme/app@${digestOf(BASIC, 'v1')}`,
};
const ZERO = `sha256:${'0'.repeat(64)}`;
/** Images that must never be allowed under the policy below. */
const UNSIGNED = [
  'acme/hub:nope',
  'docker.io/acme/unknown:v1',
  'alpine',
  'docker.io/library/alpine:3.20',
  `acme/hub@${ZERO}`,
  `acme/hub:v1@${ZERO}`,
  `acme/hub:v1@${digestOf(HUB, 'latest')}`,
  'ACME/hub:v1',
  '',
  ' acme/hub:v1',
  'acme/hub:v1 ',
  'acme/hub:v1\n',
  'docker.io/acme/hub/../deleg:v1',
  'docker.io/acme/deleg:alice-1',
  'quay.io/acme/hub:v1',
  'acme/hub:' + 'x'.repeat(200),
  'acme/hub@sha256:abc',
];
const imageArb = fc.oneof(fc.constantFrom(...Object.keys(SIGNED)), fc.constantFrom(...UNSIGNED), fc.string({ maxLength: 30 }));

const FIXTURES = ['pod.json', 'deployment.json', 'cronjob.json', 'daemonset.json', 'job.json', 'replicaset.json', 'statefulset.json', 'configmap.json', 'pod-denied.json'].map((f) => fixture(f));

/** Enforce mode, no break-glass: nothing but a signed image may pass. */
const policy = parsePolicy({ rules: [{ images: 'docker.io/acme/**' }], default: { action: 'deny' } });
const sources = { trust: vectorTrust() };

// ---------------------------------------------------------------------------------------------
// The oracle: which reviews a pre-pull webhook must judge, written from Kubernetes' API shapes
// (the pod spec of a Pod, the template of the workload kinds), independently of kubernetes.ts.

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
const isObj = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);
const TEMPLATE_KINDS = new Set(['apps/Deployment', 'apps/StatefulSet', 'apps/DaemonSet', 'apps/ReplicaSet', 'batch/Job', '/ReplicationController']);

function podSpecOf(req: Record<string, Json>): Record<string, Json> | undefined {
  const kind = req['kind'];
  if (!isObj(kind)) return undefined;
  const key = `${typeof kind['group'] === 'string' ? kind['group'] : ''}/${typeof kind['kind'] === 'string' ? kind['kind'] : ''}`;
  const sub = req['subResource'];
  if (!(sub === undefined || sub === '' || (key === '/Pod' && sub === 'ephemeralcontainers'))) return undefined;
  if (req['operation'] !== 'CREATE' && req['operation'] !== 'UPDATE') return undefined;
  const get = (v: Json | undefined, ...path: string[]) => path.reduce<Json | undefined>((c, k) => (isObj(c) ? c[k] : undefined), v);
  const spec =
    key === '/Pod' ? get(req['object'], 'spec')
    : TEMPLATE_KINDS.has(key) ? get(req['object'], 'spec', 'template', 'spec')
    : key === 'batch/CronJob' ? get(req['object'], 'spec', 'jobTemplate', 'spec', 'template', 'spec')
    : undefined;
  return isObj(spec) ? spec : undefined;
}

/** Unsigned images in the containers of the judged pod spec that are not also somewhere in oldObject. */
function unsignedImagesJudged(review: Json): string[] {
  if (!isObj(review) || !isObj(review['request'])) return [];
  const req = review['request'];
  const spec = podSpecOf(req);
  if (spec === undefined) return [];
  const old = req['operation'] === 'UPDATE' ? JSON.stringify(req['oldObject'] ?? null) : '';
  const out: string[] = [];
  for (const list of ['initContainers', 'containers', 'ephemeralContainers']) {
    const cs = spec[list];
    if (!Array.isArray(cs)) continue;
    for (const c of cs) {
      if (!isObj(c) || typeof c['image'] !== 'string') continue;
      const image = c['image'];
      if (!Object.hasOwn(SIGNED, image) && !old.includes(JSON.stringify(image))) out.push(image);
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Mutations.

type Edit = { path: number[]; op: 'delete' | 'replace' | 'wrap' | 'image'; value: Json };
const leaf: fc.Arbitrary<Json> = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer(),
  fc.string({ maxLength: 12 }),
  fc.constantFrom<Json>('CREATE', 'UPDATE', 'DELETE', 'CONNECT', 'Pod', 'Deployment', 'CronJob', 'apps', 'batch', '', 'ephemeralcontainers', 'status', 'admission.k8s.io/v1beta1', [], {}),
  imageArb,
);

function edit(v: Json, e: Edit, image: string, depth = 0): Json {
  if (!isObj(v) && !Array.isArray(v)) return e.op === 'wrap' ? [v] : e.op === 'image' ? image : e.value;
  const keys: (string | number)[] = Array.isArray(v) ? v.map((_, i) => i) : Object.keys(v);
  if (keys.length === 0) return e.value;
  const k = keys[(e.path[depth] ?? 0) % keys.length] as string | number;
  const stop = depth >= e.path.length - 1;
  const child = (v as Record<string | number, Json>)[k] as Json;
  const next = stop ? (e.op === 'wrap' ? [child] : e.op === 'image' ? image : e.value) : edit(child, e, image, depth + 1);
  if (Array.isArray(v)) {
    const copy = [...v];
    if (stop && e.op === 'delete') copy.splice(k as number, 1);
    else copy[k as number] = next;
    return copy;
  }
  const copy: Record<string, Json> = { ...v };
  if (stop && e.op === 'delete') delete copy[k as string];
  else copy[k as string] = next;
  return copy;
}

/** Sets every container image of a fixture's pod spec (where it has one) from `images`, cycling. */
function withImages(review: Json, images: string[]): Json {
  const copy = structuredClone(review);
  let i = 0;
  const walk = (v: Json) => {
    if (Array.isArray(v)) v.forEach(walk);
    else if (isObj(v)) {
      for (const [k, x] of Object.entries(v)) {
        if (k === 'image' && typeof x === 'string' && images.length > 0) v[k] = images[i++ % images.length] as string;
        else walk(x);
      }
    }
  };
  walk(copy);
  return copy;
}

const reviewArb = fc
  .tuple(
    fc.constantFrom(...FIXTURES),
    fc.array(imageArb, { minLength: 1, maxLength: 4 }),
    fc.array(fc.record({ path: fc.array(fc.nat(), { minLength: 1, maxLength: 8 }), op: fc.constantFrom<Edit['op']>('delete', 'replace', 'wrap', 'image', 'image'), value: leaf }), { maxLength: 3 }),
    imageArb,
    fc.boolean(),
  )
  .map(([f, images, edits, image, asUpdate]) => {
    let r = withImages(f as Json, images);
    if (asUpdate && isObj(r) && isObj(r['request'])) r = { ...r, request: { ...r['request'], operation: 'UPDATE', oldObject: withImages(r['request']['object'] ?? null, [images[0] as string]) } };
    for (const e of edits) r = edit(r, e as Edit, image);
    return r;
  });

/** The checks every answered review must pass. */
function checkAnswer(input: Json, review: unknown, mutate: boolean): void {
  expect(isObj(review)).toBe(true);
  const out = review as { apiVersion: unknown; kind: unknown; response: Record<string, unknown> };
  expect(out.apiVersion).toBe('admission.k8s.io/v1');
  expect(out.kind).toBe('AdmissionReview');
  const uid = ((input as { request: { uid: string } }).request).uid;
  expect(out.response['uid']).toBe(uid);
  expect(typeof out.response['allowed']).toBe('boolean');
  const unsigned = unsignedImagesJudged(input);
  if (out.response['allowed'] === true) {
    expect(unsigned, 'allowed a review with an unsigned image').toEqual([]);
  } else {
    expect(out.response['status']).toMatchObject({ code: 403, reason: 'Forbidden' });
  }
  const patch = decodePatch(out.response['patch'] as string | undefined);
  if (!mutate) expect(patch).toEqual([]);
  for (const op of patch) {
    expect(op.op).toBe('replace');
    expect(Object.values(SIGNED), `patch pins ${String(op.value)}`).toContain(op.value);
  }
}

describe(`fuzzing AdmissionReview bodies (${RUNS} in-process, ${HTTP_RUNS} over HTTPS)`, () => {
  const tls = selfSignedCert();
  const server = createAdmissionServer({ policy, sources, tls: { cert: tls.cert, key: tls.key }, maxBodyBytes: 256 * 1024, clock: () => NOW, log: () => undefined });
  let port = 0;

  beforeAll(async () => {
    port = await listenLocal(server);
  });
  afterAll(async () => {
    await closeServer(server);
    rmSync(tls.dir, { recursive: true, force: true });
  });

  it('the oracle is not vacuous: the signed pod is allowed and pinned, an unsigned image in it is denied', async () => {
    const pod = withImages(fixture('pod.json') as Json, ['docker.io/acme/hub:v1', 'acme/app:v1']);
    const ok = await handleAdmissionReview(pod, { policy, sources, now: NOW, mutate: true });
    expect(ok.review.response.allowed).toBe(true);
    expect(decodePatch(ok.review.response.patch).map((p) => p.value)).toContain(SIGNED['docker.io/acme/hub:v1']);
    const bad = withImages(pod, ['docker.io/acme/hub:v1', 'acme/hub:nope']);
    expect(unsignedImagesJudged(bad)).toEqual(['acme/hub:nope', 'acme/hub:nope']);
    expect((await handleAdmissionReview(bad, { policy, sources, now: NOW })).review.response.allowed).toBe(false);
  });

  it(
    'handleAdmissionReview: a well-formed review that never allows an unsigned judged image, or ERR_INVALID_ARGUMENT',
    async () => {
      const seen = { allowedJudged: 0, deniedUnsigned: 0 };
      await fc.assert(
        fc.asyncProperty(reviewArb, fc.boolean(), async (review, mutate) => {
          let result;
          try {
            result = await handleAdmissionReview(review, { policy, sources, now: NOW, mutate });
          } catch (e) {
            expect(isTrustError(e) && e.code === 'ERR_INVALID_ARGUMENT', String(e)).toBe(true);
            return;
          }
          checkAnswer(review, result.review, mutate);
          if (result.review.response.allowed && result.decisions.length > 0) seen.allowedJudged++;
          if (!result.review.response.allowed && unsignedImagesJudged(review).length > 0) seen.deniedUnsigned++;
        }),
        { numRuns: RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
      // Both outcomes occur, so the mutations reach the decision rather than only the envelope check.
      expect(seen.allowedJudged).toBeGreaterThan(0);
      expect(seen.deniedUnsigned).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it('byte-level edits of a serialized review: the same properties (JSON text in, not values)', async () => {
    const texts = FIXTURES.map((f) => Buffer.from(JSON.stringify(withImages(f as Json, ['acme/hub:nope', 'docker.io/acme/hub:v1']))));
    await assertInChunks(
      fc.asyncProperty(fc.constantFrom(...texts), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 3 }), async (text, edits) => {
        const out = Buffer.from(text);
        for (const [pos, byte] of edits) out[pos % out.length] = byte;
        let parsed: Json | undefined;
        try {
          parsed = JSON.parse(out.toString('utf8')) as Json;
        } catch {
          parsed = undefined;
        }
        let result;
        try {
          result = await handleAdmissionReview(out, { policy, sources, now: NOW, mutate: true });
        } catch (e) {
          expect(isTrustError(e) && e.code === 'ERR_INVALID_ARGUMENT', String(e)).toBe(true);
          return;
        }
        expect(parsed).toBeDefined();
        checkAnswer(parsed as Json, result.review, true);
      }) as never,
      RUNS, SEED,
    );
  }, TIMEOUT);

  it(
    'the webhook server: 200 with a well-formed review (same properties) or a 4xx, never a 5xx',
    async () => {
      const send = (method: string, path: string, type: string | undefined, body: Buffer) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = request(
            { host: '127.0.0.1', port, method, path, ca: tls.cert, agent: false, headers: { ...(type === undefined ? {} : { 'content-type': type }), 'content-length': body.length } },
            (res) => {
              const chunks: Buffer[] = [];
              res.on('data', (c: Buffer) => chunks.push(c));
              res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
            },
          );
          req.on('error', reject);
          req.end(method === 'GET' || method === 'HEAD' ? undefined : body);
        });
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('POST', 'POST', 'POST', 'GET', 'PUT', 'DELETE', 'PATCH', 'OPTIONS'),
          fc.constantFrom('/validate', '/mutate', '/validate?x=1', '/mutate/', '/', '/healthz', '/VALIDATE', '/../validate', '//validate', '/validate%00'),
          fc.option(fc.constantFrom('application/json', 'Application/JSON; charset=utf-8', 'application/json-patch+json', 'text/plain', '', 'application/json;'), { nil: undefined }),
          fc.oneof(reviewArb.map((r) => Buffer.from(JSON.stringify(r))), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b)), fc.constant(Buffer.alloc(300 * 1024, 0x20))),
          async (method, path, type, body) => {
            const r = await send(method, path, type, body);
            expect(r.status, r.body).toBeLessThan(500);
            if (r.status !== 200 || method !== 'POST' || !/^\/(validate|mutate)(\?|$)/.test(path)) return;
            checkAnswer(JSON.parse(body.toString('utf8')) as Json, JSON.parse(r.body), path.startsWith('/mutate'));
          },
        ),
        { numRuns: HTTP_RUNS, ...(SEED === undefined ? {} : { seed: SEED }) },
      );
    },
    TIMEOUT,
  );
});
