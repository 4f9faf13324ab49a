/**
 * Where the `sluice` command keeps its state when neither `--data-dir` nor
 * `SLUICE_DATA_DIR` says: a per-user state directory, never the current
 * directory. The command runs inside an app's checkout, and a `./data`
 * there would be packed into the next `sluice run`'s source.
 */
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';

export function cliDataDir(flag: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (flag) return resolve(flag);
  if (env.SLUICE_DATA_DIR) return resolve(env.SLUICE_DATA_DIR);
  const stateHome = env.XDG_STATE_HOME || join(env.HOME || homedir(), '.local', 'state');
  return join(stateHome, 'sluice');
}
