// One replica of the fault test (faults.test.ts): a random command trace from a seed, run through
// the quarantine service on a shared PostgreSQL database, from the built dist/ (npm test builds).
// Prints one JSON line per attempt: {i, status: committed | unknown | none, code?}; "unknown" is a
// commit that failed with ERR_STORE_UNAVAILABLE (it may or may not have landed). A failed attempt
// is retried after 20 ms. With KILL_AT=n the process SIGKILLs itself during its n-th commit.
import { createQuarantineService, isTrustError } from '../../../dist/quarantine.js';
import { createPostgresStore } from '../../../dist/quarantine-postgres.js';

const [url, schema, replicaArg, seedArg, countArg] = process.argv.slice(2);
const k = Number(replicaArg);
const KILL_AT = Number(process.env['KILL_AT'] ?? 0);
const T0 = 1_700_000_000_000;
const REPO = 'fault/app';
// Any replica may act on any digest, push included; half the commands aim at the replica's own
// two digests so each one also sees a history of its own. A re-push by another principal adds a
// pusher and is audited (Q22, test/quarantine/issue-12.test.ts), so the replay, which places
// units by the audit order, can place it.
const D = ['1', '2', '3', '4', '5', '6', '7', '8'].map((c) => `sha256:${c.repeat(64)}`);
const OWN = [D[2 * k], D[2 * k + 1]];

let seed = Number(seedArg) >>> 0;
const rand = (n) => {
  seed = (seed + 0x6d2b79f5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return (((t ^ (t >>> 14)) >>> 0) % n);
};
const pick = (xs) => xs[rand(xs.length)];
const ci = { id: `ci-${k}`, roles: ['push'] };
const bot = { id: `bot-${k}`, roles: ['quarantine-writer'] };
const ops = { id: `ops-${k}`, roles: ['overrider'] };

function command() {
  const digest = rand(2) ? pick(OWN) : pick(D);
  switch (rand(7)) {
    case 0:
    case 1:
      return { type: 'push', repository: REPO, digest, principal: ci, ...(rand(2) ? { tag: pick(['v1', 'v2']) } : {}) };
    case 2:
    case 3:
      return { type: 'verdict', repository: REPO, digest, generation: pick([1, 1, 2]), scannerId: pick(['s1', 's2']), idempotencyKey: `k${rand(3)}`, result: pick(['pass', 'pass', 'fail']), principal: bot };
    case 4:
      return pick([
        { type: 'release', repository: REPO, digest, principal: ops, reason: 'INC-1', expiresAt: T0 + 60_000 },
        { type: 'revoke', repository: REPO, digest, principal: ops, reason: 'bad' },
      ]);
    case 5:
      return { type: 'rescan', repository: REPO, digest, principal: bot };
    default:
      return pick([{ type: 'deleteManifest', repository: REPO, digest, principal: ci }, { type: 'deleteTag', repository: REPO, tag: pick(['v1', 'v2']), principal: ci }]);
  }
}

const trace = Array.from({ length: Number(countArg) }, command);
process.stdout.write(`${JSON.stringify({ trace })}\n`);

/** Opens the store, waiting out an outage (the restart may come while this replica still starts). */
async function open() {
  for (let attempt = 0; ; attempt++) {
    try {
      return await createPostgresStore({ connectionString: url, schema, max: 2 });
    } catch (e) {
      if (!isTrustError(e) || e.code !== 'ERR_STORE_UNAVAILABLE' || attempt > 500) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}
const store = await open();
let commits = 0;
let inCommit = false;
let landed = false;
const watched = {
  ...store,
  async commit(unit) {
    inCommit = true;
    const p = store.commit(unit);
    if (++commits === KILL_AT) setTimeout(() => process.kill(process.pid, 'SIGKILL'), rand(3));
    await p;
    landed = true;
  },
};
const q = createQuarantineService({ store: watched, config: { scanners: ['s1', 's2'] }, clock: () => T0, maxAttempts: 50 });
for (let i = 0; i < trace.length; i++) {
  for (let attempt = 0; ; attempt++) {
    inCommit = false;
    landed = false;
    let code;
    try {
      await q.execute(trace[i]);
    } catch (e) {
      if (!isTrustError(e)) {
        process.stderr.write(`replica ${k}: untyped error ${e?.stack ?? e}\n`);
        process.exit(3);
      }
      code = e.code;
    }
    const unavailable = code === 'ERR_STORE_UNAVAILABLE';
    const status = landed ? 'committed' : unavailable && inCommit ? 'unknown' : 'none';
    process.stdout.write(`${JSON.stringify({ i, status, code })}\n`);
    if (!unavailable) break;
    if (attempt > 500) process.exit(4);
    await new Promise((r) => setTimeout(r, 20));
  }
}
await store.close();
process.stdout.write(`${JSON.stringify({ done: true })}\n`);
