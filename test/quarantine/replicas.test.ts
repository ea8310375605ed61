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
import { createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import { emptyRepository, step } from '../../src/quarantine/machine.js';
import type { QuarantineStore } from '../../src/quarantine/index.js';
import { D, INDEX, REPO, T0, ci, config, dev, ops, writer } from './harness.js';
import { checkReplicas, replicaListsArb, rows } from './linearizability.js';

const canonicalRows = (st: Parameters<typeof rows>[0]) => JSON.stringify(rows(st));

const CFG = config();

describe('Q16: replicas on one store are linearizable', () => {
  // With the policy disabled too: visibility then depends on nothing but existence (Q23).
  it.each([['enabled', CFG], ['disabled', config({ status: 'disabled' })]] as const)('%s: every interleaving of loads and commits matches a serial order; no update is lost', async (_status, cfg) => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), replicaListsArb, (s, lists) => checkReplicas(s, lists, createMemoryStore(), cfg)),
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

  /**
   * Found by the property above (seed 947981882): a release of a child decided before its parent
   * index was pushed committed after the push, because the memory store guarded only the rows a
   * unit writes. The release reads the index (it settles parents) but writes the child only, so
   * the index missed the write every serial order gives it. Each store now refuses a unit whose
   * repository changed since it was read, and the service decides it again.
   */
  it('a unit decided before another replica pushed a parent index is refused and decided again on the new state', async () => {
    const cfg = config();
    const shared = createMemoryStore();
    const serial = createQuarantineService({ store: shared, config: cfg, clock: () => T0 });
    const push = { type: 'push', repository: REPO, digest: D[0], principal: ci };
    const index = { type: 'push', repository: REPO, digest: INDEX, principal: ci, tag: 'latest', kind: 'index', children: [D[0], D[1]] };
    const release = { type: 'release', repository: REPO, digest: D[0], principal: ops, reason: 'INC-8', expiresAt: T0 + 60_000 };
    await serial.execute(push as never);
    let indexCommitted!: () => void;
    const afterIndex = new Promise<void>((resolve) => (indexCommitted = resolve));
    let firstCommit = true;
    const slow: QuarantineStore = {
      ...shared,
      commit: async (unit) => {
        if (firstCommit) {
          firstCommit = false;
          await afterIndex; // the release's first decision waits until the index is in
        }
        await shared.commit(unit);
      },
    };
    const fast: QuarantineStore = {
      ...shared,
      commit: async (unit) => {
        await shared.commit(unit);
        indexCommitted();
      },
    };
    const releasing = createQuarantineService({ store: slow, config: cfg, clock: () => T0 }).execute(release as never);
    await createQuarantineService({ store: fast, config: cfg, clock: () => T0 }).execute(index as never);
    await releasing;
    // The serial order index-then-release, by the pure machine.
    let expected = emptyRepository(REPO);
    for (const c of [push, index, release]) expected = step(expected, c, T0, cfg).state;
    expect(canonicalRows(await shared.load(REPO))).toBe(canonicalRows(expected));
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

