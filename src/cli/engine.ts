/**
 * The verifier, as `verify` and `inspect` use it. Loaded by the command runner once the command
 * line is known to be good, so that `--help`, `--version` and usage errors stay cheap.
 */
export { verifyTrustDir, defaultTrustDir } from '../trust-dir/reader.js';
export { lookupTarget, listTargets, allTargetsByName } from '../verify/lookup.js';
export { canonicalKeyId } from '../verify/keys.js';
export { resolveReference } from '../verify/resolve.js';
export { trustDirTrustSource, cachedTrustSource } from '../admission/trust-source.js';
export { defaultStateDir } from '../fetch/state.js';
