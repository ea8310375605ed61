/** PEM parsing as Go's encoding/pem does it (Notary's root keys are PEM bundles, spec §6). */
import { describe, expect, it } from 'vitest';
import { decodePemBlocks, encodePem } from '../../src/crypto/pem.js';

const der = new Uint8Array([1, 2, 3, 4, 5]);

describe('decodePemBlocks', () => {
  it('round-trips Go-style blocks, CRLF and trailing spaces on the BEGIN/END lines', () => {
    const pem = encodePem('CERTIFICATE', der);
    expect(decodePemBlocks(pem)).toEqual([{ type: 'CERTIFICATE', hasHeaders: false, der }]);
    expect(decodePemBlocks(pem.replace(/\n/g, '\r\n'))[0]?.der).toEqual(der);
    expect(decodePemBlocks(pem.replace('CERTIFICATE-----\n', 'CERTIFICATE-----  \n'))).toHaveLength(1);
  });

  it('sees blocks whose type contains "-" (so a root bundle with one is refused, as Go refuses it)', () => {
    const pem = encodePem('CERTIFICATE', der) + encodePem('X-Y', der);
    expect(decodePemBlocks(pem).map((b) => b.type)).toEqual(['CERTIFICATE', 'X-Y']);
  });

  it('skips a block closed by an END of another type and goes on after its BEGIN line', () => {
    const text = '-----BEGIN A-----\nAQID\n-----END B-----\n' + encodePem('C', der);
    expect(decodePemBlocks(text).map((b) => b.type)).toEqual(['C']);
  });

  it('marks header blocks and skips bodies that are not base64', () => {
    expect(decodePemBlocks('-----BEGIN K-----\nProc-Type: 4\n\nAQID\n-----END K-----\n')[0]?.hasHeaders).toBe(true);
    expect(decodePemBlocks('-----BEGIN K-----\n%%%%\n-----END K-----\n')).toEqual([]);
  });

  it('stays linear on hostile input: 400,000 unclosed BEGIN lines (8 MB) parse to nothing', () => {
    // A quadratic scan needs hours here; the test timeout would catch a regression.
    expect(decodePemBlocks('-----BEGIN A-----\n'.repeat(400_000))).toEqual([]);
    expect(decodePemBlocks('-----BEGIN A-----\n'.repeat(200_000) + '-----END A-----\n')).toHaveLength(1);
  });
});
