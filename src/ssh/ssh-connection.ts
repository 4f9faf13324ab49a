/**
 * One authenticated SSH connection to one host, shared by the sessions an
 * executor opens there. Turns ssh2's events into one fact — the connection
 * is lost, and why — that every command running over it can wait on.
 */
import { ExecutorError } from '../executor/executor.ts';
import type { HostKeyTarget } from './host-key-policy.ts';
import type { OpenSshTarget } from './openssh-transfer.ts';
import type { Ssh2Channel, Ssh2Client, Ssh2Error, Ssh2Sftp } from './ssh2-types.ts';
import { formatDuration } from '../format-duration.ts';

export interface SshTarget extends HostKeyTarget {
  user: string;
}

/** How a command ended, as the host said: an exit code, or the signal that killed it. */
export interface ExitStatus {
  code: number | null;
  signal?: string;
}

const exits = new WeakMap<Ssh2Channel, ExitStatus>();

/** The exit status the host sent for a channel opened by `SshConnection.exec`; undefined if it sent none (yet). */
export function exitStatusOf(channel: Ssh2Channel): ExitStatus | undefined {
  return exits.get(channel);
}

export class SshConnection {
  readonly target: SshTarget;
  /** The same host for the system's OpenSSH client, which uploads large files; absent: over SFTP. */
  readonly openSsh: OpenSshTarget | undefined;
  readonly #client: Ssh2Client;
  readonly #lostListeners = new Set<(error: ExecutorError) => void>();
  readonly #keepalive: { intervalMs: number; countMax: number };
  #lost: ExecutorError | undefined;
  #lastError: Ssh2Error | undefined;
  #closed = false;
  #closing: Promise<void> | undefined;
  #socketClosed = false;
  #sftp: Promise<Ssh2Sftp> | undefined;

  /** `client` must be ready; error listeners are attached here, at once (node-ssh drops its own after `ready`). */
  constructor(
    target: SshTarget,
    client: Ssh2Client,
    keepalive: { intervalMs: number; countMax: number },
    openSsh?: OpenSshTarget,
  ) {
    this.target = target;
    this.openSsh = openSsh;
    this.#client = client;
    this.#keepalive = keepalive;
    client.on('error', (error: Ssh2Error) => {
      this.#lastError = error;
    });
    client.on('close', () => {
      this.#socketClosed = true;
      this.#markLost();
    });
  }

  /** Why the connection is gone, or undefined while it is up. */
  get lost(): ExecutorError | undefined {
    return this.#lost;
  }

  /** Called once when the connection drops (not when it is closed on purpose). Returns an unsubscribe. */
  onLost(listener: (error: ExecutorError) => void): () => void {
    this.#lostListeners.add(listener);
    return () => this.#lostListeners.delete(listener);
  }

  /** Start a command (shell text for the login shell) on a new channel. */
  /**
   * Starts a command. Its exit status is recorded from the first moment
   * (read it with `exitStatusOf`): a fast command's status can be emitted
   * in the same read as the exec's reply, before a caller awaiting this
   * promise has had a chance to listen.
   */
  exec(command: string): Promise<Ssh2Channel> {
    return new Promise((resolve, reject) => {
      if (this.#failIfUnusable(reject)) return;
      this.#client.exec(command, (error, channel) => {
        if (!error) {
          channel.on('exit', (code: number | null, signal?: string) => {
            exits.set(channel, { code, ...(signal && { signal: signal.startsWith('SIG') ? signal : `SIG${signal}` }) });
          });
          return resolve(channel);
        }
        reject(
          this.#lost ??
            new ExecutorError('WORKSPACE_FAILED', `could not start a command on ${this.describe()}: ${error.message}`, {
              cause: error,
            }),
        );
      });
    });
  }

  /** The connection's one SFTP channel, opened on first use. */
  sftp(): Promise<Ssh2Sftp> {
    this.#sftp ??= new Promise<Ssh2Sftp>((resolve, reject) => {
      if (this.#failIfUnusable(reject)) return;
      this.#client.sftp((error, sftp) => {
        if (!error) {
          // A closed SFTP channel is opened anew next time.
          sftp.on('close', () => (this.#sftp = undefined));
          return resolve(sftp);
        }
        this.#sftp = undefined;
        reject(
          this.#lost ??
            new ExecutorError('TRANSFER_FAILED', `could not start SFTP on ${this.describe()}: ${error.message}`, {
              cause: error,
            }),
        );
      });
    });
    return this.#sftp;
  }

  /**
   * Close for good; commands still running over it see the channel close.
   * Resolves once the socket is closed (the host has seen the connection end).
   */
  close(): Promise<void> {
    this.#closing ??= new Promise<void>((resolve) => {
      this.#closed = true;
      if (this.#socketClosed) return resolve();
      // end() waits for the host to close its side; one that stopped answering never does.
      const force = setTimeout(() => this.#client.destroy(), 2000);
      force.unref();
      this.#client.once('close', () => {
        clearTimeout(force);
        resolve();
      });
      this.#client.end();
    });
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closed || this.#lost !== undefined;
  }

  describe(): string {
    return `host ${this.target.name} (${this.target.address} port ${this.target.port})`;
  }

  #failIfUnusable(reject: (error: Error) => void): boolean {
    if (this.#lost) reject(this.#lost);
    else if (this.#closed)
      reject(new ExecutorError('HOST_UNREACHABLE', `the connection to ${this.describe()} is closed`));
    else return false;
    return true;
  }

  #markLost(): void {
    if (this.#closed || this.#lost) return;
    this.#lost = new ExecutorError('HOST_UNREACHABLE', `lost connection to ${this.describe()}: ${this.#why()}`, {
      cause: this.#lastError,
    });
    for (const listener of this.#lostListeners) listener(this.#lost);
    this.#lostListeners.clear();
  }

  #why(): string {
    const error = this.#lastError;
    if (!error) return 'the host closed the connection';
    if (error.level === 'client-timeout') {
      const { intervalMs, countMax } = this.#keepalive;
      return `no answer to keepalives for ${formatDuration(intervalMs * countMax)} (every ${formatDuration(intervalMs)}, ${countMax} times)`;
    }
    return error.message;
  }
}
