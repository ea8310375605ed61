/**
 * A verified repository as it crosses from a verifier worker to the server thread
 * (src/admission/pool.ts), so that the server thread can answer warm reviews from its own copy
 * without a message per review. Structured clone cannot carry a {@link TargetMap} (a class) and
 * would turn 100k targets into 300k small objects for the server thread to rebuild, which
 * stalls it; so each role's targets travel as two strings and two offset arrays (names and
 * their FileMeta JSON, in the map's code point order), which cross as flat copies, and the
 * server thread looks names up by binary search over them, parsing only the entry asked for.
 *
 * Nothing here verifies anything: the worker verified the repository (src/verify) and this is
 * its result, carried; lookups still go through the one implementation (src/verify/lookup.ts).
 *
 * @module
 */
import { compareCodePoints } from '../json/canonical-order.js';
import { allTargetsByName } from '../verify/lookup.js';
import type { FileMetaJson, SkippedRole, TargetMap, VerifiedRepository, VerifiedRole } from '../verify/types.js';
import { fromWire, toWire, type WireError } from './worker-protocol.js';

/** One role's targets: `names` and `values` cut at the end offsets, entry `i` in both. */
export interface WireTargets {
  names: string;
  nameEnds: Uint32Array;
  values: string;
  valueEnds: Uint32Array;
}

export interface WireRole extends Omit<VerifiedRole, 'targets'> {
  targets: WireTargets;
}

export interface WireRepository extends Omit<VerifiedRepository, 'roles' | 'skipped'> {
  /** In the repository's load order. */
  roles: WireRole[];
  skipped: Array<{ role: string; error: WireError }>;
  /**
   * Every (digest, name) of every role, one `sha256:<hex>\t<name>\n` line each, sorted, with
   * the start of each line: which names can vouch for a digest, found by binary search.
   */
  byDigest: { lines: string; starts: Uint32Array };
}

/** The digest index of each repository that crossed, for {@link narrowToDigest}. */
const digestIndexes = new WeakMap<VerifiedRepository, WireRepository['byDigest']>();

function digestIndex(repo: VerifiedRepository): WireRepository['byDigest'] {
  // The digests as the one lookup implementation computes them (every role, no path checks).
  const lines = [...new Set(allTargetsByName(repo, '').map((t) => `${t.digest}\t${t.name}\n`))].sort();
  const starts = new Uint32Array(lines.length);
  let at = 0;
  lines.forEach((l, i) => {
    starts[i] = at;
    at += l.length;
  });
  return { lines: lines.join(''), starts };
}

/** The names any role signs with `digest`, from the index. */
function namesWithDigest(index: WireRepository['byDigest'], digest: string): string[] {
  const { lines, starts } = index;
  const line = (i: number) => lines.slice(starts[i], i + 1 < starts.length ? starts[i + 1] : lines.length);
  const prefix = `${digest}\t`;
  let lo = 0;
  let hi = starts.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (line(mid) < prefix) lo = mid + 1;
    else hi = mid;
  }
  const names: string[] = [];
  for (let i = lo; i < starts.length && line(i).startsWith(prefix); i++) names.push(line(i).slice(prefix.length, -1));
  return names;
}

/**
 * For a digest-only reference: the repository with, in every role, only the targets whose name
 * some role signs with `digest` (all of that name's entries, whatever their digest). Resolving
 * the digest on it gives what resolving it on the whole repository gives — resolution keeps the
 * first entry per name and then keeps names signed with the digest, so other names never count —
 * without listing 100k targets in the server thread. A repository that did not cross a thread
 * is returned as it is.
 */
export function narrowToDigest(repo: VerifiedRepository, digest: string): VerifiedRepository {
  const index = digestIndexes.get(repo);
  if (index === undefined) return repo;
  const names = namesWithDigest(index, digest).sort(compareCodePoints);
  const roles = new Map<string, VerifiedRole>();
  for (const [name, role] of repo.roles) {
    const targets = new Map<string, FileMetaJson>();
    for (const n of names) {
      const meta = role.targets.get(n);
      if (meta !== undefined) targets.set(n, meta);
    }
    roles.set(name, { ...role, targets });
  }
  return { ...repo, roles };
}

