/**
 * Pins already resolved for one GUN (`ResolvedPins`) behave exactly as the pin table they come
 * from, on every pin-* vector (notary-rules.md §6.1): the same verdict, the same code.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { resolvePins } from '../../src/verify/index.js';
import type { ResolvedPins, RootPins } from '../../src/verify/types.js';
import { dirSource, VECTORS } from '../helpers/vectors.js';

const GENERATED = join(VECTORS, 'generated');
interface PinCase {
  gun: string;
  now: string;
  pins?: RootPins;
  expect: { ok: true } | { error: { code: string; role: string } };
}
const cases = readdirSync(GENERATED)
  .filter((d) => d.startsWith('pin-') && existsSync(join(GENERATED, d, 'case.json')))
  .sort()
  .map((id) => ({ id, c: JSON.parse(readFileSync(join(GENERATED, id, 'case.json'), 'utf8')) as PinCase }));

function outcome(id: string, c: PinCase, pins: RootPins | ResolvedPins): string {
  try {
    verifyRepository({ gun: c.gun, source: dirSource(join(GENERATED, id, 'metadata')), now: new Date(c.now), pins });
    return 'ok';
  } catch (e) {
    return (e as { code?: string }).code ?? String(e);
  }
}

describe('resolved pins', () => {
  it('there are pin vectors of both kinds', () => {
    expect(cases.filter(({ c }) => c.pins?.ca).length).toBeGreaterThan(5);
    expect(cases.filter(({ c }) => c.pins?.certs).length).toBeGreaterThan(1);
  });

  it.each(cases)('$id: the pins resolved for the GUN give the same verdict as the table', ({ id, c }) => {
    const table = c.pins ?? {};
    const resolved = resolvePins(table, c.gun);
    const want = 'ok' in c.expect ? 'ok' : c.expect.error.code;
    expect(outcome(id, c, table)).toBe(want);
    expect(outcome(id, c, resolved)).toBe(want);
  });

  it('resolution picks the exact GUN, else the longest prefix* for certs, else the longest prefix for a CA', () => {
    const ca = { 'example.com/': 'CA1', 'example.com/trustgate/': 'CA2' };
    const pins: RootPins = { certs: { 'example.com/*': ['wild'], 'example.com/trustgate/*': ['longer'], 'example.com/other': ['exact-other'] }, ca };
    expect(resolvePins(pins, 'example.com/trustgate/repo')).toEqual({ certIds: ['longer'] });
    expect(resolvePins(pins, 'example.com/other')).toEqual({ certIds: ['exact-other'] });
    expect(resolvePins({ ca }, 'example.com/trustgate/repo')).toEqual({ ca: 'CA2' });
    expect(resolvePins({ ca }, 'quay.io/x')).toEqual({});
    // A resolved form is returned as it is.
    expect(resolvePins({ certIds: ['a'], ca: 'PEM' }, 'any')).toEqual({ certIds: ['a'], ca: 'PEM' });
  });

  it('certIds win over ca, as certs win over CA pins in a table; an empty list accepts no root', () => {
    const id = 'pin-ca-issued-leaf';
    const c = cases.find((x) => x.id === id)?.c as PinCase;
    const ca = resolvePins(c.pins as RootPins, c.gun).ca as string;
    expect(outcome(id, c, { ca })).toBe('ok');
    expect(outcome(id, c, { ca, certIds: ['0'.repeat(64)] })).toBe('ERR_ROOT_PIN_MISMATCH');
    expect(outcome(id, c, { certIds: [] })).toBe('ERR_ROOT_PIN_MISMATCH');
    expect(outcome(id, c, {})).toBe('ok');
  });
});
