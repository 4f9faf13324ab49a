/**
 * Uploading a large file with the system's OpenSSH client rather than
 * ssh2's SFTP: on loopback and on 2 cores, OpenSSH moves 50 MiB to 8 hosts
 * at once in about 0.4 of the time (bench/RESULTS.md, ssh-costs.ts), its
 * cipher and framing being C where ssh2's are JavaScript. The client is held
 * to what the SSH executor itself allows: no config file, no agent, no other
 * key, the operator's known_hosts only and strict checking, so an unknown or
 * changed host key is refused before the key is offered (PRODUCT S5). The
 * path reaches the host's shell quoted (S7); the file is read by ssh itself.
 */
import { execFile, spawn } from 'node:child_process';
import { open } from 'node:fs/promises';
import { quoteArg } from '../executor/shell-quote.ts';

/** How to reach a host with the OpenSSH client, as the executor's connection reaches it. */
export interface OpenSshTarget {
  address: string;
  port: number;
  user: string;
  privateKeyPath: string;
  knownHostsPath: string;
  connectTimeoutMs: number;
  keepaliveIntervalMs: number;
  keepaliveCountMax: number;
}

/** The client's arguments up to the command: everything that decides whom it talks to and how. */
export function openSshArgs(target: OpenSshTarget): string[] {
  const option = (name: string, value: string | number) => ['-o', `${name}=${value}`];
  return [
    ...['-F', 'none'],
    ...['-i', target.privateKeyPath],
    ...option('IdentitiesOnly', 'yes'),
    ...option('IdentityAgent', 'none'),
    ...option('BatchMode', 'yes'),
    ...option('StrictHostKeyChecking', 'yes'),
    ...option('UserKnownHostsFile', target.knownHostsPath),
    ...option('GlobalKnownHostsFile', 'none'),
    ...option('UpdateHostKeys', 'no'),
    // The key exchange the executor's own connection (ssh2) uses, first: OpenSSH's own first
    // choice (sntrup761x25519) costs 0.1–0.25 s more per connection on a busy machine.
    ...option('KexAlgorithms', '^curve25519-sha256,curve25519-sha256@libssh.org'),
    ...option('CheckHostIP', 'no'),
    ...option('ControlMaster', 'no'),
    ...option('ControlPath', 'none'),
    ...option('ClearAllForwardings', 'yes'),
    ...option('PermitLocalCommand', 'no'),
    ...option('ConnectTimeout', Math.max(1, Math.ceil(target.connectTimeoutMs / 1000))),
    ...option('ServerAliveInterval', Math.max(1, Math.ceil(target.keepaliveIntervalMs / 1000))),
    ...option('ServerAliveCountMax', Math.max(1, target.keepaliveCountMax)),
    ...option('LogLevel', 'ERROR'),
    ...['-p', String(target.port), '-l', target.user],
    '-T',
    '--',
    target.address,
  ];
}

let available: Promise<boolean> | undefined;

/** Whether this machine has an OpenSSH client (`ssh -V` runs); asked once. */
export function hasOpenSshClient(): Promise<boolean> {
  available ??= new Promise((resolve) => execFile('ssh', ['-V'], { timeout: 5000 }, (error) => resolve(!error)));
  return available;
}

/**
 * Copies `localPath` to `remotePath` (created or replaced) over a connection
 * of its own. `stop` ends it early (the executor's connection was lost);
 * rejects with what ssh said.
 */
export async function uploadWithOpenSsh(
  target: OpenSshTarget,
  localPath: string,
  remotePath: string,
  stop: (kill: () => void) => () => void,
): Promise<void> {
  const file = await open(localPath, 'r');
  try {
    await new Promise<void>((resolve, reject) => {
      const child = spawn('ssh', [...openSshArgs(target), `exec cat > ${quoteArg(remotePath)}`], {
        // ssh reads the file itself: no byte of it passes through this process.
        stdio: [file.fd, 'ignore', 'pipe'],
      });
      let stderr = '';
      child.stderr?.setEncoding('utf8');
      child.stderr?.on('data', (chunk: string) => (stderr = (stderr + chunk).slice(-2000)));
      let stopped = false;
      const unsubscribe = stop(() => {
        stopped = true;
        child.kill('SIGKILL');
      });
      child.on('error', (error) => {
        unsubscribe();
        reject(error);
      });
      child.on('close', (code, signal) => {
        unsubscribe();
        if (code === 0) return resolve();
        const said = stderr
          .split(/\r?\n/)
          .map((line) => line.trim())
          .filter(Boolean)
          .slice(-2)
          .join(' / ');
        const how = stopped ? 'stopped' : signal ? `killed by ${signal}` : `ssh exited with code ${code}`;
        reject(new Error(said ? `${how}: ${said}` : how));
      });
    });
  } finally {
    await file.close();
  }
}
