/**
 * After a command or the clock has changed records: promotes pending tags and emits ACR `push`
 * for every digest that just became visible (quarantine.md §1.2, §1.9, Q9, Q11, Q21).
 *
 * @module
 */
import type { Draft, Lookup } from './draft.js';
import { recordIndex } from './repo-index.js';
import type { RefIndex } from './repo-index.js';
import { promote } from './tags.js';
import { isVisibleIn } from './visibility-rule.js';

/** Every record that names one of `from` as a child or subject, transitively. */
function dependentsOf(refs: RefIndex | undefined, from: Iterable<string>): Set<string> {
  const out = new Set<string>();
  if (refs === undefined) return out;
  for (let queue = [...from], x = queue.pop(); x !== undefined; x = queue.pop()) {
    for (const p of refs.get(x) ?? []) {
      if (out.has(p)) continue;
      out.add(p);
      queue.push(p);
    }
  }
  return out;
}

/**
 * Promotes pending tags and emits ACR `push` for every digest that just became visible (Q9, Q21).
 * `before` is the state the window started from and `seeds` the digests put since then: only they,
 * and the indexes and referrers that depend on them, can have changed visibility.
 */
export function settle(d: Draft, before: Lookup, seeds: Iterable<string>): void {
  const { now } = d;
  const start = [...seeds];
  if (start.length === 0) return;
  // Whatever refers to a changed record may change with it. Records created by this step are not
  // in the base's index, but they are seeds themselves: only a push creates one, after the clock.
  // With the policy disabled no record's visibility depends on another's (Q23): nothing refers.
  const refs = d.config.status === 'disabled' ? undefined : recordIndex(d.baseRecords).refs;
  const affected = new Set([...start, ...dependentsOf(refs, start)]);
  // An index or referrer decides its own visibility on the records it depends on, so every record
  // that depends (transitively) on a digest whose visibility changed here is touched (found by a
  // replica property test: two children passing at once left the index's tag pending and its
  // push event unsent).
  const changed = [...affected].filter((digest) => d.visible(digest) !== isVisibleIn(before, digest, now, d.config.status));
  for (const p of dependentsOf(refs, changed)) d.touch(p);
  // Touching writes no new value, so visibility is as `changed` saw it.
  const appeared = changed.filter((digest) => d.visible(digest)).sort();
  for (const digest of appeared) {
    const promoted: string[] = [];
    const naming = d.tagsNaming(digest);
    for (const name of [...naming].sort((a, z) => (a < z ? -1 : 1))) {
      const b = d.binding(name);
      if (b === undefined) continue;
      const p = promote(b, digest);
      if (p !== b) {
        d.putTag(p);
        promoted.push(name);
      }
    }
    const liveTag = promoted[0] ?? d.tagOrder([...naming].filter((name) => d.binding(name)?.live?.digest === digest))[0];
    d.emit(digest, 'push', now, { tag: liveTag });
  }
}
