import { describe, expect, it } from 'vitest';
import { handleAdmissionReview, parsePolicy } from '../../src/admission/index.js';
import { parseReference } from '../../src/reference/parse.js';
import { applyJsonPatchForTests, decodePatch, DELEG, digestOf, fixture, HUB, NOW, vectorTrust } from './helpers.js';

const trust = vectorTrust();
const policy = parsePolicy({
  breakGlass: { annotation: 'trustgate.io/break-glass' },
  rules: [{ images: 'docker.io/acme/**' }],
  default: { action: 'deny' },
});
const run = (review: unknown, mutate: boolean, p: unknown = policy) => handleAdmissionReview(review, { policy: p, sources: { trust }, mutate, now: NOW });

/** Pod spec pointer per fixture (where the test expects the images). */
const WORKLOADS: Array<[file: string, specPath: string[]]> = [
  ['pod.json', ['spec']],
  ['deployment.json', ['spec', 'template', 'spec']],
  ['statefulset.json', ['spec', 'template', 'spec']],
  ['daemonset.json', ['spec', 'template', 'spec']],
  ['replicaset.json', ['spec', 'template', 'spec']],
  ['job.json', ['spec', 'template', 'spec']],
  ['cronjob.json', ['spec', 'jobTemplate', 'spec', 'template', 'spec']],
];

function podSpec(review: Record<string, unknown>, path: readonly string[]): Record<string, Array<{ image: string }>> {
  let cur: unknown = (review['request'] as Record<string, unknown>)['object'];
  for (const k of path) cur = (cur as Record<string, unknown>)[k];
  return cur as Record<string, Array<{ image: string }>>;
}

const images = (spec: Record<string, Array<{ image: string }>>) =>
  ['initContainers', 'containers', 'ephemeralContainers'].flatMap((l) => (spec[l] ?? []).map((c) => c.image));

/** What each image in the fixtures must resolve to (from the vectors' expected.json). */
const EXPECTED: Record<string, string> = {
  'docker.io/acme/hub:v1': `${HUB.gun}@${digestOf(HUB, 'v1')}`,
  'acme/hub': `${HUB.gun}@${digestOf(HUB, 'latest')}`,
  'acme/deleg:v1': `${DELEG.gun}@${digestOf(DELEG, 'v1')}`,
  'index.docker.io/acme/deleg:latest': `${DELEG.gun}@${digestOf(DELEG, 'latest')}`,
};

