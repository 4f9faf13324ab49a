import { parseArgs, type ParseArgsOptionsConfig } from 'node:util';
import { CliError } from './cli-error.ts';
import type { ApprovalAnswer } from './drive-execution.ts';
import { errorMessage } from '../sluice-error.ts';

/** Options every store-reading command takes. */
const COMMON = {
  'data-dir': { type: 'string' },
  'database-url': { type: 'string' },
  server: { type: 'string' },
  approve: { type: 'string' },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Parse a command's arguments; unknown options are a usage error that says
 * which. Returns camel-cased common options beside the command's own.
 */
export function parseCliArgs<T extends ParseArgsOptionsConfig>(args: string[], options: T) {
  let parsed;
  try {
    parsed = parseArgs({ args, options: { ...COMMON, ...options }, allowPositionals: true, strict: true });
  } catch (error) {
    throw new CliError(`${errorMessage(error)} (see \`sluice help\`)`, 2);
  }
  const v = parsed.values as Record<string, string | boolean | undefined>;
  const approve = v.approve as string | undefined;
  if (approve !== undefined && approve !== 'yes' && approve !== 'no') {
    throw new CliError(`--approve takes yes or no, not "${approve}"`, 2);
  }
  const answer: ApprovalAnswer = approve ? (approve as 'yes' | 'no') : process.stdin.isTTY ? 'ask' : 'leave';
  return {
    positionals: parsed.positionals,
    values: {
      ...(parsed.values as { [K in keyof T]?: T[K]['type'] extends 'boolean' ? boolean : string }),
      dataDir: v['data-dir'] as string | undefined,
      databaseUrl: v['database-url'] as string | undefined,
      serverFile: v.server as string | undefined,
      approve: answer,
    },
  };
}
