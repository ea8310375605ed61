/**
 * The quarantine service: load → pure {@link step} → compare-and-set commit, retried on conflict.
 * The only place that reads the injected clock (quarantine.md §5 Q16: replicas share one store).
 *
 * @module
 */
import { TrustError, isTrustError } from '../errors.js';
import { acrPatchToVerdict } from './acr.js';
import type { AcrPatchRequest } from './acr.js';
import type { AuditDraft } from './events.js';
import { emptyRepository, step } from './machine.js';
import { rejectionAudit } from './rejection.js';
import type { CommandResponse } from './machine.js';
import { parseConfig, repositorySchema } from './schemas.js';
import type { CommandInput, QuarantineConfig, QuarantineConfigInput } from './schemas.js';
import type { QuarantineStore } from './store.js';
import { applyPolicyCommand, effectiveConfig } from './policy-commands.js';
import type { PolicyCommandInput, StoredPolicy } from './policy-commands.js';
import { noteCommitted, reviveState } from './revive.js';
import { unitOfWork } from './store.js';
import type { RepositoryState, VerdictResponse } from './types.js';
import { createView } from './registry-view.js';
import type { QuarantineView } from './registry-view.js';

/**
 * Options for {@link createQuarantineService}.
 *
 * @example
 * ```ts
 * const o: QuarantineServiceOptions = { store: createMemoryStore(), config: { scanners: ['trivy'] }, clock: () => Date.now() };
 * ```
 */
export interface QuarantineServiceOptions {
  readonly store: QuarantineStore;
  readonly config: QuarantineConfigInput;
  /** Epoch milliseconds; defaults to `Date.now`. */
  readonly clock?: () => number;
  /** Attempts per command when a compare-and-set loses a race; default 5. */
  readonly maxAttempts?: number;
}

/**
 * The fields of one command type, without `type`.
 *
 * @example
 * ```ts
 * const p: CommandFields<'push'> = { repository: 'app', digest: 'sha256:ab', principal: { id: 'ci', roles: ['push'] } };
 * ```
 */
export type CommandFields<T extends CommandInput['type']> = Omit<Extract<CommandInput, { type: T }>, 'type'>;

/**
 * The fields of one policy command type, without `type`.
 *
 * @example
 * ```ts
 * const f: PolicyCommandFields<'revokeWaiver'> = { waiverId: 'w-1', reason: 'fixed upstream', principal: { id: 'sec', roles: ['quarantine-admin'] } };
 * ```
 */
export type PolicyCommandFields<T extends PolicyCommandInput['type']> = Omit<Extract<PolicyCommandInput, { type: T }>, 'type'>;

/**
 * The quarantine service a registry calls. Commands throw the {@link TrustError} of a rejection
 * after its audit record is committed.
 *
 * @example
 * ```ts
 * declare const q: QuarantineService;
 * await q.push({ repository: 'app', digest, tag: 'v1', principal: ci });
 * ```
 */
