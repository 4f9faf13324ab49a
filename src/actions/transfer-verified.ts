/**
 * Every artifact transfer is checked against its sha256 on the far side
 * (PRODUCT P4), with tools any build host has.
 */
import { shellCommand } from '../executor/shell-quote.ts';
import type { ActionWorkspace } from './action-workspace.ts';
import { ActionFailure } from './action-result.ts';
import { runHostStep } from './run-host-step.ts';
import { errorMessage, type FailureCode } from '../sluice-error.ts';

/**
 * Upload a file and fail unless its sha256 on the host is `expectedSha256`,
 * which may still be being computed while the file goes up. Resolves with it.
 */
export async function uploadVerified(
  context: ActionWorkspace,
  localFile: string,
  remotePath: string,
  expectedSha256: string | Promise<string>,
  label: string,
): Promise<string> {
  const expecting = Promise.resolve(expectedSha256);
  // Awaited below, whichever way the upload goes.
  expecting.catch(() => {});
  try {
    await context.session.upload(localFile, remotePath);
  } catch (error) {
    // A file that cannot be read says so through its digest, better than through the upload.
    await expecting;
    throw new ActionFailure('setup_failed', `could not upload ${label}: ${errorMessage(error)}`, { cause: error });
  }
  const expected = await expecting;
  const actual = await hostSha256(context, remotePath, label, 'setup_failed');
  if (actual !== expected) {
    throw new ActionFailure(
      'setup_failed',
      `${label} arrived corrupted on ${context.session.host.name}: expected sha256 ${expected}, got ${actual}`,
    );
  }
  return expected;
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
