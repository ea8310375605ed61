/**
 * Faults on a real PostgreSQL (issue 14.6): K = 4 replica processes drive random command traces
 * against one database while one of them is SIGKILLed during a commit and the server is restarted
 * with pg_ctl. Afterwards the database must be explained by a serial replay, in audit order, of the
 * commands that committed (a command whose commit failed with the connection is allowed either
 * way), with per-digest event sequences gap-free and matching each record: no partial unit of work.
 * The replicas run from dist/ (npm test builds first).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyRepository, step } from '../../../src/quarantine/machine.js';
import { parseConfig } from '../../../src/quarantine/schemas.js';
import { reviveState } from '../../../src/quarantine/revive.js';
import { unitOfWork } from '../../../src/quarantine/store.js';
import type { AuditEntry, RepositoryState } from '../../../src/quarantine/index.js';
import { createPostgresStore } from '../../../src/store/postgres.js';
import { rows } from '../linearizability.js';
import { usePostgres } from '../store-conformance/factories.js';

const pg = usePostgres({ beforeAll, afterAll });
const ROOT = join(import.meta.dirname, '..', '..', '..');
const T0 = 1_700_000_000_000;
const REPO = 'fault/app';
const CFG = parseConfig({ scanners: ['s1', 's2'] });
const K = 4;
/**
 * Commands per replica: 40 in the default suite (well under 40 s with the restart and the kill),
 * 200 under npm run test:faults. The serial replay runs in both. It used to fail about 1 run in 6,
 * around the retry of a commit of unknown outcome: it placed such commits greedily, which is wrong
 * in the case "the serial replay" below shows; it now searches for an assignment in which each
 * such commit landed once or not at all.
 */
const COMMANDS = Number(process.env['FAULT_COMMANDS'] ?? 40);

type Status = 'committed' | 'unknown' | 'none';
interface Replica {
  trace: Record<string, unknown>[];
  attempts: { i: number; status: Status; code?: string }[];
  done: boolean;
  exit: { code: number | null; signal: NodeJS.Signals | null };
  stderr: string;
}

/** Runs a replica process; `onLine` sees each attempt as it is reported. */
function startReplica(url: string, schema: string, k: number, env: Record<string, string>, onLine: (r: Replica) => void): Promise<Replica> {
  const child = spawn(process.execPath, [join(import.meta.dirname, 'replica.mjs'), url, schema, String(k), String(1000 + k), String(COMMANDS)], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const r: Replica = { trace: [], attempts: [], done: false, exit: { code: null, signal: null }, stderr: '' };
  child.stderr.on('data', (d: Buffer) => (r.stderr += String(d)));
  createInterface({ input: child.stdout }).on('line', (line) => {
    const m = JSON.parse(line) as { trace?: Record<string, unknown>[]; done?: boolean; i?: number; status?: Status; code?: string };
    if (m.trace !== undefined) r.trace = m.trace;
    else if (m.done === true) r.done = true;
    else r.attempts.push(m as Replica['attempts'][number]);
    onLine(r);
  });
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(Object.assign(r, { exit: { code, signal } }))));
}

/** The attempts that may have committed, in order; a killed replica's attempt in flight is "unknown". */
interface Candidate {
  readonly i: number;
  readonly command: Record<string, unknown>;
  readonly status: Status;
}

function candidates(r: Replica): Candidate[] {
  const out: Candidate[] = r.attempts.filter((a) => a.status !== 'none').map((a) => ({ i: a.i, command: r.trace[a.i] as Record<string, unknown>, status: a.status }));
  if (!r.done) {
    const last = r.attempts.at(-1);
    const next = last === undefined ? 0 : last.status === 'unknown' || last.code === 'ERR_STORE_UNAVAILABLE' ? last.i : last.i + 1;
    if (next < r.trace.length) out.push({ i: next, command: r.trace[next] as Record<string, unknown>, status: 'unknown' });
  }
  return out;
}

const sansSeq = ({ seq: _seq, ...rest }: AuditEntry) => JSON.stringify(rest, Object.keys(rest).sort());

/** Whether a step writes anything (the service commits nothing otherwise). */
function changes(before: RepositoryState, r: ReturnType<typeof step>): boolean {
  const u = unitOfWork(before, r);
  return u.records.length + u.tags.length + u.events.length > 0;
}

/** Whether `drafts` are the audit entries `got`, seq aside. */
function sameAudit(drafts: readonly Omit<AuditEntry, 'seq'>[], got: readonly AuditEntry[]): boolean {
  return drafts.length > 0 && got.length === drafts.length && drafts.every((d, j) => sansSeq({ ...d, seq: 0 }) === sansSeq(got[j] as AuditEntry));
}

/** Where a replay stands: the next candidate of each replica, the states so far, and per replica the first state its next command may have read. */
interface Cursor {
  readonly pos: readonly number[];
  readonly history: readonly RepositoryState[];
  readonly since: readonly number[];
}

