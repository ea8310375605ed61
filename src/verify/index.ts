/**
 * The verifier's surface for the rest of trustgate: everything outside the core (trust-dir,
 * admission, cli, reference, quarantine, fetch) reaches TUF rules through this module or the
 * other verify/ files, never tuf/ directly, so that one place decides what the outer layers may
 * rely on. Modules that must stay light (the CLI's option parsing) import time.ts or keys.ts
 * instead, which do not load the verifier.
 */
export { verifyRepository } from './repository.js';
export type * from './types.js';
export { DEFAULT_LIMITS } from './types.js';
export { resolvePins, isResolvedPins } from '../tuf/trust-pinning.js';
/** Role names a trust directory may hold (notary-rules.md §7.8.1). */
export { BASE_ROLES, isDelegationName } from '../tuf/roles.js';
/** How a file over its cap is reported, by the verifier or by a source that sees the size first. */
export { fileTooLarge, type SizeCap } from '../tuf/hashes.js';
export { parseRfc3339 } from './time.js';
export { tufKeyId, canonicalKeyId } from './keys.js';
/** The digests Notary checks file bytes against, for adapters that decide whether a cached copy can be reused. */
export { digest, type HashAlgorithm } from '../crypto/hash.js';
export { checkRootKeyPins } from './root-key-pins.js';
