/**
 * `trustgate mirror --from SERVER --to DIR <gun>...`: fetch, verify and commit the trust data of
 * each repository into DIR, in notary's layout, for an air-gapped `verify --trust-dir DIR`.
 */
import { join, resolve } from 'node:path';
import { parseReference } from '../reference/parse.js';
import type { FetchResult } from '../fetch/types.js';
import { COMMON_OPTIONS, defineCommand, type CommandContext } from './command.js';
import { entryOf, errorOf, fetchEach, onlineBase, ONLINE_OPTIONS, onlineSettings, report, type FetchEntry, type OnlineValues } from './fetch.js';
import { parseCommandLine, UsageError } from './options.js';

export const MIRROR_HELP = `Usage: trustgate mirror [--from SERVER] --to DIR <gun>... [options]

Copies the trust data of each repository from a notary-server into DIR, verified first, in the
layout notary and docker read (DIR/tuf/<gun>/metadata/). Carry DIR across the air gap and run
"trustgate verify --trust-dir DIR <image>" there, offline.

Options:
  --from URL               Notary server to copy from (default: as "trustgate fetch" picks it:
                           $DOCKER_CONTENT_TRUST_SERVER, the config file's entry for the
                           registry, docker's choice)
  --config FILE            Servers per registry, as for "trustgate fetch"
  --to DIR                 Trust directory to write (created if missing; required)
  --state-dir DIR          Trusted-state records of this mirror (default: a directory per DIR
                           under $XDG_STATE_HOME/trustgate/mirrors)
  --tls-ca FILE, --timeout DURATION, --deadline DURATION, --allow-stale DURATION, --now RFC3339,
  --json                   As for "trustgate fetch"
  -h, --help               Show this help

Exit codes: 0 every repository mirrored and verified, 1 a trust or fetch failure, 2 usage error.
`;

const OPTIONS = {
  ...ONLINE_OPTIONS,
  from: { type: 'string' },
  to: { type: 'string' },
  now: COMMON_OPTIONS.now,
  help: COMMON_OPTIONS.help,
  json: { type: 'boolean' },
} as const;

interface MirrorSettings {
  guns: string[];
  to: string;
  values: OnlineValues;
  json: boolean;
}

function settings({ values, positionals }: ReturnType<typeof parseCommandLine<typeof OPTIONS>>): MirrorSettings {
  if (values.server !== undefined) throw new UsageError('mirror takes --from, not --server');
  if (values.from === '') throw new UsageError('--from must not be empty');
  if (values.to === undefined || values.to === '') throw new UsageError('mirror needs --to DIR');
  if (positionals.length === 0) throw new UsageError('mirror needs at least one repository (GUN)');
  const guns = positionals.map((p) => {
    try {
      return parseReference(p).gun;
    } catch (e) {
      throw new UsageError(`${JSON.stringify(p)} is not a repository name: ${(e as Error).message}`);
    }
  });
  const { from, ...rest } = values;
  const online = from === undefined ? rest : { ...rest, server: from };
  onlineSettings(online, process.env); // a bad flag is a usage error now, before anything loads
  return { guns, to: resolve(values.to), values: online, json: values.json === true };
}

type MirrorEngine = typeof import('../trust-dir/reader.js') & typeof import('../fetch/state.js');

async function mirror(s: MirrorSettings, ctx: CommandContext<MirrorEngine>): Promise<number> {
  const online = await onlineBase(s.values, ctx);
  if (typeof online === 'number') return online;
  const base = {
    ...online,
    trustDir: s.to,
    // One mirror's floors must not be another's: a record set per destination.
    stateDir: s.values['state-dir'] ?? join(ctx.engine.defaultStateDir(ctx.env), 'mirrors', encodeURIComponent(s.to)),
    now: ctx.clock(),
  };
  const fetched = await fetchEach(s.guns, base, s.json);
  const results: FetchEntry[] = s.guns.map((gun) => {
    const r = fetched.get(gun) as FetchResult | Error;
    return r instanceof Error ? { ok: false, ref: gun, gun, error: errorOf(r) } : entryOf(gun, r);
  });
  return report('mirror', results, s.json, ctx.env);
}

export const runMirror = defineCommand({
  name: 'mirror',
  options: OPTIONS,
  help: MIRROR_HELP,
  settings,
  load: async () => ({ ...(await import('../trust-dir/reader.js')), ...(await import('../fetch/state.js')) }),
  run: mirror,
});
