/**
 * Strict RFC 3339, as the verifier reads `expires` (notary-rules.md §2.2, §7.11), for outer
 * layers that read times the same way (`--now`). A module of its own so that loading it does not
 * load the verifier.
 */
export { parseRfc3339 } from '../tuf/time.js';
