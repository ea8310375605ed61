/**
 * Q16, replica linearizability: K replicas (service instances) share one store and interleave
 * their loads and commits in every order fast-check's scheduler picks. Each replica runs its own
 * commands in order. The observed history must match some serial order of the commands that took
 * effect, found by searching the interleavings of the replicas' command lists with the pure
 * `step`: every response (or error code) the same, and the same final records and tags. A lost
 * update, a verdict applied to a state it did not see, or a rejection committed on a state that
 * never existed has no such order.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import { emptyRepository, step } from '../../src/quarantine/machine.js';
import type { QuarantineConfig, QuarantineStore, RepositoryState } from '../../src/quarantine/index.js';
import { D, INDEX, REPO, T0, ci, config, dev, ops, writer } from './harness.js';

const CFG = config();

type Outcome = { ok: unknown } | { code: string };

/** Commands that do not depend on state, so each replica's list is fixed up front. */
const commandArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
  fc.record({ d: fc.integer({ min: 0, max: 1 }), tag: fc.constantFrom('v1', undefined) }).map(({ d, tag }) => ({
    type: 'push',
    repository: REPO,
    digest: D[d],
    principal: ci,
    ...(tag === undefined ? {} : { tag }),
  })),
  fc
    .record({ d: fc.integer({ min: 0, max: 1 }), s: fc.constantFrom('s1', 's2'), result: fc.constantFrom('pass', 'pass', 'fail'), gen: fc.constantFrom(1, 1, 2), key: fc.integer({ min: 0, max: 2 }) })
    .map(({ d, s, result, gen, key }) => ({
      type: 'verdict',
      repository: REPO,
      digest: D[d],
      generation: gen,
      scannerId: s,
      idempotencyKey: `k${key}`,
      result,
      principal: writer,
    })),
  fc.constantFrom(
    { type: 'push', repository: REPO, digest: INDEX, principal: ci, tag: 'latest', kind: 'index', children: [D[0], D[1]] },
    { type: 'verdict', repository: REPO, digest: INDEX, generation: 1, scannerId: 's1', idempotencyKey: 'i', result: 'pass', principal: writer },
    { type: 'verdict', repository: REPO, digest: INDEX, generation: 1, scannerId: 's2', idempotencyKey: 'i', result: 'pass', principal: writer },
    { type: 'deleteManifest', repository: REPO, digest: D[0], principal: ci },
    { type: 'revoke', repository: REPO, digest: D[0], principal: ops, reason: 'bad' },
    { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'INC-8', expiresAt: T0 + 60_000 },
    { type: 'rescan', repository: REPO, digest: D[0], principal: writer },
    { type: 'release', repository: REPO, digest: D[1], principal: ops, reason: 'INC-7', expiresAt: T0 + 60_000 },
    { type: 'revoke', repository: REPO, digest: D[1], principal: ops, reason: 'bad' },
    { type: 'deleteTag', repository: REPO, tag: 'v1', principal: ci },
  ),
);

const outcomeOfStep = (state: RepositoryState, command: unknown, cfg: QuarantineConfig) => {
  const r = step(state, command, T0, cfg);
  const outcome: Outcome = r.ok ? { ok: r.response } : { code: r.error.code };
  return { state: r.state, outcome };
};

const rows = (s: RepositoryState) => ({
  records: [...s.records.values()].sort((a, b) => a.digest.localeCompare(b.digest)),
  tags: [...s.tags.values()].sort((a, b) => a.tag.localeCompare(b.tag)),
});

/**
 * Searches the interleavings of the replicas' lists (each in its own order) for a serial order
 * whose responses equal the observed ones and whose final state is `final`. Commands that lost
 * every compare-and-set race (ERR_CONFLICT from the service) took no effect and are left out.
 */
