import { ArtifactError } from '../sluice-error.ts';
import { assertGitCheckout, runGit } from './run-git.ts';
import type { Revision } from '../pipeline/snapshot.ts';

/**
 * Read HEAD of a git checkout as an execution records it, with what git
 * tells: full sha, branch (absent when HEAD is detached), subject line and
 * `Name <email>` of its author. Logins and the pusher are GitHub's to tell.
 */
export async function readRevision(checkoutDir: string): Promise<Pick<Revision, 'sha' | 'ref' | 'message' | 'author'>> {
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
