export { TrustError, isTrustError, ERROR_CODES } from './errors.js';
export type { TrustErrorCode, TrustErrorDetails } from './errors.js';
