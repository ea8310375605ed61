/**
 * The replica cache's bookkeeping on its own (src/store/sql/cache.ts): what it may serve, and when
 * it must send a read to the database. The SQL suites show the same rules end to end; these pin
 * the edges no timing in a real database makes certain (a notification during the heads read, a
 * subscription lost mid-read, the size bound).
 */
import { describe, expect, it } from 'vitest';
import { MAX_KNOWN, ReplicaCache, parseChange } from '../../../src/store/sql/cache.js';
import { emptyRepository } from '../../../src/quarantine/machine.js';

const live = (seed?: readonly string[]) => {
  const c = new ReplicaCache(10);
  c.setLive(true);
  if (seed !== undefined) c.seed(seed);
  return c;
};
const unit = (repository: string, version: number) => ({ kind: 'unit' as const, repository, version, events: 0 });

describe('ReplicaCache: which repositories exist', () => {
  it('before the heads read, a miss is a miss; after it, a repository not in it is empty at head 0', () => {
    const c = live();
    expect(c.get('a')).toBeUndefined();
    c.seed(['a']);
    expect(c.get('a'), 'exists: read it').toBeUndefined();
    const absent = c.get('b');
    expect(absent?.records.size).toBe(0);
    expect(absent?.repository).toBe('b');
    expect(c.headOf(absent)).toBe(0);
  });

  it('a repository notified while the heads read was in flight counts as existing', () => {
    const c = new ReplicaCache(10);
    c.setLive(true);
    c.changed(unit('new', 1));
    c.seed([]);
    expect(c.get('new')).toBeUndefined();
    expect(c.get('other')?.records.size).toBe(0);
  });

  it('notifications, reads at a head above 0, and drops (a lost race) make a repository known', () => {
    const c = live([]);
    c.changed(unit('n', 3));
    c.store('r', emptyRepository('r'), 2, c.mark());
    c.drop('d');
    for (const r of ['n', 'd']) expect(c.get(r), r).toBeUndefined();
    expect(c.get('r')?.repository, 'read at head 2: cached').toBe('r');
    expect(c.headOf(c.get('r'))).toBe(2);
    c.store('z', emptyRepository('z'), 0, c.mark());
    expect(c.headOf(c.get('z')), 'read absent at head 0: still absent').toBe(0);
  });

  it('a heads read that finishes after the subscription was lost or renewed is ignored', () => {
    const lost = live();
    lost.setLive(false);
    lost.seed([]);
    lost.setLive(true);
    expect(lost.get('x'), 'renewed: the old read does not count').toBeUndefined();
    lost.seed([]);
    expect(lost.get('x')?.records.size).toBe(0);
    lost.setLive(false);
    expect(lost.get('x'), 'not live: nothing is served').toBeUndefined();
  });

  it(`more than ${MAX_KNOWN} names are not kept, at the read or as they grow`, () => {
    const names = Array.from({ length: MAX_KNOWN + 1 }, (_, i) => `r${i}`);
    expect(live(names).get('absent')).toBeUndefined();
    const atLimit = live(names.slice(0, MAX_KNOWN));
    expect(atLimit.get('absent')?.records.size, 'exactly at the limit: kept').toBe(0);
    atLimit.changed(unit('one-more', 1));
    expect(atLimit.get('absent'), 'one past it: dropped').toBeUndefined();
  });
});

describe('parseChange', () => {
  it('reads its own schema\'s unit and policy notifications and nothing else', () => {
    expect(parseChange('"s"', '"s" unit team/app 4 2')).toEqual({ kind: 'unit', repository: 'team/app', version: 4, events: 2 });
    expect(parseChange('"s"', '"s" policy - 3 0')).toEqual({ kind: 'policy', repository: '-', version: 3, events: 0 });
    expect(parseChange('"s"', '"t" unit team/app 4 2')).toBeUndefined();
    expect(parseChange('"s"', '"s" other team/app 4 2')).toBeUndefined();
    expect(parseChange('"s"', '"s" unit team/app 4')).toBeUndefined();
  });
});
