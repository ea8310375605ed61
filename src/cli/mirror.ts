/**
 * `trustgate mirror --from SERVER --to DIR <gun>...`: fetch, verify and commit the trust data of
 * each repository into DIR, in notary's layout, for an air-gapped `verify --trust-dir DIR`.
 */
import { join, resolve } from 'node:path';
import { parseReference } from '../reference/parse.js';
import type { FetchResult } from '../fetch/types.js';
import { entryOf, errorOf, fetchEach, ONLINE_OPTIONS, onlineSettings, report, type FetchEntry } from './fetch.js';
import type { Env } from './format.js';
import { parseCommandLine, parseRfc3339, UsageError } from './options.js';

export const MIRROR_HELP = `Usage: trustgate mirror --from SERVER --to DIR <gun>... [options]

Copies the trust data of each repository from a notary-server into DIR, verified first, in the
layout notary and docker read (DIR/tuf/<gun>/metadata/). Carry DIR across the air gap and run
"trustgate verify --trust-dir DIR <image>" there, offline.

Options:
  --from URL               Notary server to copy from (required)
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
  now: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function runMirror(args: readonly string[], env: Env = process.env): Promise<number> {
  let guns: string[];
  let base: Parameters<typeof fetchEach>[1];
  let json: boolean;
  try {
    const { values, positionals } = parseCommandLine(args, OPTIONS);
    if (values.help === true) {
      process.stdout.write(MIRROR_HELP);
      return 0;
    }
    if (values.server !== undefined) throw new UsageError('mirror takes --from, not --server');
    if (values.from === undefined || values.from === '') throw new UsageError('mirror needs --from SERVER');
    if (values.to === undefined || values.to === '') throw new UsageError('mirror needs --to DIR');
    if (positionals.length === 0) throw new UsageError('mirror needs at least one repository (GUN)');
    guns = positionals.map((p) => {
      try {
        return parseReference(p).gun;
      } catch (e) {
        throw new UsageError(`${JSON.stringify(p)} is not a repository name: ${(e as Error).message}`);
      }
    });
    json = values.json === true;
    const { defaultStateDir } = await import('../fetch/state.js');
    const to = resolve(values.to);
    base = {
      ...onlineSettings({ ...values, server: values.from }, env),
      trustDir: to,
      // One mirror's floors must not be another's: a record set per destination.
      stateDir: values['state-dir'] ?? join(defaultStateDir(env), 'mirrors', encodeURIComponent(to)),
      now: values.now === undefined ? new Date() : parseRfc3339(values.now),
    };
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`trustgate mirror: ${e.message}\nRun "trustgate mirror --help" for usage.\n`);
    return 2;
  }
  const fetched = await fetchEach(guns, base);
  const results: FetchEntry[] = guns.map((gun) => {
    const r = fetched.get(gun) as FetchResult | Error;
    return r instanceof Error ? { ok: false, ref: gun, gun, error: errorOf(r) } : entryOf(gun, r);
  });
  return report('mirror', results, json, env);
}
