/**
 * Issue 12: command traces through two service replicas on one store, checked against
 * docs/spec/quarantine.md, found these. One block per finding; each test failed on the code before
 * its fix.
 */
import { describe, expect, it } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import type { DigestRecord, QuarantineConfig, QuarantineStore, RepositoryState } from '../../src/quarantine/index.js';
import { emptyRepository, step } from '../../src/quarantine/machine.js';
import { PersistentMap } from '../../src/quarantine/pmap.js';
import { rememberedLineages, reviveState } from '../../src/quarantine/revive.js';
import { isVisible } from '../../src/quarantine/visibility-rule.js';
import { D, DEADLINE, REPO, T0, apply, ci, config, dev, newWorld, ops, writer } from './harness.js';
import type { World } from './harness.js';

const at = (w: World, ms: number): World => {
  w.now = ms;
  return w;
};
const push = (d: string, extra: Record<string, unknown> = {}) => ({ type: 'push', repository: REPO, digest: d, principal: ci, ...extra });
const verdict = (d: string, generation: number, scannerId: string, result: string, key = `${scannerId}-${generation}-${result}`) => ({
  type: 'verdict', repository: REPO, digest: d, generation, scannerId, idempotencyKey: key, result, principal: writer,
});
const pass = (w: World, cfg: QuarantineConfig, d: string, generation = 1) => {
  for (const s of cfg.scanners) expect(apply(w, verdict(d, generation, s, 'pass'), cfg).ok).toBe(true);
};

describe('issue 12.1: a verdict for a generation the deadline closed is refused, not swallowed', () => {
  it('push, pass, rescan (no retries), deadline passes, fail for generation 2 → ERR_CONFLICT, audited, nothing changes', () => {
    const cfg = config({ maxRetries: 0 });
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    pass(w, cfg, D[0]);
    expect(apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg).ok).toBe(true);
    apply(at(w, T0 + DEADLINE + 1), { type: 'tick', repository: REPO }, cfg);
    const before = w.state;
    const r = apply(w, verdict(D[0], 2, 's1', 'fail'), cfg);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('ERR_CONFLICT');
    expect(r.error.check).toBe('generation closed');
    expect(r.state).toBe(before);
    expect(r.audit.map((a) => a.outcome)).toEqual(['rejected']);
  });

  it('a verdict after the quorum decided its generation is still answered "final" (Q13)', () => {
    const cfg = config();
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, verdict(D[0], 1, 's1', 'fail'), cfg);
    const r = apply(w, verdict(D[0], 1, 's2', 'pass'), cfg);
    expect(r.ok && r.response.verdict?.decision).toBe('final');
  });
});

describe('issue 12.7: a duplicate verdict commits nothing, the clock included (Q14)', () => {
  it('replaying an accepted verdict while a timeout on another digest is due leaves the same audit and event logs', () => {
    const cfg = config();
    const trace = (withDuplicate: boolean) => {
      const w = newWorld();
      apply(w, push(D[0]), cfg);
      apply(at(w, T0 + 10), push(D[1]), cfg);
      const v = verdict(D[0], 1, 's1', 'pass', 'k');
      apply(at(w, T0 + 20), v, cfg);
      at(w, T0 + DEADLINE + 100); // D[0]'s and D[1]'s deadlines are due
      if (withDuplicate) {
        const r = apply(w, v, cfg);
        expect(r.ok && r.response.verdict?.duplicate).toBe(true);
        expect(r.ok && r.events.length + r.audit.length).toBe(0);
      }
      apply(w, { type: 'revoke', repository: REPO, digest: D[1], principal: dev, reason: 'x' }, cfg); // rejected
      apply(at(w, T0 + DEADLINE + 200), { type: 'tick', repository: REPO }, cfg);
      return { audit: w.audit, events: w.events, records: [...w.state.records.values()] };
    };
    expect(trace(true)).toEqual(trace(false));
  });
});

