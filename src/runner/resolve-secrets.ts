/**
 * Secret values for a repository, by name, from the operator's server
 * config. A repository gets only the secrets granted to it (PRODUCT: a repo
 * can never read a secret it was not given); values come from the
 * environment or a file, never from the config file itself.
 */
import type { ServerConfig } from '../config/server.schema.ts';
import { matchesRepo } from '../config/match-repo.ts';
import { readSecretValue, type SecretSource } from '../config/secret-value.ts';
import { ServerRefusal } from '../config/server-refusal.ts';
import { errorMessage } from '../sluice-error.ts';

export function resolveSecrets(
  server: ServerConfig | undefined,
  repo: string,
  names: string[],
): Record<string, string> {
  const values: Record<string, string> = {};
  for (const name of names) {
    const secret = server?.secrets?.[name];
    if (!secret)
      throw new ServerRefusal(
        'NOT_IN_SERVER_CONFIG',
        `secret "${name}" is not defined in the server config; the operator adds it under secrets`,
      );
    if (!secret.repos.some((pattern) => matchesRepo(pattern, repo))) {
      throw new ServerRefusal(
        'NOT_PERMITTED',
        `secret "${name}" is not granted to ${repo} (the server config grants it to: ${secret.repos.join(', ')}); the operator adds ${repo} to its repos`,
      );
    }
    if ('env' in secret && secret.env && process.env[secret.env] === undefined)
      throw new ServerRefusal(
        'SECRET_NOT_SET',
        `secret "${name}" reads environment variable ${secret.env}, which is not set: set it in the environment Sluice runs in (the service's environment file, or the shell that runs \`sluice\`)`,
      );
    const value = readSecretValueFor(name, secret);
    if (value !== undefined) values[name] = value;
  }
  return values;
}

function readSecretValueFor(name: string, secret: SecretSource): string | undefined {
  try {
    return readSecretValue(secret);
  } catch (error) {
    const file = 'file' in secret ? secret.file : undefined;
    throw new ServerRefusal(
      'SECRET_NOT_SET',
      `secret "${name}" reads file ${file}, which Sluice cannot read (${errorMessage(error)}): put the value there, readable by the user Sluice runs as`,
      { cause: error },
    );
  }
}
