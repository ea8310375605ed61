/**
 * Webhook delivery from the machine's outbox (quarantine.md §4 "Event emission": exactly-once
 * effect, at-least-once delivery, dedupe by event id). ACR-shaped `quarantine` and `push`
 * payloads (§1.6) are POSTed in outbox order to every configured URL that subscribed to the
 * action, signed with `X-Trustgate-Signature: sha256=<hex HMAC-SHA256(secret, body)>`; an event
 * is acknowledged only once every subscriber answered 2xx, and a failure is retried with
 * exponential backoff, holding later events back so that order is kept.
 *
 * What is pending lives in the store's outbox, not here: a gateway killed mid-retry redelivers
 * every unacknowledged event when it starts again on the same store (test/gateway/cli.test.ts).
 * The only memory state is which subscribers of the event at the head already took it, so after
 * a restart those get it again: receivers de-duplicate by the payload `id`, which is also the
 * `X-Trustgate-Event-Id` header and is the same on every attempt (a UUID of repository, digest
 * and per-digest sequence, events.ts).
 *
 * @module
 */
import { createHmac } from 'node:crypto';
import type { QuarantineStore, OutboxEntry } from '../quarantine/store.js';
import type { WebhookConfig } from './config.js';

/** The signature header a receiver checks. */
export const SIGNATURE_HEADER = 'X-Trustgate-Signature';

/** `sha256=<hex>` of `body` under `secret`: what a receiver recomputes and compares in constant time. */
export function signWebhook(secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** Options of {@link createWebhookDispatcher}. */
export interface WebhookOptions {
  readonly store: QuarantineStore;
  readonly hooks: readonly WebhookConfig[];
  /** Polling period for events committed without a kick (deadlines, ticks); default 1000 ms. */
  readonly pollMs?: number;
  /** First retry delay, doubled per failure up to 30 s; default 250 ms. */
  readonly backoffMs?: number;
  /** Per-request timeout; default 5000 ms. */
  readonly timeoutMs?: number;
}

/** Delivers the outbox; see the module comment. */
export interface WebhookDispatcher {
  /** Delivers soon (after a commit). */
  kick(): void;
  /** Delivers everything pending now; resolves false when a delivery failed (it stays pending). */
  drain(): Promise<boolean>;
  stop(): void;
}

async function post(hook: WebhookConfig, entry: OutboxEntry, timeoutMs: number): Promise<boolean> {
  const body = JSON.stringify(entry.event.acr);
  try {
    const r = await fetch(hook.url, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', [SIGNATURE_HEADER]: signWebhook(hook.secret, body), 'X-Trustgate-Event-Id': entry.event.id },
      body,
      signal: AbortSignal.timeout(timeoutMs),
    });
    await r.arrayBuffer().catch(() => undefined);
    return r.ok;
  } catch {
    return false;
  }
}

/** The hooks (by index) that want `entry`. */
function subscribers(hooks: readonly WebhookConfig[], entry: OutboxEntry): number[] {
  const action = entry.event.acr?.action;
  return action === undefined ? [] : hooks.flatMap((h, i) => (h.events.includes(action) ? [i] : []));
}

/** One pass over the pending events: deliver in order, acknowledge what every subscriber took. */
async function deliverPending(o: WebhookOptions, delivered: Set<string>): Promise<boolean> {
  for (;;) {
    const pending = await o.store.pendingEvents(100);
    if (pending.length === 0) return true;
    const acked: number[] = [];
    for (const entry of pending) {
      for (const i of subscribers(o.hooks, entry)) {
        const key = `${entry.event.id}#${i}`;
        if (delivered.has(key)) continue;
        if (!(await post(o.hooks[i] as WebhookConfig, entry, o.timeoutMs ?? 5000))) {
          if (acked.length > 0) await o.store.acknowledgeEvents(acked);
          return false;
        }
        delivered.add(key);
      }
      acked.push(entry.position);
      for (const i of subscribers(o.hooks, entry)) delivered.delete(`${entry.event.id}#${i}`);
    }
    await o.store.acknowledgeEvents(acked);
  }
}

/**
 * Starts delivering the outbox of `store` to `hooks`.
 *
 * @example
 * ```ts
 * const d = createWebhookDispatcher({ store, hooks: config.webhooks });
 * await q.push(…); d.kick();
 * ```
 */
export function createWebhookDispatcher(o: WebhookOptions): WebhookDispatcher {
  const delivered = new Set<string>();
  let failures = 0;
  let running: Promise<boolean> | undefined;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;
  const schedule = (ms: number) => {
    if (stopped) return;
    clearTimeout(timer);
    timer = setTimeout(() => void drain(), ms);
    timer.unref();
  };
  const drain = async (): Promise<boolean> => {
    while (running !== undefined) await running;
    running = deliverPending(o, delivered).catch(() => false);
    const ok = await running;
    running = undefined;
    failures = ok ? 0 : failures + 1;
    schedule(ok ? (o.pollMs ?? 1000) : Math.min((o.backoffMs ?? 250) * 2 ** (failures - 1), 30_000));
    return ok;
  };
  schedule(0);
  return {
    kick: () => {
      if (failures === 0) schedule(0);
    },
    drain,
    stop: () => {
      stopped = true;
      clearTimeout(timer);
    },
  };
}
