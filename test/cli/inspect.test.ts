import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { goJson, naturalCompare, tabulate } from '../../src/cli/format.js';
import { prettyTrustRepo, trustRepo, type TrustRepo } from '../../src/cli/inspect.js';
import { allTargetsByName } from '../../src/verify/lookup.js';
import type { VerifiedRepository, VerifiedRole } from '../../src/verify/types.js';
import { metadata, parseJson, ROOT, run, scenarios, VECTORS, type Scenario } from './helpers.js';

const GOLDEN = join(ROOT, 'vectors/upstream/docker-cli-trust-inspect-golden/cmd/docker-trust/trust/testdata');
const golden = (name: string) => readFileSync(join(GOLDEN, `trust-inspect-${name}.golden`), 'utf8');
const ALL = scenarios();
const byName = (n: string): Scenario => {
  const s = ALL.find((x) => x.name === n);
  if (!s) throw new Error(`no scenario ${n}`);
  return s;
};

const released = (role: string) => role === 'targets' || role === 'targets/releases';

/** docker's rows computed straight from the metadata listing in expected.json. */
function expectedSignedTags(s: Scenario) {
  const rows = new Map<string, { SignedTag: string; Digest: string; Signers: string[] }>();
  for (const [role, entries] of Object.entries(s.targetsByRole)) {
    if (!released(role)) continue;
    for (const [name, e] of Object.entries(entries)) rows.set(`${name} ${e.sha256}`, { SignedTag: name, Digest: e.sha256, Signers: [] });
  }
  for (const [role, entries] of Object.entries(s.targetsByRole)) {
    if (released(role)) continue;
    for (const [name, e] of Object.entries(entries)) rows.get(`${name} ${e.sha256}`)?.Signers.push(role.slice('targets/'.length));
  }
  return [...rows.values()]
    .map((r) => ({ ...r, Signers: r.Signers.length > 0 ? r.Signers.sort() : ['Repo Admin'] }))
    .sort((a, b) => (a.SignedTag === b.SignedTag ? a.Digest.localeCompare(b.Digest) : naturalCompare(a.SignedTag, b.SignedTag)));
}

/** Every delegation but targets/releases, with the canonical key IDs metadata-facts.json computed. */
function expectedSigners(s: Scenario) {
  const out: { Name: string; Keys: { ID: string }[] }[] = [];
  const visit = (role: string) => {
    const d = metadata(s, role).signed['delegations'] as { roles: { name: string; keyids: string[] }[] } | undefined;
    for (const r of d?.roles ?? []) {
      if (r.name !== 'targets/releases') {
        out.push({ Name: r.name.slice('targets/'.length), Keys: r.keyids.map((id) => ({ ID: s.facts.keys[id]?.canonical_public_key_id ?? `missing ${id}` })) });
      }
      visit(r.name);
    }
  };
  visit('targets');
  return out.sort((a, b) => (a.Name < b.Name ? 1 : -1));
}

function expectedAdmin(s: Scenario) {
  const roles = s.facts.files['root.json']?.roles ?? {};
  return [
    { Name: 'Root', Keys: (roles['root']?.keyids ?? []).map((ID) => ({ ID })) },
    { Name: 'Repository', Keys: (roles['targets']?.keyids ?? []).map((ID) => ({ ID })) },
  ];
}

