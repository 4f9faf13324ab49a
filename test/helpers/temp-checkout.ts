/**
 * A throwaway git checkout for tests that run `sluice` against a repository.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';

export interface TempCheckout {
  dir: string;
  /** A scratch directory beside the checkout (not packed into the source). */
  scratch: string;
  write(path: string, text: string): void;
  commit(message: string): string;
  remove(): void;
}

export function makeCheckout(files: Record<string, string>): TempCheckout {
  const root = mkdtempSync(join(tmpdir(), 'sluice-test-'));
  const dir = join(root, 'repo');
  const scratch = join(root, 'scratch');
  mkdirSync(dir);
  mkdirSync(scratch);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, encoding: 'utf8' }).trim();
  git('init', '-q', '-b', 'main');
  git('config', 'user.email', 'dev@example.com');
  git('config', 'user.name', 'Dev Eloper');
  const checkout: TempCheckout = {
    dir,
    scratch,
    write(path, text) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    },
    commit(message) {
      git('add', '-A');
      git('commit', '-q', '-m', message);
      return git('rev-parse', 'HEAD');
    },
    remove() {
      rmSync(root, { recursive: true, force: true });
    },
  };
  for (const [path, text] of Object.entries(files)) checkout.write(path, text);
  checkout.commit('first');
  return checkout;
}
