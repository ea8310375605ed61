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
import type { SqlSubject, StoreFactory, Subject } from './factories.js';
import { createEmbeddedStore } from '../../../src/store/embedded.js';
import { SCHEMA_VERSION, createPostgresStore } from '../../../src/store/postgres.js';
import type { SqlQuarantineStore } from '../../../src/store/postgres.js';
import { freePort } from '../../helpers/postgres.js';
import { Pool } from 'pg';

const CFG = config();
const pg = usePostgres({ beforeAll, afterAll });
const embedded = useEmbedded({ beforeAll, afterAll });

/** Every store; PostgreSQL only where a server can run (under CI its absence already threw). */
const FACTORIES: [string, StoreFactory, number][] = [
  ['memory', memoryFactory, 200],
  ['embedded', embedded, 25],
  ...(pg.missing === undefined ? [['postgres', postgresFactory(pg.cluster), 25] as [string, StoreFactory, number]] : []),
];
// A test that always runs and says why PostgreSQL is left out, as the interop suites do (under CI
// postgresMissing() has already thrown: a missing server fails the run, it is never skipped).
it(pg.missing === undefined ? 'PostgreSQL is available for the conformance suite' : `postgres conformance left out: ${pg.missing}`, () => {
  if (pg.missing !== undefined) console.warn(`store conformance: PostgreSQL left out locally: ${pg.missing}`);
  expect(FACTORIES.some(([name]) => name === 'postgres')).toBe(pg.missing === undefined);
});

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

  it('policy commands: the policy row is versioned, audited (kind admin) and survives a reopen; a stale revision is ERR_CONFLICT', async () => {
    t = await factory.open();
    const admin = { id: 'secops', roles: ['quarantine-admin'] } as const;
    const one = config({ scanners: ['s1'] });
    const q = createQuarantineService({ store: t.store, config: one, clock: () => T0 });
    await q.push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    await q.verdict({ repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'a', result: 'pass', principal: writer });
    const visible = async (s: ReturnType<typeof createQuarantineService>) => (await s.view(REPO)).manifest({ id: 'dev', roles: [] }, { tag: 'v1' }).allowed;
    expect(await visible(q)).toBe(true);
    const changed = await q.setPolicy({ policy: { scanners: ['s1', 's2'] }, reason: 'add a scanner', principal: admin });
    expect(changed.policyVersion).toBe(`${CFG.policyVersion}+1`);
    expect(await visible(q)).toBe(false); // Q5: a stricter policy hides at once
    const audit = await t.store.readAudit();
    expect(audit.at(-1)).toMatchObject({ command: 'setPolicy', outcome: 'applied', principalKind: 'admin', policyVersion: `${CFG.policyVersion}+1` });
    await t.reopen();
    const again = createQuarantineService({ store: t.store, config: one, clock: () => T0 });
    expect((await again.policy()).scanners).toEqual(['s1', 's2']);
    expect(await visible(again)).toBe(false);
    const row = await t.store.loadPolicy?.();
    expect(row?.revision).toBe(1);
    const stale = t.store.commitPolicy?.({ row: { ...(row as NonNullable<typeof row>), revision: 2 }, expectedRevision: 0, audit: [] });
    expect(await codeOf(stale as Promise<void>)).toBe('ERR_CONFLICT policy revision');
    expect((await t.store.loadPolicy?.())?.revision).toBe(1);
    expect(await t.store.readAudit()).toEqual(audit);
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

const SQL_FACTORIES: [string, StoreFactory<SqlSubject>][] = [['embedded', embedded], ...(pg.missing === undefined ? [['postgres', postgresFactory(pg.cluster)] as [string, StoreFactory<SqlSubject>]] : [])];

describe.each(SQL_FACTORIES)('SQL store: %s', (name, factory) => {
  let t: SqlSubject | undefined;
  afterEach(async () => {
    await t?.close();
    t = undefined;
  });
  const open = async (): Promise<SqlSubject> => (t = await factory.open());
  const service = (store: QuarantineStore) => createQuarantineService({ store, config: CFG, clock: () => T0 });

  /**
   * Another replica's commit whose notification never reached this one: rows and head written by
   * raw SQL, so this replica's cache stays stale for certain (no timing involved).
   */
  async function commitBehindCache(s: SqlSubject, command: unknown): Promise<RepositoryState> {
    const other = await (s.replica as () => Promise<SqlQuarantineStore>)();
    const fresh = reviveState(await other.load(REPO));
    await other.close();
    const r = step(fresh, command, T0, CFG);
    const u = unitOfWork(fresh, r);
    await s.sql(async (q) => {
      for (const w of u.records) {
        if (w.expectedVersion === 0) await q(`INSERT INTO ${s.schema}.records VALUES ($1, $2, $3, $4::jsonb)`, [REPO, w.record.digest, w.record.version, JSON.stringify(w.record)]);
        else await q(`UPDATE ${s.schema}.records SET version = $1, data = $2::jsonb WHERE repository = $3 AND digest = $4`, [w.record.version, JSON.stringify(w.record), REPO, w.record.digest]);
      }
      for (const w of u.tags) {
        await q(`INSERT INTO ${s.schema}.tags VALUES ($1, $2, $3, $4::jsonb) ON CONFLICT (repository, tag) DO UPDATE SET version = EXCLUDED.version, data = EXCLUDED.data`, [REPO, w.binding.tag, w.binding.version, JSON.stringify(w.binding)]);
      }
      await q(`UPDATE ${s.schema}.heads SET version = version + 1 WHERE repository = $1`, [REPO]);
    });
    return r.state;
  }

  it("a replica keeps its own commits as the machine built them (frozen, not parsed again), equal to what a fresh replica reads and validates", async () => {
    const s = await open();
    const a = service(s.store);
    await a.push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    await a.execute(verdict(D[0], 'x') as never);
    await a.execute({ ...verdict(D[0], 'y'), scannerId: 's2' } as never);
    await a.push({ repository: REPO, digest: D[1], principal: ci, tag: 'v1' });
    const cached = await s.store.load(REPO);
    // The warm cache hands out the service's own result: accepted by the revive step as it is,
    // and frozen by it, so nothing can change it afterwards.
    expect(cached.records.size).toBe(2);
    expect(reviveState(cached), 'no row is parsed into a new value').toBe(cached);
    for (const row of [...cached.records.values(), ...cached.tags.values()]) expect(Object.isFrozen(row), JSON.stringify(row).slice(0, 80)).toBe(true);
    const fromDb = await (s.replica as () => Promise<SqlQuarantineStore>)();
    try {
      expect(await loaded(fromDb), 'the database holds what this replica serves').toEqual(rows(cached));
    } finally {
      await fromDb.close();
    }
  });

  it('a replica deciding on a stale cache never commits: the head guard refuses it, and the retry decides on the current state', async () => {
    const s = await open();
    const a = service(s.store);
    await a.push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    const cached = await s.store.load(REPO);
    expect(await s.store.load(REPO), 'a warm cache hands out the same state').toBe(cached);
    // The other replica passes D[0] (both scanners) and pushes D[1], unseen by this one's cache.
    let now = await commitBehindCache(s, verdict(D[0], 'x'));
    now = await commitBehindCache(s, { ...verdict(D[0], 'y'), scannerId: 's2' });
    now = await commitBehindCache(s, push(D[1]));
    expect(await s.store.load(REPO), 'the cache is stale').toBe(cached);
    expect(cached.records.get(D[1])).toBeUndefined();
    // A write that only inserts a row (a new tag): on the stale state it answers Quarantined, on the current one Passed.
    const tagged = push(D[0], 'v2');
    const want = step(now, tagged, T0, CFG);
    expect(want.ok ? want.response.state : want.error.code).toBe('Passed');
    expect(await a.execute(tagged as never)).toEqual(want.ok ? want.response : undefined);
    // A rejection on the stale state (D[2] unknown there) would audit ERR_NOT_FOUND; on the current one the release applies.
    await commitBehindCache(s, push(D[2]));
    expect((await s.store.load(REPO)).records.get(D[2]), 'the cache is stale again').toBeUndefined();
    const release = { type: 'release', repository: REPO, digest: D[2], principal: { id: 'ops', roles: ['overrider'] }, reason: 'INC-9', expiresAt: T0 + 60_000 };
    const r = await a.execute(release as never);
    expect(r.state).toBe('Released');
    const fromDb = await (s.replica as () => Promise<SqlQuarantineStore>)();
    try {
      const stored = await loaded(fromDb);
      expect(stored.records.find((x) => x.digest === D[0])?.state).toBe('Passed');
      expect(stored.tags.map((x) => x.tag).sort()).toEqual(['v1', 'v2']);
      expect(stored.records.find((x) => x.digest === D[2])?.state).toBe('Released');
      const audit = await fromDb.readAudit();
      expect(audit.filter((x) => x.outcome === 'rejected'), 'no rejection decided on the stale state was audited').toEqual([]);
    } finally {
      await fromDb.close();
    }
  });

  it('a repository created behind the cache is first seen empty (no read), and a command decided on that is refused by the head guard and retried', async () => {
    const s = await open();
    const a = service(s.store);
    const NEW = 'team/created-elsewhere';
    await a.push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    expect((await s.store.load(NEW)).records.size, 'known not to exist').toBe(0);
    // Another replica's first push to NEW, its notification lost: rows and head by raw SQL.
    const created = unitFor(emptyRepository(NEW), { ...push(D[0], 'v1'), repository: NEW }).unit;
    await s.sql(async (q) => {
      for (const w of created.records) await q(`INSERT INTO ${s.schema}.records VALUES ($1, $2, $3, $4::jsonb)`, [NEW, w.record.digest, w.record.version, JSON.stringify(w.record)]);
      for (const w of created.tags) await q(`INSERT INTO ${s.schema}.tags VALUES ($1, $2, $3, $4::jsonb)`, [NEW, w.binding.tag, w.binding.version, JSON.stringify(w.binding)]);
      await q(`INSERT INTO ${s.schema}.heads VALUES ($1, 1)`, [NEW]);
    });
    expect((await s.store.load(NEW)).records.size, 'served from what the cache knows, not read').toBe(0);
    // On the empty state a release is ERR_NOT_FOUND (a rejection, audited); on the current one it applies.
    const release = { type: 'release', repository: NEW, digest: D[0], principal: { id: 'ops', roles: ['overrider'] }, reason: 'INC-10', expiresAt: T0 + 60_000 };
    expect((await a.execute(release as never)).state).toBe('Released');
    expect((await s.store.load(NEW)).records.get(D[0]), 'the refusal made the repository known').toBeDefined();
    const fromDb = await (s.replica as () => Promise<SqlQuarantineStore>)();
    try {
      expect((await loaded(fromDb, NEW)).records.map((x) => [x.digest, x.state])).toEqual([[D[0], 'Released']]);
      expect((await fromDb.readAudit({ repository: NEW })).filter((x) => x.outcome === 'rejected'), 'no rejection decided on the stale state').toEqual([]);
    } finally {
      await fromDb.close();
    }
  });

  it('a replica whose cached policy is stale decides no command under it: the revision guard refuses it, and the retry uses the current policy', async () => {
    const s = await open();
    const admin = { id: 'secops', roles: ['quarantine-admin'] } as const;
    const one = config({ scanners: ['s1'] });
    const a = createQuarantineService({ store: s.store, config: one, clock: () => T0 });
    await a.push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    expect((await a.policy()).scanners, 'policy cached').toEqual(['s1']);
    // Another replica adds a scanner, with the notification that would drop A's copy switched off.
    const other = await (s.replica as () => Promise<SqlQuarantineStore>)();
    try {
      await s.sql((q) => q(`ALTER TABLE ${s.schema}.policy DISABLE TRIGGER policy_changed`));
      await createQuarantineService({ store: other, config: one, clock: () => T0 }).setPolicy({ policy: { scanners: ['s1', 's2'] }, reason: 'add a scanner', principal: admin });
      await s.sql((q) => q(`ALTER TABLE ${s.schema}.policy ENABLE TRIGGER policy_changed`));
    } finally {
      await other.close();
    }
    expect((await a.policy()).scanners, 'the cached policy is stale').toEqual(['s1']);
    // Under the stale policy s1's pass would release D[0]; under the current one s2 must pass too.
    const r = await a.verdict({ repository: REPO, digest: D[0], generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: writer });
    expect(r.state).toBe('Quarantined');
    expect((await a.policy()).scanners, 'the refusal dropped the stale copy').toEqual(['s1', 's2']);
    const last = (await s.store.readAudit()).at(-1);
    expect(last).toMatchObject({ command: 'verdict', outcome: 'applied', policyVersion: `${one.policyVersion}+1` });
  });

  it('the audit table is append-only in the database: raw UPDATE, DELETE and TRUNCATE are refused', async () => {
    const s = await open();
    await service(s.store).push({ repository: REPO, digest: D[0], principal: ci });
    const before = await s.store.readAudit();
    for (const statement of [`UPDATE ${s.schema}.audit SET entry = '{}'`, `DELETE FROM ${s.schema}.audit`, `TRUNCATE ${s.schema}.audit`]) {
      await expect(s.sql((q) => q(statement)), statement).rejects.toThrow(/append-only/);
    }
    expect(await s.store.readAudit()).toEqual(before);
  });

  it('a corrupt record or tag row is ERR_STORE_CORRUPT naming the row, never a default', async () => {
    const s = await open();
    await service(s.store).push({ repository: REPO, digest: D[0], principal: ci, tag: 'v1' });
    const corruptions: [string, string][] = [
      [`UPDATE ${s.schema}.records SET data = jsonb_set(data, '{state}', '["Passed"]')`, `${REPO}@${D[0]}`],
      [`UPDATE ${s.schema}.records SET data = '"Passed"'::jsonb`, `${REPO}@${D[0]}`],
      [`UPDATE ${s.schema}.records SET data = data - 'generation'`, `${REPO}@${D[0]}`],
      [`UPDATE ${s.schema}.records SET version = version + 1`, `${REPO}@${D[0]}`],
      [`UPDATE ${s.schema}.records SET data = jsonb_set(data, '{digest}', '"${D[1]}"')`, `${REPO}/${D[0]}`],
      [`UPDATE ${s.schema}.tags SET data = jsonb_set(data, '{live}', '{"digest": 7}')`, `${REPO}:v1`],
    ];
    for (const [statement, path] of corruptions) {
      const pristine = await s.sql((q) => q(`SELECT (SELECT jsonb_agg(to_jsonb(r)) FROM ${s.schema}.records r) AS r, (SELECT jsonb_agg(to_jsonb(t)) FROM ${s.schema}.tags t) AS t`));
      await s.sql((q) => q(statement));
      // A row changed behind the store's back is read when it enters a replica's cache: a fresh
      // one here (a warm cache holds the validated copy until the repository's head moves).
      const fresh = await (s.replica as () => Promise<SqlQuarantineStore>)();
      const q = service(fresh);
      for (const run of [() => q.view(REPO), () => q.push({ repository: REPO, digest: D[1], principal: ci })]) {
        await expect(run(), statement).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', path });
      }
      await fresh.close();
      // Restore the pristine rows for the next corruption.
      await s.sql(async (raw) => {
        await raw(`DELETE FROM ${s.schema}.records`);
        await raw(`DELETE FROM ${s.schema}.tags`);
        await raw(`INSERT INTO ${s.schema}.records SELECT * FROM jsonb_populate_recordset(NULL::${s.schema}.records, $1::jsonb)`, [JSON.stringify(pristine[0]?.['r'])]);
        await raw(`INSERT INTO ${s.schema}.tags SELECT * FROM jsonb_populate_recordset(NULL::${s.schema}.tags, $1::jsonb)`, [JSON.stringify(pristine[0]?.['t'])]);
      });
      const repaired = await (s.replica as () => Promise<SqlQuarantineStore>)();
      await expect(service(repaired).view(REPO)).resolves.toBeDefined();
      await repaired.close();
    }
  });

  it('a corrupt outbox or audit row is ERR_STORE_CORRUPT on read', async () => {
    const s = await open();
    await service(s.store).push({ repository: REPO, digest: D[0], principal: ci });
    await s.sql((q) => q(`UPDATE ${s.schema}.outbox SET event = jsonb_set(event, '{sequence}', '"one"') WHERE position = 1`));
    await expect(s.store.pendingEvents()).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', path: 'outbox#1' });
    // The audit cannot be edited (trigger), but a row can be appended behind the store's back.
    await s.sql((q) => q(`INSERT INTO ${s.schema}.audit (seq, repository, digest, entry) VALUES (1000, NULL, NULL, '{"at": "yesterday"}')`));
    await expect(s.store.readAudit()).rejects.toMatchObject({ code: 'ERR_STORE_CORRUPT', path: 'audit#1000' });
  });

  it('migrations are versioned and idempotent; a database newer than the code is refused with ERR_STORE_SCHEMA', async () => {
    const s = await open();
    // Back to version 1 (before commit_unit and the policy row), then a restart upgrades it and commits work again.
    await s.sql(async (q) => {
      await q(`DROP FUNCTION ${s.schema}.commit_unit`);
      await q(`DROP TABLE ${s.schema}.heads`);
      await q(`DROP TRIGGER policy_changed ON ${s.schema}.policy`);
      await q(`DROP FUNCTION ${s.schema}.commit_policy_notify`);
      await q(`DROP FUNCTION ${s.schema}.commit_policy`);
      await q(`DROP TABLE ${s.schema}.policy`);
      await q(`DELETE FROM ${s.schema}.schema_version WHERE version > 1`);
    });
    await s.reopen();
    await service(s.store).push({ repository: REPO, digest: D[0], principal: ci });
    const versions = await s.sql((q) => q(`SELECT version FROM ${s.schema}.schema_version ORDER BY version`));
    expect(versions.map((v) => v['version'])).toEqual(Array.from({ length: SCHEMA_VERSION }, (_, i) => i + 1));
    await s.sql((q) => q(`INSERT INTO ${s.schema}.schema_version (version) VALUES ($1)`, [SCHEMA_VERSION + 1]));
    const again = s.replica?.();
    await expect(again).rejects.toMatchObject({ code: 'ERR_STORE_SCHEMA', expected: SCHEMA_VERSION, actual: SCHEMA_VERSION + 1 });
    await expect(name === 'postgres' ? createPostgresStore({ connectionString: pg.cluster().url(), schema: 'Bad-Name' }) : createEmbeddedStore({ dataDir: '' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARGUMENT' });
  });

  it('pendingEvents promises commit order: pollers racing K concurrent writers always see positions 1..n, audit seqs 1..n', async () => {
    const s = await open();
    const K = 4;
    const writers = await Promise.all(Array.from({ length: K }, async () => (s.replica ? s.replica() : s.store)));
    let done = false;
    const polls: number[][] = [];
    const audits: number[][] = [];
    const poller = (async () => {
      while (!done) {
        polls.push((await s.store.pendingEvents(100_000)).map((e) => e.position));
        audits.push((await s.store.readAudit()).map((a) => a.seq));
      }
    })();
    await Promise.all(
      writers.map(async (w, k) => {
        const q = service(w);
        for (let i = 0; i < 6; i++) {
          const digest = `sha256:${String(k * 100 + i).padStart(64, '0')}`;
          await q.push({ repository: `r${k}/app`, digest, principal: ci, tag: `t${i % 2}` });
          await q.verdict({ repository: `r${k}/app`, digest, generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: writer });
        }
      }),
    );
    done = true;
    await poller;
    for (const w of writers) if (w !== s.store) await w.close();
    const all = await s.store.pendingEvents(100_000);
    expect(polls.length).toBeGreaterThan(1);
    for (const p of [...polls, ...audits]) expect(p).toEqual(p.map((_, i) => i + 1));
    const byDigest = new Map<string, number[]>();
    for (const e of all) byDigest.set(e.event.digest, [...(byDigest.get(e.event.digest) ?? []), e.event.sequence]);
    expect(byDigest.size).toBe(K * 6);
    for (const [d, seqs] of byDigest) expect(seqs, d).toEqual(seqs.map((_, i) => i + 1));
  });

  it('onEvents: LISTEN/NOTIFY wakes a relay after a commit that added events, not for another schema', async () => {
    const s = await open();
    let wakes = 0;
    let woken!: () => void;
    const first = new Promise<void>((r) => (woken = r));
    const stop = await s.store.onEvents(() => {
      wakes++;
      woken();
    });
    const other = await s.sibling(`${s.schema}_other`);
    try {
      await service(other).push({ repository: REPO, digest: D[0], principal: ci });
      await new Promise((r) => setTimeout(r, 100));
      expect(wakes, 'a commit in another schema').toBe(0);
      await service(s.store).push({ repository: REPO, digest: D[0], principal: ci });
      await first;
      expect(wakes).toBeGreaterThanOrEqual(1);
    } finally {
      await stop();
      await other.close();
    }
  }, 30_000);

  it('deliverEvents: concurrent relays claim disjoint rows (SKIP LOCKED); a failing delivery leaves its rows pending', async () => {
    const s = await open();
    const q = service(s.store);
    for (let i = 0; i < 5; i++) await q.push({ repository: REPO, digest: `sha256:${String(i).padStart(64, 'a')}`, principal: ci });
    const total = (await s.store.pendingEvents(1000)).length;
    await expect(s.store.deliverEvents(async () => Promise.reject(new Error('webhook down')), 3)).rejects.toThrow('webhook down');
    expect((await s.store.pendingEvents(1000)).length).toBe(total);
    const relay = s.replica ? await s.replica() : s.store;
    const seen: number[][] = [[], []];
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    // Relay 0 holds its claim until relay 1 has claimed too (with one PGlite connection the two run in turn).
    const first = s.store.deliverEvents(async (b) => {
      (seen[0] as number[]).push(...b.map((e) => e.position));
      if (name === 'postgres') await gate;
    }, 3);
    await new Promise((r) => setTimeout(r, 50));
    const second = relay.deliverEvents(async (b) => {
      (seen[1] as number[]).push(...b.map((e) => e.position));
      release();
    }, 1000);
    if (name !== 'postgres') release();
    await Promise.all([first, second]);
    if (relay !== s.store) await relay.close();
    expect((seen[0] as number[]).filter((p) => (seen[1] as number[]).includes(p))).toEqual([]);
    expect([...(seen[0] as number[]), ...(seen[1] as number[])].sort((a, b) => a - b)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(await s.store.pendingEvents()).toEqual([]);
  });
});

describe.skipIf(pg.missing !== undefined)('postgres store: connection', () => {
  it('an unreachable server is ERR_STORE_UNAVAILABLE at open; a caller pool stays open after close()', async () => {
    await expect(createPostgresStore({ connectionString: `postgres://postgres@127.0.0.1:${await freePort()}/postgres` })).rejects.toMatchObject({ code: 'ERR_STORE_UNAVAILABLE' });
    const pool = new Pool({ connectionString: pg.cluster().url(), max: 2 });
    const store = await createPostgresStore({ pool, schema: 'caller_pool' });
    await store.close();
    expect((await pool.query('SELECT 1 AS one')).rows).toEqual([{ one: 1 }]);
    await pool.end();
  });
});
