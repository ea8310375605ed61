/** Delegation names and paths (notary-rules.md §7.8.1, §7.8.2; Notary `IsDelegation`, `path.Clean`). */
import { describe, expect, it } from 'vitest';
import { isDelegationName, parentRole, pathAllowed, restrictPaths } from '../../src/tuf/roles.js';

describe('isDelegationName', () => {
  it('accepts clean lower-case names under targets/ shorter than 256 bytes', () => {
    for (const ok of ['targets/a', 'targets/a/b', 'targets/releases', 'targets/a-b_c/9', 'targets/' + 'x'.repeat(247)]) {
      expect(isDelegationName(ok), ok).toBe(true);
    }
    expect(('targets/' + 'x'.repeat(247)).length).toBe(255);
  });

  it('refuses unclean names: ., .., empty segments, a trailing slash', () => {
    for (const bad of ['targets/a/..', 'targets/a/', 'targets//a', 'targets/./a', 'targets/a/.', 'targets/../root', 'targets/', 'targets/a//b']) {
      expect(isDelegationName(bad), bad).toBe(false);
    }
  });

  it('refuses 256 characters, names outside targets/, and other characters', () => {
    expect(isDelegationName('targets/' + 'x'.repeat(248))).toBe(false);
    for (const bad of ['targets', 'root', 'target/a', 'xtargets/a', '/targets/a', 'targets/A', 'targets/a b', 'targets/a.b', 'targets/é', 'Targets/a', 'targets/a\n']) {
      expect(isDelegationName(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe('parentRole, pathAllowed, restrictPaths', () => {
  it('the parent is everything before the last slash', () => {
    expect(parentRole('targets/a/b')).toBe('targets/a');
    expect(parentRole('targets/a')).toBe('targets');
  });

  it('a path is a plain string prefix, no globbing', () => {
    expect(pathAllowed('v1', ['v'])).toBe(true);
    expect(pathAllowed('v1', ['x', 'v1'])).toBe(true);
    expect(pathAllowed('v1', ['v*'])).toBe(false);
    expect(pathAllowed('v1', ['v12'])).toBe(false);
    expect(pathAllowed('anything', [''])).toBe(true);
    expect(pathAllowed('v1', [])).toBe(false);
  });

  it("a child keeps only the paths its parent's paths cover, unchanged", () => {
    expect(restrictPaths(['foo', 'deep'], ['foobar', 'bar', '', 'deep'])).toEqual(['foobar', 'deep']);
    expect(restrictPaths([''], ['a', 'b'])).toEqual(['a', 'b']);
    expect(restrictPaths([], ['a'])).toEqual([]);
  });
});
