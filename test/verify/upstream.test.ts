/**
 * Notary's own compatibility fixtures (0.1, 0.3) and real Docker Hub trust data
 * (vectors/upstream, see MANIFEST.txt).
 */
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { verifyRepository } from '../../src/verify/repository.js';
import { listTargets, lookupTarget, NOTARY_ROLE_ORDER } from '../../src/verify/lookup.js';
import { canonicalKeyId } from '../../src/tuf/keys.js';
import { dirSource, expectTrustError, UPSTREAM } from '../helpers/vectors.js';

const COMPAT = join(UPSTREAM, 'notary-compatibility/fixtures/compatibility');
const v01 = { gun: 'docker.com/notary0.1/samplerepo', dir: join(COMPAT, 'notary0.1/tuf/docker.com/notary0.1/samplerepo/metadata') };
const v03 = { gun: 'docker.com/notary0.3/tst', dir: join(COMPAT, 'notary0.3/tuf/docker.com/notary0.3/tst/metadata') };
const LICENSE = 'sha256:9395bac6fccb26bcb55efb083d1b4b0fe72a1c25f959f056c016120b3bb56a62';

describe('notary compatibility fixtures', () => {
  it('notary0.1 verifies today (root cert valid to 2116) and lists LICENSE', () => {
    const repo = verifyRepository({ gun: v01.gun, source: dirSource(v01.dir), now: new Date('2026-11-27T00:00:00Z') });
    expect(lookupTarget(repo, 'LICENSE')).toMatchObject({ digest: LICENSE, length: 11309, role: 'targets' });
  });

  it('notary0.1 root key: TUF ID 4ff57dc9…, canonical ID d0c623c8… (the private key file name)', () => {
    const repo = verifyRepository({ gun: v01.gun, source: dirSource(v01.dir), now: new Date('2026-11-27T00:00:00Z') });
    const rootId = repo.root.roles['root']?.keyids[0] as string;
    expect(rootId.startsWith('4ff57dc9')).toBe(true);
    const k = repo.root.keys[rootId];
    expect(canonicalKeyId(k?.keytype as string, k?.keyval.public as string)).toBe('d0c623c8e70c70d42a8a8125c44a8598588b3f6e31d5c21a83cbc338dfde8a68');
  });

  it('notary0.3 verifies before its root certificate expired (2026-07-25), with an rsapss delegation whose cert expired in 2017', () => {
    const repo = verifyRepository({ gun: v03.gun, source: dirSource(v03.dir), now: new Date('2026-07-25T00:00:00Z') });
    expect([...repo.roles.keys()]).toEqual(['targets', 'targets/releases']);
    const list = listTargets(repo, { roles: NOTARY_ROLE_ORDER });
    expect(list.map((t) => [t.name, t.role])).toEqual([
      ['LICENSE', 'targets'],
      ['change', 'targets'],
      ['hello', 'targets/releases'],
    ]);
    expect(lookupTarget(repo, 'LICENSE').digest).toBe(LICENSE);
  });

  it('notary0.3 fails after 2026-07-25: an expired root certificate is fatal even for a cached root', () => {
    const err = expectTrustError(
      () => verifyRepository({ gun: v03.gun, source: dirSource(v03.dir), now: new Date('2026-11-27T00:00:00Z') }),
      'ERR_ROOT_CERT_INVALID',
      'root',
    );
    expect(err.message).toMatch(/expired at 2026-07-25/);
  });

  it('the canonical ID of notary0.3 root key 354e203b… is f4eaf871… (the root_keys file name)', () => {
    const repo = verifyRepository({ gun: v03.gun, source: dirSource(v03.dir), now: new Date('2026-07-25T00:00:00Z') });
    const id = repo.root.roles['root']?.keyids[0] as string;
    expect(id).toBe('354e203ba09dbe17807b6a9d191bff887167c06d121e738d849446a9c76c2866');
    const k = repo.root.keys[id];
    expect(canonicalKeyId(k?.keytype as string, k?.keyval.public as string)).toBe('f4eaf871a74aa3b3a0ff95cef2455a1e4d461639f5625418e76756fc5c948690');
  });
});

describe('real Docker Hub trust data', () => {
  const hub = (name: string) => join(UPSTREAM, 'derived/compact-restored/docker.io/phbelitz', name, 'metadata');
  const pretty = (name: string) => join(UPSTREAM, 'connaisseur-v3/test/testdata/notaryv1/trust_data', name);

  it('sample-image (compact-restored) verifies inside its validity window', () => {
    const repo = verifyRepository({ gun: 'docker.io/phbelitz/sample-image', source: dirSource(hub('sample-image')), now: new Date('2019-10-01T00:00:00Z') });
    expect(listTargets(repo).map((t) => t.name).sort()).toEqual(['sign', 'v1']);
  });

  it('alice-image (compact-restored) verifies with three delegations; docker sees only releases', () => {
    const repo = verifyRepository({ gun: 'docker.io/phbelitz/alice-image', source: dirSource(hub('alice-image')), now: new Date('2019-10-10T00:00:00Z') });
    expect([...repo.roles.keys()].sort()).toEqual(['targets', 'targets/chamsen', 'targets/phbelitz', 'targets/releases']);
    expect(lookupTarget(repo, 'test').role).toBe('targets/releases');
  });

  it('the pretty-printed originals fail the hash chain (the snapshot is over its length cap)', () => {
    expectTrustError(
      () => verifyRepository({ gun: 'docker.io/phbelitz/sample-image', source: dirSource(pretty('sample-image')), now: new Date('2019-10-01T00:00:00Z') }),
      'ERR_METADATA_TOO_LARGE',
      'snapshot',
    );
    expectTrustError(
      () => verifyRepository({ gun: 'docker.io/phbelitz/alice-image', source: dirSource(pretty('alice-image')), now: new Date('2019-10-10T00:00:00Z') }),
      'ERR_METADATA_TOO_LARGE',
      'snapshot',
    );
  });

  it('Docker Hub timestamps expired in 2019: verification today fails on the timestamp', () => {
    expectTrustError(
      () => verifyRepository({ gun: 'docker.io/phbelitz/sample-image', source: dirSource(hub('sample-image')), now: new Date('2026-11-27T00:00:00Z') }),
      'ERR_METADATA_EXPIRED',
      'timestamp',
    );
  });

  it('root certificates are not valid before they were made (NotBefore + 1 day leeway)', () => {
    expectTrustError(
      () => verifyRepository({ gun: 'docker.io/phbelitz/sample-image', source: dirSource(hub('sample-image')), now: new Date('2019-08-27T00:00:00Z') }),
      'ERR_ROOT_CERT_INVALID',
      'root',
    );
  });
});
