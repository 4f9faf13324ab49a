/** Removing a directory tree, even one with read-only directories inside. */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { promisify } from 'node:util';

export async function removeTree(dir: string): Promise<void> {
  try {
    await rm(dir, { recursive: true, force: true });
  } catch {
    // Tools such as Go's module cache leave read-only directories behind.
    await promisify(execFile)('chmod', ['-R', 'u+w', '--', dir]).catch(() => {});
    await rm(dir, { recursive: true, force: true });
  }
}
