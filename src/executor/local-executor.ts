/**
 * The executor for host `local`: this machine. Builds on the Sluice machine
 * and `sluice run` use it; it behaves like an SSH host so the action runners
 * cannot tell the difference.
 */
import { copyFile, mkdir, mkdtemp, realpath } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import {
  ExecutorError,
  type ExecSession,
  type Executor,
  type HostRef,
  type RunOptions,
  type RunResult,
} from './executor.ts';
import { removeTree } from './remove-tree.ts';
import { runLocalCommand } from './run-local-command.ts';
import { errorMessage } from '../sluice-error.ts';

export interface LocalExecutorOptions {
  /** Where workspaces are made; defaults to the system temp directory. */
  baseDir?: string;
  /** Time between SIGTERM and SIGKILL when a command is stopped. */
  killGraceMs?: number;
}

// Workspaces of this process's open sessions: pruning leaves them alone.
const openWorkspaces = new Set<string>();

/** The workspaces this process's local sessions have open now. */
export function openLocalWorkspaces(): ReadonlySet<string> {
  return openWorkspaces;
}

/** Runs commands on this machine, each session in a fresh temp directory. */
export class LocalExecutor implements Executor {
  readonly #baseDir: string;
  readonly #killGraceMs: number;

  constructor(options: LocalExecutorOptions = {}) {
    this.#baseDir = options.baseDir ?? tmpdir();
    this.#killGraceMs = options.killGraceMs ?? 2000;
  }

  async open(host: HostRef, options: { signal?: AbortSignal } = {}): Promise<ExecSession> {
    if (host.address !== 'local') {
      throw new ExecutorError(
        'HOST_UNREACHABLE',
        `the local executor only runs on host "local", not ${host.name} (${host.address})`,
      );
    }
    options.signal?.throwIfAborted();
    try {
      await mkdir(this.#baseDir, { recursive: true });
      // realpath: callers compare and print absolute paths; /tmp may be a symlink.
      const workspace = await realpath(await mkdtemp(join(this.#baseDir, 'sluice-ws-')));
      openWorkspaces.add(workspace);
      return new LocalSession(host, workspace, this.#killGraceMs);
    } catch (error) {
      throw new ExecutorError(
        'WORKSPACE_FAILED',
        `could not make a workspace in ${this.#baseDir}: ${errorMessage(error)}`,
        { cause: error },
      );
    }
  }
}

class LocalSession implements ExecSession {
  readonly host: HostRef;
  readonly workspace: string;
  readonly #killGraceMs: number;
  // Aborted by close(): commands still running must not outlive the workspace.
  readonly #closing = new AbortController();
  readonly #running = new Set<Promise<RunResult>>();
  #closed: Promise<void> | undefined;

  constructor(host: HostRef, workspace: string, killGraceMs: number) {
    this.host = host;
    this.workspace = workspace;
    this.#killGraceMs = killGraceMs;
  }

  async run(command: string, options: RunOptions): Promise<RunResult> {
    this.#assertOpen();
    const signal = options.signal ? AbortSignal.any([options.signal, this.#closing.signal]) : this.#closing.signal;
    const run = runLocalCommand(command, {
      ...options,
      signal,
      cwd: this.#resolve(options.cwd ?? this.workspace),
      killGraceMs: this.#killGraceMs,
    });
    this.#running.add(run);
    try {
      return await run;
    } finally {
      this.#running.delete(run);
    }
  }

  async upload(localPath: string, remotePath: string): Promise<void> {
    this.#assertOpen();
    await copy(localPath, this.#resolve(remotePath));
  }

  async download(remotePath: string, localPath: string): Promise<void> {
    this.#assertOpen();
    await copy(this.#resolve(remotePath), localPath);
  }

  close(): Promise<void> {
    this.#closed ??= this.#removeWorkspace();
    return this.#closed;
  }

  async #removeWorkspace(): Promise<void> {
    this.#closing.abort();
    await Promise.allSettled(this.#running);
    try {
      await removeTree(this.workspace);
    } finally {
      openWorkspaces.delete(this.workspace);
    }
  }

  #assertOpen(): void {
    if (this.#closed) throw new ExecutorError('WORKSPACE_FAILED', `the session for ${this.workspace} is closed`);
  }

  /** Paths relative to the workspace, as on a remote host they would be. */
  #resolve(path: string): string {
    return isAbsolute(path) ? path : resolve(this.workspace, path);
  }
}

async function copy(from: string, to: string): Promise<void> {
  try {
    await copyFile(from, to);
  } catch (error) {
    throw new ExecutorError('TRANSFER_FAILED', `could not copy ${from} to ${to}: ${errorMessage(error)}`, {
      cause: error,
    });
  }
}
