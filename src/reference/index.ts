/** Docker image reference parsing and normalisation (GUN, tag, digest). */
export { parseReference, formatReference, isValidTag } from './parse.js';
export type { ImageReference } from './parse.js';