describe('issue 12.5: digests must use an OCI registered algorithm', () => {
  const cfg = config();
  const hex = (n: number, c = 'a') => c.repeat(n);
  it.each([
    ['sha256:0'],
    [`sha256:${hex(65)}`],
    [`sha256:${hex(63)}`],
    [`sha256:${hex(64, 'A')}`],
    [`sha256:${hex(64, 'g')}`],
    [`sha512:${hex(64)}`],
    [`md5:${hex(32)}`],
    [`SHA256:${hex(64)}`],
  ])('%s is refused with ERR_INVALID_COMMAND and audited', (digest) => {
    const w = newWorld();
    const r = apply(w, push(digest), cfg);
    expect(r.ok === false && r.error.code).toBe('ERR_INVALID_COMMAND');
    expect(r.audit.map((a) => a.outcome)).toEqual(['rejected']);
    expect(w.state.records.size).toBe(0);
    // A subject or child with a bad digest is refused too.
    expect(apply(w, push(D[0], { subject: digest }), cfg).ok).toBe(false);
  });
  it('sha256 with 64 and sha512 with 128 lowercase hex digits are accepted', () => {
    const w = newWorld();
    expect(apply(w, push(`sha256:${hex(64, 'f')}`), cfg).ok).toBe(true);
    expect(apply(w, push(`sha512:${hex(128, '0')}`), cfg).ok).toBe(true);
  });
});

describe('issue 12.6: every row the service reads is validated; a corrupt row fails closed', () => {
  /** A memory store whose load hands out D[0]'s row with `state` replaced (as a durable store might). */
  async function corrupted(state: unknown) {
    const shared = createMemoryStore();
    let now = T0;
    const cfg = { scanners: ['s1'], scanDeadlineMs: DEADLINE };
    const setup = createQuarantineService({ store: shared, config: cfg, clock: () => now });
    await setup.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
    const store: QuarantineStore = {
      ...shared,
      load: async (r) => {
        const s = await shared.load(r);
        const rows = new Map(s.records);
        const row = rows.get(D[0]);
        if (row !== undefined) rows.set(D[0], { ...row, state } as never);
        return { ...s, records: rows };
      },
    };
    const q = createQuarantineService({ store, config: cfg, clock: () => now });
    return { q, later: () => (now = T0 + 10 * DEADLINE) };
  }
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isTrustError(e) ? `${e.code} ${e.path}` : String(e)));

  it('a state of ["Passed"] is ERR_STORE_CORRUPT naming the row, for views and commands, before and after its deadline', async () => {
    const { q, later } = await corrupted(['Passed']);
    for (let i = 0; i < 2; i++) {
      expect(await codeOf(q.view(REPO))).toBe(`ERR_STORE_CORRUPT ${REPO}@${D[0]}`);
      expect(await codeOf(q.tick())).toBe(`ERR_STORE_CORRUPT ${REPO}@${D[0]}`);
      later();
    }
  });

  it('an unknown state string ("passed") loads as Quarantined (Q4): hidden, and the view answers', async () => {
    const { q, later } = await corrupted('passed');
    later();
    const view = await q.view(REPO);
    expect(view.manifest(dev, { digest: D[0] }).allowed).toBe(false);
    expect(view.manifest(dev, { tag: 'v1' }).allowed).toBe(false);
    // Loaded as Quarantined, then its deadlines passed (config: two retries): Unresolved, never Passed.
    expect(view.record(D[0])?.state).toBe('Unresolved');
  });
});

