/**
 * Sluice's own commands on the host (mkdir, tar, sha256sum): run quietly,
 * their output kept for the failure reason instead of the build log.
 */
import type { RunResult } from '../executor/executor.ts';
import { throwIfCancelled, type ActionWorkspace } from './action-workspace.ts';
import { ActionFailure } from './action-result.ts';
import { formatDuration } from '../format-duration.ts';
import { errorMessage, type FailureCode } from '../sluice-error.ts';

/** Generous: unpacking a large artifact on a slow disk takes a while. */
export const HOST_STEP_TIMEOUT_MS = 10 * 60 * 1000;

export interface HostStepOutput {
  result: RunResult;
  stdout: string[];
  stderr: string[];
}

export interface HostStepOptions {
  cwd?: string;
  /** The failure code when the command exits non-zero. */
  failure?: FailureCode;
  /** Return a non-zero exit instead of failing (for `test -e`). */
  allowFailure?: boolean;
}

/**
 * Run shell text built with `shellCommand`. `what` names the step as a
 * gerund ("unpacking the source") for the reason if it fails.
 */
export async function runHostStep(
  context: ActionWorkspace,
  what: string,
  command: string,
  options: HostStepOptions = {},
): Promise<HostStepOutput> {
  throwIfCancelled(context);
  const stdout: string[] = [];
  const stderr: string[] = [];
  let result: RunResult;
  try {
    result = await context.session.run(command, {
      timeoutMs: HOST_STEP_TIMEOUT_MS,
      ...(options.cwd ? { cwd: options.cwd } : {}),
      ...(context.signal ? { signal: context.signal } : {}),
      onLine: (line, stream) => (stream === 'stdout' ? stdout : stderr).push(line),
    });
  } catch (error) {
    throw new ActionFailure('setup_failed', `${what} failed: ${errorMessage(error)}`, { cause: error });
  }
  if (result.aborted) throw new ActionFailure('cancelled', `was cancelled while ${what}`);
  if (result.timedOut)
    throw new ActionFailure('timed_out', `${what} timed out after ${formatDuration(HOST_STEP_TIMEOUT_MS)}`);
  if (result.exitCode !== 0 && !options.allowFailure) {
    const detail = stderr.slice(-3).join(' / ');
    throw new ActionFailure(
      options.failure ?? 'setup_failed',
      context.mask(`${what} failed with exit code ${result.exitCode}${detail ? `: ${detail}` : ''}`),
    );
  }
  return { result, stdout, stderr };
}