function targetsToWire(map: TargetMap): WireTargets {
  const names: string[] = [];
  const values: string[] = [];
  const nameEnds = new Uint32Array(map.size);
  const valueEnds = new Uint32Array(map.size);
  let n = 0;
  let v = 0;
  let i = 0;
  // A TargetMap iterates in code point order of the names (src/tuf/target-map.ts): kept, so the
  // binary search below holds and iteration order is the same on both sides.
  for (const [name, meta] of map) {
    const text = JSON.stringify(meta);
    names.push(name);
    values.push(text);
    nameEnds[i] = n += name.length;
    valueEnds[i] = v += text.length;
    i++;
  }
  return { names: names.join(''), nameEnds, values: values.join(''), valueEnds };
}

/** A read-only map over {@link WireTargets}. */
class WireTargetMap implements TargetMap {
  readonly #t: WireTargets;
  constructor(t: WireTargets) {
    this.#t = t;
  }
  get size(): number {
    return this.#t.nameEnds.length;
  }
  #name(i: number): string {
    return this.#t.names.slice(i === 0 ? 0 : this.#t.nameEnds[i - 1], this.#t.nameEnds[i]);
  }
  #value(i: number): FileMetaJson {
    return JSON.parse(this.#t.values.slice(i === 0 ? 0 : this.#t.valueEnds[i - 1], this.#t.valueEnds[i])) as FileMetaJson;
  }
  #find(name: string): number {
    let lo = 0;
    let hi = this.size - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compareCodePoints(this.#name(mid), name);
      if (c === 0) return mid;
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return -1;
  }
  get(name: string): FileMetaJson | undefined {
    const i = this.#find(name);
    return i < 0 ? undefined : this.#value(i);
  }
  has(name: string): boolean {
    return this.#find(name) >= 0;
  }
  *keys(): MapIterator<string> {
    for (let i = 0; i < this.size; i++) yield this.#name(i);
  }
  *values(): MapIterator<FileMetaJson> {
    for (let i = 0; i < this.size; i++) yield this.#value(i);
  }
  *entries(): MapIterator<[string, FileMetaJson]> {
    for (let i = 0; i < this.size; i++) yield [this.#name(i), this.#value(i)];
  }
  [Symbol.iterator](): MapIterator<[string, FileMetaJson]> {
    return this.entries();
  }
  forEach(callback: (value: FileMetaJson, key: string, map: TargetMap) => void, thisArg?: unknown): void {
    for (let i = 0; i < this.size; i++) callback.call(thisArg, this.#value(i), this.#name(i), this);
  }
  get [Symbol.toStringTag](): string {
    return 'TargetMap';
  }
}

/** The repository as plain, structured-clone data (in the worker). */
export function repositoryToWire(repo: VerifiedRepository): WireRepository {
  const roles = [...repo.roles.values()].map((r): WireRole => ({ ...r, targets: targetsToWire(r.targets) }));
  const skipped = repo.skipped.map((s) => ({ role: s.role, error: toWire(s.error) }));
  return { ...repo, roles, skipped, byDigest: digestIndex(repo) };
}

/** The repository again (in the server thread): lookups answer as they did in the worker. */
export function repositoryFromWire(w: WireRepository): VerifiedRepository {
  const roles = new Map<string, VerifiedRole>(w.roles.map((r) => [r.name, { ...r, targets: new WireTargetMap(r.targets) }]));
  const skipped = w.skipped.map((s) => ({ role: s.role, error: fromWire(s.error) }) as SkippedRole);
  const { byDigest, ...rest } = w;
  const repo: VerifiedRepository = { ...rest, roles, skipped };
  digestIndexes.set(repo, byDigest);
  return repo;
}
