/**
 * Messages say what is wrong in plain words: where a size cap comes from, which shape of root
 * certificate bundle is refused, which document a file really holds, which field is mistyped.
 * Real vectors only; each assertion failed on the messages these replace.
 */
import { cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { verifyTrustDir } from '../../src/trust-dir/reader.js';
import { dirSource, expectTrustError, scenario, VECTORS } from '../helpers/vectors.js';

const GENERATED = join(VECTORS, 'generated');
const GUN = 'example.com/trustgate/repo';
const NOW = new Date('2030-01-01T00:00:00Z');
const meta = (id: string) => join(GENERATED, id, 'metadata');
const verifyCase = (id: string, overrides: Record<string, Uint8Array> = {}) => () =>
  verifyRepository({ gun: GUN, source: dirSource(meta(id), overrides), now: NOW });

const tmp = mkdtempSync(join(tmpdir(), 'trustgate-messages-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('size caps name where they come from', () => {
  const size = readFileSync(join(meta('length-exceeded'), 'targets.json')).length;
  const want = `targets.json is ${size} bytes, more than the ${size - 1} bytes snapshot.json lists as its length`;

  it("a file over its referrer's length says the referrer lists that length", () => {
    const e = expectTrustError(verifyCase('length-exceeded'), 'ERR_METADATA_TOO_LARGE', 'targets');
    expect(e.message).toBe(want);
    expect((e as { check?: string }).check).toBe('size cap from snapshot');
  });

  it('the same when the trust-dir source refuses the file by its size before reading it', () => {
    const trustDir = join(tmp, 'length-exceeded');
    cpSync(meta('length-exceeded'), join(trustDir, 'tuf', ...GUN.split('/'), 'metadata'), { recursive: true });
    const e = expectTrustError(() => verifyTrustDir({ gun: GUN, trustDir, now: NOW }), 'ERR_METADATA_TOO_LARGE', 'targets');
    expect(e.message).toBe(want);
  });

  it('a fixed limit says it is the size limit', () => {
    const s = scenario('basic');
    const e = expectTrustError(() => verifyRepository({ gun: s.gun, source: dirSource(s.metadataDir), now: s.now, limits: { maxRootBytes: 100 } }), 'ERR_METADATA_TOO_LARGE', 'root');
    expect(e.message).toMatch(/^root\.json is \d+ bytes, more than the 100-byte size limit$/);
  });
});

describe('root certificate bundles of the wrong shape', () => {
  it.each([
    ['root-cert-is-ca', "holds a CA certificate where the root's leaf certificate belongs"],
    ['root-cert-ca-before-leaf', "holds a CA certificate where the root's leaf certificate belongs; the leaf must come first"],
    ['root-cert-two-leaves', 'holds 2 leaf certificates; exactly one is allowed'],
  ])('%s: %s', (id, words) => {
    const e = expectTrustError(verifyCase(id), 'ERR_ROOT_CERT_INVALID', 'root');
    expect(e.message).toMatch(new RegExp(`^root: no valid root certificate for ${GUN}: key [0-9a-f]{64} \\(ecdsa-x509\\) ${words.replace(/[().;]/g, '\\$&')}$`));
  });
});

describe('a file holding another role', () => {
  it('a snapshot saved as root.json is named as a snapshot document', () => {
    const snapshot = new Uint8Array(readFileSync(join(meta('base-valid'), 'snapshot.json')));
    const e = expectTrustError(verifyCase('base-valid', { root: snapshot }), 'ERR_METADATA_INVALID', 'root');
    expect(e.message).toBe('root.json is a snapshot document (_type "Snapshot"), not a root');
  });

  it('a mistyped field is named with what it must be', () => {
    const e = expectTrustError(verifyCase('version-as-string'), 'ERR_METADATA_MALFORMED', 'targets');
    expect(e.message).toBe('targets.json: signed.version must be an integer, not the string "2"');
  });

  it('a missing field is called missing', () => {
    const root = readFileSync(join(meta('base-valid'), 'root.json'), 'utf8').replace(/"expires":"[^"]*",/, '');
    const e = expectTrustError(verifyCase('base-valid', { root: new Uint8Array(Buffer.from(root)) }), 'ERR_METADATA_MALFORMED', 'root');
    expect(e.message).toBe('root.json: signed.expires is missing');
  });
});
