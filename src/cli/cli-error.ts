import { SluiceError } from '../sluice-error.ts';

/** A problem the person at the terminal can fix; printed without a stack. */
export class CliError extends SluiceError<'CLI_ERROR'> {
  /** The process exit code: 1 for a failure, 2 for a usage mistake. */
  readonly exitCode: number;
  constructor(message: string, exitCode = 1) {
    super('CLI_ERROR', message);
    this.exitCode = exitCode;
  }
}
