/** Flag parsing shared by the commands. Nothing here loads the verifier. */
import { statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { parseRfc3339 as parseRfc3339Ms } from '../verify/time.js';
import { TrustError, USAGE_ERROR_CODES } from '../errors.js';

/** A command-line problem: exit code 2, message to stderr, nothing on stdout. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandLine<O extends Options>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util reports unknown flags, missing values and the like with ERR_PARSE_ARGS_* codes.
    throw new UsageError((e as Error).message);
  }
}

/**
 * Parses `--now` as strict RFC 3339 with the same parser the verifier applies to `expires`,
 * except that the `T` and `Z` may be lower-case here (RFC 3339 allows it for input).
 */
export function parseRfc3339(text: string): Date {
  const ms = parseRfc3339Ms(text.toUpperCase());
  if (ms === undefined) {
    throw new UsageError(`--now: ${JSON.stringify(text)} is not an RFC 3339 date-time (e.g. 2026-11-27T02:30:55Z)`);
  }
  return new Date(ms);
}

/**
 * Checks a trust directory before any GUN is read. An explicitly given directory must exist; the
 * default one may be missing (then there is simply no trust data). Returns the error every
 * image gets, or undefined.
 */
export function checkTrustDir(dir: string, explicit: boolean): TrustError | undefined {
  try {
    if (!statSync(dir).isDirectory()) {
      return new TrustError('ERR_TRUST_DIR_UNREADABLE', `trust directory ${dir} is not a directory`, { path: dir, check: 'trust directory' });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (!explicit && code === 'ENOENT') return undefined;
    return new TrustError('ERR_TRUST_DIR_UNREADABLE', `cannot read trust directory ${dir}: ${(e as Error).message}`, {
      path: dir,
      check: 'trust directory',
      cause: e,
    });
  }
  return undefined;
}

/** Error codes that mean "the input is wrong" (exit 2) rather than "the image is not trusted" (exit 1). */
export const USAGE_CODES: ReadonlySet<string> = new Set<string>([...USAGE_ERROR_CODES, 'ERR_TRUST_DIR_UNREADABLE']);
