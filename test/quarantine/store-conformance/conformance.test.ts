/**
 * The store contract, run against every store: memory (the reference), embedded (PGlite) and a
 * real PostgreSQL server. Compare-and-set, atomic units of work, outbox order and per-row
 * acknowledgement, the audit log as an append-only prefix, and Q16 with replicas on one store.
 */
import fc from 'fast-check';
import { afterEach, beforeAll, afterAll, describe, expect, it } from 'vitest';
import { createQuarantineService } from '../../../src/quarantine/index.js';
import type { QuarantineStore, RepositoryState, UnitOfWork } from '../../../src/quarantine/index.js';
import { emptyRepository, step } from '../../../src/quarantine/machine.js';
import { reviveState } from '../../../src/quarantine/revive.js';
import { unitOfWork } from '../../../src/quarantine/store.js';
import { D, REPO, T0, ci, config, writer } from '../harness.js';
import { checkReplicas, replicaListsArb, rows } from '../linearizability.js';
import { memoryFactory, postgresFactory, useEmbedded, usePostgres } from './factories.js';
import type { StoreFactory, Subject } from './factories.js';

const CFG = config();
const pg = usePostgres({ beforeAll, afterAll });
const embedded = useEmbedded({ beforeAll, afterAll });

/** Every store; PostgreSQL only where a server can run (under CI its absence already threw). */
const FACTORIES: [string, StoreFactory, number][] = [
  ['memory', memoryFactory, 200],
  ['embedded', embedded, 25],
  ...(pg.missing === undefined ? [['postgres', postgresFactory(pg.cluster), 25] as [string, StoreFactory, number]] : []),
];
if (pg.missing !== undefined) it.skip(`postgres conformance: ${pg.missing}`, () => undefined);

const push = (digest: string, tag?: string) => ({ type: 'push', repository: REPO, digest, principal: ci, ...(tag === undefined ? {} : { tag }) });
const verdict = (digest: string, key: string) => ({ type: 'verdict', repository: REPO, digest, generation: 1, scannerId: 's1', idempotencyKey: key, result: 'pass', principal: writer });

/** The unit of work `command` makes on `before`. */
function unitFor(before: RepositoryState, command: unknown): { unit: UnitOfWork; after: RepositoryState } {
  const r = step(before, command, T0, CFG);
  return { unit: unitOfWork(before, r), after: r.state };
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'resolved';
  } catch (e) {
    return `${(e as { code?: string }).code} ${(e as { check?: string }).check ?? ''}`.trim();
  }
}

const loaded = async (store: QuarantineStore, repository = REPO) => rows(reviveState(await store.load(repository)));

