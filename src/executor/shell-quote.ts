/**
 * Quoting for shell text sent to a host (PRODUCT S7): every value that did
 * not come from the operator — a path, a branch, an artifact name — goes
 * through `quoteArg` before it becomes part of a command.
 */

// Words made only of these characters mean the same to bash quoted or not.
// `=` is left out on purpose: an unquoted leading `A=b` is an assignment.
// `~`, `*`, `?`, `[`, `{`, `$`, quotes and whitespace are all left out too.
const PLAIN_WORD = /^[A-Za-z0-9_./:@%+,-]+$/;

/**
 * Quote one argument for a POSIX shell. Plain words are returned as they are
 * (readable logs); anything else is wrapped in single quotes, inside which
 * the shell expands nothing. A single quote itself becomes `'\''`.
 */
export function quoteArg(value: string): string {
  if (value === '') return "''";
  if (PLAIN_WORD.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** Join an argv into one line of shell text, each argument quoted. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(quoteArg).join(' ');
}
