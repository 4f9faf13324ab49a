/**
 * Opening one SSH connection with node-ssh: the host key checked against
 * known_hosts during key exchange (before the client key is offered),
 * keepalives on, and every failure turned into an ExecutorError that says
 * what to fix.
 */
import { Socket } from 'node:net';
import { ExecutorError } from '../executor/executor.ts';
import { loadHostKeyPolicy, type HostKeyPolicy } from './host-key-policy.ts';
import { SshConnection, type SshTarget } from './ssh-connection.ts';
import type { Ssh2Client, Ssh2Error } from './ssh2-types.ts';
import { formatDuration } from '../format-duration.ts';

export interface ConnectOptions {
  /** Contents of the private key (OpenSSH or PEM format). */
  privateKey: string;
  /** Where the key came from, for messages. */
  privateKeyPath: string;
  knownHostsPath: string;
  keepaliveIntervalMs: number;
  /** Unanswered keepalives before the connection counts as lost. */
  keepaliveCountMax: number;
  /** Limit for TCP connect, key exchange and authentication together. */
  connectTimeoutMs: number;
  /** The ciphers offered, most wanted first; default ssh2's own order. */
  ciphers?: string[];
  /** Large files go up with the system's OpenSSH client (default) or over ssh2's SFTP. */
  uploads?: 'openssh' | 'sftp';
  signal?: AbortSignal;
}

export async function connectHost(target: SshTarget, options: ConnectOptions): Promise<SshConnection> {
  options.signal?.throwIfAborted();
  // ssh2 is loaded with the first connection: a Sluice that has not reached a host yet does not hold it.
  const [policy, { NodeSSH }] = await Promise.all([
    loadHostKeyPolicy(options.knownHostsPath, target),
    import('node-ssh'),
  ]);
  // ssh2 gives up when, at a tick, more than `keepaliveCountMax` keepalives
  // are unanswered, i.e. after (max + 1) intervals; and 0 would drop even a
  // healthy idle connection at the first tick. Hence max - 1, at least 1.
  const ssh2CountMax = Math.max(1, options.keepaliveCountMax - 1);
  const ssh = new NodeSSH();
  // Our own socket, for TCP_NODELAY from the first byte: ssh2's has Nagle's
  // algorithm on, and each small request (a channel, an exec) then waits for
  // the host's delayed ACK, ~40 ms a round trip: 80-90 ms of every command
  // (bench/RESULTS.md). Connected as ssh2 would connect it; its errors reach
  // ssh2's listeners, attached before it can fail.
  const sock = new Socket({ noDelay: true });
  sock.setMaxListeners(0);
  sock.connect({ host: target.address, port: target.port });
  // Not ssh.dispose(): it ends the socket politely, and a host that never
  // answers then keeps the connect pending until readyTimeout.
  const dispose = () => {
    (ssh.connection as Ssh2Client | null)?.destroy();
    sock.destroy();
  };
  options.signal?.addEventListener('abort', dispose, { once: true });
  try {
    await ssh.connect({
      host: target.address,
      port: target.port,
      sock,
      username: target.user,
      privateKey: options.privateKey,
      hostVerifier: (key: Buffer) => policy.verify(key),
      algorithms: { serverHostKey: policy.algorithms, ...(options.ciphers && { cipher: options.ciphers }) },
      keepaliveInterval: options.keepaliveIntervalMs,
      keepaliveCountMax: ssh2CountMax,
      readyTimeout: options.connectTimeoutMs,
    });
  } catch (error) {
    dispose();
    options.signal?.throwIfAborted();
    throw explainConnectError(error as Ssh2Error, target, options, policy);
  } finally {
    options.signal?.removeEventListener('abort', dispose);
  }
  const client = ssh.connection as unknown as Ssh2Client;
  const openSsh = (options.uploads ?? 'openssh') === 'openssh' && {
    address: target.address,
    port: target.port,
    user: target.user,
    privateKeyPath: options.privateKeyPath,
    knownHostsPath: options.knownHostsPath,
    connectTimeoutMs: options.connectTimeoutMs,
    keepaliveIntervalMs: options.keepaliveIntervalMs,
    keepaliveCountMax: options.keepaliveCountMax,
  };
  return new SshConnection(
    target,
    client,
    { intervalMs: options.keepaliveIntervalMs, countMax: ssh2CountMax + 1 },
    openSsh || undefined,
  );
}

function explainConnectError(
  error: Ssh2Error,
  target: SshTarget,
  options: ConnectOptions,
  policy: HostKeyPolicy,
): ExecutorError {
  if (policy.rejection) return policy.rejection;
  const host = `host ${target.name} (${target.address} port ${target.port})`;
  const fail = (message: string) => new ExecutorError('HOST_UNREACHABLE', message, { cause: error });
  if (error.level === 'client-authentication') {
    return fail(
      `could not log in to ${host} as ${target.user}: it refused the key ${options.privateKeyPath}. ` +
        `Add its public key (${options.privateKeyPath}.pub) to ~${target.user}/.ssh/authorized_keys on the host`,
    );
  }
  if (error.code === 'ECONNREFUSED')
    return fail(`cannot reach ${host}: connection refused; is sshd listening on port ${target.port}?`);
  if (error.code === 'ENOTFOUND' || error.code === 'EAI_AGAIN')
    return fail(`cannot reach ${host}: the name ${target.address} does not resolve`);
  if (error.level === 'client-timeout')
    return fail(`cannot reach ${host}: no SSH handshake within ${formatDuration(options.connectTimeoutMs)}`);
  if (/privateKey/i.test(error.message))
    return fail(`cannot use the SSH key ${options.privateKeyPath}: ${error.message}`);
  return fail(`cannot reach ${host}: ${error.message}`);
}