export interface QuarantineService {
  /** The configured policy, as given to {@link createQuarantineService}; see {@link QuarantineService.policy}. */
  readonly config: QuarantineConfig;
  /** The policy in force: the configured one with the stored policy row (policy commands) over it. */
  policy(): Promise<QuarantineConfig>;
  /**
   * Changes configuration fields of the policy (not `policyVersion` or `waivers`) for the whole
   * registry; needs `quarantine-admin`. The policy gets a new version; the change is audited, and
   * every record judged under an older version is re-evaluated before it is next read (Q5).
   * @throws {TrustError} `ERR_UNAUTHORIZED`, `ERR_INVALID_COMMAND` for an invalid policy.
   */
  setPolicy(fields: PolicyCommandFields<'setPolicy'>): Promise<QuarantineConfig>;
  /** Adds a waiver (quarantine-admin); as {@link QuarantineService.setPolicy}. @throws {TrustError} `ERR_CONFLICT` for a known id. */
  addWaiver(fields: PolicyCommandFields<'addWaiver'>): Promise<QuarantineConfig>;
  /** Ends a waiver early (quarantine-admin); as {@link QuarantineService.setPolicy}. @throws {TrustError} `ERR_NOT_FOUND`. */
  revokeWaiver(fields: PolicyCommandFields<'revokeWaiver'>): Promise<QuarantineConfig>;
  /** Runs any command, policy commands included. @throws {TrustError} the rejection's code. */
  execute(command: CommandInput | PolicyCommandInput): Promise<CommandResponse>;
  push(fields: CommandFields<'push'>): Promise<CommandResponse>;
  deleteManifest(fields: CommandFields<'deleteManifest'>): Promise<CommandResponse>;
  deleteTag(fields: CommandFields<'deleteTag'>): Promise<CommandResponse>;
  rescan(fields: CommandFields<'rescan'>): Promise<CommandResponse>;
  /** Posts a verdict; a replayed idempotency key returns the first response with `duplicate: true`. */
  verdict(fields: CommandFields<'verdict'>): Promise<VerdictResponse>;
  release(fields: CommandFields<'release'>): Promise<CommandResponse>;
  revoke(fields: CommandFields<'revoke'>): Promise<CommandResponse>;
  /** Applies deadlines, release lapses and waiver expiries in every repository. */
  tick(): Promise<void>;
  /** Handles an ACR `PATCH /acr/v1/<repo>/_manifests/<digest>`. */
  acrPatch(request: AcrPatchRequest): Promise<VerdictResponse>;
  /**
   * Visibility queries for one repository at `options.now`, or at the service clock's time. A
   * caller that decides a request at a time of its own (admission replaying a request) passes it,
   * so that one decision reads one clock.
   * @throws {TrustError} `ERR_INVALID_ARGUMENT` when `options.now` is not a valid `Date`.
   */
  view(repository: string, options?: ViewOptions): Promise<QuarantineView>;
}

/**
 * Options for {@link QuarantineService.view}.
 *
 * @example
 * ```ts
 * const o: ViewOptions = { now: new Date('2026-01-01T00:00:00Z') };
 * ```
 */
export interface ViewOptions {
  /** The time the view answers at; defaults to the service clock. */
  readonly now?: Date | undefined;
}

const INVALID_REPOSITORY = '-';

/** The repository a command names, or {@link INVALID_REPOSITORY} when it names no valid one. */
function repositoryOf(command: unknown): string {
  const r = typeof command === 'object' && command !== null ? (command as { repository?: unknown }).repository : undefined;
  return repositorySchema.safeParse(r).success ? (r as string) : INVALID_REPOSITORY;
}

function verdictOf(r: CommandResponse): VerdictResponse {
  if (r.verdict === undefined) throw new TrustError('ERR_INVALID_COMMAND', 'not a verdict');
  return r.verdict;
}

/** The epoch milliseconds of a view's `now` option, or the clock's. */
function viewTime(options: ViewOptions | undefined, clock: () => number): number {
  const now = options?.now;
  if (now === undefined) return clock();
  if (!(now instanceof Date) || Number.isNaN(now.getTime()) || now.getTime() < 0) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'view: now must be a valid Date');
  }
  return now.getTime();
}

/** What the service's operations share: the store, the parsed config and the clock. */
interface Core {
  readonly store: QuarantineStore;
  /** The configured policy; the stored policy row, when there is one, applies over it. */
  readonly base: QuarantineConfigInput;
  readonly config: QuarantineConfig;
  /** The configuration of the last policy row read (parsing waivers on every command is costly). */
  cache: { row: StoredPolicy | undefined; config: QuarantineConfig };
  readonly clock: () => number;
  readonly maxAttempts: number;
}

