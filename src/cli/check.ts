/**
 * `trustgate check <image-ref> --policy FILE`: the admission decision from the shell, for a
 * pre-pull hook. Exit 0 allow, 1 deny, 2 usage.
 */
import { isTrustError } from '../errors.js';
import type { AdmissionDecision } from '../admission/decision.js';
import { COMMON_OPTIONS, defineCommand, type CommandContext } from './command.js';
import { colourEnabled, escapeTerminal, jsonText, paint, type Env } from './format.js';
import { CHECK_HELP } from './help.js';
import { parseCommandLine, USAGE_CODES, UsageError } from './options.js';
import { QUARANTINE_OPTIONS, quarantineSettings } from './quarantine-options.js';

const OPTIONS = {
  ...COMMON_OPTIONS,
  policy: { type: 'string' },
  json: { type: 'boolean' },
  principal: { type: 'string' },
  'break-glass': { type: 'string' },
  'state-dir': { type: 'string' },
  ...QUARANTINE_OPTIONS,
} as const;

type Engine = typeof import('./admission-engine.js');

interface Settings {
  image: string;
  policy: string;
  json: boolean;
  principal: string | undefined;
  breakGlass: string | undefined;
  stateDir: string | undefined;
  quarantine: ReturnType<typeof quarantineSettings>;
}

function settings({ values, positionals }: ReturnType<typeof parseCommandLine<typeof OPTIONS>>): Settings {
  if (positionals.length !== 1) throw new UsageError('check needs exactly one image reference');
  if (values.policy === undefined || values.policy === '') throw new UsageError('--policy FILE is required');
  if (values['break-glass'] !== undefined && values['break-glass'].trim() === '') throw new UsageError('--break-glass needs a reason');
  if (values['state-dir'] === '') throw new UsageError('--state-dir must not be empty');
  return {
    image: positionals[0] as string,
    policy: values.policy,
    json: values.json === true,
    principal: values.principal,
    breakGlass: values['break-glass'],
    stateDir: values['state-dir'],
    quarantine: quarantineSettings(values),
  };
}

/** The decision, or the usage message when the policy, the trust directory or the request is unusable. */
async function decide(s: Settings, ctx: CommandContext<Engine>): Promise<AdmissionDecision | string> {
  const { engine } = ctx;
  try {
    const policy = engine.loadPolicyFile(s.policy);
    if (s.breakGlass !== undefined && policy.breakGlassAnnotation === undefined) return '--break-glass: the policy defines no breakGlass annotation';
    if (ctx.trustDir.error) return ctx.trustDir.error.message;
    return await engine.checkAdmission(
      {
        image: s.image,
        now: ctx.clock(),
        ...(s.principal === undefined ? {} : { principal: { id: s.principal, roles: [] }, requester: { username: s.principal } }),
        ...(s.breakGlass !== undefined && policy.breakGlassAnnotation !== undefined ? { annotations: { [policy.breakGlassAnnotation]: s.breakGlass } } : {}),
      },
      policy,
      // The trusted-state record of `trustgate fetch`, when there is one, is the version floor.
      // Without --quarantine-url a rule that needs quarantine visibility is a usage error (exit 2).
      {
        trust: engine.rememberedTrustSource({ trustDir: ctx.trustDir.path, stateDir: s.stateDir ?? engine.defaultStateDir(ctx.env) }),
        ...(s.quarantine ? { quarantine: engine.httpQuarantineReader(s.quarantine) } : {}),
      },
    );
  } catch (e) {
    if (isTrustError(e)) return e.message;
    throw e;
  }
}

function printHuman(image: string, decision: AdmissionDecision, env: Env): void {
  const p = paint(colourEnabled(process.stdout, env));
  const e = escapeTerminal;
  if (!decision.allowed) {
    process.stdout.write(`${p.red('DENY')}  ${p.bold(e(image))}  ${decision.code}: ${e(decision.reason)}  (rule ${e(decision.rule)})\n`);
    return;
  }
  const roles = decision.signers.map((x) => x.role).join(', ');
  const what = decision.digest ?? '(no digest)';
  process.stdout.write(`${p.green('ALLOW')} ${p.bold(e(image))}  ${what}  rule ${e(decision.rule)}${roles === '' ? '' : `  signed in ${e(roles)}`}\n`);
  if (decision.breakGlass) {
    process.stdout.write(`  break-glass: ${e(decision.breakGlass.reason)} (overrides ${decision.wouldDeny?.code ?? ''}: ${e(decision.wouldDeny?.reason ?? '')})\n`);
  } else if (decision.wouldDeny) {
    process.stdout.write(`  dry-run: would deny ${decision.wouldDeny.code}: ${e(decision.wouldDeny.reason)}\n`);
  }
}

async function checkImage(s: Settings, ctx: CommandContext<Engine>): Promise<number> {
  const decision = await decide(s, ctx);
  if (typeof decision === 'string') return ctx.usage(decision);
  if (s.json) process.stdout.write(`${jsonText(decision)}\n`);
  else printHuman(s.image, decision, ctx.env);
  if (!decision.allowed && USAGE_CODES.has(decision.code)) return ctx.hint();
  return decision.allowed ? 0 : 1;
}

export const runCheck = defineCommand({ name: 'check', options: OPTIONS, help: CHECK_HELP, settings, load: () => import('./admission-engine.js'), run: checkImage });
