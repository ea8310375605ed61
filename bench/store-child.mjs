// One replica of the store benchmark (bench/store.ts spawns these). Prints "ready", waits for
// "go" on stdin, runs its loop for DURATION ms, prints one JSON line {ops, ms, conflicts, cpuMs,
// warmOps, audited} (cpuMs: this process's user + system CPU over the loop; audited: the audit
// rows its repositories hold afterwards, which the parent checks against warmOps + ops).
// argv: mode (service | service-nocache | replay | floor; replay on postgres only), backend (postgres | embedded), target (URL or data dir), id, durationMs, digests per repository
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { createQuarantineService, isTrustError } from '../dist/quarantine.js';

const [mode, backend, target, idArg, durationArg] = process.argv.slice(2);
const id = Number(idArg);
const DURATION = Number(durationArg);
const PER_REPO = Number(process.argv[7] ?? 50);
const principal = { id: 'ci', roles: ['push'] };
const writer = { id: 'scanner', roles: ['quarantine-writer'] };
// Repositories of this process only. Bench runs share one database, and a child that reused an
// earlier run's names re-pushed digests that had passed: each re-push committed an audit row only
// and each verdict was a duplicate (a head read), so earlier runs counted cheap no-op commands as
// transitions. The count of audit rows below is what proves every counted transition committed.
const RUN = randomBytes(4).toString('hex');
const REPO_PREFIX = `bench/r${id}-${PER_REPO}-${RUN}-`;
// A record-sized JSON document for the floor's UPDATE (a pushed+passed record is about this big).
const DOC = JSON.stringify({ repository: 'bench/app', digest: `sha256:${'a'.repeat(64)}`, state: 'Passed', pad: 'x'.repeat(700) });

