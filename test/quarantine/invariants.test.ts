import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { createView } from '../../src/quarantine/registry-view.js';
import { step } from '../../src/quarantine/machine.js';
import { reviveRecord, reviveTag } from '../../src/quarantine/revive.js';
import { visibleDigests } from '../../src/quarantine/visibility-rule.js';
import type { QuarantineConfig, RepositoryState, ScannerResult } from '../../src/quarantine/index.js';
import {
  D, DEADLINE, INDEX, REPO, T0, TAGS, apply, ci, config, dev, newWorld, oracleVisible, ops, opsArb, run, visibleSet, writer,
} from './harness.js';
import type { World } from './harness.js';

// Run counts (stated per property): 300 for trace-wide invariants over ≤ 40 commands, 200 for targeted ones, 300 for Q13.
const RUNS = { trace: 300, targeted: 200 } as const;
const cfgs = [config(), config({ onNewFindings: 'alert', quorum: { mode: 'k-of-n', k: 1 }, anyFailFails: false }), config({ onUnverifiedRetag: 'hideTag' })];
const cfgArb = fc.constantFrom(...cfgs);

const project = (s: RepositoryState) =>
  [...s.records.values()].map((r) => ({ d: r.digest, state: r.state, gen: r.generation, deleted: r.deleted, open: r.scanOpen }));

function pushAndPass(w: World, cfg: QuarantineConfig, d: string, tag?: string): void {
  apply(w, { type: 'push', repository: REPO, digest: d, principal: ci, ...(tag === undefined ? {} : { tag }) }, cfg);
  const gen = w.state.records.get(d)?.generation ?? 1;
  for (const s of cfg.scanners) {
    apply(w, { type: 'verdict', repository: REPO, digest: d, generation: gen, scannerId: s, idempotencyKey: `pp-${s}-${gen}`, result: 'pass', principal: writer }, cfg);
  }
}

