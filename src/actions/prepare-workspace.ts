/**
 * Fill a fresh workspace: the commit's source, then the artifacts of
 * earlier actions on top, each checked by sha256 after the upload.
 */
import { posix } from 'node:path';
import { sha256File } from '../artifact/sha256-file.ts';
import { shellCommand } from '../executor/shell-quote.ts';
import { throwIfCancelled, type ActionWorkspace } from './action-workspace.ts';
import { ActionFailure } from './action-result.ts';
import { runHostStep } from './run-host-step.ts';
import { uploadVerified } from './transfer-verified.ts';
import { errorMessage } from '../sluice-error.ts';

/** An artifact of an earlier action, as a local file from the artifact store. */
export interface InputArtifact {
  name: string;
  sha256: string;
  /** Local path of the tarball. */
  file: string;
}

/** Upload and unpack the source tarball (if any) and each input, in order. */
export async function prepareWorkspace(
  context: ActionWorkspace,
  sourceTarball: string | undefined,
  inputs: readonly InputArtifact[],
  sourceStrip = 0,
): Promise<void> {
  // The source is hashed while the workspace is made and the tarball goes up:
  // its digest is needed only to check what arrived.
  const sourceDigest =
    sourceTarball === undefined
      ? undefined
      : sha256File(sourceTarball).catch((error: unknown) => {
          throw new ActionFailure(
            'setup_failed',
            `could not read the source tarball ${sourceTarball}: ${errorMessage(error)}`,
            { cause: error },
          );
        });
  // Awaited below; a failure before that (the workspace) must not leave it unhandled.
  sourceDigest?.catch(() => {});
  await runHostStep(
    context,
    'making the workspace',
    shellCommand(['mkdir', '-p', '--', context.sourceDir, context.transferDir]),
  );

  if (sourceTarball !== undefined && sourceDigest !== undefined) {
    await unpack(context, sourceTarball, sourceDigest, 'source.tar.gz', 'the source', sourceStrip, (sha256) =>
      context.log(`unpacking the source (sha256 ${sha256})`, 'sluice'),
    );
  }

  for (const [index, input] of inputs.entries()) {
    throwIfCancelled(context);
    context.log(`unpacking input artifact ${input.name} (sha256 ${input.sha256})`, 'sluice');
    await unpack(context, input.file, input.sha256, `input-${index + 1}.tar.gz`, `input artifact "${input.name}"`);
  }
}

async function unpack(
  context: ActionWorkspace,
  localFile: string,
  sha256: string | Promise<string>,
  fileName: string,
  label: string,
  strip = 0,
  onVerified?: (sha256: string) => void,
): Promise<void> {
  const remote = posix.join(context.transferDir, fileName);
  throwIfCancelled(context);
  const verified = await uploadVerified(context, localFile, remote, sha256, label);
  onVerified?.(verified);
  // --no-same-owner: files belong to the build user even when it is root.
  await runHostStep(
    context,
    `unpacking ${label}`,
    shellCommand([
      'tar',
      '-xzf',
      remote,
      '--no-same-owner',
      ...(strip > 0 ? [`--strip-components=${strip}`] : []),
      '-C',
      context.sourceDir,
    ]),
  );
  await runHostStep(context, `removing the tarball of ${label}`, shellCommand(['rm', '-f', '--', remote]));
}
