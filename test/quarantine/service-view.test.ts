/**
 * `QuarantineService.view(repository, { now })`: one decision reads one clock. Admission replays a
 * request at its own `now`; the view must answer by that time, not by the service clock
 * (quarantine.md Q18: a release with `expiresAt = t` has effect at `now < t` only).
 */
import { describe, expect, it } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { createMemoryStore, createQuarantineService } from '../../src/quarantine/index.js';
import { D, REPO, T0, ci, dev, ops } from './harness.js';

async function releasedUntil(t: number) {
  let clock = T0;
  const q = createQuarantineService({
    store: createMemoryStore(),
    config: { scanners: ['s1'], maxReleaseTtlMs: 600_000 },
    clock: () => clock,
  });
  await q.push({ repository: REPO, digest: D[0], principal: ci });
  await q.release({ repository: REPO, digest: D[0], principal: ops, reason: 'INC-1', expiresAt: t });
  return { q, setClock: (ms: number) => (clock = ms) };
}

describe('QuarantineService.view at a given now', () => {
  const t = T0 + 60_000;

  it('a release until t is visible at t−1 and hidden at t, whatever the service clock says', async () => {
    const { q, setClock } = await releasedUntil(t);
    for (const clock of [T0, t + 3_600_000]) {
      setClock(clock);
      const before = await q.view(REPO, { now: new Date(t - 1) });
      expect(before.now).toBe(t - 1);
      expect(before.manifest(dev, { digest: D[0] }).allowed, `clock ${clock}, now t-1`).toBe(true);
      const at = await q.view(REPO, { now: new Date(t) });
      expect(at.manifest(dev, { digest: D[0] }).allowed, `clock ${clock}, now t`).toBe(false);
    }
  });

  it('without options the service clock decides', async () => {
    const { q, setClock } = await releasedUntil(t);
    setClock(t - 1);
    expect((await q.view(REPO)).manifest(dev, { digest: D[0] }).allowed).toBe(true);
    setClock(t);
    expect((await q.view(REPO)).manifest(dev, { digest: D[0] }).allowed).toBe(false);
  });

  it('an invalid Date (or a non-Date) is ERR_INVALID_ARGUMENT', async () => {
    const { q } = await releasedUntil(t);
    for (const now of [new Date(Number.NaN), 12345 as unknown as Date, 'yesterday' as unknown as Date]) {
      const e = await q.view(REPO, { now }).then(
        () => undefined,
        (x: unknown) => x,
      );
      expect(isTrustError(e) && e.code, String(now)).toBe('ERR_INVALID_ARGUMENT');
    }
  });
});
