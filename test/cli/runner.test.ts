/**
 * One command runner (issue 11): every command answers --help, a bad --now and an unknown flag
 * the same way, so fetch and mirror behave like verify.
 */
import { describe, expect, it } from 'vitest';
import { run } from './helpers.js';

const COMMANDS: ReadonlyArray<readonly string[]> = [['verify'], ['inspect'], ['check'], ['fetch'], ['mirror'], ['admission', 'serve']];

describe('every command goes through the one runner', () => {
  it.each(COMMANDS)('%s: --help on stdout with exit 0', (...cmd) => {
    const r = run([...cmd, '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^Usage: trustgate /);
    expect(r.stderr).toBe('');
  });

  it.each(COMMANDS)('%s: --now swallowing a reference is a usage error naming --now', (...cmd) => {
    const r = run([...cmd, '--now', 'acme/app:v1']);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`trustgate ${cmd.join(' ')}: --now:`);
    expect(r.stderr).toContain(`Run "trustgate ${cmd.join(' ')} --help" for usage.`);
  });

  it.each(COMMANDS)('%s: an unknown flag is a usage error with the hint', (...cmd) => {
    const r = run([...cmd, '--no-such-flag', 'acme/app:v1']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`Run "trustgate ${cmd.join(' ')} --help" for usage.`);
  });
});
