/**
 * The commit's source as GitHub packs it (PRODUCT S1): downloaded by Sluice
 * with its installation token and kept as a local file, which the build
 * action uploads. No token reaches a build host.
 */
import { randomUUID } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream } from 'node:stream/web';
import { formatSource } from '../artifact/source-ref.ts';
import { ArtifactError, errorMessage } from '../sluice-error.ts';
import type { InstallationOctokit } from './github-api.ts';

/** Returns the source reference for the execution (see `formatSource`). */
export async function downloadTarball(
  octokit: InstallationOctokit,
  params: { owner: string; repo: string; ref: string },
  dir: string,
): Promise<string> {
  await mkdir(dir, { recursive: true });
  const file = join(dir, `${randomUUID()}.tar.gz`);
  const response = await octokit.request('GET /repos/{owner}/{repo}/tarball/{ref}', {
    ...params,
    request: { parseSuccessResponseBody: false },
  });
  const body = response.data as unknown as ReadableStream<Uint8Array> | null;
  if (!body)
    throw new ArtifactError(
      'DOWNLOAD_FAILED',
      `GitHub sent no tarball for ${params.owner}/${params.repo}@${params.ref}`,
    );
  try {
    await pipeline(Readable.fromWeb(body), createWriteStream(file, { mode: 0o600 }));
  } catch (error) {
    await rm(file, { force: true });
    throw new ArtifactError(
      'DOWNLOAD_FAILED',
      `Downloading the source of ${params.owner}/${params.repo}@${params.ref} failed: ${errorMessage(error)}`,
      { cause: error },
    );
  }
  // GitHub puts every file under `<owner>-<repo>-<sha>/`.
  return formatSource({ file, strip: 1 });
}
