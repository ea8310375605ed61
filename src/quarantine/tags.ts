/**
 * Tag bindings: a live binding (what ordinary users resolve) and a pending binding (the newest
 * push, waiting for its digest to become visible). ACR design spec "quarantine tag", made exact.
 *
 * @module
 */
import type { TagBinding } from './types.js';

/**
 * A tag row that has never been pushed.
 *
 * @example
 * ```ts
 * import { emptyTag } from './tags.js';
 * emptyTag('app', 'v1').live; // undefined
 * ```
 */
export function emptyTag(repository: string, tag: string): TagBinding {
  return { repository, tag, version: 0, live: undefined, pending: undefined, pushes: 0 };
}

/**
 * Records a push of `tag → digest`. A visible digest becomes live at once and drops any older
 * pending binding; a non-visible one only replaces the pending binding (Q8: the live binding is
 * untouched, so ordinary users keep resolving what they resolved before).
 *
 * @example
 * ```ts
 * import { bindOnPush, emptyTag } from './tags.js';
 * const t = bindOnPush(emptyTag('app', 'v1'), 'sha256:ab', false);
 * t.pending?.digest; // 'sha256:ab'
 * ```
 */
export function bindOnPush(binding: TagBinding, digest: string, visible: boolean): TagBinding {
  const push = binding.pushes + 1;
  if (visible) return { ...binding, pushes: push, live: { digest, push }, pending: undefined };
  return { ...binding, pushes: push, pending: { digest, push } };
}

/**
 * Promotes the pending binding if it names `digest`. Because every newer push replaces or clears
 * the pending binding, a pending binding is by construction the newest push for its tag (Q9).
 *
 * @example
 * ```ts
 * import { bindOnPush, emptyTag, promote } from './tags.js';
 * promote(bindOnPush(emptyTag('app', 'v1'), 'sha256:ab', false), 'sha256:ab').live?.digest; // 'sha256:ab'
 * ```
 */
export function promote(binding: TagBinding, digest: string): TagBinding {
  if (binding.pending?.digest !== digest) return binding;
  return { ...binding, live: binding.pending, pending: undefined };
}

/**
 * Drops both bindings if they name `digest` (the manifest was deleted).
 *
 * @example
 * ```ts
 * import { unbindDigest, bindOnPush, emptyTag } from './tags.js';
 * unbindDigest(bindOnPush(emptyTag('app', 'v1'), 'sha256:ab', true), 'sha256:ab').live; // undefined
 * ```
 */
export function unbindDigest(binding: TagBinding, digest: string): TagBinding {
  const live = binding.live?.digest === digest ? undefined : binding.live;
  const pending = binding.pending?.digest === digest ? undefined : binding.pending;
  if (live === binding.live && pending === binding.pending) return binding;
  return { ...binding, live, pending };
}

/**
 * Clears a tag (the row is kept so that its version keeps growing).
 *
 * @example
 * ```ts
 * import { clearTag, bindOnPush, emptyTag } from './tags.js';
 * clearTag(bindOnPush(emptyTag('app', 'v1'), 'sha256:ab', true)).live; // undefined
 * ```
 */
export function clearTag(binding: TagBinding): TagBinding {
  return { ...binding, live: undefined, pending: undefined };
}

/**
 * True when the row binds nothing.
 *
 * @example
 * ```ts
 * import { isTagEmpty, emptyTag } from './tags.js';
 * isTagEmpty(emptyTag('app', 'v1')); // true
 * ```
 */
export function isTagEmpty(binding: TagBinding): boolean {
  return binding.live === undefined && binding.pending === undefined;
}
