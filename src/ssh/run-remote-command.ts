/**
 * Runs one command on an SSH host the way LocalExecutor runs one here: bash,
 * output line by line, a non-zero exit as a result, and on timeout or abort
 * a stop that takes down the command's whole process group on the host
 * (PRODUCT S6) through a second exec. A lost connection rejects at once.
 */
import { randomBytes } from 'node:crypto';
import { ExecutorError, type OutputStream, type RunOptions, type RunResult } from '../executor/executor.ts';
import { createLineSplitter } from '../executor/split-lines.ts';
import { timerDelay } from '../executor/timer-delay.ts';
import { captureRemoteCommand } from './capture-remote-command.ts';
import { buildRunCommand, buildStopCommand, runMarkers } from './remote-commands.ts';
import { exitStatusOf, type SshConnection } from './ssh-connection.ts';

export interface RemoteRunOptions extends RunOptions {
  /** Absolute working directory on the host. */
  cwd: string;
  /** An uploaded 0600 file of `export` lines, deleted once sourced. */
  envFile?: string;
  /** `export` lines sent ahead of stdin and read by the run script (envOnStdin): no file, no extra round trip. */
  envText?: string;
  /** How long processes get after SIGTERM before SIGKILL. */
  killGraceMs: number;
  /** After this long the host stops the command by itself, should this process never come back to; default none. */
  hostLimitMs?: number;
}

export async function runRemoteCommand(
  connection: SshConnection,
  command: string,
  options: RemoteRunOptions,
): Promise<RunResult> {
  if (options.signal?.aborted) return { exitCode: null, timedOut: false, aborted: true };
  const nonce = randomBytes(8).toString('hex');
  const markers = runMarkers(nonce);
  const channel = await connection.exec(
    buildRunCommand({
      nonce,
      cwd: options.cwd,
      envFile: options.envText !== undefined ? '-' : options.envFile,
      command,
      killGraceMs: options.killGraceMs,
      leftovers: options.leftovers ?? 'stop',
      mark: options.mark ?? randomBytes(8).toString('hex'),
      hostLimitMs: options.hostLimitMs,
    }),
  );

  return new Promise<RunResult>((resolve, reject) => {
    let timedOut = false;
    let aborted = false;
    let pgid: number | undefined;
    let cwdMissing = false;
    let stopWanted = false;
    let stopping: Promise<unknown> = Promise.resolve();
    let settled = false;

    const stop = () => {
      stopWanted = true;
      if (pgid === undefined) return; // Stopped as soon as the group id arrives.
      // A failed stop surfaces as the lost connection that caused it.
      stopping = captureRemoteCommand(connection, buildStopCommand(pgid, options.killGraceMs)).catch(() => {});
    };
    const onTimeout = () => {
      if (aborted || stopWanted) return;
      timedOut = true;
      stop();
    };
    const onAbort = () => {
      if (timedOut || stopWanted) return;
      aborted = true;
      stop();
    };
    const timer = setTimeout(onTimeout, timerDelay(options.timeoutMs));
    options.signal?.addEventListener('abort', onAbort, { once: true });
    // Aborted while the channel was being opened: the listener above never fires.
    if (options.signal?.aborted) onAbort();
    const unsubscribe = connection.onLost((error) => finish(() => reject(lostWhileRunning(error))));

    function finish(settle: () => void) {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onAbort);
      unsubscribe();
      settle();
    }

    const emit = (line: string, stream: OutputStream, continues: boolean) => options.onLine?.(line, stream, continues);
    const stdout = createLineSplitter((line, continues) => {
      // The run script's own lines come first; anything before them (a
      // chatty .bashrc) is output like any other.
      if (pgid === undefined && !cwdMissing) {
        const match = markers.pgid.exec(line);
        if (match?.[1]) {
          pgid = Number(match[1]);
          options.onStarted?.(pgid, match[2] ? Number(match[2]) * 1000 : undefined);
          if (stopWanted) stop();
          return;
        }
        if (line === markers.noCwd) {
          cwdMissing = true;
          return;
        }
      }
      emit(line, 'stdout', continues);
    });
    const stderr = createLineSplitter((line, continues) => emit(line, 'stderr', continues));
    channel.setEncoding('utf8');
    channel.stderr.setEncoding('utf8');
    channel.on('data', (chunk: string) => stdout.push(chunk));
    channel.stderr.on('data', (chunk: string) => stderr.push(chunk));
    // A command that never reads its input: the host drops it, not an error.
    channel.on('error', () => {});
    channel.end((options.envText ?? '') + (options.stdin ?? ''));

    // ssh2 emits the channel's `close` once stdout has ended; stderr may
    // still hold data. Either may also emit `close` twice (autoDestroy).
    const closed = { channel: false, stderr: false };
    const onClosed = (which: keyof typeof closed) => {
      if (closed.channel && closed.stderr) return;
      closed[which] = true;
      if (!closed.channel || !closed.stderr) return;
      stdout.flush();
      stderr.flush();
      void stopping.then(() => {
        if (connection.lost) return finish(() => reject(lostWhileRunning(connection.lost as ExecutorError)));
        if (cwdMissing) {
          return finish(() =>
            reject(
              new ExecutorError(
                'WORKSPACE_FAILED',
                `working directory ${options.cwd} does not exist on ${connection.describe()}`,
              ),
            ),
          );
        }
        const exit = exitStatusOf(channel);
        const exitCode = exit?.code ?? null;
        const exitSignal = exit?.signal;
        const killed = timedOut || aborted;
        const lostExit =
          !killed && exitCode === null
            ? exitSignal
              ? `killed by ${exitSignal}`
              : 'the host closed the session without an exit status'
            : undefined;
        finish(() => resolve({ exitCode: killed ? null : exitCode, timedOut, aborted, ...(lostExit && { lostExit }) }));
      });
    };
    channel.on('close', () => onClosed('channel'));
    channel.stderr.on('close', () => onClosed('stderr'));
  });
}

function lostWhileRunning(error: ExecutorError): ExecutorError {
  return new ExecutorError('HOST_UNREACHABLE', `${error.message}; the command may still be running there`, {
    cause: error,
  });
}
