/**
 * The canonical scan's member index (the 100k-target path): offsets of every member of
 * `signed.targets`, past the first growth of its buffer, only for that object at that depth;
 * and the scan's depth limit and integer edges, exactly at the limit and one past it.
 */
import { describe, expect, it } from 'vitest';
import { scanCanonical } from '../../src/json/canonical-scan.js';

const names = (text: string, offsets: Uint32Array) => {
  const out: [string, string][] = [];
  for (let i = 0; i < offsets.length; i += 2) {
    const at = offsets[i] as number;
    const close = text.indexOf('"', at + 1);
    out.push([text.slice(at + 1, close), text.slice(close + 2, offsets[i + 1])]);
  }
  return out;
};

describe('scanCanonical: the member index', () => {
  it.each([0, 1, 127, 128, 129, 300])('%i members, each name and value located', (n) => {
    const keys = Array.from({ length: n }, (_, i) => `t${String(i).padStart(4, '0')}`);
    const targets = `{${keys.map((k, i) => `"${k}":{"length":${i}}`).join(',')}}`;
    const text = `{"signatures":[],"signed":{"a":1,"targets":${targets},"z":[]}}`;
    const r = scanCanonical(text, 'signed', 64, 'targets');
    if (n === 0) {
      expect(r?.entries).toMatchObject({ count: 0 });
      expect(r?.entries?.offsets).toHaveLength(0);
      return;
    }
    expect(r?.entries?.count).toBe(n);
    expect(r?.entries?.offsets).toHaveLength(2 * n);
    expect(text.slice(r?.entries?.start, r?.entries?.end)).toBe(targets);
    expect(names(text, r?.entries?.offsets as Uint32Array)).toEqual(keys.map((k, i) => [k, `{"length":${i}}`]));
    expect(text.slice(r?.spanStart, r?.spanEnd)).toBe(`{"a":1,"targets":${targets},"z":[]}`);
  });

  it.each([
    ['an array', '{"signed":{"targets":[1,2]}}'],
    ['a string', '{"signed":{"targets":"x"}}'],
    ['a number', '{"signed":{"targets":1}}'],
    ['one level deeper', '{"signed":{"x":{"targets":{"a":1}}}}'],
    ['outside signed', '{"signatures":{"targets":{"a":1}},"signed":{}}'],
    ['a top-level member', '{"signed":{},"targets":{"a":1}}'],
    ['a name that only starts the same', '{"signed":{"targetsX":{"a":1}}}'],
    ['a name that is a prefix', '{"signed":{"target":{"a":1}}}'],
  ])('no index when targets is %s', (_, text) => {
    const r = scanCanonical(text, 'signed', 64, 'targets');
    expect(r).toBeDefined();
    expect(r?.entries).toBeUndefined();
  });

  it('the span member is found by its exact name, only at the top', () => {
    expect(scanCanonical('{"signedX":{},"signed":{"a":1}}', 'signed', 64)).toEqual({ spanStart: 23, spanEnd: 30 });
    expect(scanCanonical('{"x":{"signed":1}}', 'signed', 64)).toEqual({ spanStart: -1, spanEnd: -1 });
    expect(scanCanonical('{"signe":1}', 'signed', 64)).toEqual({ spanStart: -1, spanEnd: -1 });
    expect(scanCanonical('{"signed":[1,{"b":2}],"x":3}', 'signed', 64)).toEqual({ spanStart: 10, spanEnd: 21 });
    expect(scanCanonical('{"signed":"s"}', 'signed', 64)).toEqual({ spanStart: 10, spanEnd: 13 });
  });
});

