/** Git, run with an argv and never a shell: paths and refs stay data. */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { ArtifactError } from '../sluice-error.ts';

const execFileAsync = promisify(execFile);

/** Run `git -C dir ...args` and return its standard output as bytes. */
export async function runGit(dir: string, args: readonly string[]): Promise<Buffer> {
  const { stdout } = await execFileAsync('git', ['-C', dir, ...args], {
    encoding: 'buffer',
    // `ls-files` of a large monorepo easily passes the 1 MB default.
    maxBuffer: 1024 * 1024 * 1024,
  });
  return stdout;
}

/** Throw a clear error unless `dir` is inside the working tree of a git repository. */
export async function assertGitCheckout(dir: string): Promise<void> {
  try {
    const inside = (await runGit(dir, ['rev-parse', '--is-inside-work-tree'])).toString('utf8').trim();
    if (inside === 'true') return;
  } catch (error) {
    const stderr = String((error as { stderr?: Buffer }).stderr ?? '')
      .trim()
      .split('\n')[0];
    throw new ArtifactError('NOT_A_GIT_CHECKOUT', `${dir} is not a git checkout${stderr ? ` (git: ${stderr})` : ''}`, {
      cause: error,
    });
  }
  throw new ArtifactError('NOT_A_GIT_CHECKOUT', `${dir} is not a git checkout (it is inside a .git directory)`);
}
