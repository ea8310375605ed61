/**
 * `trustgate admission serve --policy FILE --tls-cert FILE --tls-key FILE [--port N]`: the
 * Kubernetes admission webhook over HTTPS (`/validate`, `/mutate`, `/healthz`).
 */
import { readFileSync } from 'node:fs';
import { isTrustError } from '../errors.js';
import type { Env } from './format.js';
import { ADMISSION_SERVE_HELP } from './help.js';
import { checkTrustDir, parseCommandLine, UsageError } from './options.js';

const OPTIONS = {
  policy: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  port: { type: 'string' },
  host: { type: 'string' },
  'trust-dir': { type: 'string' },
  'max-body-bytes': { type: 'string' },
  'timeout-ms': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

function usage(message: string): number {
  process.stderr.write(`trustgate admission serve: ${message}\nRun "trustgate admission serve --help" for usage.\n`);
  return 2;
}

function boundedInt(name: string, text: string | undefined, fallback: number, min: number, max: number): number {
  if (text === undefined) return fallback;
  if (!/^[0-9]+$/.test(text) || Number(text) < min || Number(text) > max) throw new UsageError(`--${name} must be an integer from ${min} to ${max}`);
  return Number(text);
}

export async function runAdmissionServe(args: readonly string[], env: Env = process.env): Promise<number> {
  let values;
  let port: number;
  let maxBodyBytes: number | undefined;
  let timeoutMs: number | undefined;
  try {
    const parsed = parseCommandLine(args, OPTIONS);
    values = parsed.values;
    if (values.help === true) {
      process.stdout.write(ADMISSION_SERVE_HELP);
      return 0;
    }
    if (parsed.positionals.length > 0) throw new UsageError(`unexpected argument ${JSON.stringify(parsed.positionals[0])}`);
    for (const f of ['policy', 'tls-cert', 'tls-key'] as const) {
      if (values[f] === undefined || values[f] === '') throw new UsageError(`--${f} FILE is required`);
    }
    port = boundedInt('port', values.port, 8443, 0, 65535); // 0: any free port
    maxBodyBytes = values['max-body-bytes'] === undefined ? undefined : boundedInt('max-body-bytes', values['max-body-bytes'], 0, 1, 64 * 1024 * 1024);
    timeoutMs = values['timeout-ms'] === undefined ? undefined : boundedInt('timeout-ms', values['timeout-ms'], 0, 1, 60_000);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usage(e.message);
  }

  const admission = await import('../admission/index.js');
  const { defaultTrustDir } = await import('./engine.js');
  let cert: Buffer;
  let key: Buffer;
  try {
    cert = readFileSync(values['tls-cert'] as string);
    key = readFileSync(values['tls-key'] as string);
  } catch (e) {
    return usage(`cannot read TLS files: ${(e as Error).message}`);
  }
  let policy;
  try {
    policy = admission.loadPolicyFile(values.policy as string);
  } catch (e) {
    if (isTrustError(e)) return usage(e.message);
    throw e;
  }
  if (admission.policyNeedsQuarantine(policy)) {
    return usage('the policy requires quarantine visibility, which needs a quarantine reader; use createAdmissionServer from the library');
  }
  const trustDir = values['trust-dir'] ?? defaultTrustDir(env);
  const dirError = checkTrustDir(trustDir, values['trust-dir'] !== undefined);
  if (dirError) return usage(dirError.message);

  let server;
  try {
    server = admission.createAdmissionServer({
      policy,
      sources: { trust: admission.trustDirTrustSource({ trustDir }) },
      tls: { cert, key },
      ...(maxBodyBytes === undefined ? {} : { maxBodyBytes }),
      ...(timeoutMs === undefined ? {} : { timeoutMs }),
    });
  } catch (e) {
    return usage(`cannot start: ${(e as Error).message}`);
  }
  const host = values.host ?? '0.0.0.0';
  return new Promise<number>((resolve) => {
    server.once('error', (e) => {
      process.stderr.write(`trustgate admission serve: ${e.message}\n`);
      resolve(1);
    });
    server.listen(port, host, () => {
      const addr = server.address();
      const bound = typeof addr === 'object' && addr !== null ? addr.port : port;
      process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg: 'listening', host, port: bound })}\n`);
    });
    const stop = () => {
      server.close(() => resolve(0));
      server.closeAllConnections();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
