/**
 * Where an action's commands run. The engine never sees this; the action
 * runners (build, command, deploy) talk to a host only through a session.
 * `local` is this machine (LocalExecutor); SSH hosts arrive with the SSH
 * executor and implement the same interface.
 */
import { SluiceError, type ExecutorErrorCode } from '../sluice-error.ts';

/** A host as the server config names it, resolved. */
export interface HostRef {
  /** Display name, e.g. `web1` or `local`. */
  name: string;
  /** `local`, or the address to connect to. */
  address: string;
  port?: number;
  user?: string;
}

export type OutputStream = 'stdout' | 'stderr';

/**
 * What happens to processes a command leaves running once it exits.
 * `stop` (builds, command actions, Sluice's own commands): its whole
 * process group is stopped, so nothing outlives the action. `keep` (deploy
 * hooks, which may start the app with `nohup app &`): they run on, after
 * the session, the connection and Sluice itself; a timeout or an abort
 * still stops the group.
 */
export type Leftovers = 'stop' | 'keep';

export interface RunOptions {
  /** Extra environment variables (secret values included; never logged). */
  env?: Record<string, string>;
  /** Kill the command (and everything it started) after this long. */
  timeoutMs: number;
  /** Aborting kills the command as a timeout does. */
  signal?: AbortSignal;
  /**
   * Each complete output line, as it arrives. A line over 64 KiB comes in
   * pieces: `continues` is true for each piece but its last.
   */
  onLine?: (line: string, stream: OutputStream, continues?: boolean) => void;
  /** Text written to the command's standard input, then closed. */
  stdin?: string;
  /** Working directory; defaults to the session's workspace. */
  cwd?: string;
  /** Default `stop`. */
  leftovers?: Leftovers;
  /**
   * Put in the command's environment as SLUICE_COMMAND_MARK: a later Sluice
   * process tells the command's process group by it from another that got
   * the same id once the command was gone.
   */
  mark?: string;
  /**
   * Called with the command's process group id once it runs, and with the
   * time limit the host itself stops it at (even with this process gone),
   * when the host holds it to one.
   */
  onStarted?: (pgid: number, hostLimitMs?: number) => void;
}

/** The environment variable that carries RunOptions.mark. */
export const COMMAND_MARK_VARIABLE = 'SLUICE_COMMAND_MARK';

export interface RunResult {
  /** The exit code, or null when the command was killed. */
  exitCode: number | null;
  timedOut: boolean;
  aborted: boolean;
  /** Why there is no exit code when nobody killed it: `SIGKILL`, or that the host sent none. */
  lostExit?: string;
  /**
   * Set when a timed-out command was stopped at the host's own limit (the operator's), shorter than the one asked for.
   */
  limitMs?: number;
}

export interface ExecSession {
  readonly host: HostRef;
  /** A fresh, empty directory made for this session (absolute path). */
  readonly workspace: string;
  /** Run shell text with bash on the host. Never rejects on a non-zero exit. */
  run(command: string, options: RunOptions): Promise<RunResult>;
  /** Copy a local file to a path on the host. */
  upload(localPath: string, remotePath: string): Promise<void>;
  /** Copy a file from the host to a local path. */
  download(remotePath: string, localPath: string): Promise<void>;
  /** Remove the workspace and release the connection. Safe to call twice. */
  close(): Promise<void>;
}

export interface Executor {
  /** Open a session with a fresh workspace on the host. */
  open(host: HostRef, options?: { signal?: AbortSignal }): Promise<ExecSession>;
}

export class ExecutorError extends SluiceError<ExecutorErrorCode> {}
