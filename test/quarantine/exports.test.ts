/**
 * `trustgate/quarantine` exports what a registry server needs (issue 11): the service, the memory
 * store and the row revive functions, configuration, the closed vocabularies, the ACR mapping and
 * errors. The pure core (step, the transition table, tag helpers, command schemas, id derivation)
 * is internal; tests import it from its modules.
 */
import { describe, expect, it } from 'vitest';
import * as quarantine from '../../src/quarantine/index.js';

describe('trustgate/quarantine public surface', () => {
  it('exports exactly the registry-facing values', () => {
    expect(Object.keys(quarantine).sort()).toEqual([
      'EVENT_TYPES',
      'QUARANTINE_STATES',
      'ROLES',
      'SCANNER_RESULTS',
      'SEVERITIES',
      'TrustError',
      'acrAttributes',
      'acrEtag',
      'acrPatchToVerdict',
      'createMemoryStore',
      'createQuarantineService',
      'isTrustError',
      'parseAcrEtag',
      'parseConfig',
      'reviveRecord',
      'reviveTag',
    ]);
  });
});
