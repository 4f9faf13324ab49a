import { execFile } from 'node:child_process';
import { basename } from 'node:path';
import { promisify } from 'node:util';

const exec = promisify(execFile);

/**
 * The repository a checkout belongs to, as `owner/name`: from the `origin`
 * remote when it points at GitHub-like hosting, else `local/<directory>`.
 */
export async function detectRepo(checkout: string): Promise<string> {
  try {
    const { stdout } = await exec('git', ['remote', 'get-url', 'origin'], { cwd: checkout });
    const match = /[:/]([^/:]+\/[^/]+?)(?:\.git)?\/?$/.exec(stdout.trim());
    if (match?.[1]) return match[1];
  } catch {
    // No origin remote: a local-only repository.
  }
  const { stdout } = await exec('git', ['rev-parse', '--show-toplevel'], { cwd: checkout }).catch(() => ({
    stdout: checkout,
  }));
  return `local/${basename(stdout.trim())}`;
}
