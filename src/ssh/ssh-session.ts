/**
 * A session on an SSH host: a fresh workspace there, commands and file
 * copies over the executor's shared connection to the host, and on close
 * the workspace removed and the connection given back.
 */
import { posix } from 'node:path';
import {
  ExecutorError,
  type ExecSession,
  type HostRef,
  type RunOptions,
  type RunResult,
} from '../executor/executor.ts';
import { captureRemoteCommand } from './capture-remote-command.ts';
import { buildRemoveWorkspaceCommand, envOnStdin } from './remote-commands.ts';
import { runRemoteCommand } from './run-remote-command.ts';
import type { SshConnection } from './ssh-connection.ts';
import { downloadFile, uploadFile } from './transfer-file.ts';
import { errorMessage } from '../sluice-error.ts';

export class SshSession implements ExecSession {
  readonly host: HostRef;
  readonly workspace: string;
  readonly #connection: SshConnection;
  readonly #release: () => Promise<void>;
  readonly #killGraceMs: number;
  readonly #maxCommandMs: number | undefined;
  readonly #hostLimitMarginMs: number;
  // Aborted by close(): commands still running must not outlive the workspace.
  readonly #closing = new AbortController();
  readonly #running = new Set<Promise<RunResult>>();
  #closed: Promise<void> | undefined;

  constructor(
    host: HostRef,
    workspace: string,
    connection: SshConnection,
    release: () => Promise<void>,
    limits: { killGraceMs: number; maxCommandMs: number | undefined; hostLimitMarginMs: number },
  ) {
    this.host = host;
    this.workspace = workspace;
    this.#connection = connection;
    this.#release = release;
    this.#killGraceMs = limits.killGraceMs;
    this.#maxCommandMs = limits.maxCommandMs;
    this.#hostLimitMarginMs = limits.hostLimitMarginMs;
  }

  async run(command: string, options: RunOptions): Promise<RunResult> {
    this.#assertOpen();
    const signal = options.signal ? AbortSignal.any([options.signal, this.#closing.signal]) : this.#closing.signal;
    if (signal.aborted) return { exitCode: null, timedOut: false, aborted: true };
    // The operator's limit holds whatever a pipeline asks.
    const limit = this.#maxCommandMs;
    const capped = limit !== undefined && options.timeoutMs > limit;
    const timeoutMs = capped ? limit : options.timeoutMs;
    const run = this.#runWithEnv(command, {
      ...options,
      signal,
      timeoutMs,
      hostLimitMs: timeoutMs + this.#hostLimitMarginMs,
    });
    this.#running.add(run);
    try {
      const result = await run;
      return capped && result.timedOut ? { ...result, limitMs: limit } : result;
    } finally {
      this.#running.delete(run);
    }
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    this.#assertOpen();
    await uploadFile(this.#connection, localPath, this.#resolve(remotePath));
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    this.#assertOpen();
    await downloadFile(this.#connection, this.#resolve(remotePath), localPath);
  }

  close(): Promise<void> {
    this.#closed ??= this.#removeWorkspace();
    return this.#closed;
  }

  async #runWithEnv(
    command: string,
    options: RunOptions & { signal: AbortSignal; hostLimitMs: number },
  ): Promise<RunResult> {
    const env = options.env ?? {};
    if (Object.keys(env).length === 0) {
      return runRemoteCommand(this.#connection, command, {
        ...options,
        cwd: this.#resolve(options.cwd ?? this.workspace),
        killGraceMs: this.#killGraceMs,
      });
    }
    let envText: string;
    try {
      envText = envOnStdin(env);
    } catch (error) {
      throw new ExecutorError(
        'WORKSPACE_FAILED',
        `cannot pass the environment to ${this.host.name}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
    // Secret values go ahead of the command's input on its stdin, never onto
    // a command line where `ps` on the host would show them, nor into a file.
    return runRemoteCommand(this.#connection, command, {
      ...options,
      cwd: this.#resolve(options.cwd ?? this.workspace),
      envText,
      killGraceMs: this.#killGraceMs,
    });
  }

  async #removeWorkspace(): Promise<void> {
    this.#closing.abort();
    await Promise.allSettled(this.#running);
    try {
      // A host that is gone keeps its workspace: nothing to do about it here,
      // and close() runs in `finally` blocks where it must not hide the real error.
      if (!this.#connection.closed)
        await captureRemoteCommand(this.#connection, buildRemoveWorkspaceCommand(this.workspace)).catch(() => {});
    } finally {
      await this.#release();
    }
  }

  #assertOpen(): void {
    if (this.#closed)
      throw new ExecutorError('WORKSPACE_FAILED', `the session for ${this.workspace} on ${this.host.name} is closed`);
  }

  /** Paths relative to the workspace, as LocalExecutor resolves them. */
  #resolve(path: string): string {
    return posix.isAbsolute(path) ? path : posix.resolve(this.workspace, path);
  }
}
