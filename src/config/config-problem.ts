/**
 * A problem found in a config file, at a line and column, said so that the
 * reader knows what to fix. Printed as `file:line:col: message`, the form
 * editors and CI logs turn into links.
 */
import { SluiceError } from '../sluice-error.ts';

export interface ConfigProblem {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  col: number;
  message: string;
}

export type ConfigPath = readonly (string | number)[];

export function formatProblem(problem: ConfigProblem): string {
  return `${problem.file}:${problem.line}:${problem.col}: ${problem.message}`;
}

/** `stages[0].actions[1].build`, the way a reader finds a place in YAML. */
export function formatPath(path: ConfigPath): string {
  let text = '';
  for (const part of path) text += typeof part === 'number' ? `[${part}]` : text === '' ? part : `.${part}`;
  return text;
}

export class ConfigError extends SluiceError<'INVALID_CONFIG'> {
  readonly problems: ConfigProblem[];
  constructor(problems: ConfigProblem[]) {
    super('INVALID_CONFIG', problems.map(formatProblem).join('\n'));
    this.problems = problems;
  }
}
