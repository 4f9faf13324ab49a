/**
 * What Sluice's log must never show: its own credentials (the GitHub App's
 * key and webhook secret, Slack's tokens, the metrics token, the database
 * password) and the values of every secret the server config defines.
 */
import type { Settings } from '../config/read-settings.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { readSecretValue } from '../config/secret-value.ts';

export function settingsSecrets(settings: Settings): string[] {
  // The GitHub App's key is not here: the logger hides keys line by line (its `keys`).
  const secrets = [
    settings.github?.webhookSecret,
    settings.slack?.botToken,
    settings.slack?.signingSecret,
    settings.slack?.appToken,
    settings.metricsToken,
    databasePassword(settings.databaseUrl),
  ];
  return secrets.filter((value): value is string => Boolean(value));
}

/**
 * The server config's secret values, as far as they can be read now (one not readable is not logged by Sluice either).
 */
export function serverSecrets(server: ServerConfig): string[] {
  const values: string[] = [];
  for (const secret of Object.values(server.secrets ?? {})) {
    try {
      const value = readSecretValue(secret);
      if (value) values.push(value);
    } catch {
      // Not readable: a build that needs it fails saying so.
    }
  }
  return values;
}

function databasePassword(url: string | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return decodeURIComponent(new URL(url).password) || undefined;
  } catch {
    return undefined;
  }
}
