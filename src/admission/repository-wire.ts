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
  return { ...repo, roles, skipped };
}

/** The repository again (in the server thread): lookups answer as they did in the worker. */
export function repositoryFromWire(w: WireRepository): VerifiedRepository {
  const roles = new Map<string, VerifiedRole>(w.roles.map((r) => [r.name, { ...r, targets: new WireTargetMap(r.targets) }]));
  const skipped = w.skipped.map((s) => ({ role: s.role, error: fromWire(s.error) }) as SkippedRole);
  return { ...w, roles, skipped };
}
