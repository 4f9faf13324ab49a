/**
 * The service's logger, built from the settings: LOG_LEVEL, LOG_FORMAT,
 * and every secret of the settings and the server config masked.
 */
import type { Settings } from '../config/read-settings.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { createLogger, type Logger } from '../log/create-logger.ts';
import { serverSecrets, settingsSecrets } from '../log/log-secrets.ts';

/** `sink` receives each line's message, masked, instead of stdout. */
export function createServiceLogger(
  settings: Settings,
  server: ServerConfig,
  sink: ((line: string) => void) | undefined,
): Logger {
  return createLogger({
    level: settings.logLevel ?? 'info',
    format: settings.logFormat ?? 'pretty',
    levelInString: settings.logLevelInString ?? false,
    // Many-line secrets (keys) are hidden line by line; see createLogger.
    secrets: [...settingsSecrets(settings), ...serverSecrets(server)].filter((value) => !value.includes('\n')),
    keys: [
      ...(settings.github ? [settings.github.privateKey] : []),
      ...serverSecrets(server).filter((value) => value.includes('\n')),
    ],
    ...(sink && { record: (record) => sink(record.msg) }),
  });
}