describe('a committed state the store hands back is not parsed again, and nothing else escapes the check', () => {
  /** A store that hands back the service's own committed state (as the SQL stores' cache does), optionally changed by `tamper`. */
  function echoing(tamper: (s: RepositoryState) => RepositoryState = (s) => s) {
    const shared = createMemoryStore();
    let last: RepositoryState | undefined;
    const store: QuarantineStore = {
      ...shared,
      load: async (r) => (last === undefined ? shared.load(r) : tamper(last)),
      commit: async (unit) => {
        await shared.commit({ ...unit, basis: undefined });
        last = unit.after;
      },
    };
    return createQuarantineService({ store, config: { scanners: ['s1'], scanDeadlineMs: DEADLINE }, clock: () => T0 });
  }
  const codeOf = (p: Promise<unknown>) => p.then(() => 'ok', (e: unknown) => (isTrustError(e) ? `${e.code} ${e.path}` : String(e)));

  it("the service's own rows are frozen after the commit: they cannot be changed behind the check", async () => {
    let seen: RepositoryState | undefined;
    const q = echoing((s) => (seen = s));
    await q.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
    await q.view(REPO);
    const row = seen?.records.get(D[0]);
    expect(row?.state).toBe('Quarantined');
    expect(() => {
      (row as { state: string }).state = 'Passed';
    }).toThrow(TypeError);
    expect((await q.view(REPO)).manifest(dev, { digest: D[0] }).allowed).toBe(false);
  });

  it('a row changed in a map derived from the committed one is still checked (ERR_STORE_CORRUPT naming it), in a new state object or in the same one', async () => {
    for (const sameObject of [false, true]) {
      const q = echoing((s) => {
        const row = s.records.get(D[0]);
        if (row === undefined) return s;
        const records = (s.records as PersistentMap<string, DigestRecord>).update(new Map([[D[0], { ...row, state: ['Passed'] } as never]]));
        return sameObject ? Object.assign(s, { records }) : { ...s, records };
      });
      await q.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
      expect(await codeOf(q.view(REPO)), `same object: ${sameObject}`).toBe(`ERR_STORE_CORRUPT ${REPO}@${D[0]}`);
    }
  });

  it('remembers a bounded number of repositories for the incremental check', () => {
    for (let i = 0; i < 2100; i++) {
      const repository = `bound/r${i}`;
      const r = step(emptyRepository(repository), { type: 'push', repository, digest: D[0], principal: ci }, T0, config());
      reviveState(r.state);
    }
    expect(rememberedLineages()).toBeLessThanOrEqual(2048);
    expect(rememberedLineages()).toBeGreaterThan(1000);
  });
});

describe('issue 12, also seen: a malformed command is audited under its caller’s kind', () => {
  it('a writer’s verdict with an unknown result is audited as principalKind "writer"', () => {
    const w = newWorld();
    apply(w, push(D[0]), config());
    const r = apply(w, { ...verdict(D[0], 1, 's1', 'pass'), result: 'maybe' }, config());
    expect(r.ok).toBe(false);
    expect(r.audit).toMatchObject([{ outcome: 'rejected', code: 'ERR_INVALID_COMMAND', actor: writer.id, principalKind: 'writer' }]);
    // No valid principal at all: an ordinary caller.
    const r2 = apply(w, { ...verdict(D[0], 1, 's1', 'pass'), principal: { id: 'x', roles: ['root'] } }, config());
    expect(r2.audit).toMatchObject([{ outcome: 'rejected', principalKind: 'ordinary' }]);
  });
});

describe('issue 12, also seen: bad view arguments are typed errors, not raw TypeErrors', () => {
  it('view.manifest(null, …), a null reference, tags(undefined), blob(p, null) → ERR_INVALID_ARGUMENT', async () => {
    const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['s1'] }, clock: () => T0 });
    await q.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
    const view = await q.view(REPO);
    const calls: (() => unknown)[] = [
      () => view.manifest(null as never, { tag: 'v1' }),
      () => view.manifest(dev, null as never),
      () => view.manifest(dev, {} as never),
      () => view.tags(undefined as never),
      () => view.inCatalog({ id: 'x' } as never),
      () => view.referrers(null as never, D[0]),
      () => view.blob(dev, null as never),
    ];
    for (const call of calls) expect(call, String(call)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARGUMENT' }));
  });
});

describe('issue 12, also seen: separation of duties covers every pusher, not only the first', () => {
  const cfg = config({ separationOfDuties: true });
  const both = { id: 'lead', roles: ['push', 'overrider'] } as const;
  it.each([
    ['re-push of a served manifest', false],
    ['re-push after delete', true],
  ])('a principal who pushed the digest (%s) may not release it; another overrider may', (_name, deleteFirst) => {
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    if (deleteFirst) apply(w, { type: 'deleteManifest', repository: REPO, digest: D[0], principal: ci }, cfg);
    expect(apply(w, { type: 'push', repository: REPO, digest: D[0], principal: both }, cfg).ok).toBe(true);
    const release = (principal: unknown) => ({ type: 'release', repository: REPO, digest: D[0], principal, reason: 'INC-1', expiresAt: w.now + 1000 });
    const r = apply(w, release(both), cfg);
    expect(r.ok === false && r.error.check).toBe('separation of duties');
    expect(apply(w, release(ops), cfg).ok).toBe(true);
  });
});