function serialOrderExists(lists: Record<string, unknown>[][], observed: (Outcome | 'conflict')[][], final: RepositoryState, cfg: QuarantineConfig): boolean {
  const want = JSON.stringify(rows(final));
  const seen = new Set<string>();
  const search = (state: RepositoryState, at: number[]): boolean => {
    const key = `${at.join(',')}|${JSON.stringify(rows(state))}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (at.every((i, r) => i === (lists[r] as unknown[]).length)) return JSON.stringify(rows(state)) === want;
    for (let r = 0; r < lists.length; r++) {
      const i = at[r] as number;
      if (i === (lists[r] as unknown[]).length) continue;
      const next = at.map((x, j) => (j === r ? x + 1 : x));
      const seenOutcome = (observed[r] as (Outcome | 'conflict')[])[i];
      if (seenOutcome === 'conflict') {
        if (search(state, next)) return true;
        continue;
      }
      const { state: after, outcome } = outcomeOfStep(state, (lists[r] as Record<string, unknown>[])[i], cfg);
      if (JSON.stringify(outcome) === JSON.stringify(seenOutcome) && search(after, next)) return true;
    }
    return false;
  };
  return search(emptyRepository(REPO), lists.map(() => 0));
}

describe('Q16: replicas on one store are linearizable', () => {
  // With the policy disabled too: visibility then depends on nothing but existence (Q23).
  it.each([['enabled', CFG], ['disabled', config({ status: 'disabled' })]] as const)('%s: every interleaving of loads and commits matches a serial order; no update is lost', async (_status, cfg) => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), fc.array(fc.array(commandArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 }), async (s, lists) => {
        const shared = createMemoryStore();
        const writes = new Map<string, number>();
        const store: QuarantineStore = {
          ...shared,
          load: async (r) => {
            await s.schedule(Promise.resolve(), 'load');
            return shared.load(r);
          },
          commit: async (unit) => {
            await s.schedule(Promise.resolve(), 'commit');
            await shared.commit(unit);
            for (const w of unit.records) writes.set(w.record.digest, (writes.get(w.record.digest) ?? 0) + 1);
          },
        };
        const observed: (Outcome | 'conflict')[][] = lists.map(() => []);
        const replicas = lists.map(async (list, r) => {
          const q = createQuarantineService({ store, config: cfg, clock: () => T0, maxAttempts: 3 });
          for (const command of list) {
            try {
              (observed[r] as (Outcome | 'conflict')[]).push({ ok: await q.execute(command as never) });
            } catch (e) {
              if (!isTrustError(e)) throw e;
              // A lost compare-and-set took no effect; a stale verdict refused by the step (also
              // ERR_CONFLICT) is an answer like any other.
              const lostRace = e.code === 'ERR_CONFLICT' && (e.check === 'record version' || e.check === 'tag version');
              (observed[r] as (Outcome | 'conflict')[]).push(lostRace ? 'conflict' : { code: e.code });
            }
          }
        });
        await s.waitFor(Promise.all(replicas));
        const final = await shared.load(REPO);
        // No lost update: a record's version is the number of committed writes to it.
        for (const rec of final.records.values()) expect(rec.version, rec.digest).toBe(writes.get(rec.digest));
        expect(serialOrderExists(lists, observed, final, cfg), `no serial order explains ${JSON.stringify(lists)} answered ${JSON.stringify(observed)} ending in ${JSON.stringify(rows(final))}`).toBe(true);
      }),
      { numRuns: Number(process.env['Q16_RUNS'] ?? 1000) },
    );
  }, 120_000);

  /**
   * Both replicas load before either commits (a barrier), then commit. Found by a widened run of
   * the property above: each pass made one child of a passed index visible and read the other as
   * not yet visible, neither wrote the index, and the index's tag stayed pending for good.
   */
  it('two children of a passed index passing at once: the tag goes live and the index gets one push event', async () => {
    const cfg = config({ scanners: ['s1'] });
    const shared = createMemoryStore();
    const serial = createQuarantineService({ store: shared, config: cfg, clock: () => T0 });
    const verdict = (digest: string) => ({ type: 'verdict', repository: REPO, digest, generation: 1, scannerId: 's1', idempotencyKey: digest, result: 'pass', principal: writer });
    for (const c of [
      { type: 'push', repository: REPO, digest: D[0], principal: ci },
      { type: 'push', repository: REPO, digest: D[1], principal: ci },
      { type: 'push', repository: REPO, digest: INDEX, principal: ci, tag: 'latest', kind: 'index', children: [D[0], D[1]] },
      verdict(INDEX),
    ]) {
      await serial.execute(c as never);
    }
    let loads = 0;
    let open!: () => void;
    const bothLoaded = new Promise<void>((resolve) => (open = resolve));
    const gated: QuarantineStore = {
      ...shared,
      load: async (r) => {
        const state = await shared.load(r);
        if (++loads === 2) open();
        return state;
      },
      commit: async (unit) => {
        await bothLoaded;
        await shared.commit(unit);
      },
    };
    const replica = () => createQuarantineService({ store: gated, config: cfg, clock: () => T0 });
    await Promise.all([replica().execute(verdict(D[0]) as never), replica().execute(verdict(D[1]) as never)]);
    const view = await serial.view(REPO);
    expect(view.resolve('latest')).toBe(INDEX);
    expect(view.manifest(dev, { tag: 'latest' }).allowed).toBe(true);
    const pushes = (await shared.allEvents()).filter((e) => e.event.digest === INDEX && e.event.type === 'push');
    expect(pushes).toHaveLength(1);
  });

  it('a rejection changes no state, not even by the clock: its unit of work is one audit record (Q4)', () => {
    const pushed = step(emptyRepository(REPO), { type: 'push', repository: REPO, digest: D[0], principal: ci }, T0, CFG);
    expect(pushed.ok).toBe(true);
    // Long after the scan deadline, so the clock alone would retry the scan; the command is refused.
    const late = T0 + 10 * 60_000;
    const r = step(pushed.state, { type: 'revoke', repository: REPO, digest: D[0], principal: dev, reason: 'x' }, late, CFG);
    expect(r.ok).toBe(false);
    expect(r.state).toBe(pushed.state);
    expect(r.events).toEqual([]);
    expect(r.audit.map((a) => a.outcome)).toEqual(['rejected']);
    // The next accepted step applies what fell due, at its own time.
    const next = step(pushed.state, { type: 'tick', repository: REPO }, late, CFG);
    expect(next.events.map((e) => e.type)).toContain('scan.retry');
  });
});

