/**
 * One handler per command type (quarantine.md §6 rows, §5 Q4–Q10, Q19): each checks its guards,
 * fires machine events through {@link fire}, and answers with a {@link CommandResponse}. A
 * handler that refuses throws the {@link TrustError} the step turns into a rejection.
 *
 * @module
 */
import { actorOf, reject, requireRecord, requireRole } from './draft.js';
import type { Draft } from './draft.js';
import { fire, openGeneration } from './fire.js';
import type { CommandResponse } from './machine.js';
import { hasRole } from './principals.js';
import type { Command } from './schemas.js';
import { bindOnPush, clearTag, isTagEmpty, unbindDigest } from './tags.js';
import { transition } from './transitions.js';
import type { DigestRecord, NonVisibleState, VerdictResponse } from './types.js';
import { applyVerdict } from './verdict.js';

type CommandOf<T extends Command['type']> = Extract<Command, { type: T }>;
type Handler<T extends Command['type']> = (d: Draft, c: CommandOf<T>) => CommandResponse;

/** The answer to `c`: the state of `digest` after the command. */
function respond(d: Draft, c: Command, digest: string | undefined, verdict?: VerdictResponse): CommandResponse {
  const rec = digest === undefined ? undefined : d.rec(digest);
  return {
    command: c.type,
    digest,
    state: rec?.state,
    generation: rec?.generation,
    visible: digest === undefined ? undefined : d.visible(digest),
    verdict,
  };
}

/** A new manifest: `Quarantined` at generation 1 (quarantine.md §6 row 1). */
function newRecord(d: Draft, c: CommandOf<'push'>): DigestRecord {
  return {
    repository: c.repository,
    digest: c.digest,
    state: 'Quarantined',
    version: 0,
    sequence: 0,
    generation: 1,
    scanOpen: true,
    deadline: d.now + d.config.scanDeadlineMs,
    retries: 0,
    verdictGeneration: undefined,
    unresolvedReason: undefined,
    release: undefined,
    verdicts: [],
    findings: [],
    validUntil: undefined,
    responses: [],
    kind: c.kind,
    children: c.children,
    subject: c.subject,
    mediaType: c.mediaType,
    size: c.size,
    pusher: c.principal.id,
    pushers: [c.principal.id],
    pushedAt: d.now,
    request: c.request,
    deleted: false,
    policyVersion: d.config.policyVersion,
  };
}

/** The record's pushers with `id` added (issue 12: separation of duties checked only the first). */
function withPusher(rec: DigestRecord, id: string): readonly string[] {
  return rec.pushers.includes(id) ? rec.pushers : [...rec.pushers, id];
}

/** Writes the record a push creates, restores or re-pushes; returns whether it was already served. */
function pushRecord(d: Draft, c: CommandOf<'push'>): boolean {
  const actor = actorOf(c.principal, 'push');
  const existing = d.rec(c.digest);
  if (existing !== undefined && !existing.deleted) {
    transition(existing.state, 'push', { onNewFindings: d.config.onNewFindings });
    if (!existing.pushers.includes(c.principal.id)) {
      d.put({ ...existing, pushers: withPusher(existing, c.principal.id) });
      // The record changed (a new pusher, which separation of duties reads): audited like any
      // change (Q22). With a tag, the push handler's tag record below covers it.
      if (c.tag === undefined) d.record(d.now, actor, { digest: c.digest });
    }
    // A plain registry fires `push` for every push (ACR with quarantine disabled: both webhooks).
    // A new or restored manifest gets it from the settle, as it appears; one already served, here.
    if (d.config.status === 'disabled') d.emit(c.digest, 'push', d.now, { tag: c.tag, actor: c.principal.id, request: c.request });
    return true;
  }
  if (existing === undefined) {
    d.put(newRecord(d, c));
    d.record(d.now, actor, { digest: c.digest, tag: c.tag, to: 'Quarantined', generation: 1 });
    d.emit(c.digest, 'quarantine', d.now, { tag: c.tag, actor: c.principal.id, request: c.request });
    return false;
  }
  // Q10: the retained record comes back as it was; re-push never resets a verdict. A record judged
  // under another policy version was already re-evaluated before this command (reevaluate.ts,
  // issue 12.3), so what comes back is what this policy says.
  fire(d, existing, 'push', d.now, actor, () => ({ deleted: false, pushers: withPusher(existing, c.principal.id), request: c.request ?? existing.request }));
  d.emit(c.digest, d.visible(c.digest) ? 'manifest.restored' : 'quarantine', d.now, { tag: c.tag, actor: c.principal.id, request: c.request });
  return false;
}

