/**
 * The two executors the executor suite runs on: commands on this machine,
 * and commands on a real OpenSSH host. Each says how its errors name the
 * host, so the suite can pin the whole message on both.
 */
import { mkdtemp, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Executor, HostRef } from '../../src/executor/executor.ts';
import { LocalExecutor } from '../../src/executor/local-executor.ts';
import { SshExecutor } from '../../src/ssh/ssh-executor.ts';
import { startSshHosts } from '../helpers/ssh-hosts.ts';

export interface ExecutorPlace {
  executor: Executor;
  host: HostRef;
  /** Where the executor makes its workspaces. */
  baseDir: string;
  stop(): Promise<void>;
}

export interface ExecutorBackend {
  name: string;
  start(): Promise<ExecutorPlace>;
  /** What follows "working directory … does not exist" in its error: the host, where it is another machine. */
  onHost: string;
  /** Its error for a download of a file that is not there (`nope.bin` in the workspace). */
  missingDownload: RegExp;
}

export function localBackend(): ExecutorBackend {
  return {
    name: 'LocalExecutor',
    onHost: '',
    missingDownload: /could not copy .*\/nope\.bin to /,
    start: async () => {
      const base = await realpath(await mkdtemp(join(tmpdir(), 'sluice-local-')));
      return {
        executor: new LocalExecutor({ baseDir: base, killGraceMs: 300 }),
        host: { name: 'local', address: 'local' },
        baseDir: base,
        stop: () => rm(base, { recursive: true, force: true }),
      };
    },
  };
}

export function sshBackend(): ExecutorBackend {
  return {
    name: 'SshExecutor on a real OpenSSH host',
    onHost: ' on host host1',
    missingDownload: /could not download .*nope\.bin from host host1/,
    start: async () => {
      const hosts = await startSshHosts(1);
      const baseDir = join(hosts.host('host1').root, 'workspaces');
      return {
        executor: new SshExecutor({
          user: hosts.user,
          privateKeyPath: hosts.keyPath,
          knownHostsPath: hosts.knownHostsPath,
          baseDir,
          killGraceMs: 300,
        }),
        host: hosts.host('host1'),
        baseDir,
        stop: () => hosts.stop(),
      };
    },
  };
}
