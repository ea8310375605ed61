#!/usr/bin/env node
/**
 * `trustgate`: dispatches to a command module. Commands are imported on demand, so `--help`,
 * `--version` and usage errors never load the verifier.
 */
import { readFileSync } from 'node:fs';
import { MAIN_HELP } from './help.js';

function version(): string {
  // dist/cli.js → ../package.json is the package root, both in the repo and when installed.
  const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version?: unknown };
  return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
}

async function main(argv: readonly string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
      process.stderr.write(MAIN_HELP);
      return 2;
    case '-h':
    case '--help':
    case 'help':
      if (command === 'help' && (rest[0] === 'verify' || rest[0] === 'inspect')) return main([rest[0], '--help']);
      if (command === 'help' && rest[0] === 'check') return main(['check', '--help']);
      if (command === 'help' && (rest[0] === 'fetch' || rest[0] === 'mirror')) return main([rest[0], '--help']);
      if (command === 'help' && rest[0] === 'admission') return main(['admission', 'serve', '--help']);
      if (command === 'help' && rest[0] === 'gateway') return main(['gateway', '--help']);
      process.stdout.write(MAIN_HELP);
      return 0;
    case '-v':
    case '--version':
      process.stdout.write(`${version()}\n`);
      return 0;
    case 'verify':
      return (await import('./verify.js')).runVerify(rest);
    case 'inspect':
      return (await import('./inspect.js')).runInspect(rest);
    case 'check':
      return (await import('./check.js')).runCheck(rest);
    case 'fetch':
      return (await import('./fetch.js')).runFetch(rest);
    case 'mirror':
      return (await import('./mirror.js')).runMirror(rest);
    case 'gateway':
      return (await import('./gateway.js')).runGateway(rest);
    case 'admission':
      if (rest[0] === 'serve') return (await import('./admission-serve.js')).runAdmissionServe(rest.slice(1));
      process.stderr.write(`trustgate: admission needs a subcommand ("serve")\n\n${MAIN_HELP}`);
      return 2;
    default:
      process.stderr.write(`trustgate: unknown command ${JSON.stringify(command)}\n\n${MAIN_HELP}`);
      return 2;
  }
}

// A reader that goes away early (`trustgate inspect … | head`) must not turn into a crash: the
// exit code still reports the verdict.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
  });
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`trustgate: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