const push: Handler<'push'> = (d, c) => {
  if (!(hasRole(c.principal, 'push') || (c.subject !== undefined && hasRole(c.principal, 'quarantine-writer')))) {
    reject('ERR_UNAUTHORIZED', `principal ${c.principal.id} may not push`, { expected: 'push' });
  }
  const served = pushRecord(d, c);
  if (c.tag !== undefined) {
    d.putTag(bindOnPush(d.tag(c.tag), c.digest, d.visible(c.digest)));
    if (served) {
      d.record(d.now, actorOf(c.principal, 'push'), { digest: c.digest, tag: c.tag });
      // The binding (live or pending) was decided on this record's state, and a concurrent
      // verdict, release or revoke decides which tags to promote or unbind from the tags it
      // loaded (found by test/quarantine/replicas.test.ts: a release racing a re-push left the
      // tag pending on a released digest).
      d.touch(c.digest);
    }
  }
  return respond(d, c, c.digest);
};

const deleteManifest: Handler<'deleteManifest'> = (d, c) => {
  requireRole(c.principal, 'push');
  const rec = requireRecord(d, c.digest, false);
  fire(d, rec, 'delete', d.now, actorOf(c.principal, 'deleteManifest'), () => ({ deleted: true }));
  d.emit(c.digest, 'manifest.deleted', d.now, { actor: c.principal.id });
  for (const name of d.tagsNaming(c.digest)) {
    const b = d.binding(name);
    if (b !== undefined) d.putTag(unbindDigest(b, c.digest));
  }
  return respond(d, c, c.digest);
};

const deleteTag: Handler<'deleteTag'> = (d, c) => {
  requireRole(c.principal, 'push');
  const b = d.binding(c.tag);
  if (b === undefined || isTagEmpty(b)) reject('ERR_NOT_FOUND', `unknown tag ${c.tag}`);
  d.putTag(clearTag(b));
  d.record(d.now, actorOf(c.principal, 'deleteTag'), { tag: c.tag });
  return respond(d, c, undefined);
};

const rescan: Handler<'rescan'> = (d, c) => {
  requireRole(c.principal, 'quarantine-writer', 'overrider');
  const rec = requireRecord(d, c.digest, true);
  openGeneration(d, rec, actorOf(c.principal, 'rescan', c.reason));
  return respond(d, c, c.digest);
};

const verdict: Handler<'verdict'> = (d, c) => respond(d, c, c.digest, applyVerdict(d, c));

/** Q19: a release needs a reason, a future expiry within the maximum TTL, and (optionally) not the pusher. */
function checkRelease(d: Draft, rec: DigestRecord, c: CommandOf<'release'>): void {
  const { config, now } = d;
  if (config.separationOfDuties && (rec.pusher === c.principal.id || rec.pushers.includes(c.principal.id))) {
    reject('ERR_UNAUTHORIZED', 'separation of duties: a pusher may not release', { check: 'separation of duties' });
  }
  transition(rec.state, 'release', { onNewFindings: config.onNewFindings });
  if (c.expiresAt <= now) reject('ERR_INVALID_COMMAND', 'release expiry is not in the future', { check: 'expiresAt' });
  if (c.expiresAt - now > config.maxReleaseTtlMs) {
    reject('ERR_INVALID_COMMAND', 'release expiry exceeds maxReleaseTtlMs', {
      check: 'expiresAt',
      expected: config.maxReleaseTtlMs,
      actual: c.expiresAt - now,
    });
  }
}

const release: Handler<'release'> = (d, c) => {
  requireRole(c.principal, 'overrider');
  const rec = requireRecord(d, c.digest, false);
  checkRelease(d, rec, c);
  const previous = rec.state as NonVisibleState;
  fire(d, rec, 'release', d.now, actorOf(c.principal, 'release', c.reason), () => ({
    release: { actor: c.principal.id, reason: c.reason, expiresAt: c.expiresAt, previous, at: d.now },
  }));
  return respond(d, c, c.digest);
};

const revoke: Handler<'revoke'> = (d, c) => {
  requireRole(c.principal, 'overrider');
  const rec = requireRecord(d, c.digest, false);
  fire(d, rec, 'revoke', d.now, actorOf(c.principal, 'revoke', c.reason), () => ({
    scanOpen: false,
    deadline: undefined,
    verdictGeneration: rec.generation,
    validUntil: undefined,
  }));
  return respond(d, c, c.digest);
};

const tick: Handler<'tick'> = (d, c) => respond(d, c, undefined);

/** Command type → handler. */
const HANDLERS: { readonly [T in Command['type']]: Handler<T> } = {
  push,
  deleteManifest,
  deleteTag,
  rescan,
  verdict,
  release,
  revoke,
  tick,
};

/**
 * Applies one validated command to the working copy.
 *
 * @throws {TrustError} the rejection's code (the step records it, Q4).
 */
export function applyCommand(d: Draft, c: Command): CommandResponse {
  return (HANDLERS[c.type] as Handler<Command['type']>)(d, c);
}