describe('inspect on every real-Notary scenario', () => {
  for (const s of ALL) {
    it(`${s.name}: same signed tags, digests, signers and keys as the metadata`, () => {
      const r = run(['inspect', '--trust-dir', s.trustDir, '--now', s.now, s.gun]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      const [repo, ...rest] = parseJson<TrustRepo[]>(r);
      expect(rest).toEqual([]);
      expect(repo?.Name).toBe(s.gun);
      expect(repo?.SignedTags.map((t) => ({ ...t, Signers: [...t.Signers].sort() }))).toEqual(expectedSignedTags(s));
      expect(repo?.Signers).toEqual(expectedSigners(s));
      expect(repo?.AdministrativeKeys).toEqual(expectedAdmin(s));
      // Every tag notary lists under targets or targets/releases shows up with notary's digest.
      for (const [name, t] of Object.entries(s.targets)) {
        if (!released(t.role)) continue;
        expect(repo?.SignedTags.some((row) => row.SignedTag === name && row.Digest === t.sha256), `${s.name} ${name}`).toBe(true);
      }
    });
  }

  it('one tag: only that tag, and the JSON is byte-identical to docker golden output once names are swapped', () => {
    const s = byName('basic');
    const r = run(['inspect', '--trust-dir', s.trustDir, '--now', s.now, 'acme/app:v1', 'acme/app:unsigned-tag']);
    expect(r.code, r.stderr).toBe(0);
    const [one, empty] = parseJson<TrustRepo[]>(r);
    const admin = expectedAdmin(s);
    const swap = (rec: TrustRepo | undefined, name: string) =>
      goJson([rec], 4)
        .replaceAll(rec?.Name ?? '', name)
        .replaceAll('"v1"', '"green"')
        .replaceAll(s.targets['v1']?.sha256 ?? '', '677265656e2d646967657374')
        .replaceAll(admin[0]?.Keys[0]?.ID ?? '', 'rootID')
        .replaceAll(admin[1]?.Keys[0]?.ID ?? '', 'targetsID') + '\n';
    expect(swap(one, 'signed-repo:green')).toBe(golden('one-tag-no-signers'));
    expect(swap(empty, 'reg/img:unsigned-tag')).toBe(golden('empty-repo'));
    // And the whole stdout is docker's array of both records.
    expect(r.stdout).toBe(goJson([one, empty], 4) + '\n');
  });

  it('delegations: a tag signed into releases and a signer role lists that signer', () => {
    const s = byName('hub-like');
    const r = run(['inspect', '--trust-dir', s.trustDir, '--now', s.now, `${s.gun}:v1`]);
    const [repo] = parseJson<TrustRepo[]>(r);
    expect(repo?.SignedTags).toEqual([{ SignedTag: 'v1', Digest: s.targets['v1']?.sha256, Signers: ['bob'] }]);
  });

  it('Go escaping of <, >, & and U+2028 in tag names (edge scenario)', () => {
    const s = byName('edge');
    const r = run(['inspect', '--trust-dir', s.trustDir, '--now', s.now, s.gun]);
    expect(r.stdout).toContain('"SignedTag": "a\\u003cb\\u003e\\u0026c\\"d\\\\e/f\\u2028g\u007fh ü"');
  });

  it('no trust data: prints [] like docker, reports the error on stderr, exit 1', () => {
    const s = byName('basic');
    const r = run(['inspect', '--trust-dir', s.trustDir, '--now', s.now, 'acme/nothing']);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe(golden('uninitialized'));
    expect(r.stderr).toMatch(/^trustgate inspect: acme\/nothing: ERR_METADATA_NOT_FOUND/);
  });

  it('tampered data: exit 1 with the code and role; a bad reference: exit 2', () => {
    const s = byName('basic');
    const tampered = run(['inspect', '--trust-dir', join(VECTORS, 'tamper/targets-signature/trust'), '--now', s.now, 'acme/app']);
    expect(tampered.code).toBe(1);
    expect(tampered.stdout).toBe('[]\n');
    expect(tampered.stderr).toContain('ERR_HASH_MISMATCH (role targets)');
    const bad = run(['inspect', '--trust-dir', s.trustDir, '--now', s.now, 'acme/app:v1', 'UPPER/Case:x']);
    expect(bad.code).toBe(2);
    expect(parseJson<TrustRepo[]>(bad).map((x) => x.Name)).toEqual(['acme/app:v1']);
    expect(bad.stderr).toContain('ERR_INVALID_REFERENCE');
  });

  it('--pretty: docker tables, column layout from the content, images separated by a blank pair', () => {
    const s = byName('delegation');
    const r = run(['inspect', '--pretty', '--trust-dir', s.trustDir, '--now', s.now, 'acme/deleg', 'acme/deleg:nope']);
    expect(r.code, r.stderr).toBe(0);
    const [first, second] = r.stdout.split('\n\n\nNo signatures');
    const rows = expectedSignedTags(s);
    const width = Math.max('SIGNED TAG'.length + 3, ...rows.map((x) => x.SignedTag.length + 3));
    const signer = expectedSigners(s)[0];
    const admin = expectedAdmin(s);
    expect(first).toBe(
      '\nSignatures for acme/deleg\n\n' +
        `${'SIGNED TAG'.padEnd(width)}${'DIGEST'.padEnd(67)}SIGNERS\n` +
        rows.map((x) => `${x.SignedTag.padEnd(width)}${x.Digest}   (Repo Admin)\n`).join('') +
        '\nList of signers and their keys for acme/deleg\n\n' +
        `SIGNER    KEYS\n${signer?.Name.padEnd(10)}${signer?.Keys[0]?.ID.slice(0, 12)}\n` +
        '\nAdministrative keys for acme/deleg\n\n' +
        `  Repository Key:\t${admin[1]?.Keys[0]?.ID}\n  Root Key:\t${admin[0]?.Keys[0]?.ID}\n`,
    );
    expect(`\n\n\nNo signatures${second}`).toMatch(/^\n\n\nNo signatures for acme\/deleg:nope\n\n\nList of signers and their keys for acme\/deleg:nope\n/);
  });
});

/**
 * docker's own test repository (cmd/docker-trust/trust/inspect_test.go): green is signed by the
 * repository key only, blue by alice, red by alice and bob; alice holds key A, bob key B.
 */
function dockerTestRepo(withSigners = true): VerifiedRepository {
  const meta = (digest: string) => ({ hashes: { sha256: Buffer.from(digest).toString('base64') }, length: 1 });
  const role = (name: string, targets: Record<string, ReturnType<typeof meta>>, delegations: VerifiedRole['delegations'] = []): VerifiedRole => ({
    name,
    version: 1,
    expires: '2100-01-01T00:00:00Z',
    expiresAt: new Date('2100-01-01T00:00:00Z'),
    signedBy: [],
    keys: {},
    threshold: 1,
    paths: [''],
    targets: new Map(Object.entries(targets)),
    delegations,
    delegationKeys: {
      A: { keytype: 'ecdsa', keyval: { private: null, public: 'A' } },
      B: { keytype: 'ecdsa', keyval: { private: null, public: 'B' } },
      R: { keytype: 'ecdsa', keyval: { private: null, public: 'R' } },
    },
  });
  const d = (name: string, keyids: string[]) => ({ name, keyids, threshold: 1, paths: [''] });
  const roles = new Map<string, VerifiedRole>([
    ['targets', role('targets', { green: meta('green-digest') }, withSigners ? [d('targets/releases', ['R']), d('targets/alice', ['A']), d('targets/bob', ['B'])] : [])],
  ]);
  if (withSigners) {
    roles.set('targets/releases', role('targets/releases', { red: meta('red-digest'), blue: meta('blue-digest') }));
    roles.set('targets/alice', role('targets/alice', { red: meta('red-digest'), blue: meta('blue-digest') }));
    roles.set('targets/bob', role('targets/bob', { red: meta('red-digest') }));
  }
  const summary = { name: 'x', version: 1, expires: '2100-01-01T00:00:00Z', signedBy: [] };
  return {
    gun: 'docker.io/library/signed-repo',
    verifiedAt: new Date(0),
    mode: 'strict',
    root: { ...summary, keys: {}, roles: { root: { keyids: ['rootID'], threshold: 1 }, targets: { keyids: ['targetsID'], threshold: 1 } } },
    timestamp: summary,
    snapshot: summary,
    roles,
    skipped: [],
    trustedState: { gun: 'docker.io/library/signed-repo', root: '', versions: {} },
  } as unknown as VerifiedRepository;
}

describe("docker's golden files, rendered in-process from docker's test repository", () => {
  const engine = { allTargetsByName, canonicalKeyId: (_type: string, pub: string) => pub } as unknown as Parameters<typeof trustRepo>[0];
  const repo = dockerTestRepo();
  const noSigners = dockerTestRepo(false);

  it('JSON', () => {
    expect(goJson([trustRepo(engine, repo, 'signed-repo', '')], 4) + '\n').toBe(golden('full-repo-with-signers'));
    expect(goJson([trustRepo(engine, repo, 'signed-repo:unsigned', 'unsigned')], 4) + '\n').toBe(golden('unsigned-tag-with-signers'));
    const both = [trustRepo(engine, repo, 'signed-repo', ''), trustRepo(engine, repo, 'signed-repo', '')];
    expect(goJson(both, 4) + '\n').toBe(golden('multiple-repos-with-signers'));
    expect(goJson([trustRepo(engine, noSigners, 'signed-repo', '')], 4) + '\n').toBe(golden('full-repo-no-signers'));
    expect(goJson([trustRepo(engine, noSigners, 'signed-repo:green', 'green')], 4) + '\n').toBe(golden('one-tag-no-signers'));
  });

  it('--pretty', () => {
    expect(prettyTrustRepo(trustRepo(engine, repo, 'signed-repo', ''))).toBe(golden('pretty-full-repo-with-signers'));
    expect(prettyTrustRepo(trustRepo(engine, repo, 'signed-repo:unsigned', 'unsigned'))).toBe(golden('pretty-unsigned-tag-with-signers'));
    expect(prettyTrustRepo(trustRepo(engine, noSigners, 'signed-repo:green', 'green'))).toBe(golden('pretty-one-tag-no-signers'));
    expect(prettyTrustRepo(trustRepo(engine, noSigners, 'signed-repo', ''))).toBe(golden('pretty-full-repo-no-signers'));
  });
});

describe('ordering and layout helpers', () => {
  it('natural order: numbers by value, fewer leading zeros first, digits before other characters', () => {
    const sorted = ['v10', 'v9', 'v1', 'v01', 'latest', '1.10', '1.9', '10', '2', 'a', 'A', 'v1a', 'v1-rc'].sort(naturalCompare);
    expect(sorted).toEqual(['1.9', '1.10', '2', '10', 'A', 'a', 'latest', 'v1', 'v1-rc', 'v1a', 'v01', 'v9', 'v10']);
  });

  it('tabwriter layout: min width 10, padding 3, last column unpadded, widths in code points', () => {
    expect(tabulate([['SIGNER', 'KEYS'], ['alice', 'A']])).toBe('SIGNER    KEYS\nalice     A\n');
    expect(tabulate([['ü-long-name', 'x', 'y']])).toBe('ü-long-name   x         y\n');
  });
});
