/**
 * The small part of ssh2's API the SSH executor uses, typed by hand: the
 * project has no @types/ssh2, so node-ssh's `connection` arrives as `any`.
 * Only what is called here is described; see ssh2's README for the rest.
 */
import type { EventEmitter } from 'node:events';
import type { Duplex, Readable } from 'node:stream';

/** An exec channel: stdout is the stream itself, stderr a separate stream. */
export interface Ssh2Channel extends Duplex {
  readonly stderr: Readable;
  /** Sends SSH_MSG_CHANNEL_CLOSE. */
  close(): void;
}

export interface Ssh2TransferOptions {
  concurrency?: number;
  chunkSize?: number;
  mode?: number;
}

export type Ssh2Callback = (error?: Error | null) => void;

export interface Ssh2Sftp extends EventEmitter {
  fastPut(localPath: string, remotePath: string, options: Ssh2TransferOptions, callback: Ssh2Callback): void;
  fastGet(localPath: string, remotePath: string, options: Ssh2TransferOptions, callback: Ssh2Callback): void;
  writeFile(
    remotePath: string,
    data: string | Buffer,
    options: { mode?: number; flag?: string },
    callback: Ssh2Callback,
  ): void;
  unlink(remotePath: string, callback: Ssh2Callback): void;
  stat(remotePath: string, callback: (error: Error | undefined, stats: { mode: number; size: number }) => void): void;
  end(): void;
}

/** ssh2's Client after `ready`. Emits `error` (with `level`), `end` and `close`. */
export interface Ssh2Client extends EventEmitter {
  exec(command: string, callback: (error: Error | undefined, channel: Ssh2Channel) => void): boolean;
  sftp(callback: (error: Error | undefined, sftp: Ssh2Sftp) => void): boolean;
  end(): void;
  destroy(): void;
}

/**
 * ssh2's errors carry where they came from: `client-socket`, `client-timeout`,
 * `handshake`, `client-authentication`, …
 */
export type Ssh2Error = Error & { level?: string; code?: string };
