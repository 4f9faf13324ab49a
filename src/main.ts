/**
 * Sluice's composition root (`npm start`): settings from the environment
 * (and `.env`), then `startSluice`, and a clean stop on SIGINT/SIGTERM —
 * and on SIGHUP, which a terminal that closes (an SSH session that drops)
 * sends: Node would otherwise die at once, leaving a deploy's hosts drained.
 * Every line goes through Sluice's logger (LOG_FORMAT, LOG_LEVEL).
 */
import { existsSync } from 'node:fs';
import { DEFAULT_STOP_GRACE_MS, readSettings, readStartUpLogSettings, type Settings } from './config/read-settings.ts';
import { createLogger, type Logger } from './log/create-logger.ts';
import { settingsSecrets } from './log/log-secrets.ts';
import { startSluice } from './start-sluice.ts';
import { errorMessage, messageForPeople } from './sluice-error.ts';
import { formatDuration } from './format-duration.ts';

/**
 * Until Sluice runs (and when its settings are wrong): a logger in the format asked for, hiding the credentials given.
 */
function startLogger(settings: Settings | undefined): Logger {
  if (!settings) {
    const early = readStartUpLogSettings(process.env);
    return createLogger({
      format: early.logFormat,
      levelInString: early.logLevelInString,
      secrets: early.secrets,
      keys: early.keys,
    });
  }
  return createLogger({
    format: settings.logFormat ?? 'pretty',
    levelInString: settings.logLevelInString ?? false,
    secrets: settingsSecrets(settings),
    keys: settings.github ? [settings.github.privateKey] : [],
  });
}

const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

let logger: Logger | undefined;

// An error nothing caught ends the process as Node would (exit 1), but told in the log's format, masked.
process.on('uncaughtException', (error: unknown) => {
  try {
    (logger ?? startLogger(undefined)).fatal(
      error instanceof Error ? error : { err: error },
      'Sluice crashed on an error nothing caught',
    );
  } finally {
    process.exit(1);
  }
});

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  logger = startLogger(undefined);
  const settings = readSettings(process.env);
  logger = startLogger(settings);
  // A stop asked for while Sluice starts (it may wait for disk space, or for Slack) ends it at once, saying so.
  const early = (signal: NodeJS.Signals) => {
    logger?.warn(
      `${signal} during start-up: Sluice exits now, before it started; what it had begun is marked interrupted at the next start, as after a crash.`,
    );
    process.exit(0);
  };
  for (const signal of STOP_SIGNALS) process.on(signal, early);
  const sluice = await startSluice(settings);
  logger = sluice.logger;
  const log = sluice.logger;
  // The first signal stops gracefully (what runs has the grace period, then is interrupted); a second exits at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      const left = sluice.leftBehind();
      log.error(
        left.length > 0
          ? `${signal} again: exiting now, before the rollback finished. Left behind:\n${left.map((line) => `  ${line}`).join('\n')}`
          : `${signal} again: exiting now; no host was left drained or half deployed.`,
      );
      process.exit(1);
    }
    stopping = true;
    const busy = sluice.runner.busy;
    const graceMs = settings.stopGraceMs ?? DEFAULT_STOP_GRACE_MS;
    log.info(
      `${signal}: stopping${busy ? `; no new action starts, and what runs has ${formatDuration(graceMs)} to end before it is interrupted — a deploy first puts back the hosts it touched (send it again to exit at once)` : ''}`,
    );
    sluice.close({ interrupt: { reason: `Sluice was stopped (${signal})`, graceMs } }).then(
      () => process.exit(0),
      (error: unknown) => {
        log.error(`Sluice did not stop cleanly: ${errorMessage(error)}`);
        process.exit(1);
      },
    );
  };
  // The stop's handlers are in place before the start-up's go: no signal finds none (and Node's default).
  for (const signal of STOP_SIGNALS) process.on(signal, stop);
  for (const signal of STOP_SIGNALS) process.off(signal, early);
  const where = settings.databaseUrl ? 'PostgreSQL' : settings.dataDir;
  const slack = settings.slack
    ? settings.slack.appToken
      ? 'Slack in Socket Mode'
      : `Slack at ${settings.publicUrl}/slack/events`
    : 'no Slack';
  log.info(
    `Sluice listening on port ${new URL(sluice.url).port} as ${settings.publicUrl} (state in ${where}; ${slack})`,
  );
}

main().catch((error: unknown) => {
  const forPeople = messageForPeople(error);
  const log = logger ?? startLogger(undefined);
  if (forPeople !== undefined) log.fatal(`Sluice cannot start: ${forPeople}`);
  else log.fatal(error instanceof Error ? error : { err: error }, 'Sluice cannot start');
  process.exit(1);
});
