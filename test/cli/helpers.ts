/** Runs the built CLI (`dist/cli.js`) as a child process and loads the real-Notary vectors. */
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = fileURLToPath(new URL('../../', import.meta.url));
export const CLI = join(ROOT, 'dist', 'cli.js');
export const VECTORS = join(ROOT, 'vectors', 'notary-0.7.0');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node dist/cli.js ...args`. The environment is scrubbed of colour switches and points
 * DOCKER_CONFIG at a directory that does not exist, so the real ~/.docker is never read.
 */
export function run(args: readonly string[], env: Record<string, string> = {}, nodeArgs: readonly string[] = []): Run {
  const r = spawnSync(process.execPath, [...nodeArgs, CLI, ...args], { encoding: 'utf8', env: cliEnv(env), timeout: 20_000 });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function cliEnv(env: Record<string, string>): Record<string, string> {
  const base: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (v !== undefined && !['NO_COLOR', 'FORCE_COLOR', 'DOCKER_CONFIG', 'NODE_OPTIONS', 'TERM'].includes(k)) base[k] = v;
  }
  base['DOCKER_CONFIG'] = join(ROOT, 'test', 'cli', 'fixtures', 'no-such-docker-config');
  base['TERM'] = 'xterm';
  return { ...base, ...env };
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * Runs the CLI on a real pseudo-terminal (util-linux `script`), for what only a terminal shows:
 * colour decisions. Returns what the terminal received (stdout and stderr together, CRLF line ends).
 */
export function onTerminal(args: readonly string[], env: Record<string, string>): string {
  const command = [process.execPath, CLI, ...args].map(shellQuote).join(' ');
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8', env: cliEnv(env), timeout: 20_000 });
  if (r.error) throw r.error;
  return r.stdout.replace(/\r\n/g, '\n');
}

/** `verify --json` output. */
export interface VerifyDoc {
  ok: boolean;
  results: Array<
    | { ok: true; ref: string; gun: string; tag: string; tags?: string[]; digest: string; length: number; role: string; signers: string[] }
    | { ok: false; ref: string; gun: string | null; tag: string | null; error: { code: string; message: string; role?: string } }
  >;
}

export function parseJson<T>(r: Run): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`stdout is not one JSON document (exit ${r.code}):\n${r.stdout}\nstderr:\n${r.stderr}`);
  }
}

export interface ListedTarget {
  name: string;
  sha256: string;
  length: number;
  role: string;
}

export interface Scenario {
  name: string;
  dir: string;
  trustDir: string;
  gun: string;
  now: string;
  /** `notary list`: name → what notary's default lookup resolves. */
  targets: Record<string, { sha256: string; length: number; role: string }>;
  /** `notary list --roles <role>` per delegation role. */
  byRole: Record<string, ListedTarget[]>;
  /** Every entry in the metadata, computed from the files. */
  targetsByRole: Record<string, Record<string, { sha256: string; length: number }>>;
  facts: {
    files: Record<string, { signatures: { keyid: string; valid: boolean }[]; roles?: Record<string, { keyids: string[] }> }>;
    keys: Record<string, { canonical_public_key_id: string }>;
  };
}

export function scenarios(): Scenario[] {
  return readdirSync(VECTORS, { withFileTypes: true })
    .filter((d) => d.isDirectory() && existsSync(join(VECTORS, d.name, 'expected.json')))
    .map((d) => {
      const dir = join(VECTORS, d.name);
      const e = JSON.parse(readFileSync(join(dir, 'expected.json'), 'utf8')) as {
        gun: string;
        generated_at: string;
        targets: Scenario['targets'];
        notary_list_by_role: Scenario['byRole'];
        targets_by_role: Scenario['targetsByRole'];
      };
      const facts = JSON.parse(readFileSync(join(dir, 'metadata-facts.json'), 'utf8')) as Scenario['facts'];
      return {
        name: d.name,
        dir,
        trustDir: join(dir, 'trust'),
        gun: e.gun,
        now: e.generated_at,
        targets: e.targets,
        byRole: e.notary_list_by_role,
        targetsByRole: e.targets_by_role,
        facts,
      };
    });
}

/** docker's tag grammar: a name that cannot be written as `repo:tag` cannot be verified by tag. */
export const isDockerTag = (name: string) => /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/.test(name);

/** Reads a metadata file of a scenario's trust directory. */
export function metadata(s: Scenario, role: string): { signed: Record<string, unknown> } {
  return JSON.parse(readFileSync(join(s.trustDir, 'tuf', ...s.gun.split('/'), 'metadata', `${role}.json`), 'utf8')) as {
    signed: Record<string, unknown>;
  };
}
