/**
 * What the handshake with one host may accept: the host keys known_hosts
 * holds for it. Gives ssh2 a `hostVerifier` (called during key exchange,
 * before any authentication is sent) and a host key algorithm order that
 * asks for the key types known_hosts has, as OpenSSH does.
 */
import { readFile } from 'node:fs/promises';
import { ExecutorError } from '../executor/executor.ts';
import { quoteArg } from '../executor/shell-quote.ts';
import {
  checkHostKey,
  fingerprintOf,
  keyTypeOf,
  knownKeyTypes,
  parseKnownHosts,
  type HostKeyVerdict,
  type KnownHostEntry,
} from './known-hosts.ts';
import { errorMessage } from '../sluice-error.ts';

export interface HostKeyTarget {
  name: string;
  address: string;
  port: number;
}

export interface HostKeyPolicy {
  /** For ssh2's `hostVerifier`: the raw key blob in, accept or refuse out. */
  verify(key: Buffer): boolean;
  /** For ssh2's `algorithms.serverHostKey`. */
  algorithms: { remove: string[]; prepend: string[] };
  /** Why the last key was refused, once `verify` has returned false. */
  readonly rejection: ExecutorError | undefined;
}

// Host key algorithms ssh2 can verify, by the key type known_hosts names.
const ALGORITHMS_BY_KEY_TYPE: Record<string, string[]> = {
  'ssh-ed25519': ['ssh-ed25519'],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256'],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384'],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521'],
  'ssh-rsa': ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'],
};

/** Read known_hosts and build the policy for one host. */
export async function loadHostKeyPolicy(knownHostsPath: string, target: HostKeyTarget): Promise<HostKeyPolicy> {
  let text: string;
  try {
    text = await readFile(knownHostsPath, 'utf8');
  } catch (error) {
    throw new ExecutorError(
      'HOST_KEY_REJECTED',
      `cannot check the host key of ${describe(target)}: known_hosts file ${knownHostsPath} cannot be read (${errorMessage(error)})`,
      { cause: error },
    );
  }
  return createHostKeyPolicy(parseKnownHosts(text), knownHostsPath, target);
}

export function createHostKeyPolicy(
  entries: readonly KnownHostEntry[],
  knownHostsPath: string,
  target: HostKeyTarget,
): HostKeyPolicy {
  // ssh2's `prepend` skips algorithms already in its default list, so they
  // are removed first to move them to the front.
  const preferred = knownKeyTypes(entries, target.address, target.port).flatMap(
    (type) => ALGORITHMS_BY_KEY_TYPE[type] ?? [],
  );
  let rejection: ExecutorError | undefined;
  return {
    verify(key) {
      const verdict = checkHostKey(entries, target.address, target.port, key);
      if (verdict.kind === 'trusted') return true;
      rejection = new ExecutorError('HOST_KEY_REJECTED', describeRejection(verdict, key, knownHostsPath, target));
      return false;
    },
    algorithms: { remove: preferred, prepend: preferred },
    get rejection() {
      return rejection;
    },
  };
}

/** What happened and what the operator does about it. */
export function describeRejection(
  verdict: Exclude<HostKeyVerdict, { kind: 'trusted' }>,
  key: Buffer,
  knownHostsPath: string,
  target: HostKeyTarget,
): string {
  const presented = `${keyTypeOf(key) ?? 'unknown-type'} key ${fingerprintOf(key)}`;
  const scan = `ssh-keyscan -p ${target.port} ${quoteArg(target.address)} >> ${quoteArg(knownHostsPath)}`;
  const who = `refused to connect to ${describe(target)} before logging in`;
  switch (verdict.kind) {
    case 'unknown':
      return (
        `${who}: its host key is not in known_hosts ${knownHostsPath}. It presented ${presented}. ` +
        `If that fingerprint is the host's (check on the host with \`ssh-keygen -lf /etc/ssh/ssh_host_*_key.pub\`), add it: ${scan}`
      );
    case 'changed':
      return (
        `${who}: its host key has changed. It presented ${presented}, which is not the key on line ${verdict.lines.join(', ')} of ${knownHostsPath}. ` +
        `Someone may be intercepting the connection, or the host was reinstalled. If the change is expected, check the new fingerprint on the host, ` +
        `remove the old key (ssh-keygen -R ${quoteArg(target.port === 22 ? target.address : `[${target.address}]:${target.port}`)} -f ${quoteArg(knownHostsPath)}), then: ${scan}`
      );
    case 'revoked':
      return `${who}: it presented ${presented}, which line ${verdict.line} of ${knownHostsPath} marks @revoked`;
  }
}

function describe(target: HostKeyTarget): string {
  return `host ${target.name} (${target.address} port ${target.port})`;
}