const set = (xs: readonly number[], k: number, v: number) => xs.map((x, j) => (j === k ? v : x));

/** The cursor after replica k's candidate, which landed as `state` (or left the state as it was). */
function advance(c: Cursor, k: number, state?: RepositoryState, since?: number): Cursor {
  const history = state === undefined ? c.history : [...c.history, state];
  return { pos: set(c.pos, k, (c.pos[k] as number) + 1), history, since: since === undefined ? c.since : set(c.since, k, since) };
}

/** The search's inputs: the candidates, the audit, the stored final state, and a step budget. */
interface Replay {
  readonly queues: readonly Candidate[][];
  readonly audit: readonly AuditEntry[];
  readonly want: string;
  steps: number;
}

/** The ways replica k's next candidate can explain the audit from entry i on: each a cursor and the entry after it. */
function choices(r: Replay, i: number, c: Cursor, k: number, next: Candidate): [number, Cursor][] {
  const now = c.history.length - 1;
  const st = c.history[now] as RepositoryState;
  const s = step(st, next.command, T0, CFG);
  const out: [number, Cursor][] = [];
  if (s.audit.length === 0) {
    // A unit with no audit record has no place in the audit order: it lands before this
    // replica's next audited unit, if it changes anything.
    out.push([i, changes(st, s) ? advance(c, k, s.state, now + 1) : advance(c, k)]);
  } else {
    if (s.ok && s.state !== st && sameAudit(s.audit, r.audit.slice(i, i + s.audit.length))) out.push([i + s.audit.length, advance(c, k, s.state, now + 1)]);
    // A rejection may have been decided on any state since its replica's previous command (the
    // head guard makes it the current one; the rule stays as wide as it was). The earliest such
    // state is the only choice worth trying: it leaves the most states to the replica's next command.
    for (let h = c.since[k] as number; h <= now; h++) {
      const rj = step(c.history[h] as RepositoryState, next.command, T0, CFG);
      if (rj.state === c.history[h] && sameAudit(rj.audit, r.audit.slice(i, i + rj.audit.length))) {
        out.push([i + rj.audit.length, advance(c, k, undefined, h)]);
        break;
      }
    }
  }
  // A commit of unknown outcome may also not have landed at all.
  if (next.status === 'unknown') out.push([i, advance(c, k)]);
  return out;
}

/**
 * Searches for the serial replay, in audit order, of the candidates that explains the audit and
 * the stored final state: each committed candidate lands once, each commit of unknown outcome
 * lands once or not at all (accepted if present). A search, not a greedy pass: taking an unknown
 * commit as landed because its retry's audit record fits it was wrong whenever the retry (or an
 * identical later command) then had nothing left to explain.
 */
