import { describe, expect, it } from 'vitest';
import {
  checkAdmission,
  metadataAgeMs,
  parsePolicy,
  quarantineServiceReader,
  type AdmissionDecision,
  type AdmissionPolicyInput,
} from '../../src/admission/index.js';
import { isTrustError, TrustError } from '../../src/errors.js';
import { createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import { BASIC, DELEG, digestOf, HUB, NOW, vectorTrust } from './helpers.js';

const DAY = 86_400_000;
const trust = vectorTrust();

function policy(rule: Record<string, unknown> = {}, extra: Partial<AdmissionPolicyInput> = {}) {
  return parsePolicy({ rules: [{ images: 'docker.io/acme/**', ...rule }], default: { action: 'deny' }, ...extra });
}

async function decide(image: string, p = policy(), opts: { now?: Date; annotations?: Record<string, string> } = {}) {
  return checkAdmission({ image, now: opts.now ?? NOW, ...(opts.annotations ? { annotations: opts.annotations } : {}) }, p, { trust });
}

function denied(d: AdmissionDecision) {
  if (d.allowed) throw new Error(`expected a deny, got ${JSON.stringify(d)}`);
  return d;
}

describe('checkAdmission: allow', () => {
  it('hub-like v1: verified digest, docker role, both signer roles as evidence', async () => {
    const d = await decide('docker.io/acme/hub:v1', policy({ signers: { roles: ['targets/releases', 'targets/bob'], threshold: 2 } }));
    expect(d).toMatchObject({
      allowed: true,
      gun: HUB.gun,
      tag: 'v1',
      digest: digestOf(HUB, 'v1'),
      verified: true,
      role: 'targets/releases',
      rule: 'rules[0]',
      mode: 'enforce',
    });
    if (!d.allowed) throw new Error('unreachable');
    expect(d.signers.map((s) => s.role).sort()).toEqual(['targets/bob', 'targets/releases']);
    expect(d.wouldDeny).toBeUndefined();
    expect(d.reasons.join('\n')).toContain('2 of 2 required roles');
  });

  it('a bare name means :latest and normalises like docker', async () => {
    const d = await decide('acme/hub');
    expect(d).toMatchObject({ allowed: true, tag: 'latest', digest: digestOf(HUB, 'latest'), role: 'targets' });
  });

  it('a digest-only reference is allowed when a signed tag carries it (re-admission after mutation)', async () => {
    const d = await decide(`docker.io/acme/hub@${digestOf(HUB, 'v1')}`, policy({ signers: { roles: ['targets/releases', 'targets/bob'] } }));
    expect(d).toMatchObject({ allowed: true, tag: null, signedTags: ['v1'], digest: digestOf(HUB, 'v1') });
  });

  it('1 of 2 signer roles is enough when the threshold is 1', async () => {
    const d = await decide('docker.io/acme/deleg:v1', policy({ signers: { roles: ['targets/releases', 'targets/alice'], threshold: 1 } }));
    expect(d).toMatchObject({ allowed: true, digest: digestOf(DELEG, 'v1') });
  });

  it('content trust not required: allowed unverified, digest only if written', async () => {
    const d = await decide('docker.io/acme/unsigned:1', policy({ requireContentTrust: false }));
    expect(d).toMatchObject({ allowed: true, verified: false, digest: null });
  });

  it('a correct root pin allows', async () => {
    const repo = verifyTrustDir({ gun: HUB.gun, trustDir: HUB.trustDir, now: NOW });
    const rootIds = repo.root.roles['root']?.keyids ?? [];
    const d = await decide('docker.io/acme/hub:v1', policy({ rootKeyIds: [...rootIds] }));
    expect(d).toMatchObject({ allowed: true });
    expect(d.reasons.join('\n')).toContain('pinned root');
  });
});

describe('checkAdmission: deny codes', () => {
  it('unsigned tag → ERR_ADMISSION_UNSIGNED', async () => {
    const d = denied(await decide('docker.io/acme/hub:nope'));
    expect(d.code).toBe('ERR_ADMISSION_UNSIGNED');
    expect(d.error.code).toBe('ERR_ADMISSION_UNSIGNED');
    expect(d.digest).toBeNull();
  });

  it('a tag signed only in a delegation docker ignores → ERR_ADMISSION_UNSIGNED', async () => {
    expect(denied(await decide('docker.io/acme/deleg:alice-1')).code).toBe('ERR_ADMISSION_UNSIGNED');
  });

  it('no trust data for the GUN → ERR_ADMISSION_UNSIGNED', async () => {
    expect(denied(await decide('docker.io/acme/nothing:1')).code).toBe('ERR_ADMISSION_UNSIGNED');
  });

  it('tag@digest with another digest → ERR_ADMISSION_UNSIGNED', async () => {
    expect(denied(await decide(`docker.io/acme/hub:v1@${digestOf(HUB, 'latest')}`)).code).toBe('ERR_ADMISSION_UNSIGNED');
  });

  it('signer threshold not met: 2 of releases, alice for v1 (only releases signs it)', async () => {
    const d = denied(await decide('docker.io/acme/deleg:v1', policy({ signers: { roles: ['targets/releases', 'targets/alice'], threshold: 2 } })));
    expect(d).toMatchObject({ code: 'ERR_SIGNER_THRESHOLD_NOT_MET', digest: digestOf(DELEG, 'v1') });
    expect(d.error).toMatchObject({ expected: 2, actual: 1 });
    expect(d.reason).toContain('missing: targets/alice');
  });

  it('signer threshold: a role holding the tag with another digest does not count', async () => {
    // delegation: "shared" resolves to targets (docker order: releases first? no — releases has it too).
    const d = await decide('docker.io/acme/deleg:shared', policy({ signers: { roles: ['targets/releases', 'targets'], threshold: 2 } }));
    const releases = DELEG.byRole['targets/releases']?.['shared']?.sha256;
    const top = DELEG.byRole['targets']?.['shared']?.sha256;
    expect(releases).not.toBe(top);
    expect(denied(d).code).toBe('ERR_SIGNER_THRESHOLD_NOT_MET');
  });

  it('pinned root mismatch: a valid repo whose root is not the pinned one → ERR_ROOT_PIN_MISMATCH', async () => {
    const other = verifyTrustDir({ gun: BASIC.gun, trustDir: BASIC.trustDir, now: NOW });
    const otherRoot = other.root.roles['root']?.keyids ?? [];
    const d = denied(await decide('docker.io/acme/hub:v1', policy({ rootKeyIds: [...otherRoot] })));
    expect(d.code).toBe('ERR_ROOT_PIN_MISMATCH');
    // policy-level pins in the verifier's own format work the same way
    const p2 = policy({}, { pins: { certs: { 'docker.io/acme/*': [...otherRoot] } } });
    expect(denied(await decide('docker.io/acme/hub:v1', p2)).code).toBe('ERR_ROOT_PIN_MISMATCH');
    expect((await decide('docker.io/acme/app:v1', p2)).allowed).toBe(true);
  });

  it('stale metadata → ERR_METADATA_TOO_OLD; fresh enough → allowed; expired stays ERR_METADATA_EXPIRED', async () => {
    const p = policy({ maxMetadataAge: '2d' });
    const fresh = await decide('docker.io/acme/hub:v1', p, { now: new Date(HUB.generatedAt.getTime() + DAY) });
    expect(fresh.allowed).toBe(true);
    const stale = denied(await decide('docker.io/acme/hub:v1', p, { now: new Date(HUB.generatedAt.getTime() + 3 * DAY) }));
    expect(stale).toMatchObject({ code: 'ERR_METADATA_TOO_OLD', error: { role: 'timestamp', expected: 2 * DAY } });
    const expired = denied(await decide('docker.io/acme/hub:v1', p, { now: new Date(HUB.generatedAt.getTime() + 15 * DAY) }));
    expect(expired.code).toBe('ERR_METADATA_EXPIRED');
  });

  it('default deny → ERR_NO_MATCHING_RULE; an explicit deny rule → ERR_IMAGE_DENIED', async () => {
    expect(denied(await decide('quay.io/other/tool:1'))).toMatchObject({ code: 'ERR_NO_MATCHING_RULE', rule: 'default' });
    const p = parsePolicy({
      rules: [{ name: 'block-hub', images: 'docker.io/acme/hub', action: 'deny' }, { images: 'docker.io/acme/**' }],
      default: { action: 'deny' },
    });
    expect(denied(await decide('docker.io/acme/hub:v1', p))).toMatchObject({ code: 'ERR_IMAGE_DENIED', rule: 'block-hub' });
    expect((await decide('docker.io/acme/deleg:v1', p)).allowed).toBe(true);
  });

  it('an invalid reference is a deny (ERR_INVALID_REFERENCE), not a throw', async () => {
    expect(denied(await decide('docker.io/acme/App:1')).code).toBe('ERR_INVALID_REFERENCE');
  });
});

describe('checkAdmission: quarantine', () => {
  it('quarantined digest → ERR_QUARANTINED; after a passing scan → allowed', async () => {
    const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
    const digest = digestOf(HUB, 'v1');
    await q.push({ repository: 'acme/hub', digest, tag: 'v1', principal: { id: 'ci', roles: ['push'] } });
    const p = policy({ requireQuarantineVisible: true });
    const sources = { trust, quarantine: quarantineServiceReader(q) };
    const dev = { id: 'dev', roles: [] } as const;
    const before = denied(await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW, principal: dev }, p, sources));
    expect(before).toMatchObject({ code: 'ERR_QUARANTINED', digest });
    await q.verdict({
      repository: 'acme/hub',
      digest,
      generation: 1,
      scannerId: 'trivy',
      idempotencyKey: 'scan-1',
      result: 'pass',
      principal: { id: 'trivy-bot', roles: ['quarantine-writer'] },
    });
    const after = await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW, principal: dev }, p, sources);
    expect(after).toMatchObject({ allowed: true, digest });
    // a digest the quarantine has never seen is not visible either (fail closed)
    const unknown = denied(await checkAdmission({ image: 'docker.io/acme/hub:latest', now: NOW, principal: dev }, p, sources));
    expect(unknown.code).toBe('ERR_QUARANTINED');
  });

  it('the quarantine is read at the request\'s now: a release that lapsed before it no longer admits', async () => {
    // The service's own clock is an hour before the request; the release ends half-way between.
    const serviceNow = NOW.getTime() - 3_600_000;
    const lapses = NOW.getTime() - 1_800_000;
    const store = createMemoryStore();
    const configInput = { scanners: ['trivy'] };
    const q = createQuarantineService({ store, config: configInput, clock: () => serviceNow });
    const digest = digestOf(HUB, 'v1');
    await q.push({ repository: 'acme/hub', digest, tag: 'v1', principal: { id: 'ci', roles: ['push'] } });
    await q.release({ repository: 'acme/hub', digest, reason: 'INC-7', expiresAt: lapses, principal: { id: 'sec', roles: ['overrider'] } });
    const dev = { id: 'dev', roles: [] } as const;
    expect((await q.view('acme/hub')).manifest(dev, { digest }, 'GET').allowed).toBe(true); // at the service's clock

    // The real service as the provider: the adapter passes the request's now to view().
    const asked: Array<Date | undefined> = [];
    const provider = {
      view(repository: string, options?: { now?: Date }) {
        asked.push(options?.now);
        return q.view(repository, options);
      },
    };
    const p = policy({ requireQuarantineVisible: true });
    const sources = { trust, quarantine: quarantineServiceReader(provider) };
    const late = denied(await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW, principal: dev }, p, sources));
    expect(late).toMatchObject({ code: 'ERR_QUARANTINED', digest });
    const early = new Date(lapses - 60_000);
    expect(await checkAdmission({ image: 'docker.io/acme/hub:v1', now: early, principal: dev }, p, sources)).toMatchObject({ allowed: true, digest });
    expect(asked).toEqual([NOW, early]);
  });

  it('a QuarantineReader is asked with the request\'s now', async () => {
    const seen: Date[] = [];
    const reader = { access: (query: { now: Date; digest: string | undefined }) => (seen.push(query.now), { visible: true as const, digest: query.digest ?? '' }) };
    const p = policy({ requireQuarantineVisible: true });
    await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW }, p, { trust, quarantine: reader });
    expect(seen).toEqual([NOW]);
  });

  it('a rule that needs quarantine without a reader is misuse: throws ERR_INVALID_ARGUMENT', async () => {
    await expect(decide('docker.io/acme/hub:v1', policy({ requireQuarantineVisible: true }))).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });
});