describe('a re-push by another pusher changes the record, so it is audited (Q22)', () => {
  it.each([['without a tag', {}], ['with a tag', { tag: 'v2' }]])('%s: exactly one audit record for the push, naming the new pusher', (_name, extra) => {
    const w = newWorld();
    const lead = { id: 'lead', roles: ['push'] } as const;
    apply(w, push(D[0]), config());
    const before = apply(w, { type: 'tick', repository: REPO, principal: ci }, config()).state;
    const r = step(before, { type: 'push', repository: REPO, digest: D[0], principal: lead, ...extra }, w.now, config());
    expect(r.ok).toBe(true);
    expect(r.state.records.get(D[0])?.pushers).toEqual(['ci', 'lead']);
    expect(r.audit).toHaveLength(1);
    expect(r.audit[0]).toMatchObject({ command: 'push', outcome: 'applied', actor: 'lead', digest: D[0] });
  });
});

describe('issue 12, also seen: audit `at` is monotone in seq', () => {
  it('the service: every audit entry is at or after the one before it', async () => {
    const cfg = config();
    const store = createMemoryStore();
    let now = T0;
    const q = createQuarantineService({ store, config: cfg, clock: () => now });
    const run = async (c: unknown) => q.execute(c as never).catch(() => undefined);
    // A rejected command while deadlines are due, then deadlines of two digests due out of digest order.
    await run(push(D[1]));
    now += 10;
    await run(push(D[0]));
    now += 10 * DEADLINE;
    await run({ type: 'revoke', repository: REPO, digest: D[0], principal: dev, reason: 'x' });
    now += 1;
    await run({ type: 'tick', repository: REPO });
    const audit = await store.readAudit();
    expect(audit.length).toBeGreaterThan(3);
    for (let i = 1; i < audit.length; i++) expect(audit[i]!.at, `seq ${audit[i]!.seq}`).toBeGreaterThanOrEqual(audit[i - 1]!.at);
  });
});

describe('issue 12.3: a retained verdict is reused only under the policy version it was reached under', () => {
  it('push, pass, delete, switch to policy 2, re-push: Quarantined at a new generation under policy 2, hidden', () => {
    const v1 = config();
    const w = newWorld();
    apply(w, push(D[0], { tag: 'v1' }), v1);
    pass(w, v1, D[0]);
    apply(w, { type: 'deleteManifest', repository: REPO, digest: D[0], principal: ci }, v1);
    const v2 = config({ policyVersion: '2', scanners: ['s1', 's2', 's3'] });
    const r = apply(w, push(D[0], { tag: 'v1' }), v2);
    expect(r.ok).toBe(true);
    expect(w.state.records.get(D[0])).toMatchObject({ state: 'Quarantined', generation: 2, policyVersion: '2', scanOpen: true });
    expect(r.ok && r.response.visible).toBe(false);
    expect(r.events.map((e) => e.type)).toEqual(['scan.requested', 'quarantine']);
    // Q20 under policy 2: the new scanner must report too.
    for (const s of ['s1', 's2']) expect(apply(w, verdict(D[0], 2, s, 'pass'), v2).ok).toBe(true);
    expect(w.state.records.get(D[0])?.state).toBe('Quarantined');
    expect(apply(w, verdict(D[0], 2, 's3', 'pass'), v2).ok).toBe(true);
    expect(w.state.records.get(D[0])?.state).toBe('Passed');
  });

  it('under the same policy version the retained verdict comes back as it was (Q10)', () => {
    const cfg = config();
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    pass(w, cfg, D[0]);
    apply(w, { type: 'deleteManifest', repository: REPO, digest: D[0], principal: ci }, cfg);
    const r = apply(w, push(D[0]), cfg);
    expect(r.ok && r.response).toMatchObject({ state: 'Passed', visible: true, generation: 1 });
  });
});

