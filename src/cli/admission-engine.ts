/**
 * The admission gate, as `check` and `admission serve` use it; loaded by the command runner once
 * the command line is known to be good.
 */
export { defaultTrustDir } from '../trust-dir/reader.js';
export { checkAdmission, createAdmissionServer, loadPolicyFile, policyNeedsQuarantine, rememberedTrustSource, onlineTrustSource, ONLINE_TRUST_DEFAULTS, ADMISSION_SERVER_DEFAULTS, httpQuarantineReader, createVerifierPool, createAdmissionMetrics } from '../admission/index.js';
export { defaultStateDir } from '../fetch/state.js';
