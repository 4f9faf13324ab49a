/**
 * The executor for SSH hosts. One executor serves one execution: sessions
 * it opens on the same host share one connection, made on first use and
 * closed when the last session there closes. Hosts are trusted only by
 * their key in known_hosts.
 */
import { readFile } from 'node:fs/promises';
import { ExecutorError, type ExecSession, type Executor, type HostRef } from '../executor/executor.ts';
import { captureRemoteCommand } from './capture-remote-command.ts';
import { connectHost } from './connect-host.ts';
import { ConnectionPool } from './connection-pool.ts';
import { buildMakeWorkspaceCommand } from './remote-commands.ts';
import type { SshTarget } from './ssh-connection.ts';
import { SshSession } from './ssh-session.ts';

export interface SshExecutorOptions {
  /** The SSH user, unless the host names its own. */
  user: string;
  /** Private key to log in with (OpenSSH or PEM format, no passphrase). */
  privateKeyPath: string;
  /** known_hosts file; a host whose key is not in it is refused before logging in. */
  knownHostsPath: string;
  /** How often an idle connection is checked; default 5000. */
  keepaliveIntervalMs?: number;
  /** Unanswered checks before the connection counts as lost (interval × count); default 3. */
  keepaliveCountMax?: number;
  /** Limit for connecting and logging in; default 15000. */
  connectTimeoutMs?: number;
  /** Parent of the workspaces on every host; default `/tmp/sluice-workspaces`. */
  baseDir?: string;
  /** Time between SIGTERM and SIGKILL when a command is stopped; default 1000. */
  killGraceMs?: number;
  /** The longest any command may run (the operator's `ssh.command_timeout`), whatever its caller asks; default none. */
  maxCommandMs?: number | undefined;
  /**
   * How much longer than its own time limit the host lets a command run
   * before it stops it by itself (when this process died or lost the
   * connection and cannot); default 30000.
   */
  hostLimitMarginMs?: number;
  /**
   * The ciphers offered, most wanted first (ssh2's names); default ssh2's own order (AES-GCM first where the CPU has
   * AES).
   */
  ciphers?: string[];
  /**
   * How artifacts go up: with the system's OpenSSH client where there is one
   * (default: several times faster than ssh2's SFTP, bench/RESULTS.md), or over
   * the connection's SFTP channel.
   */
  uploads?: 'openssh' | 'sftp';
}

export const DEFAULT_HOST_LIMIT_MARGIN_MS = 30_000;

export class SshExecutor implements Executor {
  readonly #options: Required<Omit<SshExecutorOptions, 'maxCommandMs' | 'ciphers' | 'uploads'>> &
    Pick<SshExecutorOptions, 'maxCommandMs' | 'ciphers' | 'uploads'>;
  readonly #pool: ConnectionPool;
  #privateKey: Promise<string> | undefined;

  constructor(options: SshExecutorOptions) {
    this.#options = {
      user: options.user,
      privateKeyPath: options.privateKeyPath,
      knownHostsPath: options.knownHostsPath,
      keepaliveIntervalMs: options.keepaliveIntervalMs ?? 5000,
      keepaliveCountMax: options.keepaliveCountMax ?? 3,
      connectTimeoutMs: options.connectTimeoutMs ?? 15_000,
      baseDir: options.baseDir ?? '/tmp/sluice-workspaces',
      killGraceMs: options.killGraceMs ?? 1000,
      maxCommandMs: options.maxCommandMs,
      hostLimitMarginMs: options.hostLimitMarginMs ?? DEFAULT_HOST_LIMIT_MARGIN_MS,
      ciphers: options.ciphers,
      uploads: options.uploads,
    };
    this.#pool = new ConnectionPool((target, signal) => this.#connect(target, signal));
  }

  async open(host: HostRef, options: { signal?: AbortSignal } = {}): Promise<ExecSession> {
    options.signal?.throwIfAborted();
    if (host.address === 'local') {
      throw new ExecutorError(
        'HOST_UNREACHABLE',
        `host ${host.name} is local: run it with the local executor, not over SSH`,
      );
    }
    const target: SshTarget = {
      name: host.name,
      address: host.address,
      port: host.port ?? 22,
      user: host.user ?? this.#options.user,
    };
    const connection = await this.#pool.acquire(target, options.signal);
    const release = () => this.#pool.release(connection);
    try {
      const made = await captureRemoteCommand(connection, buildMakeWorkspaceCommand(this.#options.baseDir));
      // The last line: a chatty login shell may print before it.
      const workspace = made.stdout.trim().split('\n').at(-1) ?? '';
      if (made.code !== 0 || !workspace.startsWith('/')) {
        throw new ExecutorError(
          'WORKSPACE_FAILED',
          `could not make a workspace in ${this.#options.baseDir} on ${connection.describe()}: ${made.stderr.trim() || `exit code ${made.code}`}`,
        );
      }
      const { killGraceMs, maxCommandMs, hostLimitMarginMs } = this.#options;
      return new SshSession(host, workspace, connection, release, { killGraceMs, maxCommandMs, hostLimitMarginMs });
    } catch (error) {
      await release();
      throw error;
    }
  }

  async #connect(target: SshTarget, signal?: AbortSignal) {
    const {
      privateKeyPath,
      knownHostsPath,
      keepaliveIntervalMs,
      keepaliveCountMax,
      connectTimeoutMs,
      ciphers,
      uploads,
    } = this.#options;
    return connectHost(target, {
      ...(ciphers && { ciphers }),
      ...(uploads && { uploads }),
      privateKey: await this.#readPrivateKey(),
      privateKeyPath,
      knownHostsPath,
      keepaliveIntervalMs,
      keepaliveCountMax,
      connectTimeoutMs,
      signal,
    });
  }

  #readPrivateKey(): Promise<string> {
    const path = this.#options.privateKeyPath;
    this.#privateKey ??= readFile(path, 'utf8').catch((error: Error) => {
      this.#privateKey = undefined;
      throw new ExecutorError('HOST_UNREACHABLE', `cannot read the SSH key ${path}: ${error.message}`, {
        cause: error,
      });
    });
    return this.#privateKey;
  }
}
