// Store benchmark (issue 14.7): transitions/s through the quarantine service on a real PostgreSQL
// (fsync on) with 1 and 4 replica processes, against a floor of bare guarded-UPDATE transactions
// through pg from as many processes; the embedded store (PGlite) beside it, and open times.
// Run: npm run bench:store (writes bench/STORE-RESULTS.md; --quick for a short try).
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { startCluster } from '../test/helpers/postgres.js';

const HERE = dirname(fileURLToPath(import.meta.url));
const QUICK = process.argv.includes('--quick');
const DURATION = QUICK ? 1500 : 3000;
const ROUNDS = QUICK ? 1 : 3;

interface Figure {
  readonly perSecond: number;
  readonly conflicts: number;
  /** CPU per operation (transition or floor transaction), µs: the replica processes', and the server's (postmaster and backends). */
  readonly clientUs: number;
  readonly serverUs: number;
}

/** User + system CPU in ms of `pid` and its children (a postmaster's backends), from /proc; 0 where /proc is not there. */
function treeCpuMs(pid: number | undefined): number {
  if (pid === undefined || !existsSync('/proc')) return 0;
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  let ms = 0;
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    let st: string;
    try {
      st = readFileSync(`/proc/${d}/stat`, 'utf8');
    } catch {
      continue; // gone meanwhile
    }
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    if (Number(d) === pid || Number(f[1]) === pid) ms += (Number(f[11]) + Number(f[12])) * tick;
  }
  return ms;
}

/** The PostgreSQL server whose CPU `run` counts (the embedded store runs in the replica process). */
let serverPid: number | undefined;

interface ChildResult {
  readonly ops: number;
  readonly ms: number;
  readonly conflicts: number;
  readonly cpuMs: number;
  readonly warmOps: number;
  readonly audited: number;
}

/**
 * Every transition a service child counts must have committed: one audit row each, warm-up
 * included. A loop that re-ran commands already applied (an earlier version of this bench reused
 * repository names across runs) counts audit-only re-pushes and duplicate verdicts, which cost far
 * less than a transition, and the figures are then worth nothing.
 */
function checkCommitted(r: ChildResult): void {
  if (r.audited !== r.warmOps + r.ops) {
    throw new Error(`a replica counted ${r.warmOps + r.ops} transitions but its repositories hold ${r.audited} audit rows`);
  }
}

