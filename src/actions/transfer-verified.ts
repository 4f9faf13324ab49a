/**
 * Every artifact transfer is checked against its sha256 on the far side
 * (PRODUCT P4), with tools any build host has.
 */
import { shellCommand } from '../executor/shell-quote.ts';
import type { ActionWorkspace } from './action-workspace.ts';
import { ActionFailure, type FailureCode } from './action-result.ts';
import { runHostStep } from './run-host-step.ts';

/** Upload a file and fail unless its sha256 on the host is `expectedSha256`. */
export async function uploadVerified(
  context: ActionWorkspace,
  localFile: string,
  remotePath: string,
  expectedSha256: string,
  label: string,
): Promise<void> {
  try {
    await context.session.upload(localFile, remotePath);
  } catch (error) {
    throw new ActionFailure('setup_failed', `could not upload ${label}: ${(error as Error).message}`, { cause: error });
  }
  const actual = await hostSha256(context, remotePath, label, 'setup_failed');
  if (actual !== expectedSha256) {
    throw new ActionFailure(
      'setup_failed',
      `${label} arrived corrupted on ${context.session.host.name}: expected sha256 ${expectedSha256}, got ${actual}`,
    );
  }
}

/** The sha256 of a file on the host, computed there. */
export async function hostSha256(
  context: ActionWorkspace,
  remotePath: string,
  label: string,
  failure: FailureCode,
): Promise<string> {
  const { stdout } = await runHostStep(context, `hashing ${label}`, shellCommand(['sha256sum', '--', remotePath]), {
    failure,
  });
  return parseSha256(stdout[0], `hashing ${label}`, failure);
}

/** The digest in a line of `sha256sum`'s output; `what` names the step for the failure. */
export function parseSha256(line: string | undefined, what: string, failure: FailureCode): string {
  // GNU sha256sum prefixes the line with `\` when it had to escape the name.
  const digest = /^\\?([0-9a-f]{64})\s/.exec(line ?? '')?.[1];
  if (!digest) throw new ActionFailure(failure, `${what} gave unexpected output: ${line ?? '(nothing)'}`);
  return digest;
}
