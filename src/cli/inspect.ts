/**
 * `trustgate inspect`: the offline equivalent of `docker trust inspect [--pretty]` (notary-rules.md §9.5),
 * with docker's JSON shape, ordering and table layout.
 */
import { isTrustError } from '../errors.js';
import { parseReference } from '../reference/parse.js';
import type { SignedTarget, VerifiedRepository } from '../verify/types.js';
import { COMMON_OPTIONS, defineCommand, warn, type CommandContext } from './command.js';
import { byteCompare, escapeTerminal, goJson, naturalCompare, tabulate } from './format.js';
import { INSPECT_HELP } from './help.js';
import { parseCommandLine, USAGE_CODES, UsageError } from './options.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  pretty: { type: 'boolean' },
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

/**
 * docker's `--pretty` rendering of one record. Tables are for a terminal, so every name from
 * the metadata is escaped ({@link escapeTerminal}): a target name may hold any character
 * (notary-rules.md §5.4), which docker would print raw.
 */
export function prettyTrustRepo(record: TrustRepo): string {
  const e = escapeTerminal;
  const name = e(record.Name);
  let out = '';
  if (record.SignedTags.length > 0) {
    out += `\nSignatures for ${name}\n\n`;
    const rows = record.SignedTags.map((t) => {
      const signers = t.Signers.length === 1 && t.Signers[0] === REPO_ADMIN ? [`(${REPO_ADMIN})`] : [...t.Signers].sort(byteCompare);
      return [e(t.SignedTag), t.Digest, e(signers.join(', '))];
    });
    out += tabulate([['SIGNED TAG', 'DIGEST', 'SIGNERS'], ...rows]);
  } else {
    out += `\nNo signatures for ${name}\n\n`;
  }
  if (record.Signers.length > 0) {
    out += `\nList of signers and their keys for ${name}\n\n`;
    const rows = [...record.Signers]
      .sort((a, b) => naturalCompare(a.Name, b.Name))
      .map((s) => [e(s.Name), e(s.Keys.map((k) => k.ID).sort(byteCompare).map((id) => id.slice(0, 12)).join(', '))]);
    out += tabulate([['SIGNER', 'KEYS'], ...rows]);
  }
  out += `\nAdministrative keys for ${name}\n\n`;
  const ids = (n: string) =>
    e(
      (record.AdministrativeKeys.find((a) => a.Name === n)?.Keys ?? [])
        .map((k) => k.ID)
        .sort(byteCompare)
        .join(', '),
    );
  out += `  Repository Key:\t${ids('Repository')}\n`;
  out += `  Root Key:\t${ids('Root')}\n`;
  return out;
}

interface Settings {
  images: string[];
  pretty: boolean;
}

function settings({ values, positionals }: ReturnType<typeof parseCommandLine<typeof OPTIONS>>): Settings {
  if (positionals.length === 0) throw new UsageError('inspect needs at least one image reference');
  return { images: positionals, pretty: values.pretty === true };
}

/** One argument's record, or the exit code its failure earns (2 for usage, 1 for trust). */
async function inspectOne(input: string, ctx: CommandContext<Engine>, verify: (gun: string) => Promise<VerifiedRepository>): Promise<TrustRepo | number> {
  try {
    const ref = parseReference(input);
    if (ctx.trustDir.error) throw ctx.trustDir.error;
    return trustRepo(ctx.engine, await verify(ref.gun), input, ref.tag ?? '');
  } catch (e) {
    if (!isTrustError(e)) {
      warn(`trustgate inspect: ${input}: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
      return 1;
    }
    const role = e.role === undefined ? '' : ` (role ${e.role})`;
    warn(`trustgate inspect: ${input}: ${e.code}${role}: ${e.message}`);
    return USAGE_CODES.has(e.code) ? 2 : 1;
  }
}

async function inspectImages(s: Settings, ctx: CommandContext<Engine>): Promise<number> {
  const now = ctx.clock();
  const trust = ctx.engine.cachedTrustSource(ctx.engine.trustDirTrustSource({ trustDir: ctx.trustDir.path }));
  const records: TrustRepo[] = [];
  let exit = 0;
  for (const input of s.images) {
    const r = await inspectOne(input, ctx, (gun) => trust.verify({ gun, now }));
    if (typeof r === 'number') exit = Math.max(exit, r);
    else records.push(r);
  }
  // The JSON keeps docker's bytes (notary-rules.md §9.5): JSON escapes control characters itself.
  if (s.pretty) process.stdout.write(records.map(prettyTrustRepo).join('\n\n'));
  else process.stdout.write(`${records.length === 0 ? '[]' : goJson(records, 4)}\n`);
  // A bad reference gets the same hint as in every other command.
  return exit === 2 ? ctx.hint() : exit;
}

export const runInspect = defineCommand({ name: 'inspect', options: OPTIONS, help: INSPECT_HELP, settings, load: () => import('./engine.js'), run: inspectImages });
