import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createMemoryStore, createQuarantineService, reviveRecord } from '../../src/quarantine/index.js';
import { createView } from '../../src/quarantine/registry-view.js';
import { step } from '../../src/quarantine/machine.js';
import { unitOfWork } from '../../src/quarantine/store.js';
import type { QuarantineService } from '../../src/quarantine/index.js';
import { D, DEADLINE, REPO, T0, apply, ci, commandFor, config, dev, newWorld, ops, opsArb, reader, writer } from './harness.js';

const pass = (d: string, gen: number, s: string, key = `${s}-${gen}`) =>
  ({ type: 'verdict', repository: REPO, digest: d, generation: gen, scannerId: s, idempotencyKey: key, result: 'pass', principal: writer });
const push = (d: string, extra: Record<string, unknown> = {}) => ({ type: 'push', repository: REPO, digest: d, principal: ci, ...extra });

describe('deadlines and retries', () => {
  it('retries with a new generation, then goes Unresolved(timeout), never Passed', () => {
    const cfg = config({ maxRetries: 2 });
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    w.now += DEADLINE;
    const r1 = apply(w, { type: 'tick', repository: REPO }, cfg);
    expect(r1.events.map((e) => e.type)).toEqual(['scan.retry']);
    expect(w.state.records.get(D[0])).toMatchObject({ state: 'Quarantined', generation: 2, retries: 1 });
    // Evaluating much later applies every lapsed deadline in order.
    w.now += 10 * DEADLINE;
    const r2 = apply(w, { type: 'tick', repository: REPO }, cfg);
    expect(r2.events.map((e) => e.type)).toEqual(['scan.retry', 'quarantine.unresolved']);
    expect(w.state.records.get(D[0])).toMatchObject({ state: 'Unresolved', unresolvedReason: 'timeout', generation: 3, scanOpen: false });
    // A verdict for the generation the deadline closed is refused (quarantine.md Q17, issue 12.1).
    const late = apply(w, pass(D[0], 3, 's1'), cfg);
    expect(late.ok === false && late.error.code).toBe('ERR_CONFLICT');
    expect(w.state.records.get(D[0])?.state).toBe('Unresolved');
  });

  it('scanner unsupported / error results make the digest Unresolved with the reason', () => {
    const cfg = config({ scanners: ['s1'] });
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, { ...pass(D[0], 1, 's1'), result: 'unsupported' }, cfg);
    expect(w.state.records.get(D[0])).toMatchObject({ state: 'Unresolved', unresolvedReason: 'unsupported' });
  });
});

describe('releases and revocations', () => {
  it('a release lapses back to the previous state by itself; revoke fails a passed digest', () => {
    const cfg = config({ scanners: ['s1'] });
    const w = newWorld();
    apply(w, push(D[0], { tag: 'v1' }), cfg);
    const r = apply(w, { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'INC-9', expiresAt: w.now + 1000 }, cfg);
    expect(r.events.map((e) => e.type)).toEqual(['quarantine.released', 'push']);
    expect(createView(w.state, w.now, cfg).resolve('v1')).toBe(D[0]);
    expect(createView(w.state, w.now + 1000, cfg).resolve('v1')).toBeUndefined();
    const illegal = apply(w, { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'again', expiresAt: w.now + 10 }, cfg);
    expect(illegal.ok ? undefined : illegal.error.code).toBe('ERR_ILLEGAL_TRANSITION');
    apply(w, pass(D[0], 1, 's1'), cfg);
    expect(w.state.records.get(D[0])?.state).toBe('Passed');
    const rv = apply(w, { type: 'revoke', repository: REPO, digest: D[0], principal: ops, reason: 'CVE' }, cfg);
    expect(rv.events.map((e) => e.type)).toEqual(['quarantine.revoked']);
    expect(createView(w.state, w.now, cfg).resolve('v1')).toBeUndefined();
    const again = apply(w, { type: 'revoke', repository: REPO, digest: D[0], principal: ops, reason: 'CVE' }, cfg);
    expect(again.ok ? undefined : again.error.code).toBe('ERR_ILLEGAL_TRANSITION');
  });
});

