/**
 * The Q16 replica property, shared by replicas.test.ts (memory store) and the store conformance
 * suite (every store): K services on one store interleave loads and commits in the order a
 * fast-check scheduler picks, and the observed history must match some serial order of the
 * commands that took effect, found by searching the interleavings of the replicas' lists with the
 * pure `step`: every response (or error code) the same, and the same final records and tags.
 */
import fc from 'fast-check';
import { expect } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { createQuarantineService } from '../../src/quarantine/index.js';
import { emptyRepository, step } from '../../src/quarantine/machine.js';
import type { QuarantineConfig, QuarantineStore, RepositoryState } from '../../src/quarantine/index.js';
import { D, INDEX, REPO, T0, ci, ops, writer } from './harness.js';

export type Outcome = { ok: unknown } | { code: string };

/** Commands that do not depend on state, so each replica's list is fixed up front. */
export const commandArb: fc.Arbitrary<Record<string, unknown>> = fc.oneof(
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

/** K replicas' command lists. */
export const replicaListsArb = fc.array(fc.array(commandArb, { minLength: 1, maxLength: 3 }), { minLength: 2, maxLength: 3 });

const outcomeOfStep = (state: RepositoryState, command: unknown, cfg: QuarantineConfig) => {
  const r = step(state, command, T0, cfg);
  const outcome: Outcome = r.ok ? { ok: r.response } : { code: r.error.code };
  return { state: r.state, outcome };
};

/** JSON with object keys sorted, so rows compare alike whatever key order a store hands back. */
function canonical(v: unknown): string {
  return JSON.stringify(v, (_k, x: unknown) =>
    typeof x === 'object' && x !== null && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : x,
  );
}

/** A state's rows in a canonical order, for comparison. */
export const rows = (s: RepositoryState) => ({
  records: [...s.records.values()].sort((a, b) => a.digest.localeCompare(b.digest)),
  tags: [...s.tags.values()].sort((a, b) => a.tag.localeCompare(b.tag)),
});

/**
 * Searches the interleavings of the replicas' lists (each in its own order) for a serial order
 * whose responses equal the observed ones and whose final state is `final`. Commands that lost
 * every compare-and-set race (ERR_CONFLICT from the service) took no effect and are left out.
 */
export function serialOrderExists(lists: Record<string, unknown>[][], observed: (Outcome | 'conflict')[][], final: RepositoryState, cfg: QuarantineConfig): boolean {
  const want = canonical(rows(final));
  const seen = new Set<string>();
  const search = (state: RepositoryState, at: number[]): boolean => {
    const key = `${at.join(',')}|${canonical(rows(state))}`;
    if (seen.has(key)) return false;
    seen.add(key);
    if (at.every((i, r) => i === (lists[r] as unknown[]).length)) return canonical(rows(state)) === want;
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
      if (canonical(outcome) === canonical(seenOutcome) && search(after, next)) return true;
    }
    return false;
  };
  return search(emptyRepository(REPO), lists.map(() => 0));
}

/**
 * One run of the property on `shared`: replicas whose loads and commits wait for `s`, then the
 * checks (no lost update; some serial order explains the history).
 * `revive` turns the store's raw final state into the one the service sees.
 */
export async function checkReplicas(s: fc.Scheduler, lists: Record<string, unknown>[][], shared: QuarantineStore, cfg: QuarantineConfig, revive: (st: RepositoryState) => RepositoryState = (st) => st): Promise<void> {
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
  const final = revive(await shared.load(REPO));
  // No lost update: a record's version is the number of committed writes to it.
  for (const rec of final.records.values()) expect(rec.version, rec.digest).toBe(writes.get(rec.digest));
  expect(serialOrderExists(lists, observed, final, cfg), `no serial order explains ${JSON.stringify(lists)} answered ${JSON.stringify(observed)} ending in ${JSON.stringify(rows(final))}`).toBe(true);
}