describe('checkAdmission: dry-run and break-glass', () => {
  it('dry-run allows and reports what would have been denied', async () => {
    const d = await decide('docker.io/acme/hub:nope', policy({ mode: 'dry-run' }));
    expect(d).toMatchObject({ allowed: true, mode: 'dry-run', wouldDeny: { code: 'ERR_ADMISSION_UNSIGNED' }, digest: null });
  });

  it('policy-level dry-run covers the default rule', async () => {
    const p = parsePolicy({ mode: 'dry-run', rules: [], default: { action: 'deny' } });
    expect(await decide('docker.io/acme/hub:v1', p)).toMatchObject({ allowed: true, wouldDeny: { code: 'ERR_NO_MATCHING_RULE' } });
  });

  it('dry-run keeps the verified digest when a later check fails', async () => {
    const d = await decide('docker.io/acme/deleg:v1', policy({ mode: 'dry-run', signers: { roles: ['targets/alice'] } }));
    expect(d).toMatchObject({ allowed: true, verified: true, digest: digestOf(DELEG, 'v1'), wouldDeny: { code: 'ERR_SIGNER_THRESHOLD_NOT_MET' } });
  });

  it('break-glass allows and records why; empty or forbidden break-glass does not', async () => {
    const extra = { breakGlass: { annotation: 'trustgate.io/break-glass' } };
    const p = policy({}, extra);
    const d = await decide('docker.io/acme/hub:nope', p, { annotations: { 'trustgate.io/break-glass': 'INC-1234 hotfix, approved by sre' } });
    expect(d).toMatchObject({
      allowed: true,
      breakGlass: { annotation: 'trustgate.io/break-glass', reason: 'INC-1234 hotfix, approved by sre' },
      wouldDeny: { code: 'ERR_ADMISSION_UNSIGNED' },
    });
    expect(d.reasons.at(-1)).toContain('INC-1234');
    expect(denied(await decide('docker.io/acme/hub:nope', p, { annotations: { 'trustgate.io/break-glass': '  ' } })).code).toBe('ERR_ADMISSION_UNSIGNED');
    const strict = policy({ allowBreakGlass: false }, extra);
    expect(denied(await decide('docker.io/acme/hub:nope', strict, { annotations: { 'trustgate.io/break-glass': 'please' } })).code).toBe('ERR_ADMISSION_UNSIGNED');
    // without a policy-level annotation nothing is honoured
    expect(denied(await decide('docker.io/acme/hub:nope', policy(), { annotations: { 'trustgate.io/break-glass': 'x' } })).code).toBe('ERR_ADMISSION_UNSIGNED');
    // annotations come from JSON: a non-string value is no justification and must not crash (found in review)
    for (const value of [42, { a: 1 }, null, ['x']]) {
      const odd = { annotations: { 'trustgate.io/break-glass': value as unknown as string } };
      expect(denied(await decide('docker.io/acme/hub:nope', p, odd)).code).toBe('ERR_ADMISSION_UNSIGNED');
    }
  });
});

