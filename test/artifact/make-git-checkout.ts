/** A throwaway git repository for tests, isolated from the machine's git config. */
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';

export interface GitCheckout {
  dir: string;
  git(...args: string[]): Promise<string>;
  write(path: string, content: string): Promise<void>;
  remove(): Promise<void>;
}

const GIT_ENV = {
  ...process.env,
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_AUTHOR_NAME: 'Ada Lovelace',
  GIT_AUTHOR_EMAIL: 'ada@example.com',
  GIT_COMMITTER_NAME: 'Ada Lovelace',
  GIT_COMMITTER_EMAIL: 'ada@example.com',
};

/** `git init` on branch main with `files` written (not committed). */
export async function makeGitCheckout(files: Record<string, string> = {}): Promise<GitCheckout> {
  const dir = await mkdtemp(join(tmpdir(), 'sluice-checkout-'));
  const checkout: GitCheckout = {
    dir,
    async git(...args) {
      const { stdout } = await promisify(execFile)('git', ['-C', dir, ...args], { env: GIT_ENV });
      return stdout.trim();
    },
    async write(path, content) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), content);
    },
    remove: () => rm(dir, { recursive: true, force: true }),
  };
  await checkout.git('init', '--quiet', '--initial-branch=main');
  for (const [path, content] of Object.entries(files)) await checkout.write(path, content);
  return checkout;
}
