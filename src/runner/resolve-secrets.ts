/**
 * Secret values for a repository, by name, from the operator's server
 * config. A repository gets only the secrets granted to it (PRODUCT: a repo
 * can never read a secret it was not given); values come from the
 * environment or a file, never from the config file itself.
 */
import type { ServerConfig } from '../config/server.schema.ts';
import { matchesRepo } from '../config/match-repo.ts';
import { readSecretValue } from '../config/secret-value.ts';

export function resolveSecrets(
  server: ServerConfig | undefined,
  repo: string,
  names: string[],
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const secret = server?.secrets?.[name];
    if (!secret) throw new Error(`secret "${name}" is not defined in the server config`);
    if (!secret.repos.some((pattern) => matchesRepo(pattern, repo))) {
      throw new Error(
        `secret "${name}" is not granted to ${repo} (the server config grants it to: ${secret.repos.join(', ')})`,
      );
    }
    if ('env' in secret && secret.env && process.env[secret.env] === undefined)
      throw new Error(`secret "${name}" reads environment variable ${secret.env}, which is not set`);
    const value = readSecretValue(secret);
    if (value !== undefined) values[name] = value;
  }
  return values;
}