describe('policy', () => {
  const bad = (input: unknown) => {
    try {
      parsePolicy(input);
    } catch (e) {
      expect(isTrustError(e) && e.code).toBe('ERR_POLICY_INVALID');
      return (e as Error).message;
    }
    throw new Error('expected ERR_POLICY_INVALID');
  };

  it('rejects bad policies with ERR_POLICY_INVALID', () => {
    expect(bad({ rules: [] })).toContain('default');
    expect(bad({ rules: [{ images: 'alpine' }], default: {} })).toContain('write the name in full');
    expect(bad({ rules: [], default: { signers: { roles: ['targets/a'], threshold: 2 } } })).toContain('threshold 2');
    expect(bad({ rules: [], default: { requireContentTrust: false, maxMetadataAge: '1d' } })).toContain('requireContentTrust');
    expect(bad({ rules: [], default: { maxMetadataAge: '1 week' } })).toContain('maxMetadataAge');
    expect(bad({ rules: [], default: {}, extra: 1 })).toContain('extra');
    expect(bad({ rules: [], default: { signers: { roles: ['releases'] } } })).toContain('targets role');
  });

  it('checkAdmission throws ERR_POLICY_INVALID for a raw bad policy (misuse), never a deny', async () => {
    await expect(checkAdmission({ image: 'alpine', now: NOW }, { rules: 'x' }, { trust })).rejects.toMatchObject({ code: 'ERR_POLICY_INVALID' });
  });

  it('first match wins; * stays within a segment, ** crosses', async () => {
    const p = parsePolicy({
      rules: [
        { name: 'one-level', images: 'docker.io/acme/*', requireContentTrust: false },
        { name: 'deep', images: ['quay.io/**'], action: 'deny' },
      ],
      default: { action: 'deny' },
    });
    expect((await decide('docker.io/acme/anything:1', p)).rule).toBe('one-level');
    expect((await decide('docker.io/acme/a/b:1', p)).rule).toBe('default');
    expect((await decide('quay.io/x/y/z:1', p)).rule).toBe('deep');
  });

  it('metadata age is now − (timestamp.expires − lifetime)', () => {
    const expires = new Date('2026-12-11T00:00:00Z');
    expect(metadataAgeMs(expires, new Date('2026-11-27T00:00:00Z'), 14 * DAY)).toBe(0);
    expect(metadataAgeMs(expires, new Date('2026-11-30T00:00:00Z'), 14 * DAY)).toBe(3 * DAY);
    expect(metadataAgeMs(expires, new Date('2026-11-30T00:00:00Z'), 7 * DAY)).toBe(-4 * DAY);
  });
});

