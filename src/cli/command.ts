/**
 * The one command runner behind `verify`, `inspect`, `check` and `admission serve`: it parses the
 * command line, answers `--help`, reports usage errors (exit 2, `Run "trustgate X --help" for
 * usage.`), reads `--now` into the run's one clock, picks and checks the trust directory, and
 * only then loads the verifier, so that help and usage errors stay cheap.
 */
import { escapeTerminal, type Env } from './format.js';
import { checkTrustDir, parseCommandLine, parseRfc3339, UsageError, type Options, type TrustDirOrigin } from './options.js';
import type { TrustError } from '../errors.js';

/** The flags every command takes; a command's own options spread these in. */
export const COMMON_OPTIONS = {
  'trust-dir': { type: 'string' },
  now: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Parsed<O extends Options> = ReturnType<typeof parseCommandLine<O>>;

/** The trust directory of a run: its path, where it came from, and why it cannot be used. */
export interface TrustDirChoice {
  path: string;
  origin: TrustDirOrigin;
  /** Set when the directory cannot be read; every image gets this error. */
  error: TrustError | undefined;
}

/** What a command's `run` is given. */
export interface CommandContext<E> {
  /** The lazily loaded implementation. */
  engine: E;
  env: Env;
  /**
   * The edge clock: `--now` when given, else the current time. One-shot commands read it once;
   * a server reads it per request.
   */
  clock: () => Date;
  trustDir: TrustDirChoice;
  /** Prints `trustgate <name>: <message>` and the help hint to stderr; returns 2. */
  usage(message: string): number;
  /** Prints only the help hint (after output that already explains the problem); returns 2. */
  hint(): number;
}

/** What every engine offers: docker's default trust directory (notary-rules.md §9.1). */
export interface Engine {
  defaultTrustDir(env: Env): string;
}

export interface CommandSpec<O extends Options, S, E extends Engine> {
  /** `verify`, `admission serve`, … */
  name: string;
  /** The command's flags, including {@link COMMON_OPTIONS}. */
  options: O;
  help: string;
  /** Checks the parsed command line and builds the settings; throws {@link UsageError}. */
  settings(parsed: Parsed<O>): S;
  /** Loads the implementation, once the command line is known to be good. */
  load(): Promise<E>;
  run(settings: S, ctx: CommandContext<E>): Promise<number>;
}

interface CommonValues {
  'trust-dir'?: string | undefined;
  now?: string | undefined;
  help?: boolean | undefined;
}

/** Prints to stderr with untrusted text escaped for the terminal. */
export function warn(text: string): void {
  process.stderr.write(`${escapeTerminal(text)}\n`);
}

/**
 * Builds a command's entry point from its spec.
 *
 * @example
 * ```ts
 * export const runVerify = defineCommand({ name: 'verify', options, help, settings, load: () => import('./engine.js'), run });
 * ```
 */
export function defineCommand<O extends Options, S, E extends Engine>(spec: CommandSpec<O, S, E>): (args: readonly string[], env?: Env) => Promise<number> {
  const hint = () => {
    process.stderr.write(`Run "trustgate ${spec.name} --help" for usage.\n`);
    return 2;
  };
  const usage = (message: string) => {
    warn(`trustgate ${spec.name}: ${message}`);
    return hint();
  };
  return async (args, env = process.env) => {
    let settings: S;
    let clock: () => Date;
    let common: CommonValues;
    try {
      const parsed = parseCommandLine(args, spec.options);
      common = parsed.values as CommonValues;
      if (common.help === true) {
        process.stdout.write(spec.help);
        return 0;
      }
      if (common['trust-dir'] === '') throw new UsageError('--trust-dir must not be empty');
      // Before the command's own checks: `--now acme/app:v1` must be reported as a bad --now,
      // not as a missing image.
      clock = edgeClock(common.now);
      settings = spec.settings(parsed);
    } catch (e) {
      if (!(e instanceof UsageError)) throw e;
      return usage(e.message);
    }
    const engine = await spec.load();
    const trustDir = chooseTrustDir(common['trust-dir'], env, engine);
    return spec.run(settings, { engine, env, clock, trustDir, usage, hint });
  };
}

/** The one place the CLI defaults its clock. */
function edgeClock(now: string | undefined): () => Date {
  if (now === undefined) return () => new Date();
  const fixed = parseRfc3339(now);
  return () => fixed;
}

function chooseTrustDir(flag: string | undefined, env: Env, engine: Engine): TrustDirChoice {
  const config = env['DOCKER_CONFIG'];
  const origin: TrustDirOrigin = flag !== undefined ? '--trust-dir' : config !== undefined && config !== '' ? 'DOCKER_CONFIG' : 'default';
  const path = flag ?? engine.defaultTrustDir(env);
  return { path, origin, error: checkTrustDir(path, origin) };
}
