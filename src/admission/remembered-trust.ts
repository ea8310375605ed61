/**
 * Trust that is remembered across requests: a {@link TrustSource} over a trust directory that
 * verifies a repository once and reuses the result until its metadata files change (name, inode,
 * size, mtime and ctime of every file) or the earliest expiry among its roles and root
 * certificates passes (`validUntil`). Every verification is anchored by the trusted-state record
 * that `trustgate fetch` keeps (src/fetch/state.ts) and by the versions this process has already
 * verified, so a trust directory rewritten to an older, validly signed copy is refused with
 * `ERR_VERSION_ROLLBACK` (notary-rules.md §7.5) instead of being trusted on first use.
 *
 * @module
 */
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { defaultStateDir } from '../fetch/state.js';
import { verifyTrustDir } from '../trust-dir/reader.js';
import type { FailurePolicy, TrustedState, VerifiedRepository } from '../verify/types.js';
import { validUntil } from '../verify/valid-until.js';
import { recordOf, recordPath, type TrustQuery, type TrustReuse, type TrustSource } from './trust-source.js';

export interface RememberedTrustOptions {
  /** The trust directory (`~/.docker/trust` layout). */
  trustDir: string;
  /** Where `trustgate fetch` keeps trusted-state records; default `$XDG_STATE_HOME/trustgate`. */
  stateDir?: string;
  /** Failure policy for delegations (default `strict`). */
  mode?: FailurePolicy;
  /** Most repositories kept (default 4096); the least recently verified is dropped first. */
  maxEntries?: number;
  /**
   * The files are looked at (readdir + stat) at most this often per repository, in milliseconds
   * (default 1000): a rewrite is noticed within this long. 0 looks on every query.
   */
  recheckMs?: number;
  /** A monotonic clock in milliseconds for `recheckMs` (default `performance.now`); not the decision time. */
  ticks?: () => number;
}

/** Counters for tests and metrics. */
export interface RememberedTrustStats {
  /** Answers from memory. */
  hits: number;
  /** Verifications run. */
  verifications: number;
}

export interface RememberedTrustSource extends TrustSource {
  /** With `look`, the files are looked at now even within `recheckMs` of the last look (a refresh ahead of the recheck). */
  verify(query: TrustQuery, options?: { look?: boolean }): VerifiedRepository;
  readonly stats: RememberedTrustStats;
  /** When the answer for `gun` was last verified (undefined: never, or it failed). */
  verifiedAt(gun: string): Date | undefined;
  /** GUNs verified so far. */
  guns(): string[];
  /** Time since `gun` was last verified, at `now`. */
  ageMs(gun: string, now: Date): number | undefined;
  /** How long the answer for `query` may be reused: within its validity, until the files are next looked at. */
  reuse(query: TrustQuery): TrustReuse | undefined;
}

interface Entry {
  fingerprint: string;
  /** `ticks()` when the fingerprint was last taken. */
  lookedAt: number;
  repo: VerifiedRepository;
  verifiedAt: number;
  validUntil: number;
}

/** One line per file: enough to notice any rewrite, even one that restores the old mtime (ctime moves). */
function statLine(path: string, name: string): string {
  try {
    const st = statSync(path, { bigint: true });
    return `${name}\u0000${st.ino}\u0000${st.size}\u0000${st.mtimeNs}\u0000${st.ctimeNs}`;
  } catch (e) {
    return `${name}\u0000${(e as NodeJS.ErrnoException).code ?? 'error'}`;
  }
}

/** The fingerprint of a GUN's metadata directory and of its trusted-state record. */
function fingerprint(trustDir: string, stateDir: string, gun: string): string {
  const dir = join(trustDir, 'tuf', ...gun.split('/'), 'metadata');
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    names = [`(${(e as NodeJS.ErrnoException).code ?? 'error'})`];
  }
  const lines = names.map((n) => statLine(join(dir, n), n));
  const record = recordPath(stateDir, gun);
  if (record !== undefined) lines.push(statLine(record, '(trusted-state record)'));
  return lines.join('\n');
}

/** The higher floor of two trusted states: the one with the newer timestamp version. */
function higherFloor(a: TrustedState | undefined, b: TrustedState | undefined): TrustedState | undefined {
  if (a === undefined || b === undefined) return a ?? b;
  return (b.versions['timestamp'] ?? 0) > (a.versions['timestamp'] ?? 0) ? b : a;
}

/**
 * A remembered, rollback-protected {@link TrustSource} over a trust directory.
 *
 * @example
 * ```ts
 * const trust = rememberedTrustSource({ trustDir: '/var/lib/trustgate/trust', stateDir: '/var/lib/trustgate/state' });
 * createAdmissionServer({ policy, sources: { trust }, tls });
 * ```
 */
export function rememberedTrustSource(opts: RememberedTrustOptions): RememberedTrustSource {
  const stateDir = opts.stateDir ?? defaultStateDir();
  const max = opts.maxEntries ?? 4096;
  const entries = new Map<string, Entry>();
  /** The highest trusted state this process verified per GUN: a floor even without a record. */
  const seen = new Map<string, TrustedState>();
  const stats: RememberedTrustStats = { hits: 0, verifications: 0 };
  const lastVerified = new Map<string, Date>();
  const recheckMs = opts.recheckMs ?? 1000;
  const ticks = opts.ticks ?? (() => performance.now());

  const keyOf = (query: TrustQuery) => `${query.gun}\u0000${JSON.stringify(query.pins ?? null)}`;

  function verifyNow(query: TrustQuery, print: string): VerifiedRepository {
    const { gun, now, pins } = query;
    const floor = higherFloor(recordOf(stateDir, gun)?.trustedState, seen.get(gun));
    stats.verifications++;
    const repo = verifyTrustDir({ gun, trustDir: opts.trustDir, now, ...(opts.mode ? { mode: opts.mode } : {}), ...(pins ? { pins } : {}), ...(floor ? { trustedState: floor } : {}) });
    seen.set(gun, higherFloor(floor, repo.trustedState) as TrustedState);
    const key = keyOf(query);
    entries.delete(key);
    entries.set(key, { fingerprint: print, lookedAt: ticks(), repo, verifiedAt: now.getTime(), validUntil: validUntil(repo).getTime() });
    if (entries.size > max) entries.delete(entries.keys().next().value as string);
    lastVerified.set(gun, now);
    return repo;
  }

  return {
    stats,
    verifiedAt: (gun) => lastVerified.get(gun),
    guns: () => [...lastVerified.keys()],
    ageMs: (gun, now) => {
      const t = lastVerified.get(gun);
      return t === undefined ? undefined : now.getTime() - t.getTime();
    },
    reuse(query) {
      const e = entries.get(keyOf(query));
      return e === undefined ? undefined : { fromMs: e.verifiedAt, untilMs: e.validUntil, forMs: Math.max(0, recheckMs - (ticks() - e.lookedAt)) };
    },
    verify(query, options) {
      const e = entries.get(keyOf(query));
      const t = query.now.getTime();
      const current = e !== undefined && t >= e.verifiedAt && t < e.validUntil;
      // Within recheckMs of the last look, the files are taken as unchanged.
      if (current && options?.look !== true && ticks() - e.lookedAt < recheckMs) {
        stats.hits++;
        return e.repo;
      }
      const print = fingerprint(opts.trustDir, stateDir, query.gun);
      if (current && e.fingerprint === print) {
        e.lookedAt = ticks();
        stats.hits++;
        return e.repo;
      }
      return verifyNow(query, print);
    },
  };
}