describe('quarantine invariants (quarantine.md §5)', () => {
  it('every row step builds is one the revive step accepts as it is (what adopting a committed state relies on)', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, (cfg, list) => {
        const { trace, world } = run(cfg, list);
        for (const st of [...trace.map((t) => t.before), world.state]) {
          for (const r of st.records.values()) expect(reviveRecord(structuredClone(r))).toEqual(r);
          for (const b of st.tags.values()) expect(reviveTag(structuredClone(b))).toEqual(b);
        }
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q1: no pass, no visibility — ordinary GET/HEAD by tag or digest succeeds only for visible digests', () => {
    // The checks run only on allowed requests: count them, so that a view denying everything fails.
    const allowed = { digest: 0, tag: 0 };
    fc.assert(
      fc.property(cfgArb, opsArb, (cfg, list) => {
        const { trace } = run(cfg, list);
        for (const t of trace) {
          const view = createView(t.result.state, t.now, cfg);
          for (const d of D) {
            for (const m of ['GET', 'HEAD'] as const) {
              const a = view.manifest(dev, { digest: d }, m);
              if (a.allowed) {
                allowed.digest++;
                expect(oracleVisible(t.result.state, d, t.now)).toBe(true);
              }
            }
          }
          for (const tag of TAGS) {
            const a = view.manifest(dev, { tag });
            if (a.allowed) {
              allowed.tag++;
              expect(oracleVisible(t.result.state, a.digest, t.now)).toBe(true);
            }
          }
        }
      }),
      { numRuns: RUNS.trace },
    );
    expect(allowed.digest).toBeGreaterThan(0);
    expect(allowed.tag).toBeGreaterThan(0);
  });

  it('Q3: time never grants — a tick alone only removes visibility', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, fc.integer({ min: 1, max: 400_000 }), (cfg, list, dt) => {
        const { world, trace } = run(cfg, list);
        for (const t of trace) {
          if (t.op.k !== 'tick') continue;
          const before = visibleSet(t.before, t.beforeNow);
          for (const d of visibleSet(t.result.state, t.now)) expect(before.has(d)).toBe(true);
        }
        const r = step(world.state, { type: 'tick', repository: REPO }, world.now + dt, cfg);
        const before = visibleSet(world.state, world.now);
        for (const d of visibleDigests(r.state, world.now + dt)) expect(before.has(d)).toBe(true);
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q4: fail closed on unknown — bad verdicts are rejected, audited, and change nothing', () => {
    const bad = fc.constantFrom(
      { mutate: { result: 'maybe' }, code: 'ERR_INVALID_COMMAND' },
      { mutate: { result: 'PASSED' }, code: 'ERR_INVALID_COMMAND' },
      { mutate: { scannerId: 'nope' }, code: 'ERR_UNKNOWN_SCANNER' },
      { mutate: { generation: undefined }, code: 'ERR_INVALID_COMMAND' },
      { mutate: { principal: dev }, code: 'ERR_UNAUTHORIZED' },
      { mutate: { principal: ci }, code: 'ERR_UNAUTHORIZED' },
      { mutate: { findings: 'none' }, code: 'ERR_INVALID_COMMAND' },
      { mutate: { extra: 1 }, code: 'ERR_INVALID_COMMAND' },
      { mutate: { generation: 0 }, code: 'ERR_INVALID_COMMAND' },
    );
    fc.assert(
      fc.property(cfgArb, opsArb, fc.integer({ min: 0, max: 3 }), bad, (cfg, list, di, b) => {
        const w = newWorld();
        apply(w, { type: 'push', repository: REPO, digest: D[di], principal: ci }, cfg);
        run(cfg, list, w);
        const gen = w.state.records.get(D[di] as string)?.generation ?? 1;
        const cmd: Record<string, unknown> = {
          type: 'verdict', repository: REPO, digest: D[di], generation: gen, scannerId: 's1',
          idempotencyKey: 'fresh-key', result: 'pass', principal: writer, ...b.mutate,
        };
        if ('generation' in b.mutate && b.mutate.generation === undefined) delete cmd['generation'];
        const r = step(w.state, cmd, w.now, cfg);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.code).toBe(b.code);
        expect(project(r.state)).toEqual(project(w.state));
        expect([...r.state.tags.values()]).toEqual([...w.state.tags.values()]);
        expect(r.events).toEqual([]);
        expect(r.audit).toHaveLength(1);
        expect(r.audit[0]).toMatchObject({ outcome: 'rejected', code: b.code });
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q6: a verdict, release or revoke for d leaves every other record unchanged', () => {
    const target = fc.record({
      d: fc.integer({ min: 0, max: 3 }),
      kind: fc.constantFrom('verdict', 'release', 'revoke', 'rescan'),
      result: fc.constantFrom<ScannerResult>('pass', 'fail', 'unsupported'),
    });
    fc.assert(
      fc.property(cfgArb, opsArb, target, (cfg, list, t) => {
        const { world: w } = run(cfg, list);
        const d = D[t.d] as string;
        const gen = w.state.records.get(d)?.generation ?? 1;
        const cmd =
          t.kind === 'verdict'
            ? { type: 'verdict', repository: REPO, digest: d, generation: gen, scannerId: 's2', idempotencyKey: 'q6', result: t.result, principal: writer }
            : t.kind === 'release'
              ? { type: 'release', repository: REPO, digest: d, reason: 'x', expiresAt: w.now + 1000, principal: ops }
              : t.kind === 'rescan'
                ? { type: 'rescan', repository: REPO, digest: d, principal: writer }
                : { type: 'revoke', repository: REPO, digest: d, reason: 'x', principal: ops };
        const r = step(w.state, cmd, w.now, cfg);
        for (const [other, rec] of w.state.records) {
          // The index's own record is separate data; only its `push` event may follow a child's pass.
          if (other === d) continue;
          const after = r.state.records.get(other);
          if (other === INDEX && after !== undefined) {
            expect({ ...after, sequence: 0, version: 0 }).toEqual({ ...rec, sequence: 0, version: 0 });
          } else {
            expect(after).toEqual(rec);
          }
        }
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q7: tagging, re-tagging and untagging never change a digest state', () => {
    const tagOp = fc.record({ d: fc.integer({ min: 0, max: 3 }), tag: fc.integer({ min: 0, max: 1 }), del: fc.boolean() });
    fc.assert(
      fc.property(cfgArb, opsArb, tagOp, (cfg, list, t) => {
        const { world: w } = run(cfg, list);
        const d = D[t.d] as string;
        if (!w.state.records.has(d) || w.state.records.get(d)?.deleted === true) return;
        const cmd = t.del
          ? { type: 'deleteTag', repository: REPO, tag: TAGS[t.tag], principal: ci }
          : { type: 'push', repository: REPO, digest: d, tag: TAGS[t.tag], principal: ci, ...(d === INDEX ? { kind: 'index', children: [D[0], D[1]] } : {}) };
        const r = step(w.state, cmd, w.now, cfg);
        for (const [dig, rec] of w.state.records) {
          expect({ state: r.state.records.get(dig)?.state, gen: r.state.records.get(dig)?.generation }).toEqual({ state: rec.state, gen: rec.generation });
        }
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q8: tag resolution safety — undefined or visible; a push to a non-visible digest never moves it', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 1 }), (cfg, list, di, ti) => {
        const { world: w, trace } = run(cfg, list);
        for (const t of trace) {
          const view = createView(t.result.state, t.now, cfg);
          for (const tag of TAGS) {
            const got = view.resolve(tag);
            if (got !== undefined) expect(oracleVisible(t.result.state, got, t.now)).toBe(true);
          }
        }
        const d = D[di] as string;
        const tag = TAGS[ti] as string;
        const beforeView = createView(w.state, w.now, cfg);
        const r = step(w.state, { type: 'push', repository: REPO, digest: d, tag, principal: ci, ...(d === INDEX ? { kind: 'index', children: [D[0], D[1]] } : {}) }, w.now, cfg);
        if (oracleVisible(r.state, d, w.now)) return;
        const after = createView(r.state, w.now, cfg).resolve(tag);
        expect(after).not.toBe(d);
        if (cfg.onUnverifiedRetag === 'hideTag') expect(after).toBeUndefined();
        else expect(after).toBe(beforeView.resolve(tag));
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q9: promotion respects push order — the newest push wins', () => {
    fc.assert(
      fc.property(fc.subarray([1, 2]), fc.boolean(), fc.integer({ min: 0, max: 50_000 }), (passes, reverse, gap) => {
        const cfg = config();
        const w = newWorld();
        pushAndPass(w, cfg, D[0], 'v1');
        apply(w, { type: 'push', repository: REPO, digest: D[1], tag: 'v1', principal: ci }, cfg);
        apply(w, { type: 'push', repository: REPO, digest: D[2], tag: 'v1', principal: ci }, cfg);
        const order = reverse ? [...passes].reverse() : passes;
        for (const i of order) {
          w.now += gap;
          apply(w, { type: 'tick', repository: REPO }, cfg);
          for (const s of cfg.scanners) {
            apply(w, { type: 'verdict', repository: REPO, digest: D[i], generation: w.state.records.get(D[i] as string)?.generation, scannerId: s, idempotencyKey: `k-${s}`, result: 'pass', principal: writer }, cfg);
          }
        }
        const got = createView(w.state, w.now, cfg).resolve('v1');
        expect(got).not.toBe(D[1]);
        if (passes.includes(2) && oracleVisible(w.state, D[2], w.now)) expect(got).toBe(D[2]);
        else expect(got).toBe(D[0]);
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q10: no laundering — re-push or delete+re-push of a Failed digest never makes it visible', () => {
    const laundry = fc.array(
      fc.oneof(
        fc.constant({ k: 'delete' as const }),
        fc.record({ k: fc.constant('push' as const), tag: fc.boolean() }),
        fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 500_000 }) }),
      ),
      { maxLength: 20 },
    );
    fc.assert(
      fc.property(cfgArb, laundry, (cfg, list) => {
        const w = newWorld();
        const d = D[0];
        apply(w, { type: 'push', repository: REPO, digest: d, principal: ci, tag: 'v1' }, cfg);
        for (const s of cfg.scanners) {
          apply(w, { type: 'verdict', repository: REPO, digest: d, generation: 1, scannerId: s, idempotencyKey: 'f', result: 'fail', principal: writer }, cfg);
        }
        const failed = w.state.records.get(d);
        expect(failed?.state).toBe('Failed');
        for (const op of list) {
          if (op.k === 'tick') w.now += op.ms;
          const cmd =
            op.k === 'delete'
              ? { type: 'deleteManifest', repository: REPO, digest: d, principal: ci }
              : op.k === 'push'
                ? { type: 'push', repository: REPO, digest: d, principal: ci, ...(op.tag ? { tag: 'v1' } : {}) }
                : { type: 'tick', repository: REPO };
          apply(w, cmd, cfg);
          expect(oracleVisible(w.state, d, w.now)).toBe(false);
          expect(createView(w.state, w.now, cfg).manifest(dev, { tag: 'v1' }).allowed).toBe(false);
          const rec = w.state.records.get(d);
          expect({ state: rec?.state, gen: rec?.generation }).toEqual({ state: failed?.state, gen: failed?.generation });
        }
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q12: stale callbacks lose — an older generation changes no state, binding or event', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, fc.constantFrom<ScannerResult>('pass', 'fail', 'error'), (cfg, list, result) => {
        const w = newWorld();
        apply(w, { type: 'push', repository: REPO, digest: D[0], principal: ci, tag: 'v1' }, cfg);
        apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg);
        const { trace } = run(cfg, list, w);
        const stale = { type: 'verdict', repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'stale', result, principal: writer };
        const r = step(w.state, stale, w.now, cfg);
        expect(r.ok).toBe(false);
        if (!r.ok) expect(r.error.code).toBe('ERR_CONFLICT');
        expect(r.state.records).toEqual(w.state.records);
        expect(r.state.tags).toEqual(w.state.tags);
        expect(r.events).toEqual([]);
        for (const t of trace) {
          const c = t.command;
          if (c['type'] !== 'verdict') continue;
          const cur = t.before.records.get(c['digest'] as string);
          const replayed = cur?.responses.some((x) => x.idempotencyKey === c['idempotencyKey'] && x.scannerId === c['scannerId']);
          if (cur === undefined || replayed === true || (c['generation'] as number) >= cur.generation || t.now !== t.beforeNow) continue;
          expect(t.result.ok).toBe(false);
          expect(t.result.state.records).toEqual(t.before.records);
          expect(t.result.state.tags).toEqual(t.before.tags);
          expect(t.result.events).toEqual([]);
        }
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q13: confluence — any delivery order of current and stale verdicts, with duplicates, gives one final state', () => {
    const scanners = ['a', 'b', 'c'];
    const cfgQ = fc.constantFrom(
      config({ scanners, quorum: { mode: 'all' } }),
      config({ scanners, quorum: { mode: 'k-of-n', k: 2 }, anyFailFails: false }),
      config({ scanners, quorum: { mode: 'k-of-n', k: 2 }, anyFailFails: true, onNewFindings: 'alert' }),
    );
    const results = fc.array(fc.constantFrom<ScannerResult>('pass', 'fail', 'unsupported', 'error'), { minLength: 3, maxLength: 3 });
    fc.assert(
      fc.property(
        cfgQ,
        fc.subarray([0, 1, 2], { minLength: 1 }),
        results,
        results,
        fc.array(fc.nat(), { maxLength: 4 }),
        fc.boolean(),
        fc.func(fc.integer()),
        (cfg, who, current, stale, dups, passedFirst, rank) => {
          const verdicts = [
            ...who.map((i) => ({ gen: 2, s: scanners[i] as string, result: current[i] as ScannerResult })),
            ...[0, 1, 2].map((i) => ({ gen: 1, s: scanners[i] as string, result: stale[i] as ScannerResult })),
          ];
          const withDups = [...verdicts, ...dups.map((n) => verdicts[n % verdicts.length]!)];
          const shuffled = withDups.map((v, i) => ({ v, r: rank(i) })).sort((x, y) => x.r - y.r).map((x) => x.v);
          const finalOf = (order: typeof withDups) => {
            const w = newWorld();
            if (passedFirst) pushAndPass(w, cfg, D[0]);
            else apply(w, { type: 'push', repository: REPO, digest: D[0], principal: ci }, cfg);
            apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg);
            for (const v of order) {
              apply(w, { type: 'verdict', repository: REPO, digest: D[0], generation: v.gen, scannerId: v.s, idempotencyKey: `${v.s}-${v.gen}`, result: v.result, principal: writer }, cfg);
            }
            const r = w.state.records.get(D[0]);
            return { state: r?.state, gen: r?.generation, open: r?.scanOpen, decided: r?.verdictGeneration, visible: oracleVisible(w.state, D[0], w.now) };
          };
          expect(finalOf(shuffled)).toEqual(finalOf(verdicts));
        },
      ),
      { numRuns: 300 },
    );
  });

  it('Q14: idempotency — the same (scannerId, idempotencyKey) twice equals once, and returns the first response', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, fc.integer({ min: 0, max: 3 }), fc.constantFrom<ScannerResult>('pass', 'fail', 'unsupported'), (cfg, list, di, result) => {
        const { world: w } = run(cfg, list);
        const d = D[di] as string;
        const gen = w.state.records.get(d)?.generation ?? 1;
        const v = { type: 'verdict', repository: REPO, digest: d, generation: gen, scannerId: 's2', idempotencyKey: 'once', result, principal: writer };
        const first = step(w.state, v, w.now, cfg);
        fc.pre(first.ok);
        const second = step(first.state, v, w.now, cfg);
        expect(second.ok).toBe(true);
        expect(second.state).toEqual(first.state);
        expect(second.events).toEqual([]);
        expect(second.audit).toEqual([]);
        if (first.ok && second.ok) expect(second.response.verdict).toEqual({ ...first.response.verdict, duplicate: true });
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q15: monotone generations — terminal verdicts move only with a higher generation or release/revoke', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, (cfg, list) => {
        const { trace } = run(cfg, list);
        for (const t of trace) {
          for (const [d, before] of t.before.records) {
            const after = t.result.state.records.get(d);
            expect(after).toBeDefined();
            if (after === undefined) continue;
            expect(after.generation).toBeGreaterThanOrEqual(before.generation);
            const terminal = before.state === 'Passed' || before.state === 'Failed' || before.state === 'Unresolved';
            if (terminal && after.state !== before.state) {
              const override = t.result.ok && (t.command['type'] === 'release' || t.command['type'] === 'revoke');
              if (override) continue;
              // The generation whose verdict is in force. A rescan of a Passed digest opens gen+1 while
              // the gen-g verdict still holds (§6 "Passed (rescanning gen+1)", Q17), so while that scan
              // is open it is `verdictGeneration`, not `generation`. A terminal state with no open scan
              // is bounded by `generation` (a stricter bound than its deciding generation).
              const inForce = before.scanOpen ? before.verdictGeneration : before.generation;
              expect(inForce).toBeDefined();
              // Only a higher generation may move it: either this step opened one, or a verdict of the
              // open, higher generation decided it — and then that decision is the one in force.
              expect(after.generation).toBeGreaterThan(inForce ?? Infinity);
              if (after.verdictGeneration !== before.verdictGeneration) {
                expect(after.verdictGeneration).toBeGreaterThan(inForce ?? Infinity);
              }
              if (t.command['type'] === 'verdict' && t.now === t.beforeNow && after.verdictGeneration !== before.verdictGeneration) {
                expect(t.command['generation']).toBe(after.verdictGeneration);
              }
            }
          }
        }
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q15 regression (seed 1818903513): a rescan decided Failed is moved by its own generation once, then a same-generation pass is rejected', () => {
    // The shrunk counterexample, written out by hand. Config: s1+s2, quorum all, anyFail ⇒ Failed,
    // onNewFindings=block. It used to trip Q15 because the property compared against `generation`,
    // which the rescan had already raised to 2 while the gen-1 Passed verdict was still in force.
    const cfg = config();
    const d = D[0];
    const w = newWorld();
    const at = (r: ReturnType<typeof apply>) => ({ ok: r.ok, events: r.events.map((e) => e.type) });
    const rec = () => {
      const r = w.state.records.get(d);
      return { state: r?.state, generation: r?.generation, verdictGeneration: r?.verdictGeneration, scanOpen: r?.scanOpen, verdicts: r?.verdicts.map((v) => `${v.scannerId}:${v.result}`) };
    };
    const verdict = (scannerId: string, generation: number, result: ScannerResult) =>
      ({ type: 'verdict', repository: REPO, digest: d, generation, scannerId, idempotencyKey: `k0-g${generation}-${result}`, result, principal: writer });
    const visible = () => createView(w.state, w.now, cfg).isVisible(d);

    // 1. push → Quarantined, generation 1, scan open.
    expect(at(apply(w, { type: 'push', repository: REPO, digest: d, principal: ci }, cfg))).toEqual({ ok: true, events: ['quarantine'] });
    expect(rec()).toEqual({ state: 'Quarantined', generation: 1, verdictGeneration: undefined, scanOpen: true, verdicts: [] });
    // 2. s2 passes gen 1 → quorum pending.
    expect(at(apply(w, verdict('s2', 1, 'pass'), cfg))).toEqual({ ok: true, events: ['scan.verdict'] });
    expect(rec()).toEqual({ state: 'Quarantined', generation: 1, verdictGeneration: undefined, scanOpen: true, verdicts: ['s2:pass'] });
    // 3. s1 passes gen 1 → Passed (gen 1 decided), visible, ACR push.
    expect(at(apply(w, verdict('s1', 1, 'pass'), cfg))).toEqual({ ok: true, events: ['scan.verdict', 'quarantine.passed', 'push'] });
    expect(rec()).toEqual({ state: 'Passed', generation: 1, verdictGeneration: 1, scanOpen: false, verdicts: ['s2:pass', 's1:pass'] });
    expect(visible()).toBe(true);
    // 4. rescan → still Passed on the gen-1 verdict while generation 2 is open (§6, Q17).
    expect(at(apply(w, { type: 'rescan', repository: REPO, digest: d, principal: writer }, cfg))).toEqual({ ok: true, events: ['scan.requested'] });
    expect(rec()).toEqual({ state: 'Passed', generation: 2, verdictGeneration: 1, scanOpen: true, verdicts: [] });
    expect(visible()).toBe(true);
    // 5. s1 fails gen 2 → a higher generation than the one in force moves Passed → Failed (§6 block).
    const fail = apply(w, verdict('s1', 2, 'fail'), cfg);
    expect(at(fail)).toEqual({ ok: true, events: ['scan.verdict', 'quarantine.revoked'] });
    expect(fail.ok && fail.response.verdict).toEqual({ state: 'Failed', generation: 2, decision: 'fail', duplicate: false });
    expect(rec()).toEqual({ state: 'Failed', generation: 2, verdictGeneration: 2, scanOpen: false, verdicts: ['s1:fail'] });
    expect(visible()).toBe(false);
    // 6. s1 passes gen 2 (new key) → rejected: gen 2 is decided and s1 already reported. Nothing moves.
    const before = w.state;
    const late = apply(w, verdict('s1', 2, 'pass'), cfg);
    expect(late.ok).toBe(false);
    expect(late.ok ? undefined : late.error.code).toBe('ERR_CONFLICT');
    expect(late.events).toEqual([]);
    expect(late.audit).toHaveLength(1);
    expect(late.audit[0]).toMatchObject({ outcome: 'rejected', code: 'ERR_CONFLICT', from: 'Failed', to: 'Failed', generation: 2 });
    expect(late.state.records).toEqual(before.records);
    expect(late.state.tags).toEqual(before.tags);
    expect(rec()).toEqual({ state: 'Failed', generation: 2, verdictGeneration: 2, scanOpen: false, verdicts: ['s1:fail'] });
    expect(visible()).toBe(false);
  });

  it('Q17: the last verdict holds during a rescan, then onNewFindings decides', () => {
    const noise = fc.array(
      fc.oneof(
        fc.record({ k: fc.constant('tick' as const), ms: fc.integer({ min: 1, max: 5_000 }) }),
        fc.record({ k: fc.constant('stale' as const), result: fc.constantFrom<ScannerResult>('fail', 'error') }),
        fc.record({ k: fc.constant('dupPass' as const) }),
      ),
      { maxLength: 8 },
    );
    fc.assert(
      fc.property(fc.constantFrom<'block' | 'alert'>('block', 'alert'), noise, fc.boolean(), (mode, list, s2First) => {
        const cfg = config({ onNewFindings: mode });
        const w = newWorld();
        pushAndPass(w, cfg, D[0], 'v1');
        apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg);
        const v = (s: string, result: ScannerResult, gen: number, key: string) =>
          ({ type: 'verdict', repository: REPO, digest: D[0], generation: gen, scannerId: s, idempotencyKey: key, result, principal: writer });
        apply(w, v(s2First ? 's2' : 's1', 'pass', 2, 'first'), cfg);
        for (const op of list) {
          if (op.k === 'tick') w.now += op.ms;
          apply(w, op.k === 'tick' ? { type: 'tick', repository: REPO } : op.k === 'stale' ? v('s1', op.result, 1, `stale-${op.result}`) : v(s2First ? 's2' : 's1', 'pass', 2, 'first'), cfg);
          expect(createView(w.state, w.now, cfg).manifest(dev, { tag: 'v1' }).allowed).toBe(true);
        }
        apply(w, v(s2First ? 's1' : 's2', 'fail', 2, 'decider'), cfg);
        expect(createView(w.state, w.now, cfg).manifest(dev, { tag: 'v1' }).allowed).toBe(mode === 'alert');
        expect(w.state.records.get(D[0])?.state).toBe(mode === 'alert' ? 'Passed' : 'Failed');
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q18: expiry is exact for releases and waivers (t-1 in effect, t and t+1 not)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 2, max: 500_000 }), fc.integer({ min: 0, max: 10_000 }), (ttl, offset) => {
        // Release
        const cfg = config({ maxReleaseTtlMs: 1_000_000 });
        const w = newWorld();
        w.now += offset;
        apply(w, { type: 'push', repository: REPO, digest: D[0], principal: ci }, cfg);
        apply(w, { type: 'verdict', repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'f', result: 'fail', principal: writer }, cfg);
        const t = w.now + ttl;
        const r = apply(w, { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'hotfix', expiresAt: t }, cfg);
        expect(r.ok).toBe(true);
        expect(createView(w.state, t - 1, cfg).isVisible(D[0])).toBe(true);
        expect(createView(w.state, t, cfg).isVisible(D[0])).toBe(false);
        expect(createView(w.state, t + 1, cfg).isVisible(D[0])).toBe(false);
        expect(step(w.state, { type: 'tick', repository: REPO }, t, cfg).state.records.get(D[0])?.state).toBe('Failed');
        // Waiver
        const created = T0 + offset;
        const wt = created + ttl;
        const wcfg = config({
          scanners: ['s1'],
          evaluation: { mode: 'findings', threshold: 'High' },
          waivers: [{ id: 'w1', findingId: 'CVE-1', scope: { kind: 'repository', repository: REPO }, reason: 'unreachable code', author: 'sec', createdAt: created, expiresAt: wt }],
        });
        const w2 = newWorld();
        w2.now = created;
        apply(w2, { type: 'push', repository: REPO, digest: D[1], principal: ci }, wcfg);
        apply(w2, { type: 'verdict', repository: REPO, digest: D[1], generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'fail', findings: [{ id: 'CVE-1', severity: 'Critical' }], principal: writer }, wcfg);
        expect(w2.state.records.get(D[1])?.state).toBe('Passed');
        expect(createView(w2.state, wt - 1, wcfg).isVisible(D[1])).toBe(true);
        expect(createView(w2.state, wt, wcfg).isVisible(D[1])).toBe(false);
        expect(createView(w2.state, wt + 1, wcfg).isVisible(D[1])).toBe(false);
        expect(step(w2.state, { type: 'tick', repository: REPO }, wt, wcfg).state.records.get(D[1])?.state).toBe('Failed');
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q19: override discipline — bad releases are rejected; a good one emits one released event and one audit entry', () => {
    const variant = fc.constantFrom(
      { patch: { reason: '' }, code: 'ERR_INVALID_COMMAND' },
      { patch: { reason: '   ' }, code: 'ERR_INVALID_COMMAND' },
      { patch: { reason: undefined }, code: 'ERR_INVALID_COMMAND' },
      { patch: { expiresAt: undefined }, code: 'ERR_INVALID_COMMAND' },
      { patch: { ttl: 600_001 }, code: 'ERR_INVALID_COMMAND' },
      { patch: { ttl: 0 }, code: 'ERR_INVALID_COMMAND' },
      { patch: { principal: writer }, code: 'ERR_UNAUTHORIZED' },
      { patch: { principal: dev }, code: 'ERR_UNAUTHORIZED' },
      { patch: { principal: { id: 'ci', roles: ['overrider', 'push'] }, sod: true }, code: 'ERR_UNAUTHORIZED' },
      { patch: {}, code: undefined },
    );
    fc.assert(
      fc.property(opsArb, variant, fc.integer({ min: 1, max: 600_000 }), (list, v, ttl) => {
        const p = v.patch as Record<string, unknown>;
        const cfg = config({ separationOfDuties: p['sod'] === true });
        const w = newWorld();
        run(cfg, list.filter((o) => !('d' in o) || o.d !== 2), w);
        apply(w, { type: 'push', repository: REPO, digest: D[2], principal: ci }, cfg);
        const cmd: Record<string, unknown> = {
          type: 'release', repository: REPO, digest: D[2], principal: p['principal'] ?? ops, reason: 'INC-7',
          expiresAt: w.now + (typeof p['ttl'] === 'number' ? p['ttl'] : ttl),
        };
        for (const k of ['reason', 'expiresAt'] as const) if (k in p && p[k] === undefined) delete cmd[k];
        if (typeof p['reason'] === 'string') cmd['reason'] = p['reason'];
        const r = step(w.state, cmd, w.now, cfg);
        if (v.code !== undefined) {
          expect(r.ok).toBe(false);
          if (!r.ok) expect(r.error.code).toBe(v.code);
          expect(r.state.records.get(D[2])).toEqual(w.state.records.get(D[2]));
          return;
        }
        expect(r.ok).toBe(true);
        expect(r.events.filter((e) => e.type === 'quarantine.released')).toHaveLength(1);
        expect(r.audit).toHaveLength(1);
        expect(r.audit[0]).toMatchObject({ outcome: 'applied', command: 'release', actor: 'ops', principalKind: 'overrider', to: 'Released', reason: 'INC-7' });
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q20: quorum — Passed implies every required scanner passed; a failure or a missing scanner never passes', () => {
    fc.assert(
      fc.property(opsArb, fc.boolean(), (list, missing) => {
        const cfg = config(); // scanners s1, s2, mode all, anyFail ⇒ Failed
        const { trace } = run(cfg, list);
        for (const t of trace) {
          for (const [d, after] of t.result.state.records) {
            const before = t.before.records.get(d);
            const decidedNow = after.state === 'Passed' && after.verdictGeneration === after.generation && (before?.state !== 'Passed' || before.verdictGeneration !== after.verdictGeneration);
            if (decidedNow) {
              for (const s of cfg.scanners) expect(after.verdicts.some((v) => v.scannerId === s && v.outcome === 'pass')).toBe(true);
            }
            if (after.verdictGeneration === after.generation && after.verdicts.some((v) => v.outcome === 'fail')) {
              expect(after.state === 'Passed' && after.verdictGeneration === after.generation && !after.scanOpen && before?.state !== 'Passed').toBe(false);
            }
          }
        }
        // A missing scanner keeps the digest non-visible until the deadline, then Unresolved(timeout).
        const w = newWorld();
        apply(w, { type: 'push', repository: REPO, digest: D[0], principal: ci }, cfg);
        for (let g = 1; g <= cfg.maxRetries + 1; g++) {
          if (!missing) apply(w, { type: 'verdict', repository: REPO, digest: D[0], generation: g, scannerId: 's1', idempotencyKey: `g${g}`, result: 'pass', principal: writer }, cfg);
          expect(oracleVisible(w.state, D[0], w.now)).toBe(false);
          w.now += DEADLINE;
          apply(w, { type: 'tick', repository: REPO }, cfg);
        }
        expect(w.state.records.get(D[0])).toMatchObject({ state: 'Unresolved', unresolvedReason: 'timeout' });
      }),
      { numRuns: RUNS.targeted },
    );
  });

  it('Q21: events mirror commits — gapless per-digest sequences; one ACR push per passage to visible', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, (cfg, list) => {
        const { world, trace } = run(cfg, list);
        const seqs = new Map<string, number[]>();
        for (const e of world.events) seqs.set(e.digest, [...(seqs.get(e.digest) ?? []), e.sequence]);
        for (const [d, s] of seqs) {
          expect(s).toEqual(s.map((_, i) => i + 1));
          expect(world.state.records.get(d)?.sequence).toBe(s.length);
        }
        for (const t of trace) {
          const changed = [...t.result.state.records].filter(([d, r]) => t.before.records.get(d)?.state !== r.state).map(([d]) => d);
          for (const d of changed) expect(t.result.events.some((e) => e.digest === d)).toBe(true);
          if (!t.result.ok && t.now === t.beforeNow) expect(t.result.events).toEqual([]);
          for (const d of D) {
            const wasVisible = oracleVisible(t.before, d, t.beforeNow);
            const isVisibleNow = oracleVisible(t.result.state, d, t.now);
            const pushes = t.result.events.filter((e) => e.type === 'push' && e.digest === d).length;
            expect(pushes).toBe(!wasVisible && isVisibleNow ? 1 : 0);
          }
        }
      }),
      { numRuns: RUNS.trace },
    );
  });

  it('Q22: audit is append-only and complete — every state change has one record with actor, kind, from, to, generation, policy', () => {
    fc.assert(
      fc.property(cfgArb, opsArb, (cfg, list) => {
        const { trace } = run(cfg, list);
        for (const t of trace) {
          if (!t.result.ok) expect(t.result.audit.at(-1)).toMatchObject({ outcome: 'rejected', code: t.result.error.code });
          for (const [d, after] of t.result.state.records) {
            const before = t.before.records.get(d);
            if (before?.state === after.state) continue;
            const entries = t.result.audit.filter((a) => a.digest === d && a.outcome === 'applied' && a.to !== undefined);
            expect(entries.length).toBeGreaterThan(0);
            expect(entries[0]?.from).toBe(before?.state);
            expect(entries.at(-1)?.to).toBe(after.state);
            for (const a of entries) {
              expect(a.actor.length).toBeGreaterThan(0);
              expect(a.principalKind).toBeDefined();
              expect(a.generation).toBeGreaterThan(0);
              expect(a.policyVersion).toBe(cfg.policyVersion);
            }
          }
        }
      }),
      { numRuns: RUNS.trace },
    );
  });
});
