/**
 * Runs one short housekeeping command (make or remove a workspace, stop a
 * process group) over a connection and collects its output.
 */
import { exitStatusOf, type SshConnection } from './ssh-connection.ts';

export interface CapturedOutput {
  /** The exit code; null when the command died of a signal. */
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Rejects only when the connection is lost; a non-zero exit is a result. */
export async function captureRemoteCommand(connection: SshConnection, command: string): Promise<CapturedOutput> {
  const channel = await connection.exec(command);
  channel.end();
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    channel.setEncoding('utf8');
    channel.stderr.setEncoding('utf8');
    channel.on('data', (chunk: string) => (stdout += chunk));
    channel.stderr.on('data', (chunk: string) => (stderr += chunk));
    const unsubscribe = connection.onLost(reject);
    channel.on('close', () => {
      unsubscribe();
      if (connection.lost) reject(connection.lost);
      else resolve({ code: exitStatusOf(channel)?.code ?? null, stdout, stderr });
    });
  });
}
