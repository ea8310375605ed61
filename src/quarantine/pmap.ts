/**
 * An immutable, insertion-ordered map with cheap persistent updates, used for the records and tag
 * bindings of a {@link RepositoryState} so that one `step` costs what its command touches rather
 * than the size of the repository (issue #7).
 *
 * A map is a shared, never-mutated base `Map` plus a small, never-mutated overlay of replaced and
 * added entries. {@link PersistentMap.update} copies only the overlay; when the overlay outgrows
 * about √n entries it is folded into a new base (amortised O(√n) per update, O(1) per read).
 * Iteration order is exactly a `Map`'s: base keys in their order, then added keys in the order they
 * were first added. Entries are never removed (quarantine rows are kept, never deleted).
 *
 * @module
 */

interface Base<K, V> {
  readonly map: ReadonlyMap<K, V>;
  /** Position of every base key, built on first use (rare paths only). */
  positions: Map<K, number> | undefined;
}

const NO_ENTRIES: ReadonlyMap<never, never> = new Map<never, never>();

/** Top-overlay size above which the top is merged into the shared middle overlay. */
const TOP_MAX = 8;

/** Middle-overlay size above which the overlays are folded into a new base. */
function foldAt(baseSize: number): number {
  return 16 + Math.ceil(Math.sqrt(baseSize));
}

/**
 * A read-only map whose updates return a new map and share everything they do not change.
 * Values must not be `undefined`.
 *
 * Three layers, each a `Map` that is never mutated once built: the base, a middle overlay shared by
 * many versions, and a small top overlay private to this version. An update copies the top (at
 * most {@link TOP_MAX} entries); every {@link TOP_MAX} changes the top moves into a new middle, and
 * when the middle outgrows about √n entries everything is folded into a new base.
 *
 * @example
 * ```ts
 * const a = PersistentMap.from([['x', { n: 1 }]]);
 * const b = a.update(new Map([['y', { n: 2 }]]));
 * a.size; // 1
 * [...b.keys()]; // ['x', 'y']
 * ```
 */
export class PersistentMap<K, V extends object> implements ReadonlyMap<K, V> {
  readonly #base: Base<K, V>;
  readonly #mid: ReadonlyMap<K, V>;
  readonly #top: ReadonlyMap<K, V>;
  /** Overlay keys that are not in the base. */
  readonly #added: number;
  /** The same content with an empty top, built once when an update first needs it. */
  #compacted: PersistentMap<K, V> | undefined;
  /** Derived data a module attaches to this version (see {@link PersistentMap.annex}). */
  #annex: unknown;

  private constructor(base: Base<K, V>, mid: ReadonlyMap<K, V>, top: ReadonlyMap<K, V>, added: number) {
    this.#base = base;
    this.#mid = mid;
    this.#top = top;
    this.#added = added;
  }

  /** A map holding a copy of `entries` (later changes to a source `Map` do not show through). */
  static from<K, V extends object>(entries: Iterable<readonly [K, V]>): PersistentMap<K, V> {
    return new PersistentMap<K, V>({ map: new Map(entries), positions: undefined }, NO_ENTRIES, NO_ENTRIES, 0);
  }

  /**
   * Data derived from this version's content that the owner caches on it (an index). Callers must
   * not store anything that changes what the map holds. `key` guards against mixing owners.
   */
  annex<T>(key: symbol): T | undefined {
    const a = this.#annex as { key: symbol; value: T } | undefined;
    return a !== undefined && a.key === key ? a.value : undefined;
  }

  /** Sets the {@link PersistentMap.annex} of this version. */
  setAnnex<T>(key: symbol, value: T): void {
    this.#annex = { key, value };
  }

  get size(): number {
    return this.#base.map.size + this.#added;
  }

  get(key: K): V | undefined {
    return this.#top.get(key) ?? this.#mid.get(key) ?? this.#base.map.get(key);
  }

  has(key: K): boolean {
    return this.#top.has(key) || this.#mid.has(key) || this.#base.map.has(key);
  }