describe('checkAdmission: boundaries (issue 17, found by mutation testing)', () => {
  const hubRepo = () => verifyTrustDir({ gun: HUB.gun, trustDir: HUB.trustDir, now: NOW });

  it('metadata age exactly at the limit is allowed; one millisecond more is ERR_METADATA_TOO_OLD', async () => {
    const p = policy({ maxMetadataAge: '2d' });
    // age = now − (expires − 14d), so the limit is reached at expires − 14d + 2d.
    const at = new Date(hubRepo().timestamp.expiresAt.getTime() - 14 * DAY + 2 * DAY);
    const ok = await decide('docker.io/acme/hub:v1', p, { now: at });
    expect(ok.allowed).toBe(true);
    expect(ok.reasons).toContain('metadata age 2.0d within 2.0d');
    const late = denied(await decide('docker.io/acme/hub:v1', p, { now: new Date(at.getTime() + 1) }));
    expect(late.error).toMatchObject({ code: 'ERR_METADATA_TOO_OLD', role: 'timestamp', check: 'metadata age', expected: 2 * DAY, actual: 2 * DAY + 1 });
  });

  it('break-glass limited to users and groups: a listed user or group may, anyone else or an unknown requester may not', async () => {
    const p = policy({}, { breakGlass: { annotation: 'bg', users: ['alice'], groups: ['sre'] } });
    const ask = (requester?: { username: string; groups?: string[] }) =>
      checkAdmission({ image: 'docker.io/acme/hub:nope', now: NOW, annotations: { bg: 'INC-9' }, ...(requester ? { requester } : {}) }, p, { trust });
    expect(await ask({ username: 'alice' })).toMatchObject({ allowed: true, breakGlass: { annotation: 'bg', reason: 'INC-9', by: 'alice' }, wouldDeny: { code: 'ERR_ADMISSION_UNSIGNED' } });
    expect(await ask({ username: 'bob', groups: ['dev', 'sre'] })).toMatchObject({ allowed: true, breakGlass: { by: 'bob' } });
    const bob = denied(await ask({ username: 'bob', groups: ['dev'] }));
    expect(bob.code).toBe('ERR_ADMISSION_UNSIGNED');
    expect(bob.reasons.at(-1)).toBe("break-glass refused: bob is not among the policy's breakGlass users or groups");
    const nobody = denied(await ask());
    expect(nobody.reasons.at(-1)).toBe("break-glass refused: an unknown requester is not among the policy's breakGlass users or groups");
    // A group named like a user (or the reverse) is not a match.
    expect(denied(await ask({ username: 'sre', groups: ['alice'] })).code).toBe('ERR_ADMISSION_UNSIGNED');
    // Without users or groups anyone may, an unknown requester included (by: null).
    const open = policy({}, { breakGlass: { annotation: 'bg' } });
    const d = await checkAdmission({ image: 'docker.io/acme/hub:nope', now: NOW, annotations: { bg: ' INC-9 ' } }, open, { trust });
    expect(d).toMatchObject({ allowed: true, breakGlass: { reason: 'INC-9', by: null } });
    expect(d.reasons.at(-1)).toBe('break-glass (bg) by an unknown requester: INC-9');
    // An annotation the policy does not name is no break-glass.
    expect(denied(await checkAdmission({ image: 'docker.io/acme/hub:nope', now: NOW, annotations: { other: 'x' } }, open, { trust })).reasons.join('\n')).not.toContain('break-glass');
  });

  it('what a deny carries: the check and the digests of each resolution failure', async () => {
    const tag = denied(await decide('docker.io/acme/hub:nope'));
    expect(tag.error).toMatchObject({ code: 'ERR_ADMISSION_UNSIGNED', check: 'signed tag' });
    expect(tag.reason).toBe('docker.io/acme/hub: tag "nope" is not signed in targets/releases or targets');
    const mismatch = denied(await decide(`docker.io/acme/hub:v1@${digestOf(HUB, 'latest')}`));
    expect(mismatch.error).toMatchObject({ code: 'ERR_ADMISSION_UNSIGNED', check: 'digest match', role: 'targets/releases', expected: digestOf(HUB, 'v1'), actual: digestOf(HUB, 'latest') });
    const zero = `sha256:${'0'.repeat(64)}`;
    const digest = denied(await decide(`docker.io/acme/hub@${zero}`));
    expect(digest.error).toMatchObject({ code: 'ERR_ADMISSION_UNSIGNED', check: 'signed digest', actual: zero });
    expect(digest).toMatchObject({ tag: null, gun: HUB.gun, digest: null });
    const none = denied(await decide('docker.io/acme/nothing:v1'));
    expect(none.error).toMatchObject({ code: 'ERR_ADMISSION_UNSIGNED', check: 'trust data', role: 'root' });
  });

  it('only a missing root means unsigned: other trust failures keep their code, and a crash of the source propagates', async () => {
    const missingTimestamp = { verify: () => { throw new TrustError('ERR_METADATA_NOT_FOUND', 'timestamp.json is not in the trust cache', { role: 'timestamp' }); } };
    expect(denied(await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW }, policy(), { trust: missingTimestamp })).error).toMatchObject({ code: 'ERR_METADATA_NOT_FOUND', role: 'timestamp' });
    const expired = denied(await decide('docker.io/acme/hub:v1', policy(), { now: new Date(NOW.getTime() + 30 * DAY) }));
    expect(expired.code).toBe('ERR_METADATA_EXPIRED');
    const broken = { verify: () => { throw new RangeError('disk on fire'); } };
    await expect(checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW }, policy(), { trust: broken })).rejects.toThrow('disk on fire');
  });

  it('misuse throws ERR_INVALID_ARGUMENT: a request without an image string, sources without a trust source, an invalid now', async () => {
    const p = policy();
    for (const request of [null, {}, { image: 5 }]) {
      await expect(checkAdmission(request as never, p, { trust })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    for (const sources of [null, {}, { trust: {} }, { trust: { verify: 1 } }]) {
      await expect(checkAdmission({ image: 'alpine', now: NOW }, p, sources as never)).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    }
    await expect(checkAdmission({ image: 'alpine', now: new Date(Number.NaN) }, p, { trust })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
    await expect(checkAdmission({ image: 'alpine', now: 'today' as never }, p, { trust })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('quarantine: an answer for another digest is a deny; a hidden digest reports its state; without content trust the reader supplies the digest', async () => {
    const p = policy({ requireQuarantineVisible: true });
    const other = `sha256:${'1'.repeat(64)}`;
    const seen: { principal: unknown; tag: unknown; digest: unknown; path: unknown }[] = [];
    const liar = { access: (q: { principal: unknown; tag?: string | undefined; digest?: string | undefined; path: string }) => (seen.push({ principal: q.principal, tag: q.tag, digest: q.digest, path: q.path }), { visible: true as const, digest: other }) };
    const lie = denied(await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW }, p, { trust, quarantine: liar }));
    expect(lie.error).toMatchObject({ code: 'ERR_QUARANTINED', check: 'quarantine visibility', expected: digestOf(HUB, 'v1'), actual: other });
    expect(seen[0]).toEqual({ principal: { id: 'anonymous', roles: [] }, tag: 'v1', digest: digestOf(HUB, 'v1'), path: 'acme/hub' });
    const hidden = { access: () => ({ visible: false as const, reason: 'not passed', state: 'Quarantined' }) };
    const h = denied(await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW, principal: { id: 'dev', roles: [] } }, p, { trust, quarantine: hidden }));
    expect(h.error).toMatchObject({ code: 'ERR_QUARANTINED', actual: 'Quarantined' });
    expect(h.reason).toBe(`docker.io/acme/hub: ${digestOf(HUB, 'v1')} is not visible to dev in the quarantine state (not passed, Quarantined)`);
    const noTrust = policy({ requireQuarantineVisible: true, requireContentTrust: false });
    const reader = { access: () => ({ visible: true as const, digest: other }) };
    expect(await checkAdmission({ image: 'docker.io/acme/unsigned:v3', now: NOW }, noTrust, { trust, quarantine: reader })).toMatchObject({ allowed: true, verified: false, digest: other });
    const noTag = denied(await checkAdmission({ image: 'docker.io/acme/unsigned:v3', now: NOW }, noTrust, { trust, quarantine: hidden }));
    expect(noTag.reason).toContain('tag v3 is not visible');
    // Without requireQuarantineVisible the reader is not asked.
    seen.length = 0;
    expect((await checkAdmission({ image: 'docker.io/acme/hub:v1', now: NOW }, policy(), { trust, quarantine: liar })).allowed).toBe(true);
    expect(seen).toEqual([]);
  });

  it('a digest signed under several tags: the candidate that the most required roles signed decides the evidence', async () => {
    // The real delegation vector with one more target in targets/releases, carrying the digest targets signs as "latest".
    const real = verifyTrustDir({ gun: DELEG.gun, trustDir: DELEG.trustDir, now: NOW });
    const latest = real.roles.get('targets')?.targets.get('latest');
    const releases = real.roles.get('targets/releases');
    if (!latest || !releases) throw new Error('vector changed');
    const edited = { ...real, roles: new Map([...real.roles].map(([n, r]) => [n, n === 'targets/releases' ? { ...releases, targets: new Map([...releases.targets, ['zz-rel', latest]]) } : r])) };
    const fake = { verify: () => edited as never };
    const digest = digestOf(DELEG, 'latest');
    const p = policy({ signers: { roles: ['targets/releases'] } });
    const d = await checkAdmission({ image: `docker.io/acme/deleg@${digest}`, now: NOW }, p, { trust: fake });
    expect(d).toMatchObject({ allowed: true, signedTags: ['latest', 'zz-rel'], digest });
    if (!d.allowed) throw new Error('unreachable');
    expect(d.signers.map((s) => s.role)).toEqual(['targets/releases']);
    // Requiring targets instead: "latest" (first, and signed by targets) stays the evidence.
    const t = await checkAdmission({ image: `docker.io/acme/deleg@${digest}`, now: NOW }, policy({ signers: { roles: ['targets'] } }), { trust: fake });
    expect(t.allowed && t.signers.map((s) => s.role)).toEqual(['targets']);
    // A candidate held by two roles counts each required role it has: hub v1 (releases and bob)
    // beats "a1" (targets only, first in natural order) when releases is required.
    const hub = hubRepo();
    const v1 = hub.roles.get('targets/releases')?.targets.get('v1');
    const htop = hub.roles.get('targets');
    if (!v1 || !htop) throw new Error('vector changed');
    const hubEdited = { ...hub, roles: new Map([...hub.roles].map(([n, r]) => [n, n === 'targets' ? { ...htop, targets: new Map([...htop.targets, ['a1', v1]]) } : r])) };
    const h = await checkAdmission({ image: `docker.io/acme/hub@${digestOf(HUB, 'v1')}`, now: NOW }, policy({ signers: { roles: ['targets/releases'] } }), { trust: { verify: () => hubEdited as never } });
    expect(h).toMatchObject({ allowed: true, signedTags: ['a1', 'v1'] });
    expect(h.allowed && h.signers.map((s) => s.role).sort()).toEqual(['targets/bob', 'targets/releases']);
  });

  it('the metadata age is reported in s, m, h or d, each up to its boundary', async () => {
    const p = policy({ maxMetadataAge: '3d' });
    const issued = hubRepo().timestamp.expiresAt.getTime() - 14 * DAY;
    const ageLine = async (ms: number) => (await decide('docker.io/acme/hub:v1', p, { now: new Date(issued + ms) })).reasons.find((r) => r.startsWith('metadata age'));
    expect(await ageLine(119_000)).toBe('metadata age 119s within 3.0d');
    expect(await ageLine(120_000)).toBe('metadata age 2m within 3.0d');
    expect(await ageLine(7_199_000)).toBe('metadata age 120m within 3.0d');
    expect(await ageLine(7_200_000)).toBe('metadata age 2h within 3.0d');
    expect(await ageLine(172_799_000)).toBe('metadata age 48h within 3.0d');
    expect(await ageLine(172_800_000)).toBe('metadata age 2.0d within 3.0d');
    const old = denied(await decide('docker.io/acme/hub:v1', policy({ maxMetadataAge: '90s' }), { now: new Date(issued + 100_000) }));
    expect(old.reason).toBe(`docker.io/acme/hub: timestamp is 100s old (expires ${hubRepo().timestamp.expires}), more than 90s allowed`);
  });

  it('evidence: each signer role with the key IDs whose signatures counted', async () => {
    const d = await decide('docker.io/acme/hub:v1', policy({ signers: { roles: ['targets/releases', 'targets/bob'] } }));
    if (!d.allowed) throw new Error('expected allowed');
    const repo = hubRepo();
    expect([...d.signers].sort((a, b) => a.role.localeCompare(b.role))).toEqual([
      { role: 'targets/bob', keyIds: [...(repo.roles.get('targets/bob')?.signedBy ?? [])] },
      { role: 'targets/releases', keyIds: [...(repo.roles.get('targets/releases')?.signedBy ?? [])] },
    ]);
    expect(d.signers.every((s) => s.keyIds.length > 0)).toBe(true);
  });

  it('deny details: a rule deny and a misuse name their check', async () => {
    expect(denied(await decide('quay.io/other/tool:1')).error).toMatchObject({ code: 'ERR_NO_MATCHING_RULE', check: 'policy rule' });
    expect(denied(await decide('quay.io/other/tool:1')).reason).toBe('quay.io/other/tool: no rule matches and the default denies');
    const p = parsePolicy({ rules: [{ name: 'block', images: 'docker.io/acme/hub', action: 'deny' }], default: { action: 'deny' } });
    const d = denied(await decide('docker.io/acme/hub:v1', p));
    expect(d.error).toMatchObject({ code: 'ERR_IMAGE_DENIED', check: 'policy rule' });
    expect(d.reason).toBe('docker.io/acme/hub: rule block denies it');
    await expect(checkAdmission({ image: 5 } as never, policy(), { trust })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT', check: 'checkAdmission arguments' });
  });

  it('content trust not required: the reasons say so and no signer is claimed', async () => {
    const d = await decide('docker.io/acme/unsigned:1', policy({ requireContentTrust: false }));
    expect(d).toMatchObject({ allowed: true, verified: false, signers: [], role: null });
    expect(d.reasons).toEqual(['rule rules[0]', 'content trust not required']);
    const pinned = await decide('docker.io/acme/unsigned@sha256:' + 'a'.repeat(64), policy({ requireContentTrust: false }));
    expect(pinned).toMatchObject({ allowed: true, digest: 'sha256:' + 'a'.repeat(64), tag: null });
  });

  it('dry-run says what it would deny; break-glass with users is not consulted when nobody asks for it', async () => {
    const d = await decide('docker.io/acme/hub:nope', policy({ mode: 'dry-run' }));
    expect(d.reasons.at(-1)).toBe('dry-run: would deny (ERR_ADMISSION_UNSIGNED)');
    const p = policy({}, { breakGlass: { annotation: 'bg', users: ['alice'] } });
    const plain = denied(await checkAdmission({ image: 'docker.io/acme/hub:nope', now: NOW }, p, { trust }));
    expect(plain.reasons.join('\n')).not.toContain('break-glass');
  });

  it('a bare name whose latest is not signed: the deny names "latest"', async () => {
    const real = hubRepo();
    const top = real.roles.get('targets');
    if (!top) throw new Error('vector changed');
    const noLatest = { ...real, roles: new Map([...real.roles].map(([n, r]) => [n, n === 'targets' ? { ...top, targets: new Map([...top.targets].filter(([k]) => k !== 'latest')) } : r])) };
    const d = denied(await checkAdmission({ image: 'docker.io/acme/hub', now: NOW }, policy(), { trust: { verify: () => noLatest as never } }));
    expect(d.error).toMatchObject({ code: 'ERR_ADMISSION_UNSIGNED', check: 'signed tag' });
    expect(d.reason).toBe('docker.io/acme/hub: tag "latest" is not signed in targets/releases or targets');
  });

  it('a resolution failure other than "not found" keeps its own code (a target without sha256)', async () => {
    const real = hubRepo();
    const top = real.roles.get('targets');
    const latest = top?.targets.get('latest') as { length: number; hashes: Record<string, string> } | undefined;
    if (!top || !latest) throw new Error('vector changed');
    const sha512Only = { ...latest, hashes: { sha512: Buffer.alloc(64, 1).toString('base64') } };
    const edited = { ...real, roles: new Map([...real.roles].map(([n, r]) => [n, n === 'targets' ? { ...top, targets: new Map([...top.targets].map(([k, t]) => [k, k === 'latest' ? sha512Only : t])) } : r])) };
    const d = denied(await checkAdmission({ image: 'docker.io/acme/hub:latest', now: NOW }, policy(), { trust: { verify: () => edited as never } }));
    expect(d.code).toBe('ERR_TARGET_NO_SHA256');
  });

  it('evidence with no signer rule: the first candidate in natural order; no signer line in the reasons', async () => {
    const real = verifyTrustDir({ gun: DELEG.gun, trustDir: DELEG.trustDir, now: NOW });
    const latest = real.roles.get('targets')?.targets.get('latest');
    const releases = real.roles.get('targets/releases');
    if (!latest || !releases) throw new Error('vector changed');
    const edited = { ...real, roles: new Map([...real.roles].map(([n, r]) => [n, n === 'targets/releases' ? { ...releases, targets: new Map([...releases.targets, ['zz-rel', latest]]) } : r])) };
    const d = await checkAdmission({ image: `docker.io/acme/deleg@${digestOf(DELEG, 'latest')}`, now: NOW }, policy(), { trust: { verify: () => edited as never } });
    expect(d.allowed && d.signers.map((s) => s.role)).toEqual(['targets']);
    const plain = await decide('docker.io/acme/hub:v1');
    expect(plain.reasons).toEqual(['rule rules[0]', `trust data of ${HUB.gun} verified`, `tag v1 → ${digestOf(HUB, 'v1')} in targets/releases`]);
  });

  it('no break-glass without a policy annotation, even for an annotation named "undefined"', async () => {
    expect(denied(await decide('docker.io/acme/hub:nope', policy(), { annotations: { undefined: 'please' } })).code).toBe('ERR_ADMISSION_UNSIGNED');
  });

  it('a digest nobody signed: the deny text is the resolver\'s', async () => {
    const zero = `sha256:${'0'.repeat(64)}`;
    expect(denied(await decide(`docker.io/acme/hub@${zero}`)).reason).toBe(`${HUB.gun}: no tag in targets/releases or targets is signed with ${zero}`);
  });

  it('the reasons name the rule and each check, in order', async () => {
    const d = await decide('docker.io/acme/hub:v1', policy({ signers: { roles: ['targets/releases'] } }));
    expect(d.reasons).toEqual([
      'rule rules[0]',
      `trust data of ${HUB.gun} verified`,
      `tag v1 → ${digestOf(HUB, 'v1')} in targets/releases`,
      'signers: 1 of 1 required roles (targets/releases), threshold 1',
    ]);
    expect((await decide('quay.io/x/y:1')).reasons).toEqual(['rule default (no rule matched)']);
    const byDigest = await decide(`docker.io/acme/hub@${digestOf(HUB, 'v1')}`);
    expect(byDigest.reasons).toContain(`digest signed as v1 → ${digestOf(HUB, 'v1')} in targets/releases`);
  });
});