async function open() {
  if (backend === 'postgres') {
    const { createPostgresStore } = await import('../dist/quarantine-postgres.js');
    const pg = (await import('pg')).default;
    const pool = new pg.Pool({ connectionString: target, max: 2 });
    return { store: await createPostgresStore({ pool, schema: 'bench', cacheSize: mode === 'service-nocache' ? 0 : undefined }), raw: pool, close: () => pool.end() };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { createEmbeddedStore } = await import('../dist/quarantine-embedded.js');
  const db = await PGlite.create(target);
  return { store: await createEmbeddedStore({ pglite: db, schema: 'bench', cacheSize: mode === 'service-nocache' ? 0 : undefined }), raw: db, close: () => db.close() };
}

/** Two transitions: push a new digest with tag `latest` (→ Quarantined), pass it (→ Passed). */
async function pushAndPass(q, repository, digest) {
  await q.push({ repository, digest, principal, tag: 'latest' });
  await q.verdict({ repository, digest, generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: writer });
  return 2;
}

/** Two transitions per iteration through the service ({@link pushAndPass}). */
function serviceLoop(store) {
  const q = createQuarantineService({ store, config: { scanners: ['s1'] } });
  let i = 0;
  return async () => {
    // A new repository every PER_REPO digests: a load reads the whole repository, so the figure
    // would otherwise fall with its size rather than measure the store.
    const repository = `${REPO_PREFIX}${Math.floor(i / PER_REPO)}`;
    return pushAndPass(q, repository, `sha256:${(id * 1e9 + i++).toString(16).padStart(64, '0')}`);
  };
}

/**
 * The service's statements without the service: one push and one verdict go through it while the
 * pool records their `commit_unit` calls; then each iteration sends those two calls again with a
 * new digest, a new tag name and this run's repositories, unguarded (basis -1: the head is raised
 * by an upsert). The store stays open, so its LISTEN connection still receives every notification:
 * between this and the service lies only the service's own work (the machine's step, JSON, the
 * replica cache, revive).
 */
async function replayLoop(store, pool) {
  const calls = [];
  const send = pool.query.bind(pool);
  pool.query = (config, ...rest) => {
    if (typeof config === 'object' && config.text?.includes('commit_unit(')) calls.push(config);
    return send(config, ...rest);
  };
  const capture = `${REPO_PREFIX}capture`;
  const hex0 = 'f'.repeat(64);
  await pushAndPass(createQuarantineService({ store, config: { scanners: ['s1'] } }), capture, `sha256:${hex0}`);
  pool.query = send;
  if (calls.length !== 2) throw new Error(`replay captured ${calls.length} commit_unit calls, not 2`);
  let i = 0;
  return async () => {
    const repository = `${REPO_PREFIX}${Math.floor(i / PER_REPO)}`;
    const hex = (id * 1e9 + i).toString(16).padStart(64, '0');
    const tag = `"t${i++}"`;
    const swap = (v) => (typeof v === 'string' ? v.split(hex0).join(hex).split(capture).join(repository).split('"latest"').join(tag) : v);
    for (const c of calls) await send({ name: c.name, text: c.text, values: c.values.map((v, k) => (k === 1 || k === 2 ? -1 : swap(v))) });
    return 2;
  };
}

/** The floor: one guarded UPDATE of a row of our own per transaction, BEGIN … COMMIT. */
async function floorLoop(raw) {
  // Replicas that start together race on IF NOT EXISTS (a unique violation in the catalog): one wins.
  await raw.query(`CREATE TABLE IF NOT EXISTS bench_floor (id int PRIMARY KEY, version bigint NOT NULL, data jsonb NOT NULL)`).catch((e) => {
    if (e?.code !== '23505' && e?.code !== '42P07') throw e;
  });
  await raw.query(`INSERT INTO bench_floor VALUES ($1, 0, $2::jsonb) ON CONFLICT (id) DO UPDATE SET version = 0`, [id, DOC]);
  let version = 0;
  const tx = backend === 'postgres' ? await raw.connect() : raw;
  return async () => {
    const run = async (c) => {
      const r = await c.query(`UPDATE bench_floor SET version = $1, data = $2::jsonb WHERE id = $3 AND version = $4`, [version + 1, DOC, id, version]);
      if ((r.rowCount ?? r.affectedRows) !== 1) throw new Error('floor lost its own row');
    };
    if (backend === 'postgres') {
      await tx.query('BEGIN');
      await run(tx);
      await tx.query('COMMIT');
    } else {
      await raw.transaction(run);
    }
    version++;
    return 1;
  };
}

const db = await open();
const step = mode === 'floor' ? await floorLoop(db.raw) : mode === 'replay' ? await replayLoop(db.store, db.raw) : serviceLoop(db.store);
/** Operations before the measured loop: the warm-up, and the replay's two captured transitions. */
let warmOps = mode === 'replay' ? 2 : 0;
for (const end = performance.now() + 300; performance.now() < end; ) warmOps += await step(); // warm-up
process.stdout.write('ready\n');
await new Promise((resolve) => createInterface({ input: process.stdin }).once('line', resolve));
let ops = 0;
let conflicts = 0;
const cpu0 = process.cpuUsage();
const t0 = performance.now();
while (performance.now() - t0 < DURATION) {
  try {
    ops += await step();
  } catch (e) {
    if (!isTrustError(e) || e.code !== 'ERR_CONFLICT') throw e;
    conflicts++;
  }
}
const ms = performance.now() - t0;
const cpu = process.cpuUsage(cpu0);
/** Audit rows of this child's repositories: one per transition that committed (the floor writes none). */
async function audited() {
  if (mode === 'floor') return 0;
  const r = await db.raw.query(`SELECT count(*)::int AS n FROM bench.audit WHERE repository LIKE $1`, [`${REPO_PREFIX}%`]);
  return r.rows[0].n;
}
const result = { ops, ms, conflicts, cpuMs: (cpu.user + cpu.system) / 1000, warmOps, audited: await audited() };
process.stdout.write(`${JSON.stringify(result)}\n`);
process.exit(0);
