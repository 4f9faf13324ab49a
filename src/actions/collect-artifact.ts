/**
 * Pack the artifact's paths on the host, bring the tarball back, and keep
 * it only if the bytes that arrived are the bytes the host hashed.
 */
import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ArtifactStore } from '../artifact/artifact-store.ts';
import { sha256File } from '../artifact/sha256-file.ts';
import { shellCommand } from '../executor/shell-quote.ts';
import type { ArtifactSpec } from '../pipeline/definition.ts';
import { throwIfCancelled, type ActionWorkspace } from './action-workspace.ts';
import { ActionFailure, type BuiltArtifact } from './action-result.ts';
import { runHostStep } from './run-host-step.ts';
import { parseSha256 } from './transfer-verified.ts';
import { errorMessage } from '../sluice-error.ts';

/** Collect `spec.paths` from the source directory into the artifact store. */
export async function collectArtifact(
  context: ActionWorkspace,
  spec: ArtifactSpec,
  artifacts: ArtifactStore,
): Promise<BuiltArtifact> {
  const label = `artifact "${spec.name}"`;
  await assertPathsExist(context, spec, label);

  throwIfCancelled(context);
  context.log(`packing ${label}: ${spec.paths.join(', ')}`, 'sluice');
  const remote = posix.join(context.transferDir, 'artifact.tar.gz');
  const { stdout } = await runHostStep(context, `packing ${label}`, packCommand(remote, spec.paths), {
    cwd: context.sourceDir,
    failure: 'artifact_failed',
  });
  const hostDigest = parseSha256(stdout[0], `packing ${label}`, 'artifact_failed');

  throwIfCancelled(context);
  // Downloaded straight into the store and hashed once where it landed: the
  // file that matches the host's digest is renamed into place, not copied.
  const local = await artifacts.incomingPath().catch((error: unknown) => {
    throw new ActionFailure('artifact_failed', `could not store ${label}: ${errorMessage(error)}`, {
      cause: error,
    });
  });
  try {
    await context.session.download(remote, local).catch((error: unknown) => {
      throw new ActionFailure('artifact_failed', `could not download ${label}: ${errorMessage(error)}`, {
        cause: error,
      });
    });
    const localDigest = await sha256File(local);
    if (localDigest !== hostDigest) {
      throw new ActionFailure(
        'artifact_failed',
        `${label} changed in transfer: sha256 ${hostDigest} on the host, ${localDigest} after download`,
      );
    }
    const stored = await artifacts.adopt(local, localDigest).catch((error: unknown) => {
      throw new ActionFailure('artifact_failed', `could not store ${label}: ${errorMessage(error)}`, {
        cause: error,
      });
    });
    return { name: spec.name, sha256: stored.sha256, size: stored.size };
  } finally {
    // Gone already once adopted.
    await rm(local, { force: true });
  }
}

/**
 * Packs the paths into `remote` and prints the sha256 of what was written,
 * in one pass: gzip's fastest level (an artifact is mostly packed to be
 * shipped at once, and level 1 packs several times faster than the default
 * for a few per cent more bytes), and the bytes hashed as they go to disk
 * rather than read back. Any part failing fails it all (pipefail).
 */
export function packCommand(remote: string, paths: string[]): string {
  return [
    'set -o pipefail;',
    shellCommand(['tar', '-cf', '-', '--', ...paths]),
    '|',
    shellCommand(['gzip', '-1']),
    '|',
    shellCommand(['tee', '--', remote]),
    '|',
    shellCommand(['sha256sum']),
  ].join(' ');
}

async function assertPathsExist(context: ActionWorkspace, spec: ArtifactSpec, label: string): Promise<void> {
  if (spec.paths.length === 0) throw new ActionFailure('artifact_failed', `${label} lists no paths`);
  for (const path of spec.paths) {
    // The config should already refuse these; the host must never be asked to pack /etc.
    if (path === '' || posix.isAbsolute(path) || path.split('/').includes('..')) {
      throw new ActionFailure(
        'artifact_failed',
        `${label}: path "${path}" must be relative to the workspace and stay inside it`,
      );
    }
  }
  // One command for every path (a round trip each on a remote host): it prints the index of the first one missing.
  const test = spec.paths
    .map(
      (path, index) =>
        `{ ${shellCommand(['test', '-e', path])} || ${shellCommand(['test', '-L', path])} || { echo ${index}; exit 1; }; }`,
    )
    .join('; ');
  const { result, stdout } = await runHostStep(context, `looking for ${spec.paths.join(', ')}`, test, {
    cwd: context.sourceDir,
    allowFailure: true,
  });
  if (result.exitCode !== 0) {
    const missing = spec.paths[Number(stdout.at(-1))];
    if (missing === undefined)
      throw new ActionFailure(
        'artifact_failed',
        `${label}: looking for its paths failed with exit code ${result.exitCode}`,
      );
    throw new ActionFailure(
      'artifact_failed',
      `${label}: path "${missing}" does not exist in the workspace after the build`,
    );
  }
}
