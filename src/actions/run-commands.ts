/**
 * The user's own commands, one after another, each announced in the log and
 * stopped at the first that does not succeed.
 */
import { throwIfCancelled, type ActionWorkspace } from './action-workspace.ts';
import { ActionFailure } from './action-result.ts';
import { formatTimeLimit } from '../format-duration.ts';
import { errorMessage } from '../sluice-error.ts';

export interface CommandsOptions {
  /** Per-command timeout. */
  timeoutMs: number;
  /** Environment of every command, secrets included. */
  env: Record<string, string>;
}

/** Run `commands` in the source directory; throws `ActionFailure` naming the one that failed. */
export async function runCommands(
  context: ActionWorkspace,
  commands: readonly string[],
  options: CommandsOptions,
): Promise<void> {
  for (const [index, command] of commands.entries()) {
    throwIfCancelled(context);
    const label = `command ${index + 1} of ${commands.length} "${context.mask(summarize(command))}"`;
    context.log(`$ ${command}`, 'sluice');
    // Masked as streams: a secret cut by a line break or a long line's pieces is still found.
    const output = {
      stdout: context.mask.lines((line) => context.log(line, 'stdout')),
      stderr: context.mask.lines((line) => context.log(line, 'stderr')),
    };
    let result;
    try {
      result = await context.session.run(command, {
        cwd: context.sourceDir,
        env: options.env,
        timeoutMs: options.timeoutMs,
        ...(context.signal ? { signal: context.signal } : {}),
        onLine: (line, stream, continues) => output[stream].push(line, continues),
      });
    } catch (error) {
      throw new ActionFailure('setup_failed', `${label} could not run: ${errorMessage(error)}`, { cause: error });
    } finally {
      output.stdout.flush();
      output.stderr.flush();
    }
    if (result.aborted) throw new ActionFailure('cancelled', `${label} was cancelled`);
    if (result.timedOut)
      throw new ActionFailure(
        'timed_out',
        `${label} timed out after ${formatTimeLimit(options.timeoutMs, result.limitMs)}`,
      );
    if (result.exitCode !== 0)
      throw new ActionFailure('command_failed', `${label} exited with code ${result.exitCode}`);
  }
}

/** A reason names a command by its first line; YAML block scripts can be long. */
function summarize(command: string): string {
  const lines = command.trim().split('\n');
  const first = lines[0] ?? '';
  const short = first.length > 80 ? `${first.slice(0, 79)}…` : first;
  return lines.length > 1 && short === first ? `${short} …` : short;
}
