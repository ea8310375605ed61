import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { isTrustError } from '../../src/errors.js';
import { formatReference, isValidTag, parseReference } from '../../src/reference/index.js';
import { parseJson, run, type VerifyDoc } from '../cli/helpers.js';
import { expectTrustError } from '../helpers/vectors.js';

const HEX = '0123456789abcdef'.repeat(4);

/** [input, GUN, tag, digest]: docker's normalisation (distribution/reference ParseNormalizedNamed). */
const GOOD: [string, string, string | undefined, string | undefined][] = [
  ['alpine', 'docker.io/library/alpine', undefined, undefined],
  ['alpine:3.19', 'docker.io/library/alpine', '3.19', undefined],
  ['library/alpine', 'docker.io/library/alpine', undefined, undefined],
  ['docker.io/alpine', 'docker.io/library/alpine', undefined, undefined],
  ['docker.io/library/alpine:latest', 'docker.io/library/alpine', 'latest', undefined],
  ['index.docker.io/alpine', 'docker.io/library/alpine', undefined, undefined],
  ['index.docker.io/acme/app:v1', 'docker.io/acme/app', 'v1', undefined],
  ['acme/app:v1', 'docker.io/acme/app', 'v1', undefined],
  ['user/app:1', 'docker.io/user/app', '1', undefined],
  ['acme/team/app', 'docker.io/acme/team/app', undefined, undefined],
  ['docker.io/library', 'docker.io/library/library', undefined, undefined],
  ['127.0.0.1:5000/acme/edge:v1', '127.0.0.1:5000/acme/edge', 'v1', undefined],
  ['myreg:5000/team/app', 'myreg:5000/team/app', undefined, undefined],
  ['localhost/foo', 'localhost/foo', undefined, undefined],
  ['localhost:5000/foo/bar:tag', 'localhost:5000/foo/bar', 'tag', undefined],
  ['localhost:5000', 'docker.io/library/localhost', '5000', undefined],
  ['registry.example.com/app', 'registry.example.com/app', undefined, undefined],
  ['Example.COM/app', 'Example.COM/app', undefined, undefined],
  ['UPPERHOST/app', 'UPPERHOST/app', undefined, undefined],
  ['[::1]:5000/app:v1', '[::1]:5000/app', 'v1', undefined],
  ['a-b.example:1/x', 'a-b.example:1/x', undefined, undefined],
  ['foo/bar__baz.qux-x--y_z', 'docker.io/foo/bar__baz.qux-x--y_z', undefined, undefined],
  ['alpine:_Tag.With-Stuff_', 'docker.io/library/alpine', '_Tag.With-Stuff_', undefined],
  [`alpine:${'t'.repeat(128)}`, 'docker.io/library/alpine', 't'.repeat(128), undefined],
  [`alpine@sha256:${HEX}`, 'docker.io/library/alpine', undefined, `sha256:${HEX}`],
  [`acme/app:v1@sha256:${HEX}`, 'docker.io/acme/app', 'v1', `sha256:${HEX}`],
  [`localhost:5000/app@sha256:${HEX}`, 'localhost:5000/app', undefined, `sha256:${HEX}`],
  [`${'a'.repeat(237)}`, `docker.io/library/${'a'.repeat(237)}`, undefined, undefined],
];

const BAD: string[] = [
  '',
  HEX,
  'Alpine',
  'acme/App',
  'docker.io/Acme/app',
  'alpine:',
  'alpine:-x',
  'alpine:.x',
  `alpine:${'t'.repeat(129)}`,
  'alpine:t/x',
  'alpine@',
  'alpine@sha256:abc',
  `alpine@sha256:${HEX.toUpperCase()}`,
  `alpine@sha512:${HEX}${HEX}`,
  `alpine@md5:${HEX}`,
  'alpine@latest',
  `a@sha256:${HEX}@sha256:${HEX}`,
  'acme//app',
  '/alpine',
  'alpine/',
  'acme/app/',
  'acme/-app',
  'acme/app-',
  'acme/a..b',
  'acme/a___b',
  'foo bar',
  ' alpine',
  'a:b:c',
  'exa_mple.com/app',
  'example.com:port/app',
  '-host.com/app',
  ':5000/app',
  `${'a'.repeat(238)}`,
];

describe('parseReference: docker normalisation', () => {
  for (const [input, gun, tag, digest] of GOOD) {
    it(JSON.stringify(input), () => {
      const r = parseReference(input);
      expect({ gun: r.gun, tag: r.tag, digest: r.digest }).toEqual({ gun, tag, digest });
      expect(r.input).toBe(input);
      expect(`${r.domain}/${r.path}`).toBe(gun);
      expect(parseReference(formatReference(r))).toMatchObject({ gun, tag, digest });
    });
  }
});

describe('parseReference: bad references throw ERR_INVALID_REFERENCE', () => {
  for (const input of BAD) {
    it(JSON.stringify(input.length > 60 ? `${input.slice(0, 40)}…` : input), () => {
      const caught = expectTrustError(() => parseReference(input), 'ERR_INVALID_REFERENCE');
      expect(isTrustError(caught)).toBe(true);
      expect(caught.name).toBe('TrustError');
      expect(caught.message).toMatch(/^invalid reference /);
    });
  }
});

describe('isValidTag', () => {
  it("docker's tag grammar", () => {
    for (const t of ['latest', 'v1.2.3', '_x', 'A-b_c.d', 't'.repeat(128)]) expect(isValidTag(t), t).toBe(true);
    for (const t of ['', '.x', '-x', 't'.repeat(129), 'a/b', 'a b', 'a:b', 'ü']) expect(isValidTag(t), t).toBe(false);
  });
});

describe('the built CLI normalises references the same way', () => {
  const empty = mkdtempSync(join(tmpdir(), 'trustgate-ref-'));
  afterAll(() => rmSync(empty, { recursive: true, force: true }));

  it('reports the GUN and tag of every reference, and ERR_INVALID_REFERENCE (exit 2) for bad ones', () => {
    const good = GOOD.filter(([, , , digest]) => digest === undefined);
    const bad = BAD.filter((b) => b !== '' && !b.startsWith('-') && !b.startsWith(' '));
    const r = run(['verify', '--json', '--trust-dir', empty, '--now', '2026-01-01T00:00:00Z', '--', ...good.map(([i]) => i), ...bad]);
    expect(r.code).toBe(2);
    const doc = parseJson<VerifyDoc>(r);
    expect(doc.results).toHaveLength(good.length + bad.length);
    good.forEach(([input, gun, tag], i) => {
      expect(doc.results[i]).toMatchObject({ ok: false, ref: input, gun, tag: tag ?? 'latest', error: { code: 'ERR_METADATA_NOT_FOUND' } });
    });
    bad.forEach((input, i) => {
      expect(doc.results[good.length + i]).toMatchObject({ ok: false, ref: input, gun: null, tag: null, error: { code: 'ERR_INVALID_REFERENCE' } });
    });
  });
});