describe('issue 12.4: a referrer inherits its subject’s visibility (quarantine.md §4)', () => {
  const SIG = D[2];
  const sig = (principal: unknown = writer) => ({ type: 'push', repository: REPO, digest: SIG, subject: D[0], principal });

  it('a writer’s signature for a passed subject is visible and listed at once; it goes when the subject goes', async () => {
    const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['s1'] }, clock: () => T0 });
    await q.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
    await q.verdict({ repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: writer });
    await q.execute(sig() as never);
    let view = await q.view(REPO);
    expect(view.manifest(dev, { digest: SIG }).allowed).toBe(true);
    expect(view.referrers(dev, D[0])).toEqual({ allowed: true, digests: [SIG] });
    await q.revoke({ repository: REPO, digest: D[0], principal: ops, reason: 'CVE' });
    view = await q.view(REPO);
    expect(view.manifest(dev, { digest: SIG }).allowed).toBe(false);
    expect(view.referrers(dev, D[0]).allowed).toBe(false);
  });

  it('a referrer pushed while its subject is quarantined appears, with one push event, when the subject passes', () => {
    const cfg = config({ scanners: ['s1'] });
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, sig(), cfg);
    expect(isVisible(w.state, SIG, w.now)).toBe(false);
    const r = apply(w, verdict(D[0], 1, 's1', 'pass'), cfg);
    expect(isVisible(w.state, SIG, w.now)).toBe(true);
    expect(r.events.filter((e) => e.type === 'push').map((e) => e.digest).sort()).toEqual([D[0], SIG].sort());
  });

  it('a referrer that failed its own scan stays hidden', () => {
    const cfg = config({ scanners: ['s1'] });
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, verdict(D[0], 1, 's1', 'pass'), cfg);
    apply(w, sig(), cfg);
    apply(w, verdict(SIG, 1, 's1', 'fail'), cfg);
    expect(w.state.records.get(SIG)?.state).toBe('Failed');
    expect(isVisible(w.state, D[0], w.now)).toBe(true);
    expect(isVisible(w.state, SIG, w.now)).toBe(false);
  });
});

describe('issue 12.2: a release stands until it expires, with or without a pass in between (Q18, Q19)', () => {
  const cfg = config({ scanners: ['s1'] });
  const t = T0 + 500_000;
  const trace = (withPass: boolean) => {
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, verdict(D[0], 1, 's1', 'fail'), cfg);
    expect(apply(w, { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'INC-1', expiresAt: t }, cfg).ok).toBe(true);
    apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg);
    if (withPass) {
      apply(w, verdict(D[0], 2, 's1', 'pass'), cfg);
      expect(w.state.records.get(D[0])?.state).toBe('Passed');
    }
    const g = w.state.records.get(D[0])!.generation;
    apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg);
    apply(w, verdict(D[0], g + 1, 's1', 'fail'), cfg);
    return w;
  };
  it.each([[false], [true]])('with a pass: %s — Released (falling back to Failed), visible at t−1, hidden at t', (withPass) => {
    const w = trace(withPass);
    expect(w.state.records.get(D[0])).toMatchObject({ state: 'Released', release: { previous: 'Failed', expiresAt: t } });
    expect(isVisible(w.state, D[0], t - 1)).toBe(true);
    const after = step(w.state, { type: 'tick', repository: REPO }, t, cfg);
    expect(after.state.records.get(D[0])?.state).toBe('Failed');
    expect(after.events.map((e) => e.type)).toContain('quarantine.release_expired');
  });
  it('a revoke ends the release even after a pass', () => {
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'INC-1', expiresAt: t }, cfg);
    apply(w, verdict(D[0], 1, 's1', 'pass'), cfg);
    apply(w, { type: 'revoke', repository: REPO, digest: D[0], principal: ops, reason: 'bad' }, cfg);
    expect(w.state.records.get(D[0])).toMatchObject({ state: 'Failed', release: undefined });
  });
});
