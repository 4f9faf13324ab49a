/**
 * Files to and from a host: artifacts up with the system's OpenSSH client
 * where there is one (openssh-transfer.ts), otherwise, and everything else,
 * over the connection's SFTP channel: artifacts with parallel requests in
 * large chunks, and the small private files (environment with secrets) that
 * must never be readable by anyone else.
 */
import { ExecutorError } from '../executor/executor.ts';
import { hasOpenSshClient, uploadWithOpenSsh } from './openssh-transfer.ts';
import type { SshConnection } from './ssh-connection.ts';
import type { Ssh2Callback, Ssh2Sftp } from './ssh2-types.ts';
import { errorMessage } from '../sluice-error.ts';

// 16 requests of 255 KiB in flight: OpenSSH's sftp-server accepts up to
// 256 KiB per message, and this keeps a long, fat link busy.
const TRANSFER = { concurrency: 16, chunkSize: 261120 };

export async function uploadFile(connection: SshConnection, localPath: string, remotePath: string): Promise<void> {
  const what = `could not upload ${localPath} to ${remotePath} on ${connection.describe()}`;
  if (connection.openSsh && (await hasOpenSshClient())) {
    if (connection.lost) throw new ExecutorError('TRANSFER_FAILED', `${what}: ${connection.lost.message}`);
    // The executor's own connection lost: the host is gone for this one too.
    await uploadWithOpenSsh(connection.openSsh, localPath, remotePath, (kill) => connection.onLost(kill)).catch(
      (error: unknown) => {
        throw new ExecutorError('TRANSFER_FAILED', `${what}: ${errorMessage(error)}`, { cause: error });
      },
    );
    return;
  }
  return transfer(connection, what, (sftp, done) => sftp.fastPut(localPath, remotePath, TRANSFER, done));
}

export function downloadFile(connection: SshConnection, remotePath: string, localPath: string): Promise<void> {
  return transfer(
    connection,
    `could not download ${remotePath} from ${connection.describe()} to ${localPath}`,
    (sftp, done) => sftp.fastGet(remotePath, localPath, TRANSFER, done),
  );
}

/** Create a new file readable only by the SSH user (mode 0600; fails if it exists). */
export function writePrivateFile(connection: SshConnection, remotePath: string, content: string): Promise<void> {
  return transfer(connection, `could not write ${remotePath} on ${connection.describe()}`, (sftp, done) =>
    // O_EXCL: never write secrets through a file or link someone else made.
    sftp.writeFile(remotePath, content, { mode: 0o600, flag: 'wx' }, done),
  );
}

/** Remove a file; one that is already gone is fine. */
export async function removeFile(connection: SshConnection, remotePath: string): Promise<void> {
  await transfer(connection, `could not remove ${remotePath} on ${connection.describe()}`, (sftp, done) =>
    sftp.unlink(remotePath, (error) => done(isNoSuchFile(error) ? undefined : error)),
  );
}

function transfer(
  connection: SshConnection,
  what: string,
  start: (sftp: Ssh2Sftp, done: Ssh2Callback) => void,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: Error) =>
      reject(new ExecutorError('TRANSFER_FAILED', `${what}: ${error.message}`, { cause: error }));
    // ssh2 may not call back at all when the connection drops mid-transfer.
    const unsubscribe = connection.onLost(fail);
    connection.sftp().then(
      (sftp) =>
        start(sftp, (error) => {
          unsubscribe();
          if (error) fail(error);
          else resolve();
        }),
      (error: Error) => {
        unsubscribe();
        fail(error);
      },
    );
  });
}

function isNoSuchFile(error: Error | null | undefined): boolean {
  // SSH_FX_NO_SUCH_FILE
  return (error as { code?: number } | null | undefined)?.code === 2;
}
