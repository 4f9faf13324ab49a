import { ArtifactError } from './artifact-error.ts';
import { assertGitCheckout, runGit } from './run-git.ts';

/** The commit a local checkout is at, as a pipeline execution records it. */
export interface Revision {
  /** Full sha of HEAD. */
  sha: string;
  /** Branch name, e.g. `main`; absent when HEAD is detached. */
  ref?: string;
  /** Subject line of the commit message. */
  message?: string;
  /** `Name <email>` of the commit's author. */
  author?: string;
}

/** Read HEAD of a git checkout: sha, branch, subject and author. */
export async function readRevision(checkoutDir: string): Promise<Revision> {
  await assertGitCheckout(checkoutDir);
  const sha = await gitLine(checkoutDir, ['rev-parse', '--verify', '--quiet', 'HEAD^{commit}']).catch(
    (error: unknown) => {
      throw new ArtifactError('NO_COMMITS', `${checkoutDir} has no commits yet; commit something first`, {
        cause: error,
      });
    },
  );
  // Exits 1 on a detached HEAD: that simply means "no branch".
  const ref = await gitLine(checkoutDir, ['symbolic-ref', '--short', '--quiet', 'HEAD']).catch(() => '');
  const [message = '', author = ''] = (
    await gitLine(checkoutDir, ['log', '-1', '--format=%s%x00%an <%ae>', sha])
  ).split('\0');
  return {
    sha,
    ...(ref ? { ref } : {}),
    ...(message ? { message } : {}),
    ...(author.trim() !== '<>' ? { author } : {}),
  };
}

async function gitLine(dir: string, args: readonly string[]): Promise<string> {
  return (await runGit(dir, args)).toString('utf8').replace(/\n$/, '');
}
