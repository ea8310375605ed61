/**
 * What trustgate must report for each tampered copy in vectors/notary-0.7.0/tamper. The real
 * client only says "client is offline" or "could not validate the path to a trusted root"; its
 * debug lines name the same reasons. `null`: the control copy, which must verify.
 */
export const TAMPER_EXPECTED: Readonly<Record<string, { code: string; role: string } | null>> = {
  'control-untouched': null,
  'targets-signed-length': { code: 'ERR_HASH_MISMATCH', role: 'targets' },
  'targets-signed-hash': { code: 'ERR_HASH_MISMATCH', role: 'targets' },
  'targets-signature': { code: 'ERR_HASH_MISMATCH', role: 'targets' },
  'targets-reformatted': { code: 'ERR_METADATA_TOO_LARGE', role: 'targets' },
  'snapshot-signed-expires': { code: 'ERR_HASH_MISMATCH', role: 'snapshot' },
  'timestamp-signed-expires': { code: 'ERR_THRESHOLD_NOT_MET', role: 'timestamp' },
  'timestamp-signature': { code: 'ERR_THRESHOLD_NOT_MET', role: 'timestamp' },
  'root-signed-expires': { code: 'ERR_THRESHOLD_NOT_MET', role: 'root' },
  'root-signature': { code: 'ERR_THRESHOLD_NOT_MET', role: 'root' },
  'root-foreign': { code: 'ERR_THRESHOLD_NOT_MET', role: 'timestamp' },
  'timestamp-missing': { code: 'ERR_METADATA_NOT_FOUND', role: 'timestamp' },
  'targets-missing': { code: 'ERR_METADATA_NOT_FOUND', role: 'targets' },
  'delegation-releases-signed-length': { code: 'ERR_HASH_MISMATCH', role: 'targets/releases' },
  'delegation-releases-signature': { code: 'ERR_HASH_MISMATCH', role: 'targets/releases' },
  'delegation-releases-missing': { code: 'ERR_METADATA_NOT_FOUND', role: 'targets/releases' },
};
