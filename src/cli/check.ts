/**
 * `trustgate check <image-ref> --policy FILE`: the admission decision from the shell, for a
 * pre-pull hook. Exit 0 allow, 1 deny, 2 usage.
 */
import { isTrustError } from '../errors.js';
import { colourEnabled, paint, type Env } from './format.js';
import { CHECK_HELP } from './help.js';
import { checkTrustDir, parseCommandLine, parseRfc3339, USAGE_CODES, UsageError } from './options.js';

const OPTIONS = {
  policy: { type: 'string' },
  'trust-dir': { type: 'string' },
  now: { type: 'string' },
  json: { type: 'boolean' },
  principal: { type: 'string' },
  'break-glass': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

interface Settings {
  image: string;
  policy: string;
  trustDir: string | undefined;
  now: Date;
  json: boolean;
  principal: string | undefined;
  breakGlass: string | undefined;
}

function settings(args: readonly string[]): Settings | 'help' {
  const { values, positionals } = parseCommandLine(args, OPTIONS);
  if (values.help === true) return 'help';
  if (positionals.length !== 1) throw new UsageError('check needs exactly one image reference');
  if (values.policy === undefined || values.policy === '') throw new UsageError('--policy FILE is required');
  if (values['trust-dir'] === '') throw new UsageError('--trust-dir must not be empty');
  if (values['break-glass'] !== undefined && values['break-glass'].trim() === '') throw new UsageError('--break-glass needs a reason');
  return {
    image: positionals[0] as string,
    policy: values.policy,
    trustDir: values['trust-dir'],
    now: values.now === undefined ? new Date() : parseRfc3339(values.now),
    json: values.json === true,
    principal: values.principal,
    breakGlass: values['break-glass'],
  };
}

function usage(message: string): number {
  process.stderr.write(`trustgate check: ${message}\nRun "trustgate check --help" for usage.\n`);
  return 2;
}

export async function runCheck(args: readonly string[], env: Env = process.env): Promise<number> {
  let s: Settings | 'help';
  try {
    s = settings(args);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    return usage(e.message);
  }
  if (s === 'help') {
    process.stdout.write(CHECK_HELP);
    return 0;
  }

  const admission = await import('../admission/index.js');
  const { defaultTrustDir } = await import('./engine.js');
  let policy;
  try {
    policy = admission.loadPolicyFile(s.policy);
  } catch (e) {
    if (isTrustError(e)) return usage(e.message);
    throw e;
  }
  if (s.breakGlass !== undefined && policy.breakGlassAnnotation === undefined) {
    return usage('--break-glass: the policy defines no breakGlass annotation');
  }
  const trustDir = s.trustDir ?? defaultTrustDir(env);
  const dirError = checkTrustDir(trustDir, s.trustDir !== undefined);
  if (dirError) return usage(dirError.message);

  let decision;
  try {
    decision = await admission.checkAdmission(
      {
        image: s.image,
        now: s.now,
        ...(s.principal === undefined ? {} : { principal: { id: s.principal, roles: [] } }),
        ...(s.breakGlass !== undefined && policy.breakGlassAnnotation !== undefined
          ? { annotations: { [policy.breakGlassAnnotation]: s.breakGlass } }
          : {}),
      },
      policy,
      // The shell has no quarantine reader: a rule that needs one is a usage error (exit 2).
      { trust: admission.trustDirTrustSource({ trustDir }) },
    );
  } catch (e) {
    if (isTrustError(e)) return usage(e.message);
    throw e;
  }

  const isUsage = !decision.allowed && USAGE_CODES.has(decision.code);
  if (s.json) {
    process.stdout.write(`${JSON.stringify(decision, null, 2)}\n`);
  } else {
    const p = paint(colourEnabled(process.stdout, env));
    if (decision.allowed) {
      const roles = decision.signers.map((x) => x.role).join(', ');
      const what = decision.digest ?? '(no digest)';
      process.stdout.write(`${p.green('ALLOW')} ${p.bold(s.image)}  ${what}  rule ${decision.rule}${roles === '' ? '' : `  signed in ${roles}`}\n`);
      if (decision.breakGlass) {
        process.stdout.write(`  break-glass: ${decision.breakGlass.reason} (overrides ${decision.wouldDeny?.code ?? ''}: ${decision.wouldDeny?.reason ?? ''})\n`);
      } else if (decision.wouldDeny) {
        process.stdout.write(`  dry-run: would deny ${decision.wouldDeny.code}: ${decision.wouldDeny.reason}\n`);
      }
    } else {
      process.stdout.write(`${p.red('DENY')}  ${p.bold(s.image)}  ${decision.code}: ${decision.reason}  (rule ${decision.rule})\n`);
    }
  }
  if (isUsage) {
    process.stderr.write('Run "trustgate check --help" for usage.\n');
    return 2;
  }
  return decision.allowed ? 0 : 1;
}
