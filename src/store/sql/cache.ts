/**
 * A replica's cache of repository states and of the policy row, so that a command costs one round
 * trip (its `commit_unit`) and a visibility decision none.
 *
 * Safety does not rest on the cache being fresh: every unit of work carries the repository head
 * (and policy revision) its decision was made on, and `commit_unit` refuses it when either moved
 * (migration 4), so a stale entry costs a retry, never a wrong write. Freshness rests on
 * LISTEN/NOTIFY: each change notifies its repository's new head at COMMIT and other replicas drop
 * older entries. The cache only serves while that subscription is up; when its connection is lost
 * everything is dropped and reads go to the database until a new subscription is in place. So a
 * read (a view) can trail another replica's commit by the notification's delivery time.
 *
 * The cache also knows which repositories exist (have a head): the `heads` table is read once
 * after LISTEN is up, and every notification and read adds to it. A repository outside that set
 * is empty, so the first command on a new repository needs no read either. If that knowledge is
 * stale (another replica's first commit not yet notified), the command is decided on head 0 and
 * `commit_unit` refuses it; the refusal marks the repository known, and the retry reads it.
 *
 * @module
 */
import type { RepositoryState } from '../../quarantine/types.js';
import type { StoredPolicy } from '../../quarantine/policy-commands.js';
import { emptyRepository } from '../../quarantine/machine.js';

/** The most repositories kept; the least recently stored go first. */
const DEFAULT_ENTRIES = 1000;

/**
 * The most repository names kept as "exists" (a few MB). Past it the knowledge is dropped and a
 * repository missing from the cache is read again, as without it.
 */
export const MAX_KNOWN = 100_000;

interface Entry {
  readonly state: RepositoryState;
  readonly head: number;
}

/** A parsed change notification: `<quoted schema> unit|policy <repository|-> <head|revision> <events>`. */
export interface Change {
  readonly kind: 'unit' | 'policy';
  readonly repository: string;
  readonly version: number;
  readonly events: number;
}

/** Parses a notification payload of `schema`; undefined for another schema or a payload of another shape. */
export function parseChange(schema: string, payload: string): Change | undefined {
  const parts = payload.split(' ');
  if (parts.length !== 5 || parts[0] !== schema) return undefined;
  const [, kind, repository, version, events] = parts as [string, string, string, string, string];
  if (kind !== 'unit' && kind !== 'policy') return undefined;
  return { kind, repository, version: Number(version), events: Number(events) };
}

export class ReplicaCache {
  readonly #entries = new Map<string, Entry>();
  /** The head each state handed out was read (or committed) at: the basis of a unit decided on it. */
  readonly #heads = new WeakMap<RepositoryState, number>();
  #policy: { readonly row: StoredPolicy | undefined } | undefined;
  /** Policy changes seen so far (a policy read that overlapped one is not kept). */
  #policyChanges = 0;
  #live = false;
  /** Changes seen so far: a read that overlapped one does not enter the cache. */
  #changes = 0;
  readonly #newest = new Map<string, number>();
  readonly #max: number;
  /** Every repository with a head, as far as this replica knows; undefined: not known. */
  #known: Set<string> | undefined;
  /** Repositories named by notifications while the `heads` read is in flight. */
  #seeding: Set<string> | undefined;

  constructor(max = DEFAULT_ENTRIES) {
    this.#max = max;
  }

  /** Whether the subscription is up (entries are served only then). */
  get live(): boolean {
    return this.#live;
  }

  /** The subscription came up (true) or was lost (false: everything is dropped). */
  setLive(live: boolean): void {
    this.#live = live;
    this.#changes++;
    this.#policyChanges++;
    this.#entries.clear();
    this.#newest.clear();
    this.#policy = undefined;
    this.#known = undefined;
    this.#seeding = live ? new Set() : undefined;
  }

  /**
   * The repositories of the `heads` table, read after the subscription came up (so any repository
   * created later is notified). Ignored if the subscription was lost or renewed meanwhile, or when
   * there are more than {@link MAX_KNOWN}.
   */
  seed(repositories: readonly string[]): void {
    const noted = this.#seeding;
    this.#seeding = undefined;
    if (!this.#live || noted === undefined || repositories.length > MAX_KNOWN) return;
    this.#known = new Set(repositories);
    for (const r of noted) this.#note(r);
  }

  /** `repository` exists (or may): a miss on it reads the database. */
  #note(repository: string): void {
    this.#seeding?.add(repository);
    if (this.#known === undefined) return;
    this.#known.add(repository);
    if (this.#known.size > MAX_KNOWN) this.#known = undefined;
  }

  /** A mark to pass to {@link ReplicaCache.store} for a read started now. */
  mark(): number {
    return this.#changes;
  }

  /**
   * The cached state of `repository`, if one is current; an empty state at head 0 when the
   * repository is known not to exist.
   */
  get(repository: string): RepositoryState | undefined {
    if (!this.#live) return undefined;
    const hit = this.#entries.get(repository)?.state;
    if (hit !== undefined || this.#known === undefined || this.#known.has(repository)) return hit;
    const absent = emptyRepository(repository);
    this.#heads.set(absent, 0);
    return absent;
  }

  /** The head `state` was read or committed at, if this cache handed it out. */
  headOf(state: RepositoryState | undefined): number | undefined {
    return state === undefined ? undefined : this.#heads.get(state);
  }

  /**
   * Records that `state` is `repository` at `head`, and caches it unless a change notification
   * arrived since `mark` that may be newer (the read would then be stale as soon as it is kept).
   */
  store(repository: string, state: RepositoryState, head: number, mark: number): void {
    this.#heads.set(state, head);
    if (head > 0) this.#note(repository);
    if (!this.#live || (mark !== this.#changes && (this.#newest.get(repository) ?? Infinity) > head)) return;
    this.#entries.delete(repository);
    this.#entries.set(repository, { state, head });
    if (this.#entries.size > this.#max) this.#entries.delete(this.#entries.keys().next().value as string);
  }

  /** Forgets `repository` (a lost race, or a commit of unknown outcome). */
  drop(repository: string): void {
    this.#entries.delete(repository);
    this.#note(repository);
  }

  /** Applies a change notification from any replica, this one included. */
  changed(c: Change): void {
    if (c.kind === 'policy') {
      this.#policyChanges++;
      this.#policy = undefined;
      return;
    }
    this.#changes++;
    this.#note(c.repository);
    const e = this.#entries.get(c.repository);
    if (e !== undefined && e.head < c.version) this.#entries.delete(c.repository);
    // Remembered only for reads in flight; bounded, because any read older than the oldest one
    // forgotten is refused by the mark check alone.
    this.#newest.set(c.repository, Math.max(c.version, this.#newest.get(c.repository) ?? 0));
    if (this.#newest.size > this.#max) this.#newest.clear();
  }

  /** The cached policy row (undefined inside: no row yet), if one is current. */
  policy(): { readonly row: StoredPolicy | undefined } | undefined {
    return this.#live ? this.#policy : undefined;
  }

  /** Forgets the policy row (this replica wrote it, or tried to). */
  dropPolicy(): void {
    this.#policyChanges++;
    this.#policy = undefined;
  }

  /** A mark to pass to {@link ReplicaCache.storePolicy} for a policy read started now. */
  markPolicy(): number {
    return this.#policyChanges;
  }

  /** Caches the policy row read since `mark`, unless a policy change arrived meanwhile. */
  storePolicy(row: StoredPolicy | undefined, mark: number): void {
    if (this.#live && mark === this.#policyChanges) this.#policy = { row };
  }
}
