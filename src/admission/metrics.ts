/**
 * Prometheus metrics of the admission webhook (`GET /metrics`, text format 0.0.4), on a registry
 * of their own so that embedding the server never touches prom-client's global registry. Only
 * the admission entry point loads this module; the plain verifier (`trustgate`) never does.
 *
 * @module
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { AdmissionDecision } from './decision.js';

/** What a trust source can tell about the data it serves (online and remembered sources do). */
export interface TrustFacts {
  /** GUNs with data. */
  guns(): string[];
  /** Time since the GUN's data was last verified (online: fetched and verified), in ms. */
  ageMs(gun: string, now: Date): number | undefined;
  /** Fetches that failed, for online sources. */
  readonly stats?: { fetchErrors?: number };
}

/** The trust facts at one instant: the age of each GUN's data in ms, and failed fetches. */
export interface TrustSnapshot {
  ageMs: Array<[gun: string, ms: number]>;
  fetchErrors: number;
}

/** Trust facts that must be asked for, e.g. from worker threads (`VerifierPool`). */
export interface TrustFactsProvider {
  snapshot(now: Date): Promise<TrustSnapshot>;
}

function snapshotOf(trust: TrustFacts, now: Date): TrustSnapshot {
  const ageMs = trust.guns().flatMap((gun): Array<[string, number]> => {
    const ms = trust.ageMs(gun, now);
    return ms === undefined ? [] : [[gun, ms]];
  });
  return { ageMs, fetchErrors: trust.stats?.fetchErrors ?? 0 };
}

export interface AdmissionMetrics {
  readonly registry: Registry;
  /** One image decision. */
  decision(endpoint: string, d: AdmissionDecision): void;
  /** One answered request, with its HTTP status and how long it took. */
  request(endpoint: string, status: number, seconds: number): void;
}

/** The outcome label: what a person reading a dashboard wants to tell apart. */
function outcome(d: AdmissionDecision): string {
  if (!d.allowed) return 'deny';
  if (d.breakGlass) return 'break-glass';
  return d.wouldDeny ? 'dry-run' : 'allow';
}

/**
 * Counters and gauges taken from the trust source when Prometheus scrapes: current at the scrape,
 * whether the source is in this thread or in worker threads that are asked (one question per
 * scrape for both metrics).
 */
function trustMetrics(registry: Registry, trust: TrustFacts | TrustFactsProvider, clock: () => Date): void {
  let asked: Promise<TrustSnapshot> | undefined;
  const snapshot = (): Promise<TrustSnapshot> => {
    if (asked === undefined) {
      const p = 'snapshot' in trust ? trust.snapshot(clock()) : Promise.resolve(snapshotOf(trust, clock()));
      asked = p;
      // One scrape reads both metrics from the same answer; the next scrape asks again.
      const forget = () => setImmediate(() => asked === p && (asked = undefined));
      p.then(forget, forget);
    }
    return asked;
  };
  new Counter({
    name: 'trustgate_trust_fetch_errors_total',
    help: 'Fetches of trust data from the notary server that failed (online trust).',
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      this.inc(s.fetchErrors);
    },
  });
  new Gauge({
    name: 'trustgate_trust_data_age_seconds',
    help: "Seconds since each GUN's trust data was last verified (online: fetched and verified).",
    labelNames: ['gun'],
    registers: [registry],
    async collect() {
      const s = await snapshot();
      this.reset();
      for (const [gun, ms] of s.ageMs) this.set({ gun }, ms / 1000);
    },
  });
}

/**
 * The webhook's metrics: decisions by endpoint, outcome, code and rule; request latency by
 * endpoint and status; and, given a trust source that reports them, fetch errors and the age of
 * the trust data per GUN.
 */
export function createAdmissionMetrics(trust?: TrustFacts | TrustFactsProvider, clock: () => Date = () => new Date()): AdmissionMetrics {
  const registry = new Registry();
  const decisions = new Counter({
    name: 'trustgate_admission_decisions_total',
    help: 'Image decisions, by endpoint, outcome (allow, deny, dry-run, break-glass), error code and policy rule.',
    labelNames: ['endpoint', 'outcome', 'code', 'rule'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'trustgate_admission_request_duration_seconds',
    help: 'Time from request to answer, by endpoint and HTTP status.',
    labelNames: ['endpoint', 'status'],
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  if (trust !== undefined) trustMetrics(registry, trust, clock);
  // The labelled children, kept: prom-client hashes a label object (sorting its keys) on every
  // call otherwise, once or twice per review. Label values are few (endpoints, codes, rules).
  const counters = new Map<string, { inc(): void }>();
  const timers = new Map<string, { observe(v: number): void }>();
  return {
    registry,
    decision(endpoint, d) {
      const code = d.allowed ? (d.wouldDeny?.code ?? '') : d.code;
      const o = outcome(d);
      const key = `${endpoint}\u0000${o}\u0000${code}\u0000${d.rule}`;
      let c = counters.get(key);
      if (c === undefined) counters.set(key, (c = decisions.labels({ endpoint, outcome: o, code, rule: d.rule })));
      c.inc();
    },
    request(endpoint, status, seconds) {
      const key = `${endpoint}\u0000${status}`;
      let h = timers.get(key);
      if (h === undefined) timers.set(key, (h = latency.labels({ endpoint, status: String(status) })));
      h.observe(seconds);
    },
  };
}
