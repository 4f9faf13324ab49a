import type { CommandSpec } from '../pipeline/definition.ts';
import type { HostActionResult } from './action-result.ts';
import { runAction, type ActionInput } from './run-action.ts';

export interface CommandActionInput extends ActionInput {
  spec: CommandSpec;
}

/**
 * Run a command action in an open session: like a build (source and inputs
 * unpacked, `spec.run` in order) but nothing is collected. Never throws; the
 * caller closes the session.
 */
export function runCommandAction(input: CommandActionInput): Promise<HostActionResult> {
  return runAction(input, input.spec);
}
