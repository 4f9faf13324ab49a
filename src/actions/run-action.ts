/**
 * The shape every build-like action shares: prepare the workspace, run the
 * commands, then an optional last step; any failure becomes a reason.
 */
import type { ExecSession } from '../executor/executor.ts';
import { createMasker } from '../executor/mask-secrets.ts';
import { createActionWorkspace, throwIfCancelled, type ActionWorkspace } from './action-workspace.ts';
import { ActionFailure, type ActionLog, type HostActionResult, type BuiltArtifact } from './action-result.ts';
import { prepareWorkspace, type InputArtifact } from './prepare-workspace.ts';
import { runCommands } from './run-commands.ts';
import { errorMessage, messageForPeople } from '../sluice-error.ts';

/** The part of a build or command spec that says what to run. */
export interface RunnableSpec {
  run: string[];
  inputs: string[];
  timeoutMs: number;
  env: Record<string, string>;
  secrets: string[];
}

export interface ActionInput {
  session: ExecSession;
  /** Local path of the source tarball (see packSource); omitted: the workspace starts empty. */
  sourceTarball?: string;
  /** Leading path parts to drop from the source tarball's members (GitHub's tarballs have one). */
  sourceStrip?: number;
  /** Artifacts named in `spec.inputs`, unpacked over the source in this order. */
  inputs: InputArtifact[];
  /**
   * Secret values by name. Those named in `spec.secrets` become environment
   * variables; every value given here is masked in the log.
   */
  secrets: Record<string, string>;
  signal?: AbortSignal;
  log: ActionLog;
}

/** Run an action on an open session; `finish` runs after the commands succeed. */
export async function runAction(
  input: ActionInput,
  spec: RunnableSpec,
  finish?: (context: ActionWorkspace) => Promise<BuiltArtifact>,
): Promise<HostActionResult> {
  const mask = createMasker(Object.values(input.secrets));
  const context = createActionWorkspace(input.session, mask, input.log, input.signal);
  try {
    const env = commandEnvironment(spec, input.secrets);
    assertInputsGiven(spec, input.inputs);
    await prepareWorkspace(context, input.sourceTarball, input.inputs, input.sourceStrip ?? 0);
    await runCommands(context, spec.run, { timeoutMs: spec.timeoutMs, env });
    if (!finish) return { ok: true };
    throwIfCancelled(context);
    return { ok: true, artifact: await finish(context) };
  } catch (error) {
    if (error instanceof ActionFailure) return { ok: false, code: error.code, reason: mask(error.message) };
    const forPeople = messageForPeople(error);
    if (forPeople !== undefined) return { ok: false, code: 'setup_failed', reason: mask(forPeople) };
    return { ok: false, code: 'setup_failed', reason: mask(`failed unexpectedly: ${errorMessage(error)}`) };
  }
}

/** Plain variables first; a secret of the same name wins. */
function commandEnvironment(spec: RunnableSpec, secrets: Record<string, string>): Record<string, string> {
  const env = { ...spec.env };
  for (const name of spec.secrets) {
    const value = secrets[name];
    if (value === undefined)
      throw new ActionFailure('setup_failed', `secret "${name}" is not available to this action`);
    env[name] = value;
  }
  return env;
}

function assertInputsGiven(spec: RunnableSpec, inputs: readonly InputArtifact[]): void {
  for (const name of spec.inputs) {
    if (!inputs.some((input) => input.name === name)) {
      throw new ActionFailure('setup_failed', `input artifact "${name}" was not provided`);
    }
  }
}
