/**
 * Pack the artifact's paths on the host, bring the tarball back, and keep
 * it only if the bytes that arrived are the bytes the host hashed.
 */
import { rm } from 'node:fs/promises';
import { posix } from 'node:path';
import type { ArtifactStore } from '../artifact/artifact-store.ts';
import { gzipFile, SAMPLE_SLICE_BYTES, SAMPLE_SLICES } from '../artifact/gzip-stored.ts';
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
  const out = {
    tar: posix.join(context.transferDir, 'artifact.tar'),
    gzip: posix.join(context.transferDir, 'artifact.tar.gz'),
  };
  const { stdout } = await runHostStep(context, `packing ${label}`, packCommand(out, spec.paths), {
    cwd: context.sourceDir,
    failure: 'artifact_failed',
  });
  const packed = parsePacked(stdout.at(-1), `packing ${label}`);
  if (packed.format === 'tar')
    context.log(
      `${label} does not compress (a sample of it shrank by less than a tenth): kept without compression`,
      'sluice',
    );

  throwIfCancelled(context);
  // Downloaded straight into the store and hashed once where it landed: the
  // file that matches the host's digest is renamed into place, not copied. A
  // plain tarball is made a gzip file of stored blocks in the same read that hashes it.
  const storing = () =>
    artifacts.incomingPath().catch((error: unknown) => {
      throw new ActionFailure('artifact_failed', `could not store ${label}: ${errorMessage(error)}`, {
        cause: error,
      });
    });
  const local = await storing();
  let wrapped: string | undefined;
  try {
    await context.session.download(packed.format === 'gzip' ? out.gzip : out.tar, local).catch((error: unknown) => {
      throw new ActionFailure('artifact_failed', `could not download ${label}: ${errorMessage(error)}`, {
        cause: error,
      });
    });
    let file = local;
    let arrived: string;
    let sha256: string;
    if (packed.format === 'gzip') arrived = sha256 = await sha256File(local);
    else {
      wrapped = file = await storing();
      ({ sourceSha256: arrived, sha256 } = await gzipFile(local, wrapped).catch((error: unknown) => {
        throw new ActionFailure('artifact_failed', `could not store ${label}: ${errorMessage(error)}`, {
          cause: error,
        });
      }));
    }
    if (arrived !== packed.sha256) {
      throw new ActionFailure(
        'artifact_failed',
        `${label} changed in transfer: sha256 ${packed.sha256} on the host, ${arrived} after download`,
      );
    }
    const stored = await artifacts.adopt(file, sha256).catch((error: unknown) => {
      throw new ActionFailure('artifact_failed', `could not store ${label}: ${errorMessage(error)}`, {
        cause: error,
      });
    });
    return { name: spec.name, sha256: stored.sha256, size: stored.size };
  } finally {
    // Gone already once adopted.
    await rm(local, { force: true });
    if (wrapped !== undefined) await rm(wrapped, { force: true });
  }
}

/** Where the pack command writes the artifact on the host: a plain tarball, gzipped when it compresses. */
export interface PackedFiles {
  tar: string;
  gzip: string;
}

/**
 * Packs the paths into `out.gzip` when a sample of them compresses, into
 * `out.tar` as a plain tarball when it does not, hashing the bytes as they
 * go to disk rather than reading them back. The sample is 16 slices of 64
 * KiB spread over the tarball (all of it when smaller), which must shrink
 * by at least a tenth at gzip's fastest level (gzip-stored.ts). So an
 * artifact of code and text is shipped gzipped as before, and one of random
 * or already compressed bytes is not gzipped for nothing, which took longer
 * than the rest of its packing. Level 1: an artifact is mostly packed to be
 * shipped at once, and level 1 packs several times faster than the default
 * for a few per cent more bytes.
 *
 * The decision is made before anything is written, so the host needs room
 * only for the file that is kept: tar streams the paths three times (from
 * the page cache, a tenth of a second or two for 50 MiB), once counted for
 * the size, once cut into the slices at the places the size gives, which
 * are gzipped and counted, and once into the file that is kept. Only that
 * last stream is hashed and its digest printed, so a file changing between
 * the passes can change the decision, never make the digest lie about the
 * file. Prints one line, `gzip <sha256>` or `tar <sha256>`. Any part
 * failing fails it all (pipefail), and removes what the last pass wrote.
 */
export function packCommand(out: PackedFiles, paths: string[]): string {
  const tar = shellCommand(['tar', '-cf', '-', '--', ...paths]);
  const slices = String(SAMPLE_SLICES);
  const slice = String(SAMPLE_SLICE_BYTES);
  // Slice i starts at block j = i * b / 16 of the stream; k is the block the
  // stream is at, so dd skips j - k blocks, then copies one (fullblock: a
  // pipe may hand over less than a block in one read). The rest is read to
  // its end, so tar is not cut off by a closed pipe. status=none keeps dd's
  // counts out of stderr but not its errors: a dd that knows no fullblock
  // (BSD's) says so in the failure.
  const cut = [
    `{ i=0; k=0; while [ "$i" -lt ${slices} ]; do j=$((i * b / ${slices}));`,
    `dd bs=${slice} skip=$((j - k)) count=1 iflag=fullblock status=none || exit 1;`,
    'k=$((j + 1)); i=$((i + 1)); done; cat > /dev/null; }',
  ].join(' ');
  const sample = [
    `if [ "$b" -le ${slices} ]; then n=$s; z=$(${tar} | gzip -1 | wc -c);`,
    `else n=$((${slices} * ${slice})); z=$(${tar} | ${cut} | gzip -1 | wc -c); fi`,
  ].join(' ');
  return [
    'set -o pipefail;',
    `{ s=$(${tar} | wc -c) && b=$((s / ${slice})) &&`,
    `{ ${sample}; } &&`,
    `if [ $((z * 10)) -lt $((n * 9)) ]; then`,
    `d=$(${tar} | gzip -1 | ${shellCommand(['tee', '--', out.gzip])} | sha256sum) && echo "gzip $d";`,
    `else d=$(${tar} | ${shellCommand(['tee', '--', out.tar])} | sha256sum) && echo "tar $d"; fi; }`,
    // A last pass that fails leaves part of a file: nothing is kept but a whole one.
    `|| { r=$?; ${shellCommand(['rm', '-f', '--', out.gzip, out.tar])}; exit "$r"; }`,
  ].join(' ');
}

/** The pack command's line: which file it left and that file's sha256. */
export function parsePacked(line: string | undefined, what: string): { format: 'gzip' | 'tar'; sha256: string } {
  const match = /^(gzip|tar) (.*)$/.exec(line ?? '');
  if (!match) throw new ActionFailure('artifact_failed', `${what} gave unexpected output: ${line ?? '(nothing)'}`);
  return { format: match[1] as 'gzip' | 'tar', sha256: parseSha256(match[2], what, 'artifact_failed') };
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
