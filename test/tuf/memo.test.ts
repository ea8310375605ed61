/** The bounded memo keeps at most `max` entries and evicts the least recently used. */
import { describe, expect, it } from 'vitest';
import { boundedMemo } from '../../src/tuf/memo.js';

describe('boundedMemo', () => {
  it('computes once per key, keeps exactly max entries, evicts the least recently used', () => {
    const made: string[] = [];
    const memo = boundedMemo<string>(2);
    const get = (k: string) => memo.get(k, () => (made.push(k), `v:${k}`));
    expect(get('a')).toBe('v:a');
    expect(get('b')).toBe('v:b');
    expect(get('a')).toBe('v:a'); // a is now the most recent
    expect(made).toEqual(['a', 'b']); // 2 entries fit in max 2
    expect(get('c')).toBe('v:c'); // evicts b, not a
    expect(get('a')).toBe('v:a');
    expect(made).toEqual(['a', 'b', 'c']);
    expect(get('b')).toBe('v:b'); // b was evicted: made again, evicting c
    expect(made).toEqual(['a', 'b', 'c', 'b']);
    expect(get('a')).toBe('v:a');
    expect(get('c')).toBe('v:c');
    expect(made).toEqual(['a', 'b', 'c', 'b', 'c']);
  });

  it('hands back the value made the first time, even a falsy one', () => {
    const memo = boundedMemo<number>(4);
    let calls = 0;
    expect(memo.get('z', () => (calls++, 0))).toBe(0);
    expect(memo.get('z', () => (calls++, 1))).toBe(0);
    expect(calls).toBe(1);
  });
});
