/** Flag parsing shared by the commands. Nothing here loads the verifier. */
import { statSync } from 'node:fs';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { TrustError } from '../errors.js';

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

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(?:([Zz])|([+-])(\d{2}):(\d{2}))$/;

/**
 * Parses an RFC 3339 date-time strictly (no `Date.parse` leniency): a full date, a time with
 * optional fraction, and `Z` or a numeric offset. Fractions below a millisecond are dropped.
 */
export function parseRfc3339(text: string): Date {
  const m = RFC3339.exec(text);
  const fail = () => new UsageError(`--now: ${JSON.stringify(text)} is not an RFC 3339 date-time (e.g. 2026-11-27T02:30:55Z)`);
  if (!m) throw fail();
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const probe = new Date(0);
  probe.setUTCFullYear(year, month, 0);
  const daysInMonth = probe.getUTCDate();
  const offHours = m[10] === undefined ? 0 : Number(m[10]);
  const offMinutes = m[11] === undefined ? 0 : Number(m[11]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59 || offHours > 23 || offMinutes > 59) {
    throw fail();
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  const local = new Date(0);
  local.setUTCFullYear(year, month - 1, day); // not Date.UTC: it maps years 0–99 to 1900–1999
  local.setUTCHours(hour, minute, second, ms);
  const sign = m[9] === '-' ? -1 : 1;
  const date = new Date(local.getTime() - sign * (offHours * 60 + offMinutes) * 60_000);
  return date;
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
export const USAGE_CODES: ReadonlySet<string> = new Set(['ERR_INVALID_REFERENCE', 'ERR_INVALID_ARGUMENT', 'ERR_TRUST_DIR_UNREADABLE']);