describe('scanCanonical: limits at their edges', () => {
  it('depth: the limit passes, one more does not', () => {
    for (const max of [1, 2, 64]) {
      expect(scanCanonical('['.repeat(max) + ']'.repeat(max), 'signed', max), String(max)).toBeDefined();
      expect(scanCanonical('['.repeat(max + 1) + ']'.repeat(max + 1), 'signed', max), String(max)).toBeUndefined();
      const obj = (d: number) => '{"a":'.repeat(d - 1) + '{}' + '}'.repeat(d - 1);
      expect(scanCanonical(obj(max), 'signed', max)).toBeDefined();
      expect(scanCanonical(obj(max + 1), 'signed', max)).toBeUndefined();
    }
  });
  it.each([
    ['0', true],
    ['-1', true],
    ['1000000000000000', true], // 16 digits
    ['9007199254740991', true],
    ['-9007199254740991', true],
    ['9007199254740992', false],
    ['9999999999999999', false],
    ['10000000000000000', false], // 17 digits
    ['-0', false],
    ['00', false],
    ['01', false],
    ['-', false],
    ['-a', false],
    ['1.0', false],
    ['1e1', false],
    ['1E1', false],
    ['0.5', false],
  ])('the integer %s: fast path %s', (n, ok) => {
    const r = scanCanonical(`{"signed":[${n}]}`, 'signed', 64);
    expect(r !== undefined).toBe(ok);
    if (ok) expect(JSON.parse(`[${n}]`)).toEqual([Number(n)]);
  });
  it.each(['true', 'false', 'null'])('the literal %s, and its truncations', (w) => {
    expect(scanCanonical(`{"signed":[${w}]}`, 'signed', 64)).toBeDefined();
    expect(scanCanonical(`{"signed":[${w.slice(0, -1)}]}`, 'signed', 64)).toBeUndefined();
    expect(scanCanonical(`{"signed":[${w}x]}`, 'signed', 64)).toBeUndefined();
  });
  it('member order below the top: strictly increasing by code point', () => {
    expect(scanCanonical('{"signed":{"a":1,"b":2}}', 'signed', 64)).toBeDefined();
    expect(scanCanonical('{"signed":{"a":1,"ab":2}}', 'signed', 64)).toBeDefined();
    expect(scanCanonical('{"signed":{"ab":1,"a":2}}', 'signed', 64)).toBeUndefined();
    expect(scanCanonical('{"signed":{"":1,"a":2}}', 'signed', 64)).toBeDefined();
    expect(scanCanonical('{"signed":{"b":{"z":1},"c":{"a":1}}}', 'signed', 64)).toBeDefined();
    expect(scanCanonical('{"signed":[{"b":1},{"a":1}]}', 'signed', 64)).toBeDefined();
    // The top level may be in any order, but no name twice.
    expect(scanCanonical('{"z":1,"signed":{},"a":2}', 'signed', 64)).toBeDefined();
    expect(scanCanonical('{"a":1,"signed":{},"a":2}', 'signed', 64)).toBeUndefined();
  });
  it('a backslash anywhere after a string does not hide escapes in later strings', () => {
    expect(scanCanonical('{"signed":{"a":"x","b":"\\n"}}', 'signed', 64)).toBeUndefined();
    expect(scanCanonical('{"signed":{"a":"x\\"","b":"y"}}', 'signed', 64)).toBeUndefined();
    expect(scanCanonical('{"signed":{"a":"x","b":"y"}}', 'signed', 64)).toBeDefined();
  });
  it('a value after a value, a name where a value belongs, a top-level comma', () => {
    for (const t of ['{"signed":{"a":1"b":2}}', '{"signed":["a""b"]}', '{"signed":{}},', '{"signed":{}}{}', '[]1', '{"signed":{}}"x"', '{"signed":{}} ']) {
      expect(scanCanonical(t, 'signed', 64), t).toBeUndefined();
    }
    expect(scanCanonical('[]', 'signed', 64)).toEqual({ spanStart: -1, spanEnd: -1 });
    expect(scanCanonical('1', 'signed', 64)).toEqual({ spanStart: -1, spanEnd: -1 });
    expect(scanCanonical('"x"', 'signed', 64)).toEqual({ spanStart: -1, spanEnd: -1 });
  });
});
