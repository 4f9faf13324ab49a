/**
 * Sluice as a test directory runs it: the service (`npm start`) started in
 * `dir`, with its data in `dir`/data and its server config in
 * `dir`/server.yml, as a GitHub App of the stand-in; and the server config
 * of a one-host bed, builds on this machine and one environment on the host.
 */
import { join } from 'node:path';
import type { GithubStandIn } from './github-stand-in.ts';
import { freeLoopbackPort } from './free-port.ts';
import { githubAppEnv, startSluiceProcess, type SluiceProcess } from './sluice-process.ts';
import type { SshHosts } from './ssh-hosts.ts';

/** `env` adds to the service's environment (`DATABASE_URL`, Slack's tokens …). */
export async function startSluiceIn(
  dir: string,
  github: GithubStandIn,
  webhookSecret: string,
  env: Record<string, string> = {},
): Promise<SluiceProcess> {
  return startSluiceProcess({
    cwd: dir,
    port: await freeLoopbackPort(),
    env: {
      SLUICE_DATA_DIR: join(dir, 'data'),
      SLUICE_CONFIG: join(dir, 'server.yml'),
      ...githubAppEnv(github, webhookSecret),
      ...env,
    },
  });
}

/** Builds on this machine for every repository, and `environment` on the first host, in its `srv`. */
export function oneHostConfig(ssh: SshHosts, environment: string): string {
  const host = ssh.hosts[0]!;
  return `ssh: { user: ${ssh.user}, key: ${ssh.keyPath}, known_hosts: ${ssh.knownHostsPath} }
hosts:
  local: [local]
local:
  repos: ["*"]
environments:
  ${environment}:
    hosts: [{ name: ${host.name}, address: 127.0.0.1, port: ${host.port} }]
    path: ${join(ssh.deployRoot, 'srv')}
`;
}