describe('visibility queries', () => {
  const cfg = config({ scanners: ['s1'], hideExistence: false });
  const setup = () => {
    const w = newWorld();
    apply(w, push(D[0], { tag: 'v1' }), cfg);
    apply(w, push(D[1]), cfg);
    apply(w, push(D[3], { tag: 'multi', kind: 'index', children: [D[0], D[1]] }), cfg);
    apply(w, push(D[2], { subject: D[0] }), cfg);
    return w;
  };

  it('hides existence (404) or denies with the state (403) per principal and config', () => {
    const w = setup();
    const hidden = createView(w.state, w.now, config({ scanners: ['s1'] }));
    const open = createView(w.state, w.now, cfg);
    const never = hidden.manifest(dev, { digest: `sha256:${'9'.repeat(64)}` });
    expect(hidden.manifest(dev, { digest: D[0] })).toEqual({ ...never, reason: 'not-visible' });
    expect(hidden.manifest(dev, { tag: 'v1' })).toMatchObject({ allowed: false, response: { status: 404, code: 'MANIFEST_UNKNOWN', detail: undefined } });
    expect(open.manifest(dev, { digest: D[0] })).toMatchObject({ allowed: false, response: { status: 403, code: 'DENIED', detail: { quarantineState: 'Quarantined', digest: D[0] } } });
    expect(hidden.manifest(ci, { digest: D[0] })).toMatchObject({ response: { status: 403, code: 'DENIED' } });
    expect(hidden.manifest(ci, { digest: D[0] }, 'HEAD')).toMatchObject({ allowed: true, reason: 'push-capable-head' });
    expect(hidden.manifest(ci, { tag: 'v1' }, 'HEAD')).toMatchObject({ allowed: true, digest: D[0] });
    expect(hidden.manifest(dev, { digest: D[0] }, 'HEAD').allowed).toBe(false);
    expect(hidden.manifest(reader, { digest: D[0] })).toMatchObject({ allowed: true, reason: 'quarantine-reader' });
    expect(hidden.manifest(reader, { tag: 'v1' }).allowed).toBe(false);
  });

  it('lists tags, catalog, referrers and blobs only through visible manifests (Q2)', () => {
    const w = setup();
    let v = createView(w.state, w.now, cfg);
    expect(v.tags(dev)).toEqual([]);
    expect(v.tags(reader)).toEqual(['multi', 'v1']);
    expect(v.inCatalog(dev)).toBe(false);
    expect(v.inCatalog(reader)).toBe(true);
    expect(v.blob(dev, [D[0]]).allowed).toBe(false);
    expect(v.blob(ci, [D[0]], 'HEAD').allowed).toBe(true);
    expect(v.blob(reader, [D[0]])).toMatchObject({ allowed: true, via: D[0] });
    expect(createView(w.state, w.now, config({ scanners: ['s1'] })).blob(dev, [D[0]])).toMatchObject({ response: { status: 404, code: 'BLOB_UNKNOWN' } });
    apply(w, pass(D[0], 1, 's1'), cfg);
    v = createView(w.state, w.now, cfg);
    expect(v.tags(dev)).toEqual(['v1']);
    expect(v.inCatalog(dev)).toBe(true);
    expect(v.blob(dev, [D[1], D[0]])).toMatchObject({ allowed: true, via: D[0] });
    // Index closure (Q11): the index passed, but a child has not.
    apply(w, pass(D[3], 1, 's1'), cfg);
    v = createView(w.state, w.now, cfg);
    expect(v.manifest(dev, { tag: 'multi' }).allowed).toBe(false);
    // A referrer inherits its subject's visibility (quarantine.md §4, issue 12.4): D[0] passed.
    expect(v.referrers(dev, D[0])).toEqual({ allowed: true, digests: [D[2]] });
    expect(v.referrers(reader, D[0])).toEqual({ allowed: true, digests: [D[2]] });
    const r = apply(w, pass(D[1], 1, 's1'), cfg);
    expect(r.events.filter((e) => e.type === 'push').map((e) => [e.digest, e.tag])).toEqual([[D[1], undefined], [D[3], 'multi']]);
    v = createView(w.state, w.now, cfg);
    expect(v.manifest(dev, { tag: 'multi' })).toEqual({ allowed: true, digest: D[3], reason: 'visible' });
    apply(w, pass(D[2], 1, 's1'), cfg);
    expect(createView(w.state, w.now, cfg).referrers(dev, D[0])).toEqual({ allowed: true, digests: [D[2]] });
  });

  it('ACR webhook payloads: quarantine on push, push only when visible', () => {
    const w = newWorld();
    const c = config({ scanners: ['s1'] });
    const q = apply(w, push(D[0], { tag: 'v1', size: 1791, mediaType: 'application/vnd.oci.image.manifest.v1+json' }), c);
    // The id is deterministic: the version-8 UUID of `team/app@<digest>#1` (the event's sequence).
    const id = '6c634f2e-70ed-8704-a1d4-018fd7dcec53';
    expect(q.events.map((e) => e.id)).toEqual([id]);
    expect(q.events.map((e) => e.acr)).toEqual([
      {
        id, timestamp: new Date(T0).toISOString(), action: 'quarantine',
        target: { mediaType: 'application/vnd.oci.image.manifest.v1+json', size: 1791, digest: D[0], length: 1791, repository: REPO, tag: 'v1' },
      },
    ]);
    const p = apply(w, pass(D[0], 1, 's1'), c);
    expect(p.events.map((e) => [e.type, e.sequence])).toEqual([['scan.verdict', 2], ['quarantine.passed', 3], ['push', 4]]);
    expect(p.events.at(-1)?.acr).toMatchObject({ action: 'push', target: { digest: D[0], tag: 'v1', repository: REPO } });
    expect(p.events.at(-1)?.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('stored records', () => {
  it('an unknown stored state loads as Quarantined (Q4)', () => {
    const w = newWorld();
    const c = config({ scanners: ['s1'] });
    apply(w, push(D[0]), c);
    apply(w, pass(D[0], 1, 's1'), c);
    const row = JSON.parse(JSON.stringify(w.state.records.get(D[0]))) as Record<string, unknown>;
    expect(reviveRecord(row).state).toBe('Passed');
    expect(reviveRecord({ ...row, state: 'passed' }).state).toBe('Quarantined');
    expect(reviveRecord({ ...row, state: 'Released' }).state).toBe('Quarantined');
    expect(() => reviveRecord({ state: 'Passed' })).toThrow(expect.objectContaining({ code: 'ERR_STORE_CORRUPT' }));
  });
});

describe('service and memory store', () => {
  const make = (now = { t: T0 }) => {
    const store = createMemoryStore();
    const q = createQuarantineService({ store, config: { scanners: ['s1'] }, clock: () => now.t });
    return { store, q, now };
  };

  it('throws the rejection code after auditing it, and never emits events for it', async () => {
    const { store, q } = make();
    await q.push({ repository: REPO, digest: D[0], principal: ci });
    await expect(q.verdict({ repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: dev })).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
    await expect(q.execute({ type: 'verdict', repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'maybe', principal: writer } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
    await expect(q.execute({ type: 'push' } as never)).rejects.toMatchObject({ code: 'ERR_INVALID_COMMAND' });
    await expect(q.deleteTag({ repository: REPO, tag: 'nope', principal: ci })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    await expect(q.rescan({ repository: REPO, digest: D[1], principal: writer })).rejects.toMatchObject({ code: 'ERR_NOT_FOUND' });
    const audit = await store.readAudit();
    expect(audit.map((a) => [a.seq, a.outcome, a.code])).toEqual([
      [1, 'applied', undefined], [2, 'rejected', 'ERR_UNAUTHORIZED'], [3, 'rejected', 'ERR_INVALID_COMMAND'],
      [4, 'rejected', 'ERR_INVALID_COMMAND'], [5, 'rejected', 'ERR_NOT_FOUND'], [6, 'rejected', 'ERR_NOT_FOUND'],
    ]);
    expect((await store.allEvents()).map((e) => e.event.type)).toEqual(['quarantine']);
  });

  it('duplicate verdicts return the first response; the outbox delivers and acknowledges', async () => {
    const { store, q } = make();
    await q.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci });
    const v = { repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: writer } as const;
    const first = await q.verdict(v);
    expect(await q.verdict(v)).toEqual({ ...first, duplicate: true });
    const pending = await store.pendingEvents();
    expect(pending.map((p) => [p.position, p.event.type])).toEqual([[1, 'quarantine'], [2, 'scan.verdict'], [3, 'quarantine.passed'], [4, 'push']]);
    await store.acknowledgeEvents([1, 2]);
    expect((await store.pendingEvents()).map((p) => p.position)).toEqual([3, 4]);
  });

  it('compare-and-set: a stale unit of work is refused whole with ERR_CONFLICT', async () => {
    const { store } = make();
    const cfg = config({ scanners: ['s1'] });
    const s0 = await store.load(REPO);
    const a = step(s0, push(D[0], { tag: 'v1' }), T0, cfg);
    const b = step(s0, push(D[1], { tag: 'v1' }), T0, cfg);
    await store.commit(unitOfWork(s0, a));
    await expect(store.commit(unitOfWork(s0, b))).rejects.toMatchObject({ code: 'ERR_CONFLICT' });
    const s1 = await store.load(REPO);
    expect([...s1.records.keys()]).toEqual([D[0]]);
    expect((await store.allEvents()).length).toBe(1);
  });

  it('concurrent service instances on one store lose no updates (retry on conflict)', async () => {
    const store = createMemoryStore();
    const mk = (): QuarantineService => createQuarantineService({ store, config: { scanners: ['s1'] }, clock: () => T0 });
    const [a, b] = [mk(), mk()];
    await Promise.all([
      a.push({ repository: REPO, digest: D[0], tag: 'v1', principal: ci }),
      b.push({ repository: REPO, digest: D[1], tag: 'v1', principal: ci }),
      a.push({ repository: REPO, digest: D[2], tag: 'latest', principal: ci }),
    ]);
    const s = await store.load(REPO);
    expect(s.records.size).toBe(3);
    expect(s.tags.get('v1')?.pushes).toBe(2);
  });

  it('Q22 through the store: the audit log only grows by appending', async () => {
    await fc.assert(
      fc.asyncProperty(opsArb, async (list) => {
        const { store, q, now } = make();
        const mirror = newWorld();
        let prev = await store.readAudit();
        for (const op of list) {
          if (op.k === 'tick') now.t += op.ms;
          mirror.now = now.t;
          mirror.state = await store.load(REPO);
          const cmd = commandFor(mirror, op);
          try {
            await q.execute(cmd as never);
          } catch (e) {
            expect(e).toMatchObject({ name: 'TrustError' });
          }
          const next = await store.readAudit();
          expect(next.slice(0, prev.length)).toEqual(prev);
          expect(next.map((a) => a.seq)).toEqual(next.map((_, i) => i + 1));
          prev = next;
        }
        const ev = await store.allEvents();
        expect(ev.map((e) => e.position)).toEqual(ev.map((_, i) => i + 1));
      }),
      { numRuns: 60 },
    );
  });

  it('tick() applies the clock in every repository', async () => {
    const { store, q, now } = make();
    await q.push({ repository: REPO, digest: D[0], principal: ci });
    await q.push({ repository: 'other/app', digest: D[0], principal: ci });
    now.t += 10 * 30 * 60_000;
    await q.tick();
    expect((await store.load(REPO)).records.get(D[0])?.state).toBe('Unresolved');
    expect((await store.load('other/app')).records.get(D[0])?.state).toBe('Unresolved');
  });
});
