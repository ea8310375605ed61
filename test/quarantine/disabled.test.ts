/**
 * Q23, disabled means transparent. With `status: 'disabled'` the quarantine machine must answer
 * ordinary users exactly as a plain registry would on the same command trace. The plain registry
 * is modelled here from scratch: a set of manifests, tags that point at the newest push, deletes
 * that remove a manifest and the tags on it, and one `push` webhook per push. Scanner commands
 * (verdicts, rescans, releases, revokes, the clock) may run and are recorded, but change nothing
 * an ordinary user sees; the only extra events allowed are informational (`quarantine`, scan and
 * verdict bookkeeping), never an extra or a missing `push`.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createView } from '../../src/quarantine/registry-view.js';
import type { QuarantineConfig } from '../../src/quarantine/index.js';
import { D, INDEX, TAGS, apply, commandFor, config, dev, newWorld, opsArb, run } from './harness.js';

const DISABLED = config({ status: 'disabled' });

/** A plain registry: what it holds and what it answers. */
class PlainRegistry {
  readonly manifests = new Set<string>();
  readonly tags = new Map<string, string>();

  /** Applies a registry command; returns whether the registry accepts it (scanner commands: undefined). */
  apply(command: Record<string, unknown>): { accepted: boolean | undefined; pushes: string[] } {
    const digest = command['digest'] as string;
    switch (command['type']) {
      case 'push': {
        this.manifests.add(digest);
        if (typeof command['tag'] === 'string') this.tags.set(command['tag'], digest);
        return { accepted: true, pushes: [digest] };
      }
      case 'deleteManifest': {
        if (!this.manifests.delete(digest)) return { accepted: false, pushes: [] };
        for (const [t, d] of [...this.tags]) if (d === digest) this.tags.delete(t);
        return { accepted: true, pushes: [] };
      }
      case 'deleteTag':
        return { accepted: this.tags.delete(command['tag'] as string), pushes: [] };
      default:
        return { accepted: undefined, pushes: [] };
    }
  }
}

function observe(state: Parameters<typeof createView>[0], now: number, cfg: QuarantineConfig) {
  const view = createView(state, now, cfg);
  return {
    byDigest: D.map((d) => [d, view.manifest(dev, { digest: d }).allowed, view.manifest(dev, { digest: d }, 'HEAD').allowed]),
    byTag: TAGS.map((t) => {
      const a = view.manifest(dev, { tag: t });
      return [t, a.allowed ? a.digest : null];
    }),
    tags: view.tags(dev),
    catalog: view.inCatalog(dev),
  };
}

function expected(reg: PlainRegistry) {
  return {
    byDigest: D.map((d) => [d, reg.manifests.has(d), reg.manifests.has(d)]),
    byTag: TAGS.map((t) => [t, reg.tags.get(t) ?? null]),
    tags: [...reg.tags.keys()].sort(),
    catalog: reg.manifests.size > 0,
  };
}

describe('Q23: disabled means transparent', () => {
  it('every trace answers ordinary users as a plain registry and fires exactly its push webhooks, numbered without gaps (property)', () => {
    fc.assert(
      fc.property(opsArb, (list) => {
        const { world, trace } = run(DISABLED, list);
        const reg = new PlainRegistry();
        for (const { command, result: r, now } of trace) {
          const plain = reg.apply(command);
          if (plain.accepted !== undefined) expect(r.ok, JSON.stringify(command)).toBe(plain.accepted);
          expect(r.events.filter((e) => e.type === 'push').map((e) => e.digest)).toEqual(plain.pushes);
          expect(observe(r.state, now, DISABLED)).toEqual(expected(reg));
        }
        // Q21 holds here too: the extra `push` of a re-push is numbered like any other event.
        const seqs = new Map<string, number[]>();
        for (const e of world.events) seqs.set(e.digest, [...(seqs.get(e.digest) ?? []), e.sequence]);
        for (const [d, s] of seqs) {
          expect(s).toEqual(s.map((_, i) => i + 1));
          expect(world.state.records.get(d)?.sequence).toBe(s.length);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('what passed while disabled stays visible when the policy is enabled; the rest is hidden', () => {
    const w = newWorld();
    const ops = [
      { k: 'push', d: 0, tag: 0 },
      { k: 'push', d: 1, tag: 1 },
      { k: 'verdict', d: 0, scanner: 0, result: 'pass', genDelta: 0, key: 0 },
      { k: 'verdict', d: 0, scanner: 1, result: 'pass', genDelta: 0, key: 0 },
    ] as const;
    for (const op of ops) apply(w, commandFor(w, op), DISABLED);
    const before = observe(w.state, w.now, DISABLED);
    expect(before.tags).toEqual([...TAGS].sort());
    const enabled = config({ status: 'enabled' });
    const view = createView(w.state, w.now, enabled);
    expect(view.manifest(dev, { digest: D[0] }).allowed).toBe(true);
    expect(view.manifest(dev, { tag: TAGS[0] })).toMatchObject({ allowed: true, digest: D[0] });
    expect(view.manifest(dev, { digest: D[1] }).allowed).toBe(false);
    expect(view.manifest(dev, { tag: TAGS[1] }).allowed).toBe(false);
  });

  it('an index is served at once while disabled, whatever its children', () => {
    const w = newWorld();
    apply(w, commandFor(w, { k: 'push', d: 3, tag: 0 }), DISABLED);
    expect(createView(w.state, w.now, DISABLED).manifest(dev, { tag: TAGS[0] })).toMatchObject({ allowed: true, digest: INDEX });
  });

  it('disabling serves the newest push of a tag, even one that was pending while enabled', () => {
    const enabled = config({ status: 'enabled' });
    const w = newWorld();
    for (const op of [
      { k: 'push', d: 0, tag: 0 },
      { k: 'verdict', d: 0, scanner: 0, result: 'pass', genDelta: 0, key: 0 },
      { k: 'verdict', d: 0, scanner: 1, result: 'pass', genDelta: 0, key: 0 },
      { k: 'push', d: 1, tag: 0 },
    ] as const) {
      apply(w, commandFor(w, op), enabled);
    }
    expect(createView(w.state, w.now, enabled).manifest(dev, { tag: TAGS[0] })).toMatchObject({ allowed: true, digest: D[0] });
    expect(createView(w.state, w.now, DISABLED).manifest(dev, { tag: TAGS[0] })).toMatchObject({ allowed: true, digest: D[1] });
  });
});

