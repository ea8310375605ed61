/** The command line of the separate benches (`bench:fetch`, `bench:gateway`, `bench:admission`): `--name N` numbers and `--json`. */
const argv = process.argv.slice(2);

/** Whether the bare flag `--name` was given (`--no-write`, `--workers`). */
export const flag = (name) => argv.includes(`--${name}`);

/** The number after `--name`, or `dflt`. */
export const opt = (name, dflt) => {
  const i = argv.indexOf(`--${name}`);
  return i >= 0 ? Number(argv[i + 1]) : dflt;
};

/** `--json`: the figures as JSON on stdout, progress on stderr. */
export const JSON_OUT = argv.includes('--json');
