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

/** Counters and gauges fed from a trust source when Prometheus scrapes. */
function trustMetrics(registry: Registry, trust: TrustFacts, clock: () => Date): void {
  new Counter({
    name: 'trustgate_trust_fetch_errors_total',
    help: 'Fetches of trust data from the notary server that failed (online trust).',
    registers: [registry],
    collect() {
      this.reset();
      this.inc(trust.stats?.fetchErrors ?? 0);
    },
  });
  new Gauge({
    name: 'trustgate_trust_data_age_seconds',
    help: "Seconds since each GUN's trust data was last verified (online: fetched and verified).",
    labelNames: ['gun'],
    registers: [registry],
    collect() {
      this.reset();
      const now = clock();
      for (const gun of trust.guns()) {
        const ms = trust.ageMs(gun, now);
        if (ms !== undefined) this.set({ gun }, ms / 1000);
      }
    },
  });
}

/**
 * The webhook's metrics: decisions by endpoint, outcome, code and rule; request latency by
 * endpoint and status; and, given a trust source that reports them, fetch errors and the age of
 * the trust data per GUN.
 */
export function createAdmissionMetrics(trust?: TrustFacts, clock: () => Date = () => new Date()): AdmissionMetrics {
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
  return {
    registry,
    decision(endpoint, d) {
      const code = d.allowed ? (d.wouldDeny?.code ?? '') : d.code;
      decisions.inc({ endpoint, outcome: outcome(d), code, rule: d.rule });
    },
    request(endpoint, status, seconds) {
      latency.observe({ endpoint, status: String(status) }, seconds);
    },
  };
}
