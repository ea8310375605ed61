// Quarantine throughput in memory: visibility decisions (view.manifest) and state transitions
// (the pure core through the service over a store that discards commits, and the service with the
// memory store for context). `trustgate/quarantine` no longer exports the pure `step`.
import { createHash } from 'node:crypto';
import { createMemoryStore, createQuarantineService } from '../dist/quarantine.js';

const CONFIG = { scanners: ['trivy'] };
const NOW = Date.parse('2030-01-01T00:00:00Z');
const CI = { id: 'ci', roles: ['push'] };
const SCANNER = { id: 'trivy-bot', roles: ['quarantine-writer'] };
const DEV = { id: 'dev', roles: [] };
const digestOf = (i, salt = '') => `sha256:${createHash('sha256').update(`bench ${salt}${i}`).digest('hex')}`;

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

/** A repository with `m` digests, each tagged `t<i>`; every other one has passed its scan. */
async function populated(m) {
  const store = createMemoryStore();
  const q = createQuarantineService({ store, config: CONFIG, clock: () => NOW });
  for (let i = 0; i < m; i++) {
    const digest = digestOf(i);
    await q.push({ repository: 'app', digest, tag: `t${i}`, principal: CI });
    if (i % 2 === 0) {
      await q.verdict({ repository: 'app', digest, generation: 1, scannerId: 'trivy', idempotencyKey: `k${i}`, result: 'pass', principal: SCANNER });
    }
  }
  return { q, store };
}

/** Runs `fn(i)` in batches until `minMs` has passed; returns operations per second. */
function rate(fn, batch, minMs) {
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    for (let i = 0; i < batch; i++) fn(ops + i);
    ops += batch;
    t = performance.now();
  }
  return (ops * 1000) / (t - t0);
}

/** `rate` for an async `fn`. */
async function rateAsync(fn, batch, minMs) {
  let ops = 0;
  const t0 = performance.now();
  let t = t0;
  while (t - t0 < minMs) {
    for (let i = 0; i < batch; i++) await fn(ops + i);
    ops += batch;
    t = performance.now();
  }
  return (ops * 1000) / (t - t0);
}

/**
 * Baselines measured in the same run, so the goals are ratios (absolute figures vary about 4×
 * between machines of this kind): the least work a decision or a transition could do in plain JS.
 * - decision: a bare Map from tag to digest and from digest to a state string, then a Set lookup
 *   of the visible states (no roles, no view object);
 * - transition: `structuredClone` of a record-sized object, one field changed, `Map.set` into a
 *   copy-on-write map (a new Map of the same size every 100 iterations, amortised): what an
 *   immutable store must do at least to commit a changed record.
 */
function baselines(m, samples, minMs) {
  const tags = new Map();
  const states = new Map();
  for (let i = 0; i < m; i++) {
    tags.set(`t${i}`, digestOf(i));
    states.set(digestOf(i), i % 2 === 0 ? 'Passed' : 'Quarantined');
  }
  const visible = new Set(['Passed', 'Released']);
  const keys = Array.from({ length: m }, (_, i) => `t${i}`);
  let allowed = 0;
  const decide = (i) => {
    if (visible.has(states.get(tags.get(keys[i % m])))) allowed++;
  };
  const record = {
    repository: 'app', digest: digestOf(0), state: 'Quarantined', generation: 1, version: 1, sequence: 1, pushedAt: NOW, stateSince: NOW,
    deadline: NOW + 600_000, pushers: ['ci'], tags: ['t0'], verdicts: [], idempotency: [], retries: 0, policyVersion: 'p1', kind: 'manifest', children: [],
  };
  let rows = new Map(states);
  const transition = (i) => {
    if (i % 100 === 0) rows = new Map(rows);
    const next = structuredClone(record);
    next.state = i & 1 ? 'Passed' : 'Quarantined';
    next.version = i;
    rows.set(next.digest, next);
  };
  const decisions = [];
  const transitions = [];
  for (let s = 0; s < samples; s++) {
    decisions.push(rate(decide, 10_000, minMs));
    transitions.push(rate(transition, 1_000, minMs));
  }
  if (allowed === 0) throw new Error('baseline: no decision allowed');
  return { decisions_per_s: Math.round(median(decisions)), transitions_per_s: Math.round(median(transitions)) };
}

