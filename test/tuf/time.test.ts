/**
 * RFC 3339 as Go's time.Time JSON decoding reads it (notary-rules.md §2.2, §7.11): each field's
 * range at its edge, real calendar dates, offsets, truncated fractions, and the expiry rule.
 * Expected instants come from V8's own ISO parser (Date.parse), not from the code under test.
 */
import { describe, expect, it } from 'vitest';
import { isExpired, parseRfc3339 } from '../../src/tuf/time.js';

describe('parseRfc3339', () => {
  // [input, the same instant as a string Date.parse reads exactly]
  const good: [string, string][] = [
    ['2030-01-01T00:00:00Z', '2030-01-01T00:00:00.000Z'],
    ['2030-12-31T23:59:59Z', '2030-12-31T23:59:59.000Z'],
    ['2030-01-31T00:00:00Z', '2030-01-31T00:00:00.000Z'],
    ['2030-04-30T00:00:00Z', '2030-04-30T00:00:00.000Z'],
    ['2024-02-29T00:00:00Z', '2024-02-29T00:00:00.000Z'],
    ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
    ['2023-02-28T00:00:00Z', '2023-02-28T00:00:00.000Z'],
    ['0099-06-01T00:00:00Z', '0099-06-01T00:00:00.000Z'],
    ['2030-01-01T00:00:00.1Z', '2030-01-01T00:00:00.100Z'],
    ['2030-01-01T00:00:00.12Z', '2030-01-01T00:00:00.120Z'],
    ['2030-01-01T00:00:00.123456789Z', '2030-01-01T00:00:00.123Z'],
    ['2030-01-01T00:00:00.9999Z', '2030-01-01T00:00:00.999Z'],
    ['2030-01-01T01:30:00+01:30', '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T00:00:00-01:30', '2030-01-01T01:30:00.000Z'],
    ['2030-01-01T00:00:00+23:59', '2029-12-31T00:01:00.000Z'],
    ['2030-01-01T00:00:00-00:00', '2030-01-01T00:00:00.000Z'],
    ['2030-01-01T00:00:00.5+02:00', '2029-12-31T22:00:00.500Z'],
  ];
  it.each(good)('%s is %s', (s, iso) => {
    expect(parseRfc3339(s)).toBe(Date.parse(iso));
  });

  const bad = [
    '2030-00-01T00:00:00Z', '2030-13-01T00:00:00Z', '2030-01-00T00:00:00Z', '2030-01-32T00:00:00Z',
    '2030-04-31T00:00:00Z', '2030-06-31T00:00:00Z', '2030-09-31T00:00:00Z', '2030-11-31T00:00:00Z',
    '2023-02-29T00:00:00Z', '1900-02-29T00:00:00Z', '2024-02-30T00:00:00Z',
    '2030-01-01T24:00:00Z', '2030-01-01T00:60:00Z', '2030-01-01T00:00:60Z',
    '2030-01-01T00:00:00+24:00', '2030-01-01T00:00:00+00:60',
    '2030-01-01t00:00:00Z', '2030-01-01T00:00:00z', '2030-01-01T00:00:00+0100', '2030-01-01 00:00:00Z',
    '2030-01-01T00:00:00.Z', '2030-01-01T00:00:00', '2030-1-01T00:00:00Z', ' 2030-01-01T00:00:00Z', '2030-01-01T00:00:00Z ',
  ];
  it.each(bad)('%s is refused', (s) => {
    expect(parseRfc3339(s)).toBeUndefined();
  });
});

describe('isExpired (expires < now, no skew)', () => {
  const t = Date.parse('2030-01-01T00:00:00.000Z');
  it('not expired at the instant itself, expired one millisecond later', () => {
    expect(isExpired(t, new Date(t - 1))).toBe(false);
    expect(isExpired(t, new Date(t))).toBe(false);
    expect(isExpired(t, new Date(t + 1))).toBe(true);
  });
});