describe.each(FACTORIES)('store contract: %s', (_name, factory, q16Runs) => {
  let t: Subject | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });

  it('load returns what was committed; an unknown repository is empty; repositories() lists those with records, sorted', async () => {
    t = await factory.open();
    expect(rows(reviveState(await t.store.load(REPO)))).toEqual({ records: [], tags: [] });
    const { unit, after } = unitFor(emptyRepository(REPO), push(D[0], 'v1'));
    await t.store.commit(unit);
    expect(await loaded(t.store)).toEqual(rows(after));
    await t.store.commit(unitFor(emptyRepository('a/first'), { ...push(D[1]), repository: 'a/first' }).unit);
    expect(await t.store.repositories()).toEqual(['a/first', REPO]);
    await t.reopen();
    expect(await loaded(t.store), 'after a restart').toEqual(rows(after));
  });

  it('compare-and-set: expectedVersion 0 on an existing row, or a stale version, is ERR_CONFLICT and writes nothing', async () => {
    t = await factory.open();
    const first = unitFor(emptyRepository(REPO), push(D[0], 'v1'));
    await t.store.commit(first.unit);
    expect(await codeOf(t.store.commit(first.unit)), 'insert of an existing row').toBe('ERR_CONFLICT record version');
    const pushed = reviveState(await t.store.load(REPO));
    const v = unitFor(pushed, verdict(D[0], 'a'));
    await t.store.commit(v.unit);
    const stale = unitFor(pushed, verdict(D[0], 'b'));
    expect(await codeOf(t.store.commit(stale.unit)), 'stale update').toBe('ERR_CONFLICT record version');
    expect(await loaded(t.store)).toEqual(rows(v.after));
    // A tag guard alone conflicts too.
    const tagOnly: UnitOfWork = { ...first.unit, records: [] };
    expect(await codeOf(t.store.commit(tagOnly))).toBe('ERR_CONFLICT tag version');
  });

  it('a unit of work is atomic: one stale write among good ones leaves records, tags, outbox and audit untouched', async () => {
    t = await factory.open();
    const first = unitFor(emptyRepository(REPO), push(D[0]));
    await t.store.commit(first.unit);
    const before = await loaded(t.store);
    const events = await t.store.pendingEvents(1000);
    const audit = await t.store.readAudit();
    const fresh = unitFor(first.after, push(D[1], 'v2'));
    const mixed: UnitOfWork = { ...fresh.unit, records: [...fresh.unit.records, ...first.unit.records] };
    expect(await codeOf(t.store.commit(mixed))).toBe('ERR_CONFLICT record version');
    expect(await loaded(t.store)).toEqual(before);
    expect(await t.store.pendingEvents(1000)).toEqual(events);
    expect(await t.store.readAudit()).toEqual(audit);
    // The same unit without the stale write goes through, all of it.
    await t.store.commit(fresh.unit);
    expect(await loaded(t.store)).toEqual(rows(fresh.after));
  });

  it('outbox: pendingEvents in commit order with positions 1..n, limit honoured, acknowledgement per row (no high-water mark)', async () => {
    t = await factory.open();
    const q = createQuarantineService({ store: t.store, config: CFG, clock: () => T0 });
    await q.push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    await q.push({ repository: 'other/app', digest: D[1], principal: ci });
    await q.verdict({ repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'a', result: 'pass', principal: writer });
    const all = await t.store.pendingEvents(1000);
    expect(all.map((e) => e.position)).toEqual(all.map((_, i) => i + 1));
    expect(all.length).toBeGreaterThanOrEqual(3);
    // Commit order: D[0]'s push events, then other/app's, then D[0]'s verdict events.
    const order = all.map((e) => `${e.event.repository}@${e.event.digest === D[0] ? 0 : 1}`);
    const firstOther = order.indexOf('other/app@1');
    expect(order.slice(0, firstOther).every((o) => o === `${REPO}@0`)).toBe(true);
    expect(order.lastIndexOf('other/app@1')).toBeLessThan(order.lastIndexOf(`${REPO}@0`));
    // Per digest, sequence numbers rise by one (Q21).
    const seqs = all.filter((e) => e.event.digest === D[0]).map((e) => e.event.sequence);
    expect(seqs).toEqual(seqs.map((_, i) => (seqs[0] as number) + i));
    expect(await t.store.pendingEvents(2)).toEqual(all.slice(0, 2));
    // Acknowledge the second only: the first is still pending; nothing past a mark is dropped.
    await t.store.acknowledgeEvents([2, 10_000]);
    expect((await t.store.pendingEvents(1000)).map((e) => e.position)).toEqual(all.filter((e) => e.position !== 2).map((e) => e.position));
    await t.store.acknowledgeEvents(all.map((e) => e.position));
    expect(await t.store.pendingEvents()).toEqual([]);
  });

  it('audit: seq 1..n in commit order, filters, and every read is a prefix of every later read (Q22)', async () => {
    t = await factory.open();
    const q = createQuarantineService({ store: t.store, config: CFG, clock: () => T0 });
    await q.push({ repository: REPO, digest: D[0], principal: ci });
    const early = await t.store.readAudit();
    await q.push({ repository: REPO, digest: D[1], principal: ci });
    await expect(q.release({ repository: REPO, digest: D[1], principal: ci, reason: 'x', expiresAt: T0 + 1000 })).rejects.toMatchObject({ code: 'ERR_UNAUTHORIZED' });
    const late = await t.store.readAudit();
    expect(late.slice(0, early.length)).toEqual(early);
    expect(late.map((a) => a.seq)).toEqual(late.map((_, i) => i + 1));
    expect(late.at(-1)).toMatchObject({ outcome: 'rejected', code: 'ERR_UNAUTHORIZED', digest: D[1] });
    expect((await t.store.readAudit({ digest: D[1] })).map((a) => a.seq)).toEqual(late.filter((a) => a.digest === D[1]).map((a) => a.seq));
    expect(await t.store.readAudit({ repository: 'nobody/here' })).toEqual([]);
  });

  it(`Q16: replicas interleaving loads and commits on one store match a serial order (${q16Runs} runs)`, async () => {
    await fc.assert(
      fc.asyncProperty(fc.scheduler(), replicaListsArb, async (s, lists) => {
        const one = await factory.open();
        try {
          await checkReplicas(s, lists, one.store, CFG, reviveState);
        } finally {
          await one.close();
        }
      }),
      { numRuns: Number(process.env['Q16_STORE_RUNS'] ?? q16Runs) },
    );
  }, 120_000);
});