describe.each(WORKLOADS)('AdmissionReview %s', (file, specPath) => {
  const review = fixture(file);
  const before = images(podSpec(review, specPath));

  it('validate: allowed, uid echoed, no patch', async () => {
    const { review: out, decisions } = await run(review, false);
    expect(out).toMatchObject({ apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' });
    expect(out.response.uid).toBe((review['request'] as { uid: string }).uid);
    expect(out.response.allowed).toBe(true);
    expect(out.response.patch).toBeUndefined();
    expect(decisions.map((d) => d.image)).toEqual(before);
  });

  it('mutate: JSONPatch pins every image to name@sha256, and the patched object re-verifies', async () => {
    const { review: out } = await run(review, true);
    expect(out.response.allowed).toBe(true);
    expect(out.response.patchType).toBe('JSONPatch');
    const ops = decodePatch(out.response.patch);
    expect(ops).toHaveLength(before.length);
    for (const op of ops) {
      expect(op.op).toBe('replace');
      expect(op.path.startsWith(`/${specPath.join('/')}/`)).toBe(true);
    }
    const patchedObject = applyJsonPatchForTests((review['request'] as Record<string, unknown>)['object'], ops);
    const patched = { ...review, request: { ...(review['request'] as object), object: patchedObject } };
    const after = images(podSpec(patched, specPath));
    expect(after).toEqual(before.map((i) => EXPECTED[i]));
    for (const i of after) expect(parseReference(i)).toMatchObject({ tag: undefined, digest: expect.stringMatching(/^sha256:[0-9a-f]{64}$/) });

    // Re-admission of the pinned object: allowed, same digests, nothing left to patch.
    const again = await run(patched, true);
    expect(again.review.response.allowed).toBe(true);
    expect(again.review.response.patch).toBeUndefined();
    expect(again.decisions.map((d) => (d.decision.allowed ? `${d.decision.gun}@${d.decision.digest}` : 'denied'))).toEqual(after);
  });
});

describe('AdmissionReview: denials, unknown kinds, misuse', () => {
  it('validate lists every denied image with its code; mutate denies too and sends no patch', async () => {
    const review = fixture('pod-denied.json');
    for (const mutate of [false, true]) {
      const { review: out, decisions } = await run(review, mutate);
      expect(out.response.allowed).toBe(false);
      expect(out.response.status?.code).toBe(403);
      const msg = out.response.status?.message ?? '';
      expect(msg).toContain('containers[1] (unsigned) docker.io/acme/hub:nope: ERR_ADMISSION_UNSIGNED');
      expect(msg).toContain('containers[2] (foreign) quay.io/other/tool:1: ERR_NO_MATCHING_RULE');
      expect(msg).not.toContain('containers[0]');
      expect(out.response.patch).toBeUndefined();
      expect(decisions.map((d) => (d.decision.allowed ? 'allow' : d.decision.code))).toEqual(['allow', 'ERR_ADMISSION_UNSIGNED', 'ERR_NO_MATCHING_RULE']);
    }
  });

  it('dry-run: allowed with warnings and an audit annotation', async () => {
    const dry = parsePolicy({ mode: 'dry-run', rules: [{ images: 'docker.io/acme/**' }], default: { action: 'deny' } });
    const { review: out } = await run(fixture('pod-denied.json'), true, dry);
    expect(out.response.allowed).toBe(true);
    expect(out.response.warnings).toHaveLength(2);
    expect(out.response.warnings?.[0]).toContain('would deny containers[1] (unsigned)');
    expect(out.response.auditAnnotations).toEqual({ 'trustgate-dry-run': 'would-deny' });
    // the verified image is still pinned; unverified ones are left alone
    expect(decodePatch(out.response.patch)).toEqual([
      { op: 'replace', path: '/spec/containers/0/image', value: `${HUB.gun}@${digestOf(HUB, 'v1')}` },
    ]);
  });

  it('break-glass annotation on the pod: allowed, and the reason is recorded', async () => {
    const review = fixture('pod-denied.json') as { request: { object: { metadata: { annotations: Record<string, string> } } } };
    review.request.object.metadata.annotations['trustgate.io/break-glass'] = 'INC-42: registry outage';
    const { review: out, decisions } = await run(review, false);
    expect(out.response.allowed).toBe(true);
    expect(out.response.auditAnnotations?.['trustgate-break-glass']).toBe('trustgate.io/break-glass=INC-42: registry outage');
    const d = decisions[1]?.decision;
    expect(d).toMatchObject({ allowed: true, breakGlass: { reason: 'INC-42: registry outage' }, wouldDeny: { code: 'ERR_ADMISSION_UNSIGNED' } });
  });

  it('an unknown kind is allowed untouched, without consulting trust data', async () => {
    const calls = trust.calls.length;
    const { review: out, decisions } = await run(fixture('configmap.json'), true);
    expect(out.response).toEqual({ uid: '0b6f5a4e-1c5e-4e55-9d5c-000000000008', allowed: true });
    expect(decisions).toEqual([]);
    expect(trust.calls.length).toBe(calls);
  });

  it('verifies each repository once per review, however its images are spelled, and failures too', async () => {
    // pod.json: acme/hub, docker.io/acme/hub:v1, acme/deleg:v1, index.docker.io/acme/deleg:latest.
    const counted = vectorTrust();
    for (const mutate of [false, true]) {
      counted.calls.length = 0;
      const { review: out, decisions } = await handleAdmissionReview(fixture('pod.json'), { policy, sources: { trust: counted }, mutate, now: NOW });
      expect(out.response.allowed).toBe(true);
      expect(decisions).toHaveLength(4);
      expect(counted.calls).toEqual([HUB.gun, DELEG.gun]);
    }
    // The cache lives for one review only: the next review asks again.
    counted.calls.length = 0;
    await handleAdmissionReview(fixture('pod.json'), { policy, sources: { trust: counted }, now: NOW });
    expect(counted.calls).toEqual([HUB.gun, DELEG.gun]);

    // A repository without trust data: one failed verification, every image of it denied.
    const unsigned = fixture('pod.json') as { request: { object: { spec: { containers: Array<{ image: string }> } } } };
    unsigned.request.object.spec.containers[0]!.image = 'docker.io/acme/nosuch:v1';
    unsigned.request.object.spec.containers[1]!.image = 'acme/nosuch';
    counted.calls.length = 0;
    const denied = await handleAdmissionReview(unsigned, { policy, sources: { trust: counted }, now: NOW });
    expect(denied.decisions.map((d) => (d.decision.allowed ? 'allow' : d.decision.code))).toEqual(['allow', 'ERR_ADMISSION_UNSIGNED', 'ERR_ADMISSION_UNSIGNED', 'allow']);
    expect(counted.calls).toEqual([HUB.gun, 'docker.io/acme/nosuch', DELEG.gun]);
  });

  it('DELETE and non-image subresources are allowed untouched', async () => {
    const del = fixture('pod-denied.json') as { request: Record<string, unknown> };
    del.request['operation'] = 'DELETE';
    expect((await run(del, false)).review.response.allowed).toBe(true);
    const status = fixture('pod-denied.json') as { request: Record<string, unknown> };
    status.request['subResource'] = 'status';
    expect((await run(status, false)).review.response.allowed).toBe(true);
    const eph = fixture('pod-denied.json') as { request: Record<string, unknown> };
    eph.request['subResource'] = 'ephemeralcontainers';
    expect((await run(eph, false)).review.response.allowed).toBe(false);
  });

  it('accepts the JSON text and bytes; rejects what is not an AdmissionReview v1 (ERR_INVALID_ARGUMENT)', async () => {
    const text = JSON.stringify(fixture('pod.json'));
    expect((await run(text, false)).review.response.allowed).toBe(true);
    expect((await run(Buffer.from(text), false)).review.response.allowed).toBe(true);
    for (const bad of ['{', { apiVersion: 'admission.k8s.io/v1beta1', kind: 'AdmissionReview', request: { uid: 'x' } }, { apiVersion: 'admission.k8s.io/v1', kind: 'AdmissionReview' }]) {
      await expect(run(bad, false)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
  });

  it('refuses a review whose kind, operation or subresource is not typed as the API server sends it, rather than allowing it as an unknown kind', async () => {
    // Found by the admission fuzz: kind.group false read as the group "false", an unknown kind
    // allowed untouched, where the review could as well be a core Pod with unsigned images.
    const edits: Array<[string, (r: Record<string, unknown>) => void]> = [
      ['kind.group false', (r) => ((r['kind'] as Record<string, unknown>)['group'] = false)],
      ['kind.kind a number', (r) => ((r['kind'] as Record<string, unknown>)['kind'] = 7)],
      ['kind missing', (r) => delete r['kind']],
      ['kind an array', (r) => (r['kind'] = ['Pod'])],
      ['operation missing', (r) => delete r['operation']],
      ['operation an object', (r) => (r['operation'] = { op: 'CREATE' })],
      ['subResource null', (r) => (r['subResource'] = null)],
      ['namespace a number', (r) => (r['namespace'] = 1)],
    ];
    for (const [what, edit] of edits) {
      const review = fixture('pod-denied.json') as { request: Record<string, unknown> };
      edit(review.request);
      await expect(run(review, false), what).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', message: expect.stringContaining('AdmissionReview.request.') });
    }
    // The core group may be absent as well as "" (both are the Pod the fixture is).
    const noGroup = fixture('pod-denied.json') as { request: { kind: Record<string, unknown> } };
    delete noGroup.request.kind['group'];
    expect((await run(noGroup, false)).review.response.allowed).toBe(false);
  });
});

describe('test-only JSON Patch applier', () => {
  it('applies add and replace with RFC 6901 escapes and refuses the rest', () => {
    const doc = { a: [1, 2], 'b/c': { '~d': 1 } };
    expect(
      applyJsonPatchForTests(doc, [
        { op: 'replace', path: '/a/1', value: 3 },
        { op: 'add', path: '/a/-', value: 4 },
        { op: 'replace', path: '/b~1c/~0d', value: 2 },
      ]),
    ).toEqual({ a: [1, 3, 4], 'b/c': { '~d': 2 } });
    expect(doc.a).toEqual([1, 2]);
    expect(() => applyJsonPatchForTests(doc, [{ op: 'remove', path: '/a' }])).toThrow(/unsupported/);
    expect(() => applyJsonPatchForTests(doc, [{ op: 'replace', path: '/zz', value: 1 }])).toThrow(/missing/);
  });
});
