/**
 * Sluice's composition root (`npm start`): settings from the environment
 * (and `.env`), then `startSluice`, and a clean stop on SIGINT/SIGTERM.
 */
import { existsSync } from 'node:fs';
import { readSettings } from './config/read-settings.ts';
import { startSluice } from './start-sluice.ts';

async function main(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const settings = readSettings(process.env);
  const sluice = await startSluice(settings);
  const where = settings.databaseUrl ? 'PostgreSQL' : settings.dataDir;
  const slack = settings.slack ? (settings.slack.appToken ? 'Slack in Socket Mode' : `Slack at ${settings.publicUrl}/slack/events`) : 'no Slack';
  console.log(`Sluice listening on port ${settings.port} as ${settings.publicUrl} (state in ${where}; ${slack})`);
  const stop = () => void sluice.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  const coded = error instanceof Error && 'code' in error;
  console.error(coded ? `Sluice cannot start: ${error.message}` : error);
  process.exit(1);
});
