/**
 * `--quarantine-url`, `--quarantine-credentials` and `--quarantine-timeout-ms`, shared by `check`
 * and `admission serve`: where a policy's `requireQuarantineVisible` is asked over HTTP.
 */
import { readFileSync } from 'node:fs';
import type { HttpQuarantineReaderOptions, QuarantineCredentials } from '../admission/quarantine-http.js';
import { UsageError } from './options.js';

export const QUARANTINE_OPTIONS = {
  'quarantine-url': { type: 'string' },
  'quarantine-credentials': { type: 'string' },
  'quarantine-timeout-ms': { type: 'string' },
} as const;

type Values = { [K in keyof typeof QUARANTINE_OPTIONS]?: string | undefined };

/** A credentials file: `{"token": "…"}` or `{"username": "…", "password": "…"}`. */
function readCredentials(file: string): QuarantineCredentials {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (e) {
    throw new UsageError(`--quarantine-credentials: cannot read ${file} as JSON: ${(e as Error).message}`);
  }
  const d = (typeof doc === 'object' && doc !== null ? doc : {}) as Record<string, unknown>;
  if (typeof d['token'] === 'string' && d['token'] !== '') return { token: d['token'] };
  if (typeof d['username'] === 'string' && typeof d['password'] === 'string') return { username: d['username'], password: d['password'] };
  throw new UsageError(`--quarantine-credentials: ${file} must hold {"token"} or {"username", "password"}`);
}

/** The reader's options, or undefined without `--quarantine-url`. */
export function quarantineSettings(values: Values): HttpQuarantineReaderOptions | undefined {
  const url = values['quarantine-url'];
  if (url === undefined) {
    const stray = (['quarantine-credentials', 'quarantine-timeout-ms'] as const).find((k) => values[k] !== undefined);
    if (stray !== undefined) throw new UsageError(`--${stray} needs --quarantine-url`);
    return undefined;
  }
  if (!/^https?:\/\/[^/]/.test(url)) throw new UsageError(`--quarantine-url must be an http(s) URL, not ${JSON.stringify(url)}`);
  const t = values['quarantine-timeout-ms'];
  if (t !== undefined && (!/^[0-9]+$/.test(t) || Number(t) < 1 || Number(t) > 60_000)) throw new UsageError('--quarantine-timeout-ms must be an integer from 1 to 60000');
  const file = values['quarantine-credentials'];
  return { url, ...(t === undefined ? {} : { timeoutMs: Number(t) }), ...(file === undefined ? {} : { credentials: readCredentials(file) }) };
}
