/** A problem the person at the terminal can fix; printed without a stack. */
export class CliError extends Error {
  readonly code = 'CLI_ERROR';
  /** The process exit code: 1 for a failure, 2 for a usage mistake. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super(message);
    this.name = 'CliError';
    this.exitCode = exitCode;
  }
}
