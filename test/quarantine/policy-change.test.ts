/**
 * Q5, stricter policy never grants. There is no `setPolicy` command: the policy is the
 * configuration a registry passes to every step and view, so changing it is restarting with
 * another configuration. Property: after any trace under a policy p, switching to a p' that is
 * at least as strict — k-of-n quorum → all, `anyFailFails` off → on, `onNewFindings` alert →
 * block, `onUnverifiedRetag` keepPrevious → hideTag, waivers dropped, shorter TTLs — shows an
 * ordinary user no digest and no tag that p did not, both at once and after the first clock step
 * under p'.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/quarantine/index.js';
import { createView } from '../../src/quarantine/registry-view.js';
import { step } from '../../src/quarantine/machine.js';
import type { QuarantineConfig, QuarantineConfigInput, RepositoryState } from '../../src/quarantine/index.js';
import { D, DEADLINE, REPO, TAGS, dev, opsArb, run } from './harness.js';

interface Knobs {
  kOfN: boolean;
  anyFailFails: boolean;
  alert: boolean;
  keepPrevious: boolean;
  waiver: boolean;
  longTtl: boolean;
}

const WAIVER = { id: 'w-1', findingId: 'CVE-2024-0001', scope: { kind: 'registry' }, reason: 'not reachable', author: 'sec', createdAt: 1, expiresAt: 1 + 86_400_000 };

function policy(k: Knobs): QuarantineConfig {
  const input: QuarantineConfigInput = {
    scanners: ['s1', 's2'],
    scanDeadlineMs: DEADLINE,
    maxRetries: 1,
    quorum: k.kOfN ? { mode: 'k-of-n', k: 1 } : { mode: 'all' },
    anyFailFails: k.anyFailFails,
    onNewFindings: k.alert ? 'alert' : 'block',
    onUnverifiedRetag: k.keepPrevious ? 'keepPrevious' : 'hideTag',
    waivers: k.waiver ? [WAIVER as never] : [],
    maxReleaseTtlMs: k.longTtl ? 600_000 : 60_000,
  };
  return parseConfig(input);
}

const knobs = fc.record({ kOfN: fc.boolean(), anyFailFails: fc.boolean(), alert: fc.boolean(), keepPrevious: fc.boolean(), waiver: fc.boolean(), longTtl: fc.boolean() });

/** The same knobs or stricter ones, each independently. */
const stricter = (k: Knobs): fc.Arbitrary<Knobs> =>
  fc.record({
    kOfN: k.kOfN ? fc.boolean() : fc.constant(false),
    anyFailFails: k.anyFailFails ? fc.constant(true) : fc.boolean(),
    alert: k.alert ? fc.boolean() : fc.constant(false),
    keepPrevious: k.keepPrevious ? fc.boolean() : fc.constant(false),
    waiver: k.waiver ? fc.boolean() : fc.constant(false),
    longTtl: k.longTtl ? fc.boolean() : fc.constant(false),
  });

/** What an ordinary user can see: digests by digest, and what each tag resolves to. */
function seen(state: RepositoryState, now: number, cfg: QuarantineConfig) {
  const view = createView(state, now, cfg);
  const digests = D.filter((d) => view.manifest(dev, { digest: d }).allowed);
  const tags = TAGS.flatMap((t) => {
    const a = view.manifest(dev, { tag: t });
    return a.allowed ? [`${t}→${a.digest}`] : [];
  });
  return { digests, tags };
}

describe('Q5: a stricter policy never grants', () => {
  it('switching to a policy at least as strict shows no digest or tag the old one hid (property)', () => {
    fc.assert(
      fc.property(
        knobs.chain((k) => fc.tuple(fc.constant(k), stricter(k))),
        opsArb,
        fc.integer({ min: 0, max: 2 * DEADLINE }),
        ([k, k2], list, later) => {
          const p = policy(k);
          const p2 = policy(k2);
          const { world } = run(p, list);
          const before = seen(world.state, world.now, p);
          const after = seen(world.state, world.now, p2);
          for (const d of after.digests) expect(before.digests, d).toContain(d);
          for (const t of after.tags) expect(before.tags, t).toContain(t);
          // The first step under the new policy (the clock, here) grants nothing either, compared
          // with the old policy taking the same step.
          const now = world.now + later;
          const old = step(world.state, { type: 'tick', repository: REPO }, now, p);
          const next = step(world.state, { type: 'tick', repository: REPO }, now, p2);
          const a = seen(old.state, now, p);
          const b = seen(next.state, now, p2);
          for (const d of b.digests) expect(a.digests, d).toContain(d);
          for (const t of b.tags) expect(a.tags, t).toContain(t);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('is not vacuous: hideTag under the stricter policy hides a tag keepPrevious showed', () => {
    const keep = { kOfN: false, anyFailFails: true, alert: false, keepPrevious: true, waiver: false, longTtl: true };
    const p = policy(keep);
    const p2 = policy({ ...keep, keepPrevious: false });
    const { world } = run(p, [
      { k: 'push', d: 0, tag: 0 },
      { k: 'verdict', d: 0, scanner: 0, result: 'pass', genDelta: 0, key: 0 },
      { k: 'verdict', d: 0, scanner: 1, result: 'pass', genDelta: 0, key: 0 },
      { k: 'push', d: 1, tag: 0 },
    ]);
    expect(seen(world.state, world.now, p).tags).toEqual([`${TAGS[0]}→${D[0]}`]);
    expect(seen(world.state, world.now, p2).tags).toEqual([]);
  });
});
