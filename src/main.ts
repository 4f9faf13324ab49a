/**
 * Sluice's composition root (`npm start`): settings from the environment
 * (and `.env`), then `startSluice`, and a clean stop on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { readSettings } from './config/read-settings.ts';
import { startSluice } from './start-sluice.ts';
import { errorMessage, messageForPeople } from './sluice-error.ts';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const settings = readSettings(process.env);
  const sluice = await startSluice(settings);
  const where = settings.databaseUrl ? 'PostgreSQL' : settings.dataDir;
  const slack = settings.slack ? (settings.slack.appToken ? 'Slack in Socket Mode' : `Slack at ${settings.publicUrl}/slack/events`) : 'no Slack';
  console.log(`Sluice listening on port ${new URL(sluice.url).port} as ${settings.publicUrl} (state in ${where}; ${slack})`);
  // The first signal cancels what runs here and waits for its rollbacks; a second exits at once.
  let stopping = false;
  const stop = (signal: NodeJS.Signals) => {
    if (stopping) {
      const left = sluice.leftBehind();
      console.error(
        left.length > 0
          ? `${signal} again: exiting now, before the rollback finished. Left behind:\n${left.map((line) => `  ${line}`).join('\n')}`
          : `${signal} again: exiting now; no host was left drained or half deployed.`,
      );
      process.exit(1);
    }
    stopping = true;
    const busy = sluice.runner.busy;
    console.log(`${signal}: stopping${busy ? '; cancelling what runs here, whose deploys first put back the hosts they touched (send it again to exit at once)' : ''}`);
    sluice.close({ cancel: `Sluice was stopped (${signal})` }).then(
      () => process.exit(0),
      (error: unknown) => {
        console.error(`Sluice did not stop cleanly: ${errorMessage(error)}`);
        process.exit(1);
      },
    );
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const forPeople = messageForPeople(error);
  console.error(forPeople === undefined ? error : `Sluice cannot start: ${forPeople}`);
  process.exit(1);
});
