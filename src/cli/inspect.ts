/**
 * `trustgate inspect`: the offline equivalent of `docker trust inspect [--pretty]` (spec §9.5),
 * with docker's JSON shape, ordering and table layout.
 */
import { isTrustError } from '../errors.js';
import { parseReference } from '../reference/parse.js';
import type { SignedTarget, VerifiedRepository } from '../verify/types.js';
import { byteCompare, goJson, naturalCompare, tabulate } from './format.js';
import { INSPECT_HELP } from './help.js';
import { checkTrustDir, parseCommandLine, parseRfc3339, USAGE_CODES, UsageError } from './options.js';
import { verifyOncePerGun } from './verify-cache.js';

const OPTIONS = {
  'trust-dir': { type: 'string' },
  now: { type: 'string' },
  pretty: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** docker's `trustRepo` as `docker trust inspect` prints it. */
export interface TrustRepo {
  Name: string;
  SignedTags: { SignedTag: string; Digest: string; Signers: string[] }[];
  Signers: TrustSigner[];
  AdministrativeKeys: TrustSigner[];
}

export interface TrustSigner {
  Name: string;
  Keys: { ID: string }[];
}

/** The name docker shows for signatures made with the repository (targets) key. */
const REPO_ADMIN = 'Repo Admin';
const RELEASES = 'targets/releases';

type Engine = typeof import('./engine.js');

const isReleased = (role: string) => role === 'targets' || role === RELEASES;
/** `targets/a/b` → `a/b` (docker's `notaryRoleToSigner`). */
const signerName = (role: string) => (isReleased(role) ? REPO_ADMIN : role.startsWith('targets/') ? role.slice('targets/'.length) : role);

/** Builds docker's inspect record for one argument from a verified repository. */
export function trustRepo(engine: Engine, repo: VerifiedRepository, name: string, tag: string): TrustRepo {
  // A row per (tag, digest) signed into targets or targets/releases; other roles holding the
  // same tag and digest are its signers.
  const all = engine.allTargetsByName(repo, tag);
  const rows = new Map<string, { SignedTag: string; Digest: string; Signers: string[] }>();
  // docker shows the hex of whatever sha256 bytes were signed (even ones that are no valid
  // digest, which verify and pull refuse), so take them from the hashes, not from `digest`.
  const hex = (t: SignedTarget) => (Object.hasOwn(t.hashes, 'sha256') ? Buffer.from(t.hashes['sha256'] as string, 'base64').toString('hex') : '');
  const key = (t: SignedTarget) => `${t.name}\u0000${hex(t)}`;
  for (const t of all) {
    if (isReleased(t.role) && !rows.has(key(t))) rows.set(key(t), { SignedTag: t.name, Digest: hex(t), Signers: [] });
  }
  for (const t of all) {
    const row = rows.get(key(t));
    if (row && !isReleased(t.role)) row.Signers.push(signerName(t.role));
  }
  const signedTags = [...rows.values()]
    .map((r) => ({ ...r, Signers: r.Signers.length > 0 ? r.Signers : [REPO_ADMIN] }))
    .sort((a, b) => naturalCompare(a.SignedTag, b.SignedTag) || byteCompare(a.Digest, b.Digest));

  // Every delegation declared by a loaded role except targets/releases, with canonical key IDs.
  const signers = new Map<string, { ID: string }[]>();
  for (const role of repo.roles.values()) {
    for (const d of role.delegations) {
      if (d.name === RELEASES) continue;
      const keys = d.keyids.map((id) => {
        const k = Object.hasOwn(role.delegationKeys, id) ? role.delegationKeys[id] : undefined;
        return { ID: k === undefined ? id : engine.canonicalKeyId(k.keytype, k.keyval.public) };
      });
      signers.set(signerName(d.name), keys);
    }
  }
  const signerList = [...signers].map(([n, keys]) => ({ Name: n, Keys: keys })).sort((a, b) => byteCompare(b.Name, a.Name));

  const admin = (label: string, role: string): TrustSigner => ({
    Name: label,
    Keys: (repo.root.roles[role]?.keyids ?? []).map((id) => ({ ID: id })),
  });
  return {
    Name: name,
    SignedTags: signedTags,
    Signers: signerList,
    // Sorted by name, descending, as docker does: Root, then Repository.
    AdministrativeKeys: [admin('Root', 'root'), admin('Repository', 'targets')],
  };
}

/** docker's `--pretty` rendering of one record. */
export function prettyTrustRepo(r: TrustRepo): string {
  let out = '';
  if (r.SignedTags.length > 0) {
    out += `\nSignatures for ${r.Name}\n\n`;
    const rows = r.SignedTags.map((t) => {
      const signers = t.Signers.length === 1 && t.Signers[0] === REPO_ADMIN ? [`(${REPO_ADMIN})`] : [...t.Signers].sort(byteCompare);
      return [t.SignedTag, t.Digest, signers.join(', ')];
    });
    out += tabulate([['SIGNED TAG', 'DIGEST', 'SIGNERS'], ...rows]);
  } else {
    out += `\nNo signatures for ${r.Name}\n\n`;
  }
  if (r.Signers.length > 0) {
    out += `\nList of signers and their keys for ${r.Name}\n\n`;
    const rows = [...r.Signers]
      .sort((a, b) => naturalCompare(a.Name, b.Name))
      .map((s) => [
        s.Name,
        s.Keys.map((k) => k.ID)
          .sort(byteCompare)
          .map((id) => id.slice(0, 12))
          .join(', '),
      ]);
    out += tabulate([['SIGNER', 'KEYS'], ...rows]);
  }
  out += `\nAdministrative keys for ${r.Name}\n\n`;
  const ids = (n: string) =>
    (r.AdministrativeKeys.find((a) => a.Name === n)?.Keys ?? [])
      .map((k) => k.ID)
      .sort(byteCompare)
      .join(', ');
  out += `  Repository Key:\t${ids('Repository')}\n`;
  out += `  Root Key:\t${ids('Root')}\n`;
  return out;
}

export async function runInspect(args: readonly string[], env: Readonly<Record<string, string | undefined>> = process.env): Promise<number> {
  let values: { 'trust-dir'?: string | undefined; now?: string | undefined; pretty?: boolean | undefined; help?: boolean | undefined };
  let positionals: string[];
  let now: Date;
  try {
    ({ values, positionals } = parseCommandLine(args, OPTIONS));
    if (values.help === true) {
      process.stdout.write(INSPECT_HELP);
      return 0;
    }
    if (positionals.length === 0) throw new UsageError('inspect needs at least one image reference');
    if (values['trust-dir'] === '') throw new UsageError('--trust-dir must not be empty');
    now = values.now === undefined ? new Date() : parseRfc3339(values.now);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`trustgate inspect: ${e.message}\nRun "trustgate inspect --help" for usage.\n`);
    return 2;
  }

  const engine = await import('./engine.js');
  const trustDir = values['trust-dir'] ?? engine.defaultTrustDir(env);
  const dirError = checkTrustDir(trustDir, values['trust-dir'] !== undefined);
  const verifyGun = verifyOncePerGun((gun) => engine.verifyTrustDir({ gun, trustDir, now }));
  const records: TrustRepo[] = [];
  let exit = 0;
  let pretty = '';
  for (const input of positionals) {
    try {
      const ref = parseReference(input);
      if (dirError) throw dirError;
      const repo = verifyGun(ref.gun);
      const record = trustRepo(engine, repo, input, ref.tag ?? '');
      records.push(record);
      if (values.pretty === true) pretty += (pretty === '' ? '' : '\n\n') + prettyTrustRepo(record);
    } catch (e) {
      if (!isTrustError(e)) {
        process.stderr.write(`trustgate inspect: ${input}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
        exit = Math.max(exit, 1);
        continue;
      }
      const role = e.role === undefined ? '' : ` (role ${e.role})`;
      process.stderr.write(`trustgate inspect: ${input}: ${e.code}${role}: ${e.message}\n`);
      exit = Math.max(exit, USAGE_CODES.has(e.code) ? 2 : 1);
    }
  }
  if (values.pretty === true) process.stdout.write(pretty);
  else process.stdout.write(`${records.length === 0 ? '[]' : goJson(records, 4)}\n`);
  return exit;
}