  /**
   * This map with `changes` set (replacing or appending). Returns `this` when `changes` is empty.
   */
  update(changes: ReadonlyMap<K, V>): PersistentMap<K, V> {
    if (changes.size === 0) return this;
    // Many versions are often derived from one (every request starts from the stored state), so
    // the merge of a full top is done once per version and shared by everything derived from it.
    const from = this.#compacted ?? (this.#top.size + changes.size <= TOP_MAX / 2 ? this : this.#compact());
    const base = from.#base.map;
    const mid = from.#mid;
    const top = new Map(from.#top);
    let added = from.#added;
    for (const [k, v] of changes) {
      if (!top.has(k) && !mid.has(k) && !base.has(k)) added++;
      top.set(k, v);
    }
    if (top.size <= TOP_MAX) return new PersistentMap(from.#base, mid, top, added);
    return new PersistentMap(from.#base, mid, top, added).#compact();
  }

  /** This content with the top merged into the middle, or everything folded into a new base. */
  #compact(): PersistentMap<K, V> {
    if (this.#top.size === 0) return this;
    if (this.#compacted !== undefined) return this.#compacted;
    const base = this.#base.map;
    const merged = new Map(this.#mid);
    for (const [k, v] of this.#top) merged.set(k, v);
    if (merged.size <= foldAt(base.size)) {
      this.#compacted = new PersistentMap(this.#base, merged, NO_ENTRIES, this.#added);
    } else {
      const folded = new Map(base);
      for (const [k, v] of merged) folded.set(k, v);
      this.#compacted = new PersistentMap<K, V>({ map: folded, positions: undefined }, NO_ENTRIES, NO_ENTRIES, 0);
    }
    return this.#compacted;
  }

  /**
   * The keys whose value may differ from `older` (a superset, in this map's order), when that is
   * cheap to know: `older` and this map share a base. `undefined` otherwise.
   */
  changedSince(older: ReadonlyMap<K, V>): K[] | undefined {
    if (!(older instanceof PersistentMap) || older.#base !== this.#base) return undefined;
    const o = older as PersistentMap<K, V>;
    const keys = new Set<K>(this.#top.keys());
    for (const k of o.#top.keys()) keys.add(k);
    if (o.#mid !== this.#mid) {
      for (const k of this.#mid.keys()) keys.add(k);
      for (const k of o.#mid.keys()) keys.add(k);
    }
    return this.inOrder([...keys].filter((k) => this.has(k)));
  }

  /** `keys` (all present in this map) sorted into this map's iteration order. */
  inOrder(keys: Iterable<K>): K[] {
    const list = [...keys];
    if (list.length < 2) return list;
    const base = this.#base;
    let addedAt: Map<K, number> | undefined;
    const position = (k: K): number => {
      if (base.map.has(k)) {
        if (base.positions === undefined) {
          const p = new Map<K, number>();
          for (const key of base.map.keys()) p.set(key, p.size);
          base.positions = p;
        }
        return base.positions.get(k) ?? 0;
      }
      if (addedAt === undefined) {
        addedAt = new Map();
        for (const key of this.#addedKeys()) addedAt.set(key, base.map.size + addedAt.size);
      }
      return addedAt.get(k) ?? Number.MAX_SAFE_INTEGER;
    };
    const at = new Map(list.map((k) => [k, position(k)]));
    return list.sort((a, b) => (at.get(a) ?? 0) - (at.get(b) ?? 0));
  }

  /** Keys not in the base, in the order they were first added. */
  *#addedKeys(): Generator<K> {
    if (this.#added === 0) return;
    const base = this.#base.map;
    for (const k of this.#mid.keys()) if (!base.has(k)) yield k;
    for (const k of this.#top.keys()) if (!base.has(k) && !this.#mid.has(k)) yield k;
  }

  *entries(): MapIterator<[K, V]> {
    const top = this.#top;
    const mid = this.#mid;
    if (top.size === 0 && mid.size === 0) {
      yield* this.#base.map.entries();
      return;
    }
    for (const [k, v] of this.#base.map) yield [k, top.get(k) ?? mid.get(k) ?? v];
    for (const k of this.#addedKeys()) yield [k, top.get(k) ?? (mid.get(k) as V)];
  }

  *keys(): MapIterator<K> {
    yield* this.#base.map.keys();
    yield* this.#addedKeys();
  }

  *values(): MapIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): MapIterator<[K, V]> {
    return this.entries();
  }

  forEach(callbackfn: (value: V, key: K, map: ReadonlyMap<K, V>) => void, thisArg?: unknown): void {
    for (const [k, v] of this.entries()) callbackfn.call(thisArg, v, k, this);
  }
}