function search(r: Replay, i: number, c: Cursor): RepositoryState | undefined {
  if (++r.steps > 2_000_000) throw new Error('replay: search budget exhausted');
  if (i === r.audit.length) return finish(r, c);
  const entry = r.audit[i] as AuditEntry;
  const k = Number(/-(\d+)$/.exec(entry.actor)?.[1]);
  const next = r.queues[k]?.[c.pos[k] as number];
  if (next === undefined) return undefined;
  for (const [j, after] of choices(r, i, c, k, next)) {
    const found = search(r, j, after);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** After the last audit entry: the unaudited units left land; audited committed ones cannot be left. */
function finish(r: Replay, c: Cursor): RepositoryState | undefined {
  let now = c.history[c.history.length - 1] as RepositoryState;
  for (const [k, q] of r.queues.entries()) {
    for (const cand of q.slice(c.pos[k])) {
      const s = step(now, cand.command, T0, CFG);
      if (s.audit.length === 0 && changes(now, s)) now = s.state;
      else if (cand.status === 'committed' && s.audit.length > 0) return undefined;
    }
  }
  return canonical(now) === r.want ? now : undefined;
}

/** The serial replay that explains `audit` and `final`; throws when none does. */
function replay(replicas: Replica[], audit: readonly AuditEntry[], final: RepositoryState): RepositoryState {
  const queues = replicas.map(candidates);
  const r: Replay = { queues, audit, want: canonical(final), steps: 0 };
  const found = search(r, 0, { pos: queues.map(() => 0), history: [emptyRepository(REPO)], since: queues.map(() => 0) });
  if (found === undefined) throw new Error(`no serial replay of the ${queues.flat().length} candidates explains the ${audit.length} audit entries and the final state`);
  return found;
}

describe('the serial replay', () => {
  // A case the old greedy replay got wrong (found by reading it): a push with a tag whose commit failed with
  // the connection and did not land, its retry landed, and the replica's next command was the same
  // push (a re-push, which is audited). Taking the unknown commit as landed explains the first
  // entry and the retry the second, and leaves the next push with nothing to explain it.
  it('places a commit of unknown outcome that did not land before its retry and an identical next command', () => {
    const push = { type: 'push', repository: REPO, digest: `sha256:${'1'.repeat(64)}`, principal: { id: 'ci-0', roles: ['push'] }, tag: 'v1' };
    const first = step(emptyRepository(REPO), push, T0, CFG);
    const second = step(first.state, push, T0, CFG);
    const audit = [...first.audit, ...second.audit].map((a, n) => ({ ...a, seq: n + 1 }) as AuditEntry);
    const replica: Replica = {
      trace: [push, push],
      attempts: [
        { i: 0, status: 'unknown', code: 'ERR_STORE_UNAVAILABLE' },
        { i: 0, status: 'committed' },
        { i: 1, status: 'committed' },
      ],
      done: true,
      exit: { code: 0, signal: null },
      stderr: '',
    };
    expect(canonicalRows(replay([replica], audit, second.state))).toEqual(canonicalRows(second.state));
    // And a state no assignment explains (the third push, never committed) is refused.
    expect(() => replay([replica], audit, step(second.state, push, T0, CFG).state)).toThrow(/no serial replay/);
  });
});

describe.skipIf(pg.missing !== undefined)('faults on PostgreSQL', () => {
  it(`${K} replica processes, one SIGKILLed mid-commit, a pg_ctl restart mid-run: typed errors, no partial unit; a serial replay explains the database`, async () => {
    if (!existsSync(join(ROOT, 'dist', 'quarantine-postgres.js'))) throw new Error('dist/ is missing: run npm run build (npm test does)');
    const cluster = pg.cluster();
    const url = cluster.url();
    const schema = 'faults';
    // Migrate once up front, so the replicas start on a ready schema.
    await (await createPostgresStore({ connectionString: url, schema })).close();
    let restarted = false;
    let progressAtRestart = 0;
    const progress = () => replicas.reduce((s, r) => s + r.attempts.length, 0);
    const replicas: Replica[] = [];
    const finished = Array.from({ length: K }, (_, k) =>
      startReplica(url, schema, k, k === 0 ? { KILL_AT: '6' } : {}, (r) => {
        replicas[k] = r;
        // Restart the server once the replicas are well into their traces.
        if (!restarted && progress() >= (K * COMMANDS) / 3) {
          restarted = true;
          progressAtRestart = progress();
          cluster.restart();
        }
      }),
    );
    const done = await Promise.all(finished);
    expect(restarted, 'the restart happened mid-run').toBe(true);
    expect(done[0]?.exit.signal, `replica 0 was killed (exit ${JSON.stringify(done[0]?.exit)}, ${done[0]?.attempts.length} attempts); stderr: ${done[0]?.stderr}`).toBe('SIGKILL');
    for (const r of done.slice(1)) expect(r.exit, `the others finished their traces; stderr: ${r.stderr}`).toEqual({ code: 0, signal: null });
    for (const r of done.slice(1)) expect(r.done).toBe(true);
    // Every failure the replicas saw was typed; the outage showed as ERR_STORE_UNAVAILABLE and
    // commands went through again after it.
    const unavailable = done.flatMap((r) => r.attempts).filter((a) => a.code === 'ERR_STORE_UNAVAILABLE');
    expect(unavailable.length, 'commands failed with a typed error during the outage').toBeGreaterThan(0);
    expect(progress()).toBeGreaterThan(progressAtRestart + K);

    const store = await createPostgresStore({ connectionString: url, schema });
    try {
      const audit = await store.readAudit();
      const final = reviveState(await store.load(REPO));
      // FAULT_DUMP=file keeps what the replay saw, for a failure to be read later.
      if (process.env['FAULT_DUMP']) (await import('node:fs')).writeFileSync(process.env['FAULT_DUMP'], JSON.stringify({ done, audit }));
      expect(canonicalRows(replay(done, audit, final))).toEqual(canonicalRows(final));
      // Per digest the events are exactly 1..record.sequence: no unit of work landed in part.
      const events = await store.pendingEvents(100_000);
      for (const rec of final.records.values()) {
        const seqs = events.filter((e) => e.event.digest === rec.digest).map((e) => e.event.sequence);
        expect(seqs, rec.digest).toEqual(Array.from({ length: rec.sequence }, (_, i) => i + 1));
      }
      expect(audit.map((a) => a.seq)).toEqual(audit.map((_, i) => i + 1));
    } finally {
      await store.close();
    }
  }, 90_000);
});

const canonical = (s: RepositoryState) => JSON.stringify(canonicalRows(s));

/** Rows with keys sorted, so a jsonb round trip compares equal to the replayed objects. */
function canonicalRows(s: RepositoryState): unknown {
  return JSON.parse(JSON.stringify(rows(s), (_k, x: unknown) => (typeof x === 'object' && x !== null && !Array.isArray(x) ? Object.fromEntries(Object.entries(x).sort(([a], [b]) => (a < b ? -1 : 1))) : x)));
}
