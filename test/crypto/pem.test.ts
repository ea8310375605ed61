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

  it('a BEGIN or END line with anything but spaces after its final "-----" is no such line (Go: HasSuffix, then only whitespace)', () => {
    const body = '\nAQID\n';
    expect(decodePemBlocks(`-----BEGIN C-----junk${body}-----END C-----\n`)).toEqual([]);
    expect(decodePemBlocks(`-----BEGIN C-----${body}-----END C-----junk\n`)).toEqual([]);
    expect(decodePemBlocks(`-----BEGIN C----- \t${body}-----END C-----\t \n`).map((b) => b.der)).toEqual([new Uint8Array([1, 2, 3])]);
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

describe('PEM edges, as Go encoding/pem reads and writes them', () => {
  it('encodePem writes 64 columns: 48 bytes are one full line, 49 two; nothing is an empty body', () => {
    const d48 = new Uint8Array(48).fill(0xff);
    const d49 = new Uint8Array(49).fill(0xff);
    const line = '/'.repeat(64);
    expect(encodePem('T', d48)).toBe(`-----BEGIN T-----\n${line}\n-----END T-----\n`);
    expect(encodePem('T', d49)).toBe(`-----BEGIN T-----\n${line}\n/w==\n-----END T-----\n`);
    expect(encodePem('T', new Uint8Array(0))).toBe('-----BEGIN T-----\n-----END T-----\n');
    expect(decodePemBlocks(encodePem('T', d49))[0]?.der).toEqual(d49);
    expect(decodePemBlocks(encodePem('T', new Uint8Array(0)))).toEqual([{ type: 'T', hasHeaders: false, der: new Uint8Array(0) }]);
  });

  it.each([
    ['tabs after BEGIN and END', '-----BEGIN T-----\t \nAQID\n-----END T-----\t\n', 1],
    ['CRLF everywhere', '-----BEGIN T-----\r\nAQID\r\n-----END T-----\r\n', 1],
    ['no final newline', '-----BEGIN T-----\nAQID\n-----END T-----', 1],
    ['text before, between and after', 'x\n-----BEGIN T-----\nAQID\n-----END T-----\ny\n-----BEGIN U-----\nAQID\n-----END U-----\nz', 2],
    ['body split over lines with spaces', '-----BEGIN T-----\nAQ\n ID \n-----END T-----\n', 1],
    ['BEGIN not at line start', ' -----BEGIN T-----\nAQID\n-----END T-----\n', 0],
    ['END not at line start', '-----BEGIN T-----\nAQID\n -----END T-----\n', 0],
    ['text after BEGIN dashes', '-----BEGIN T-----x\nAQID\n-----END T-----\n', 0],
    ['four dashes', '----BEGIN T-----\nAQID\n-----END T-----\n', 0],
    ['no END', '-----BEGIN T-----\nAQID\n', 0],
    ['END before BEGIN only', '-----END T-----\n-----BEGIN T-----\nAQID\n', 0],
    ['body length not a multiple of 4', '-----BEGIN T-----\nAQI\n-----END T-----\n', 0],
    ['padding inside the body', '-----BEGIN T-----\nAQ==AQID\n-----END T-----\n', 0],
    ['three padding characters', '-----BEGIN T-----\nA===\n-----END T-----\n', 0],
    ['URL-safe alphabet', '-----BEGIN T-----\nAQ-_\n-----END T-----\n', 0],
    ['a BEGIN inside the body', '-----BEGIN T-----\n-----BEGIN T-----\nAQID\n-----END T-----\n', 1],
  ])('%s: %i blocks', (_, text, n) => {
    expect(decodePemBlocks(text)).toHaveLength(n);
  });

  it('headers are dropped up to the blank line, the body after it is the DER', () => {
    const [b] = decodePemBlocks('-----BEGIN K-----\nProc-Type: 4,ENCRYPTED\nDEK-Info: X\n\nAQID\n-----END K-----\n');
    expect(b).toEqual({ type: 'K', hasHeaders: true, der: new Uint8Array([1, 2, 3]) });
    const [c] = decodePemBlocks('-----BEGIN K-----\r\nA: b\r\n  \r\nAQID\r\n-----END K-----\r\n');
    expect(c?.der).toEqual(new Uint8Array([1, 2, 3]));
  });

  it('as Go: the headers end at the first line without a colon, blank or not, and the body is all that follows', () => {
    // Go's pem.Decode has no need of the blank line. Before this, the first case decoded to no
    // bytes at all and the second to the part after the blank line only, a different DER from Go's.
    const [a] = decodePemBlocks('-----BEGIN K-----\nProc-Type: 4\nAQID\n-----END K-----\n');
    expect(a).toEqual({ type: 'K', hasHeaders: true, der: new Uint8Array([1, 2, 3]) });
    const [b] = decodePemBlocks('-----BEGIN K-----\nA: b\nAQID\n\nBAUG\n-----END K-----\n');
    expect(b?.der).toEqual(new Uint8Array([1, 2, 3, 4, 5, 6]));
    const [c] = decodePemBlocks('-----BEGIN K-----\nA: b\nC: d\n-----END K-----\n');
    expect(c).toEqual({ type: 'K', hasHeaders: true, der: new Uint8Array(0) });
  });

  it('a block is closed by the first END after it; the next block starts after that END', () => {
    const text = '-----BEGIN T-----\nAQID\n-----END T-----\n-----END T-----\n-----BEGIN T-----\nBAUG\n-----END T-----\n';
    expect(decodePemBlocks(text).map((b) => [...b.der])).toEqual([[1, 2, 3], [4, 5, 6]]);
    const inner = '-----BEGIN T-----\n-----BEGIN T-----\nAQID\n-----END T-----\n';
    expect(decodePemBlocks(inner).map((b) => [...b.der])).toEqual([[1, 2, 3]]);
  });
});
