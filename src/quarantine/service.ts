/**
 * The quarantine service: load → pure {@link step} → compare-and-set commit, retried on conflict.
 * The only place that reads the injected clock.
 *
 * @module
 */
import { TrustError, isTrustError } from '../errors.js';
import { acrPatchToVerdict } from './acr.js';
import type { AcrPatchRequest } from './acr.js';
import type { AuditDraft } from './events.js';
import { emptyRepository, rejectionAudit, step } from './machine.js';
import type { CommandResponse } from './machine.js';
import { parseConfig, repositorySchema } from './schemas.js';
import type { CommandInput, QuarantineConfig, QuarantineConfigInput } from './schemas.js';
import type { QuarantineStore } from './store.js';
import { unitOfWork } from './store.js';
import type { RepositoryState, VerdictResponse } from './types.js';
import { createView } from './visibility.js';
import type { QuarantineView } from './visibility.js';

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
  readonly config: QuarantineConfig;
  /** Runs any command. @throws {TrustError} the rejection's code. */
  execute(command: CommandInput): Promise<CommandResponse>;
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
  /** Visibility queries for one repository at the clock's current time. */
  view(repository: string): Promise<QuarantineView>;
}

const INVALID_REPOSITORY = '-';

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
  const { store } = options;
  const clock = options.clock ?? Date.now;
  const maxAttempts = options.maxAttempts ?? 5;
  if (!Number.isInteger(maxAttempts) || maxAttempts < 1) throw new TrustError('ERR_INVALID_ARGUMENT', 'maxAttempts must be ≥ 1');

  const repositoryOf = (command: unknown): string => {
    const r = typeof command === 'object' && command !== null ? (command as { repository?: unknown }).repository : undefined;
    return repositorySchema.safeParse(r).success ? (r as string) : INVALID_REPOSITORY;
  };

  /** An invalid repository is never loaded: it holds nothing. */
  const load = async (repository: string): Promise<RepositoryState> => (repository === INVALID_REPOSITORY ? emptyRepository(repository) : store.load(repository));

  const execute = async (command: unknown): Promise<CommandResponse> => {
    const repository = repositoryOf(command);
    for (let attempt = 1; ; attempt++) {
      const before = await load(repository);
      const result = step(before, command, clock(), config);
      const unit = unitOfWork(before, result);
      const audit =
        repository === INVALID_REPOSITORY ? unit.audit.map((a): AuditDraft => ({ ...a, repository: undefined })) : unit.audit;
      try {
        if (unit.records.length + unit.tags.length + unit.events.length + audit.length > 0) {
          await store.commit({ ...unit, audit });
        }
      } catch (e) {
        if (isTrustError(e) && e.code === 'ERR_CONFLICT' && attempt < maxAttempts) continue;
        throw e;
      }
      if (!result.ok) throw result.error;
      return result.response;
    }
  };

  const verdictOf = (r: CommandResponse): VerdictResponse => {
    if (r.verdict === undefined) throw new TrustError('ERR_INVALID_COMMAND', 'not a verdict');
    return r.verdict;
  };

  const service: QuarantineService = {
    config,
    execute,
    push: (f) => execute({ type: 'push', ...f }),
    deleteManifest: (f) => execute({ type: 'deleteManifest', ...f }),
    deleteTag: (f) => execute({ type: 'deleteTag', ...f }),
    rescan: (f) => execute({ type: 'rescan', ...f }),
    verdict: async (f) => verdictOf(await execute({ type: 'verdict', ...f })),
    release: (f) => execute({ type: 'release', ...f }),
    revoke: (f) => execute({ type: 'revoke', ...f }),
    async tick() {
      for (const repository of await store.repositories()) await execute({ type: 'tick', repository });
    },
    async acrPatch(request) {
      const state = await load(repositoryOf(request));
      let command: CommandInput;
      try {
        command = acrPatchToVerdict(request, {
          legacyLastWriterWins: config.legacyLastWriterWins,
          currentGeneration: state.records.get(request.digest)?.generation,
        });
      } catch (e) {
        if (!isTrustError(e)) throw e;
        // Q4: a malformed PATCH is rejected and audited like any other command.
        const audit = rejectionAudit(
          {
            at: clock(),
            repository: state.repository === INVALID_REPOSITORY ? undefined : state.repository,
            policyVersion: config.policyVersion,
            lookup: (digest) => state.records.get(digest),
            command: 'acrPatch',
          },
          request,
          request.principal,
          e,
        );
        await store.commit({ repository: state.repository, records: [], tags: [], events: [], audit: [audit] });
        throw e;
      }
      return verdictOf(await execute(command));
    },
    async view(repository) {
      return createView(await store.load(repository), clock(), config);
    },
  };
  return service;
}