/** The policy in force and the revision of the row it came from (0: none), read together. */
async function policyAndRevision(core: Core): Promise<{ readonly config: QuarantineConfig; readonly revision: number }> {
  const row = core.store.loadPolicy === undefined ? undefined : await core.store.loadPolicy();
  if (row !== core.cache.row && row?.revision !== core.cache.row?.revision) core.cache = { row, config: effectiveConfig(core.base, row) };
  return { config: core.cache.config, revision: row?.revision ?? 0 };
}

/** The policy in force: the stored row over the configured policy (policy-commands.ts). */
async function policyOf(core: Core): Promise<QuarantineConfig> {
  return (await policyAndRevision(core)).config;
}

/** setPolicy, addWaiver, revokeWaiver: pure command, then compare-and-set on the policy row. */
async function executePolicy(core: Core, command: unknown): Promise<QuarantineConfig> {
  const { loadPolicy, commitPolicy } = core.store;
  if (loadPolicy === undefined || commitPolicy === undefined) {
    throw new TrustError('ERR_INVALID_ARGUMENT', 'the store does not implement loadPolicy/commitPolicy');
  }
  return retrying(core, async () => {
    const row = await loadPolicy.call(core.store);
    const r = applyPolicyCommand(core.base, row, command, core.clock());
    await commitPolicy.call(core.store, { row: r.ok ? r.row : undefined, expectedRevision: row?.revision ?? 0, audit: [r.audit] });
    return () => {
      if (!r.ok) throw r.error;
      return r.config;
    };
  });
}

/**
 * Runs `attempt` (load, decide, commit) again while its commit loses a compare-and-set race (Q16),
 * up to `maxAttempts` times; then returns what the committed attempt answers.
 */
async function retrying<T>(core: Core, attempt: () => Promise<() => T>): Promise<T> {
  for (let n = 1; ; n++) {
    let answer: () => T;
    try {
      answer = await attempt();
    } catch (e) {
      if (isTrustError(e) && e.code === 'ERR_CONFLICT' && n < core.maxAttempts) continue;
      throw e;
    }
    return answer();
  }
}

/** The repository as the store hands it out (`raw`, the basis of a unit) and as the core may read it. */
interface Loaded {
  readonly raw: RepositoryState;
  readonly state: RepositoryState;
}

/** An invalid repository is never loaded: it holds nothing. */
async function load(core: Core, repository: string): Promise<Loaded> {
  if (repository === INVALID_REPOSITORY) {
    const empty = emptyRepository(repository);
    return { raw: empty, state: empty };
  }
  const raw = await core.store.load(repository);
  // Issue 12.6: every row read is validated before the core reads it (a corrupt row fails closed);
  // reviveState checks only rows it has not validated before, so a cached state costs nothing.
  return { raw, state: reviveState(raw) };
}

/**
 * load → step → compare-and-set commit, retried on a lost race (Q16). The unit names the state it
 * was decided on, so a store answering `load` from a cache can refuse it when that was stale; a
 * decision that writes nothing is confirmed with such a store instead.
 */
async function execute(core: Core, command: unknown): Promise<CommandResponse> {
  const repository = repositoryOf(command);
  return retrying(core, async () => {
    const before = await load(core, repository);
    const policy = await policyAndRevision(core);
    const result = step(before.state, command, core.clock(), policy.config);
    const unit = unitOfWork(before.state, result);
    const audit = repository === INVALID_REPOSITORY ? unit.audit.map((a): AuditDraft => ({ ...a, repository: undefined })) : unit.audit;
    const guard = { basis: before.raw, after: result.state, policyRevision: policy.revision };
    if (unit.records.length + unit.tags.length + unit.events.length + audit.length > 0) {
      await core.store.commit({ ...unit, audit, ...guard });
      noteCommitted(result.state);
    } else await core.store.confirm?.(guard);
    return () => {
      if (!result.ok) throw result.error;
      return result.response;
    };
  });
}

