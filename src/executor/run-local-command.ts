/**
 * Runs one command on this machine the way a build host would: bash, a clean
 * environment, output line by line, and a hard stop that takes down every
 * process the command started (PRODUCT S6).
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { DETACH_OUTPUT } from './detach-output.ts';
import {
  COMMAND_MARK_VARIABLE,
  ExecutorError,
  type OutputStream,
  type RunOptions,
  type RunResult,
} from './executor.ts';
import { processGroupAlive, stopProcessGroup } from './process-group.ts';
import { createLineSplitter } from './split-lines.ts';
import { timerDelay } from './timer-delay.ts';

export interface LocalRunOptions extends RunOptions {
  /** Absolute working directory; must exist. */
  cwd: string;
  /** How long processes get after SIGTERM before SIGKILL. */
  killGraceMs: number;
}

/**
 * Run `bash -c command` in its own process group and wait until it and
 * everything it started are gone. Resolves with the exit code; a non-zero
 * exit is a result, not an error. On timeout or abort the whole group gets
 * SIGTERM, then SIGKILL after the grace period, and `exitCode` is null.
 *
 * Processes the command leaves behind (`server &`) are stopped the same way
 * once bash exits, as CI servers do: they would otherwise hold the output
 * open and outlive the workspace. With `leftovers: 'keep'` (deploy hooks)
 * they run on instead, and the command ends when its own bash exits.
 */
export async function runLocalCommand(command: string, options: LocalRunOptions): Promise<RunResult> {
  await assertDirectory(options.cwd);
  if (options.signal?.aborted) return { exitCode: null, timedOut: false, aborted: true };

  const keep = options.leftovers === 'keep';
  // --norc: bash reads ~/.bashrc when its stdin is a socket (as Node's pipes are), and that may eat the input.
  const args = keep ? ['-c', KEEP, 'sluice', `sluice-${randomBytes(8).toString('hex')}:end`, command] : ['-c', command];
  const child = spawn('bash', ['--norc', '--noprofile', ...args], {
    cwd: options.cwd,
    // The mark last: the command's own variables cannot hide it.
    env: {
      ...cleanEnvironment(options.env),
      ...(options.mark !== undefined && { [COMMAND_MARK_VARIABLE]: options.mark }),
    },
    // Own process group: one kill(-pgid) reaches grandchildren too.
    detached: true,
    stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
  });

  if (child.pid !== undefined) options.onStarted?.(child.pid);

  return new Promise<RunResult>((resolve, reject) => {
    let timedOut = false;
    let aborted = false;
    let exitCode: number | null = null;
    let stopping: Promise<void> = Promise.resolve();
    let stopStarted = false;

    const stop = () => {
      if (stopStarted || child.pid === undefined) return;
      stopStarted = true;
      stopping = stopProcessGroup(child.pid, options.killGraceMs);
    };
    const onTimeout = () => {
      if (aborted) return;
      timedOut = true;
      stop();
    };
    const onAbort = () => {
      if (timedOut) return;
      aborted = true;
      stop();
    };
    const timer = setTimeout(onTimeout, timerDelay(options.timeoutMs));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    const stopWatching = () => {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
    };

    const splitters = (['stdout', 'stderr'] as const).map((stream: OutputStream) => {
      const splitter = createLineSplitter((line, continues) => options.onLine?.(line, stream, continues));
      const readable = child[stream];
      readable?.setEncoding('utf8');
      readable?.on('data', (chunk: string) => splitter.push(chunk));
      return splitter;
    });

    if (options.stdin !== undefined && child.stdin) {
      // A command that never reads its input closes the pipe early: not an error.
      child.stdin.on('error', () => {});
      child.stdin.end(options.stdin);
    }

    child.on('error', (error) => {
      if (child.pid !== undefined) return;
      stopWatching();
      reject(new ExecutorError('WORKSPACE_FAILED', `could not start bash: ${error.message}`, { cause: error }));
    });
    // Checked when bash exits, awaited on close: by then leftovers are gone too.
    let leftovers: Promise<void> = Promise.resolve();
    child.on('exit', (code) => {
      exitCode = code;
      stopWatching();
      const pid = child.pid;
      if (pid !== undefined && !keep) {
        leftovers = processGroupAlive(pid).then((alive) => {
          if (alive) stop();
        });
      }
    });
    child.on('close', () => {
      for (const splitter of splitters) splitter.flush();
      void leftovers
        .then(() => stopping)
        .then(() => {
          const killed = timedOut || aborted;
          resolve({ exitCode: killed ? null : exitCode, timedOut, aborted });
        });
    });
  });
}

// $1 end marker, $2 command. The command runs as a child of this script, in
// the same process group, so a timeout still stops all of it.
const KEEP = `${DETACH_OUTPUT}
detach_output "$1"
bash --norc --noprofile -c "$2"
code=$?
end_output "$1"
exit "$code"`;

/** Only what a build needs; the Sluice process's own secrets stay here. */
function cleanEnvironment(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    LANG: process.env.LANG ?? 'C.UTF-8',
  };
  if (process.env.HOME !== undefined) env.HOME = process.env.HOME;
  return { ...env, ...extra };
}

async function assertDirectory(dir: string): Promise<void> {
  const info = await stat(dir).catch(() => undefined);
  if (!info?.isDirectory()) {
    throw new ExecutorError('WORKSPACE_FAILED', `working directory ${dir} does not exist`);
  }
}