/** Spawns `k` replicas, starts them together, returns their summed rate. */
async function run(mode: 'service' | 'service-nocache' | 'replay' | 'floor', backend: 'postgres' | 'embedded', targetOf: (i: number) => string, k: number, perRepo = 50): Promise<Figure> {
  const children = Array.from({ length: k }, (_, i) => {
    const child = spawn(process.execPath, [join(HERE, 'store-child.mjs'), mode, backend, targetOf(i), String(i), String(DURATION), String(perRepo)], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    return { child, next: async () => (await lines.next()).value as string };
  });
  for (const c of children) if ((await c.next()) !== 'ready') throw new Error('replica did not start');
  const server0 = backend === 'postgres' ? treeCpuMs(serverPid) : 0;
  for (const c of children) c.child.stdin.write('go\n');
  const results = await Promise.all(children.map(async (c) => JSON.parse(await c.next()) as ChildResult));
  const server = backend === 'postgres' ? treeCpuMs(serverPid) - server0 : 0;
  if (mode !== 'floor') for (const r of results) checkCommitted(r);
  const ops = results.reduce((s, r) => s + r.ops, 0);
  return {
    perSecond: results.reduce((s, r) => s + (r.ops * 1000) / r.ms, 0),
    conflicts: results.reduce((s, r) => s + r.conflicts, 0),
    clientUs: (results.reduce((s, r) => s + r.cpuMs, 0) * 1000) / ops,
    serverUs: (server * 1000) / ops,
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1] as number;

/** Digests per repository in the service runs: a realistic-ish 50 (a load reads them all), and 1 (the store's own cost). */
const SIZES = [50, 1] as const;

/**
 * Floor and service (at each repository size) interleaved round by round, so machine load hits all
 * alike; with `nocache`, also the service with the replica cache off at the first size (what a
 * transition cost before the cache: a load, a policy read and the commit, three round trips).
 */
async function pair(backend: 'postgres' | 'embedded', targetOf: (i: number) => string, k: number, nocache = false) {
  const floor: Figure[] = [];
  const service = SIZES.map((): Figure[] => []);
  const uncached: Figure[] = [];
  const replayed: Figure[] = [];
  for (let r = 0; r < ROUNDS; r++) {
    floor.push(await run('floor', backend, targetOf, k));
    for (const [j, size] of SIZES.entries()) (service[j] as Figure[]).push(await run('service', backend, targetOf, k, size));
    if (nocache) uncached.push(await run('service-nocache', backend, targetOf, k, SIZES[0]));
    if (backend === 'postgres') replayed.push(await run('replay', backend, targetOf, k, SIZES[0]));
  }
  const fl = medianOf(floor);
  const row = (size: number, cache: string, figures: Figure[]) => {
    const m = medianOf(figures);
    return { k, size, cache, floor: fl.perSecond, service: m.perSecond, ratio: m.perSecond / fl.perSecond, conflicts: figures.reduce((n, f) => n + f.conflicts, 0), cpu: m, floorCpu: fl };
  };
  const rows = SIZES.map((size, j) => row(size, 'on', service[j] as Figure[]));
  if (nocache) rows.push(row(SIZES[0], 'off', uncached));
  return { rows, replay: replayed.length > 0 ? row(SIZES[0], 'on', replayed) : undefined };
}

/** The median of each field on its own (rates and CPU costs of the same rounds). */
function medianOf(fs: readonly Figure[]): Figure {
  return {
    perSecond: median(fs.map((f) => f.perSecond)),
    conflicts: fs.reduce((n, f) => n + f.conflicts, 0),
    clientUs: median(fs.map((f) => f.clientUs)),
    serverUs: median(fs.map((f) => f.serverUs)),
  };
}

/** Milliseconds to open (and close) a store on a new database, then again on the same one. */
async function openTimes(open: () => Promise<{ close(): Promise<void> }>): Promise<[number, number]> {
  const once = async () => {
    const t0 = performance.now();
    const store = await open();
    const ms = performance.now() - t0;
    await store.close();
    return ms;
  };
  return [await once(), await once()];
}

/** Digests in the repository the visibility decisions read. */
const VIEW_DIGESTS = 100;

/**
 * Visibility decisions per second as a registry makes them per request: `view(repository)` (a
 * load, answered by a warm replica cache on the SQL stores) and one decision on it, by tag for
 * an ordinary user; half of the digests have passed. Median of 5 samples of 300 ms.
 */
async function decisionsPerSecond(store: import('../src/quarantine/store.js').QuarantineStore): Promise<number> {
  const { createQuarantineService } = await import('../src/quarantine/index.js');
  const q = createQuarantineService({ store, config: { scanners: ['s1'] }, clock: () => 1_700_000_000_000 });
  const repository = 'bench/view';
  for (let i = 0; i < VIEW_DIGESTS; i++) {
    const digest = `sha256:${i.toString(16).padStart(64, '0')}`;
    await q.push({ repository, digest, tag: `t${i}`, principal: { id: 'ci', roles: ['push'] } });
    if (i % 2 === 0) await q.verdict({ repository, digest, generation: 1, scannerId: 's1', idempotencyKey: 'k', result: 'pass', principal: { id: 'scanner', roles: ['quarantine-writer'] } });
  }
  const dev = { id: 'dev', roles: [] };
  const samples: number[] = [];
  let allowed = 0;
  for (let s = 0; s < 5; s++) {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < 300) {
      if ((await q.view(repository)).manifest(dev, { tag: `t${n % VIEW_DIGESTS}` }).allowed) allowed++;
      n++;
    }
    samples.push((n * 1000) / (performance.now() - t0));
  }
  if (allowed === 0) throw new Error('no decision allowed a passed digest');
  return median(samples);
}

const started = new Date();
const load0 = os.loadavg();
const cluster = await startCluster({ durable: true });
serverPid = cluster.serverPid();
const rows: string[] = [];
try {
  const url = cluster.createDatabase('bench');
  const { createPostgresStore } = await import('../src/store/postgres.js');
  const [openFresh, openAgain] = await openTimes(() => createPostgresStore({ connectionString: url, schema: 'bench' }));
  const { createMemoryStore } = await import('../src/quarantine/index.js');
  const memView = await decisionsPerSecond(createMemoryStore());
  const pgStore = await createPostgresStore({ connectionString: url, schema: 'bench_view' });
  const pgView = await decisionsPerSecond(pgStore);
  await pgStore.close();
  const pg1 = await pair('postgres', () => url, 1, true);
  const pg4 = await pair('postgres', () => url, 4);

  const dir = mkdtempSync(join(os.tmpdir(), 'trustgate-bench-pglite-'));
  const { createEmbeddedStore } = await import('../src/store/embedded.js');
  const [embFresh, embAgain] = await openTimes(() => createEmbeddedStore({ dataDir: dir, schema: 'bench' }));
  const embStore = await createEmbeddedStore({ dataDir: dir, schema: 'bench_view' });
  const embView = await decisionsPerSecond(embStore);
  await embStore.close();
  const e1 = await pair('embedded', () => dir, 1, true);
  rmSync(dir, { recursive: true, force: true });

  const f = (x: number) => Math.round(x).toLocaleString('en-US');
  const line = (name: string, { rows: rs }: Awaited<ReturnType<typeof pair>>) =>
    rs.map((r) => `| ${name} | ${r.k} | ${r.size} | ${r.cache} | ${f(r.service)} | ${f(r.floor)} | ${r.ratio.toFixed(2)} | ${r.ratio >= 0.5 ? 'met' : '**not met**'} | ${r.conflicts} |`).join('\n');
  rows.push(
    '# Store benchmark',
    '',
    `Generated by \`npm run bench:store\` (bench/store.ts) on ${started.toISOString()}${QUICK ? ' (--quick)' : ''}.`,
    `Machine: ${os.cpus()[0]?.model ?? '?'}, ${os.cpus().length} logical cores; Node ${process.version}; PostgreSQL 15 (Debian), throw-away cluster on 127.0.0.1, fsync on.`,
    `Load average at start ${load0.map((x) => x.toFixed(2)).join(' / ')}, at end ${os.loadavg().map((x) => x.toFixed(2)).join(' / ')}.`,
    '',
    '## Method',
    '',
    `- Each replica is a child process with its own pool (2 connections); figures are summed over replicas, median of ${ROUNDS} rounds of ${DURATION / 1000} s, floor and service interleaved round by round.`,
    '- Service: `createQuarantineService` on the store, per iteration push a new digest with tag `latest` (→ Quarantined) and pass it (→ Passed): 2 transitions. With the per-replica cache (docs/store.md) a transition on a known repository is one round trip: `load` and `loadPolicy` answer from the cache and the commit is one `commit_unit` statement (head and row compare-and-set, outbox, audit, notification). Each replica writes its own repositories (named with a random id per run, so no run repeats an earlier one\'s commands), a new one every 50 digests or for every digest; the cache knows which repositories exist, so a new one is not read first. Replicas contend only on the log_head lock. After each run every replica counts the audit rows of its repositories, and the bench stops unless that count equals the transitions it counted (warm-up included): every counted transition committed.',
    '- Floor: per transaction `BEGIN; UPDATE bench_floor SET version = $1, data = $2::jsonb WHERE id = $3 AND version = $4; COMMIT` on the replica\'s own row, a record-sized jsonb document, through pg (or PGlite for the embedded row).',
    '- Embedded: one process (PGlite owns its data directory), same loops.',
    '',
    '## Reading these figures',
    '',
    `${(load0[0] ?? 0) > os.cpus().length ? '**This run was made on a loaded machine** (load average above the core count at the start): every process was CPU-starved, so the absolute figures are far below what the same code does on a quiet machine and even the same-run ratios move a lot between runs. ' : ''}Rows with the replica cache off show the same service with \`cacheSize: 0\` (a load, a policy read and the commit per transition: three round trips instead of one), measured in the same rounds.`,
    '',
    '## Transitions per second',
    '',
    '| Store | Replicas | Digests per repository | Replica cache | Service transitions/s | Floor tx/s | Ratio | Goal ≥ 0.5 | Conflicts |',
    '|---|---:|---:|---|---:|---:|---:|---|---:|',
    line('PostgreSQL', pg1),
    line('PostgreSQL', pg4),
    line('Embedded (PGlite)', e1),
    '',
    '## CPU per operation (PostgreSQL)',
    '',
    `User + system CPU over the same rounds (medians), per service transition and per floor transaction: the replica processes' (\`process.cpuUsage\`) and the server's (the postmaster and its backends, from /proc). With K replicas on this machine, a figure is CPU-bound once (client + server) × rate reaches what its cores give: ${f(os.cpus().length * 1e6)} µs/s.`,
    '',
    '| Replicas | Digests per repository | Service client µs | Service server µs | Service total µs | Floor client µs | Floor server µs | Floor total µs |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[...pg1.rows, ...pg4.rows].filter((r) => r.cache === 'on').map((r) => `| ${r.k} | ${r.size} | ${f(r.cpu.clientUs)} | ${f(r.cpu.serverUs)} | ${f(r.cpu.clientUs + r.cpu.serverUs)} | ${f(r.floorCpu.clientUs)} | ${f(r.floorCpu.serverUs)} | ${f(r.floorCpu.clientUs + r.floorCpu.serverUs)} |`),
    '',
    '## The service\'s own work',
    '',
    'The same rounds, 50 digests per repository: each replica first sends one push and one verdict through the service and records their `commit_unit` calls, then sends those two calls again per iteration with a new digest, a new tag name and its own repositories, unguarded (basis -1), with the store and its LISTEN connection open. What separates the service from the replay is the service\'s own work per command (the machine\'s step, JSON, the replica cache, revive); what separates the replay from the floor is what one unit of work asks of the database (head, record, tag, log_head, outbox and audit rows, the notification) against one row update.',
    '',
    '| Replicas | Service transitions/s | Replayed transitions/s | Floor tx/s | Service / replay | Replay / floor | Service client + server µs | Replay client + server µs |',
    '|---:|---:|---:|---:|---:|---:|---:|---:|',
    ...[pg1, pg4].map(({ rows: rs, replay: rep }) => {
      const svc = rs.find((r) => r.cache === 'on' && r.size === SIZES[0]);
      if (svc === undefined || rep === undefined) return '';
      return `| ${svc.k} | ${f(svc.service)} | ${f(rep.service)} | ${f(svc.floor)} | ${(svc.service / rep.service).toFixed(2)} | ${(rep.service / svc.floor).toFixed(2)} | ${f(svc.cpu.clientUs)} + ${f(svc.cpu.serverUs)} | ${f(rep.cpu.clientUs)} + ${f(rep.cpu.serverUs)} |`;
    }),
    '',
    '## Visibility decisions with a warm replica cache',
    '',
    `\`view(repository)\` and one decision per request, a repository of ${VIEW_DIGESTS} digests (half passed), through the service; median of 5 samples of 300 ms, in this process. Goal: within 2× of the in-memory store (ratio ≥ 0.5).`,
    '',
    '| Store | Decisions/s | Ratio to memory | Goal ≥ 0.5 |',
    '|---|---:|---:|---|',
    `| Memory (baseline) | ${f(memView)} | 1.00 | — |`,
    ...([['PostgreSQL', pgView], ['Embedded (PGlite)', embView]] as const).map(([n, v]) => `| ${n} | ${f(v)} | ${(v / memView).toFixed(2)} | ${v / memView >= 0.5 ? 'met' : '**not met**'} |`),
    '',
    '## Open times',
    '',
    '| Store | First open (creates and migrates) | Reopen |',
    '|---|---:|---:|',
    `| PostgreSQL (pool + migrate) | ${openFresh.toFixed(0)} ms | ${openAgain.toFixed(0)} ms |`,
    `| Embedded (PGlite on a data dir) | ${embFresh.toFixed(0)} ms | ${embAgain.toFixed(0)} ms |`,
    '',
  );
} finally {
  cluster.stop();
}
writeFileSync(join(HERE, 'STORE-RESULTS.md'), `${rows.join('\n')}\n`);
process.stdout.write(`${rows.join('\n')}\n`);
