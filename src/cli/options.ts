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

export type Options = NonNullable<ParseArgsConfig['options']>;

export function parseCommandLine<O extends Options>(args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    // node:util reports unknown flags, missing values and the like with ERR_PARSE_ARGS_* codes.
    throw new UsageError((e as Error).message);
  }
}

/**
 * Parses `--now` as strict RFC 3339 with the same parser the verifier applies to `expires`
 * (notary-rules.md §7.11), except that the `T` and `Z` may be lower-case here (RFC 3339 allows it
 * for input). The message names what was given, and says so when it looks like the image
 * reference that `--now` took as its value (`--now acme/app:v1`).
 */
export function parseRfc3339(text: string): Date {
  const ms = parseRfc3339Ms(text.toUpperCase());
  if (ms === undefined) {
    const swallowed = looksLikeImage(text) ? ' (it looks like an image reference: --now takes the next argument as its value)' : '';
    throw new UsageError(`--now: ${JSON.stringify(text)} is not an RFC 3339 date-time (e.g. 2026-11-27T02:30:55Z)${swallowed}`);
  }
  return new Date(ms);
}

/** `acme/app:v1`, `alpine:3.19`, `x@sha256:…`: what `--now` swallows when its value is left out. */
const looksLikeImage = (text: string) => /[/@]/.test(text) || /^[a-z0-9]+(?:[._-][a-z0-9]+)*:[\w][\w.-]*$/.test(text);

/** Where the trust directory of a run came from. */
export type TrustDirOrigin = '--trust-dir' | 'DOCKER_CONFIG' | 'default';

/**
 * Checks a trust directory before any GUN is read. A directory the user named, by `--trust-dir`
 * or through `DOCKER_CONFIG`, must exist: a missing one is an input error (exit 2) either way.
 * Only the built-in default, `~/.docker/trust`, may be missing; then there is simply no trust
 * data (notary-rules.md §9.1). Returns the error every image gets, or undefined.
 */
export function checkTrustDir(dir: string, origin: TrustDirOrigin): TrustError | undefined {
  const named = origin === 'default' ? '' : ` (from ${origin})`;
  try {
    if (!statSync(dir).isDirectory()) {
      return new TrustError('ERR_TRUST_DIR_UNREADABLE', `trust directory ${dir}${named} is not a directory`, { path: dir, check: 'trust directory' });
    }
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (origin === 'default' && code === 'ENOENT') return undefined;
    return new TrustError('ERR_TRUST_DIR_UNREADABLE', `cannot read trust directory ${dir}${named}: ${(e as Error).message}`, {
      path: dir,
      check: 'trust directory',
      cause: e,
    });
  }
  return undefined;
}

/** Error codes that mean "the input is wrong" (exit 2) rather than "the image is not trusted" (exit 1). */
export const USAGE_CODES: ReadonlySet<string> = new Set<string>([...USAGE_ERROR_CODES, 'ERR_TRUST_DIR_UNREADABLE']);
