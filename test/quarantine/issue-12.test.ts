/**
 * Issue 12: command traces through two service replicas on one store, checked against
 * docs/spec/quarantine.md, found these. One block per finding; each test failed on the code before
 * its fix.
 */
import { describe, expect, it } from 'vitest';
import type { QuarantineConfig } from '../../src/quarantine/index.js';
import { D, DEADLINE, REPO, T0, apply, ci, config, dev, newWorld, writer } from './harness.js';
import type { World } from './harness.js';

const at = (w: World, ms: number): World => {
  w.now = ms;
  return w;
};
const push = (d: string, extra: Record<string, unknown> = {}) => ({ type: 'push', repository: REPO, digest: d, principal: ci, ...extra });
const verdict = (d: string, generation: number, scannerId: string, result: string, key = `${scannerId}-${generation}-${result}`) => ({
  type: 'verdict', repository: REPO, digest: d, generation, scannerId, idempotencyKey: key, result, principal: writer,
});
const pass = (w: World, cfg: QuarantineConfig, d: string, generation = 1) => {
  for (const s of cfg.scanners) expect(apply(w, verdict(d, generation, s, 'pass'), cfg).ok).toBe(true);
};

describe('issue 12.1: a verdict for a generation the deadline closed is refused, not swallowed', () => {
  it('push, pass, rescan (no retries), deadline passes, fail for generation 2 → ERR_CONFLICT, audited, nothing changes', () => {
    const cfg = config({ maxRetries: 0 });
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    pass(w, cfg, D[0]);
    expect(apply(w, { type: 'rescan', repository: REPO, digest: D[0], principal: writer }, cfg).ok).toBe(true);
    apply(at(w, T0 + DEADLINE + 1), { type: 'tick', repository: REPO }, cfg);
    const before = w.state;
    const r = apply(w, verdict(D[0], 2, 's1', 'fail'), cfg);
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.error.code).toBe('ERR_CONFLICT');
    expect(r.error.check).toBe('generation closed');
    expect(r.state).toBe(before);
    expect(r.audit.map((a) => a.outcome)).toEqual(['rejected']);
  });

  it('a verdict after the quorum decided its generation is still answered "final" (Q13)', () => {
    const cfg = config();
    const w = newWorld();
    apply(w, push(D[0]), cfg);
    apply(w, verdict(D[0], 1, 's1', 'fail'), cfg);
    const r = apply(w, verdict(D[0], 1, 's2', 'pass'), cfg);
    expect(r.ok && r.response.verdict?.decision).toBe('final');
  });
});

describe('issue 12.7: a duplicate verdict commits nothing, the clock included (Q14)', () => {
  it('replaying an accepted verdict while a timeout on another digest is due leaves the same audit and event logs', () => {
    const cfg = config();
    const trace = (withDuplicate: boolean) => {
      const w = newWorld();
      apply(w, push(D[0]), cfg);
      apply(at(w, T0 + 10), push(D[1]), cfg);
      const v = verdict(D[0], 1, 's1', 'pass', 'k');
      apply(at(w, T0 + 20), v, cfg);
      at(w, T0 + DEADLINE + 100); // D[0]'s and D[1]'s deadlines are due
      if (withDuplicate) {
        const r = apply(w, v, cfg);
        expect(r.ok && r.response.verdict?.duplicate).toBe(true);
        expect(r.ok && r.events.length + r.audit.length).toBe(0);
      }
      apply(w, { type: 'revoke', repository: REPO, digest: D[1], principal: dev, reason: 'x' }, cfg); // rejected
      apply(at(w, T0 + DEADLINE + 200), { type: 'tick', repository: REPO }, cfg);
      return { audit: w.audit, events: w.events, records: [...w.state.records.values()] };
    };
    expect(trace(true)).toEqual(trace(false));
  });
});

describe('issue 12.5: digests must use an OCI registered algorithm', () => {
  const cfg = config();
  const hex = (n: number, c = 'a') => c.repeat(n);
  it.each([
    ['sha256:0'],
    [`sha256:${hex(65)}`],
    [`sha256:${hex(63)}`],
    [`sha256:${hex(64, 'A')}`],
    [`sha256:${hex(64, 'g')}`],
    [`sha512:${hex(64)}`],
    [`md5:${hex(32)}`],
    [`SHA256:${hex(64)}`],
  ])('%s is refused with ERR_INVALID_COMMAND and audited', (digest) => {
    const w = newWorld();
    const r = apply(w, push(digest), cfg);
    expect(r.ok === false && r.error.code).toBe('ERR_INVALID_COMMAND');
    expect(r.audit.map((a) => a.outcome)).toEqual(['rejected']);
    expect(w.state.records.size).toBe(0);
    // A subject or child with a bad digest is refused too.
    expect(apply(w, push(D[0], { subject: digest }), cfg).ok).toBe(false);
  });
  it('sha256 with 64 and sha512 with 128 lowercase hex digits are accepted', () => {
    const w = newWorld();
    expect(apply(w, push(`sha256:${hex(64, 'f')}`), cfg).ok).toBe(true);
    expect(apply(w, push(`sha512:${hex(128, '0')}`), cfg).ok).toBe(true);
  });
});