/** An ACR PATCH: mapped to a verdict, or rejected and audited like any other command (Q4). */
async function acrPatch(core: Core, request: AcrPatchRequest): Promise<VerdictResponse> {
  // Mapping and its rejection retried as a unit: the rejection's audit is guarded like any write.
  const command = await retrying(core, async (): Promise<() => CommandInput> => {
    const { raw, state } = await load(core, repositoryOf(request));
    const { config, revision } = await policyAndRevision(core);
    try {
      const mapped = acrPatchToVerdict(request, {
        legacyLastWriterWins: config.legacyLastWriterWins,
        currentGeneration: state.records.get(request.digest)?.generation,
      });
      return () => mapped;
    } catch (e) {
      if (!isTrustError(e)) throw e;
      const ctx = {
        at: core.clock(),
        repository: state.repository === INVALID_REPOSITORY ? undefined : state.repository,
        policyVersion: config.policyVersion,
        lookup: (digest: string) => state.records.get(digest),
        command: 'acrPatch',
      };
      const audit = rejectionAudit(ctx, request, request.principal, e);
      await core.store.commit({ repository: state.repository, records: [], tags: [], events: [], audit: [audit], basis: raw, policyRevision: revision });
      return () => {
        throw e;
      };
    }
  });
  return verdictOf(await execute(core, command));
}

/**
 * Creates a quarantine service over a store.
 *
 * @throws {TrustError} `ERR_INVALID_ARGUMENT` when the configuration is not valid.
 * @example
 * ```ts
 * import { createQuarantineService, createMemoryStore } from 'trustgate/quarantine';
 * const q = createQuarantineService({ store: createMemoryStore(), config: { scanners: ['trivy'] } });
 * ```
 */
export function createQuarantineService(options: QuarantineServiceOptions): QuarantineService {
  const config = parseConfig(options.config);
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TrustError('ERR_INVALID_ARGUMENT', 'maxAttempts must be ≥ 1');
  const core: Core = { store: options.store, base: options.config, config, clock: options.clock ?? Date.now, maxAttempts, cache: { row: undefined, config } };
  const run = (command: unknown): Promise<CommandResponse> => execute(core, command);
  const POLICY_COMMANDS: ReadonlySet<unknown> = new Set(['setPolicy', 'addWaiver', 'revokeWaiver']);
  const runAny = async (command: unknown): Promise<CommandResponse> => {
    if (!POLICY_COMMANDS.has((command as { type?: unknown } | null)?.type)) return run(command);
    await executePolicy(core, command);
    const type = (command as { type: CommandResponse['command'] }).type;
    return { command: type, digest: undefined, state: undefined, generation: undefined, visible: undefined, verdict: undefined };
  };
  return {
    config,
    execute: runAny,
    push: (f) => run({ type: 'push', ...f }),
    deleteManifest: (f) => run({ type: 'deleteManifest', ...f }),
    deleteTag: (f) => run({ type: 'deleteTag', ...f }),
    rescan: (f) => run({ type: 'rescan', ...f }),
    verdict: async (f) => verdictOf(await run({ type: 'verdict', ...f })),
    release: (f) => run({ type: 'release', ...f }),
    revoke: (f) => run({ type: 'revoke', ...f }),
    async tick() {
      for (const repository of await core.store.repositories()) await run({ type: 'tick', repository });
    },
    acrPatch: (request) => acrPatch(core, request),
    policy: () => policyOf(core),
    setPolicy: (f) => executePolicy(core, { type: 'setPolicy', ...f }),
    addWaiver: (f) => executePolicy(core, { type: 'addWaiver', ...f }),
    revokeWaiver: (f) => executePolicy(core, { type: 'revokeWaiver', ...f }),
    async view(repository, viewOptions) {
      const now = viewTime(viewOptions, core.clock);
      const { state } = await load(core, repositorySchema.safeParse(repository).success ? repository : INVALID_REPOSITORY);
      return createView(state, now, await policyOf(core));
    },
  };
}