export async function benchQuarantine({ repoSizes = [10, 100, 1000], headline = 100, samples = 5, minMs = 300 } = {}) {
  const out = { repository_digests: headline, by_repository_size: [] };
  for (const m of repoSizes) {
    const { q, store } = await populated(m);
    const view = await q.view('app');
    // Decisions: an ordinary user by tag (half visible, half hidden → 404), a scanner by digest.
    const refs = Array.from({ length: m }, (_, i) => ({ tag: `t${i}` }));
    const drefs = Array.from({ length: m }, (_, i) => ({ digest: digestOf(i) }));
    let allowed = 0;
    const decide = (i) => {
      const k = i % m;
      const a = i & 1 ? view.manifest(DEV, refs[k]) : view.manifest(SCANNER, drefs[k]);
      if (a.allowed) allowed++;
    };
    const decisions = [];
    for (let s = 0; s < samples; s++) decisions.push(rate(decide, 10_000, minMs));
    // Decisions including creating the view from a loaded state (what a registry does per request
    // if it does not keep a view), at the same clock.
    const viewPlusDecision = [];
    for (let s = 0; s < Math.min(samples, 3); s++) {
      let n = 0;
      const t0 = performance.now();
      while (performance.now() - t0 < minMs) {
        const v = await q.view('app');
        if (v.manifest(DEV, refs[n % m]).allowed) allowed++;
        n++;
      }
      viewPlusDecision.push((n * 1000) / (performance.now() - t0));
    }

    // Transitions: from the same base state, push a new digest (→ Quarantined) and pass a
    // quarantined one (Quarantined → Passed): two transitions per iteration through the core, via
    // the service over a store that always loads that state and discards what is committed.
    const s0 = await store.load('app');
    const frozen = { ...store, load: async () => s0, commit: async () => {} };
    const pure = createQuarantineService({ store: frozen, config: CONFIG, clock: () => NOW });
    const quarantined = digestOf(m > 1 ? 1 : 0);
    let bad = 0;
    const transition = async (i) => {
      const digest = digestOf(i, 'new ');
      const r1 = await pure.push({ repository: 'app', digest, tag: 'incoming', principal: CI });
      const r2 = await pure.verdict({ repository: 'app', digest: quarantined, generation: 1, scannerId: 'trivy', idempotencyKey: `n${i}`, result: 'pass', principal: SCANNER });
      if (r1.state !== 'Quarantined' || r2.state !== 'Passed') bad++;
    };
    const transitions = [];
    for (let s = 0; s < samples; s++) transitions.push(2 * (await rateAsync(transition, m >= 1000 ? 10 : 100, minMs)));
    if (bad > 0) throw new Error(`quarantine bench: ${bad} transitions did not reach Passed`);

    // The service with the in-memory store (load → step → compare-and-set commit, deep copies),
    // on the same repository (measured last: it adds digests).
    const qs = q;
    let j = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < minMs) {
      const digest = digestOf(j, 'svc ');
      await qs.push({ repository: 'app', digest, principal: CI });
      await qs.verdict({ repository: 'app', digest, generation: 1, scannerId: 'trivy', idempotencyKey: `s${j}`, result: 'pass', principal: SCANNER });
      j++;
    }
    const serviceRate = (2 * j * 1000) / (performance.now() - t0);

    const base = baselines(m, samples, minMs);
    out.by_repository_size.push({
      digests: m,
      baseline_decisions_per_s: base.decisions_per_s,
      baseline_transitions_per_s: base.transitions_per_s,
      decisions_ratio: Math.round((median(decisions) / base.decisions_per_s) * 1000) / 1000,
      transitions_ratio: Math.round((median(transitions) / base.transitions_per_s) * 1000) / 1000,
      decisions_per_s: Math.round(median(decisions)),
      view_and_decision_per_s: Math.round(median(viewPlusDecision)),
      transitions_per_s: Math.round(median(transitions)),
      service_transitions_per_s: Math.round(serviceRate),
      allowed_checksum: allowed > 0,
    });
  }
  const h = out.by_repository_size.find((r) => r.digests === headline) ?? out.by_repository_size[0];
  out.decisions_per_s = h.decisions_per_s;
  out.transitions_per_s = h.transitions_per_s;
  out.decisions_ratio = h.decisions_ratio;
  out.transitions_ratio = h.transitions_ratio;
  return out;
}

