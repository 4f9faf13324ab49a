/**
 * Sluice's composition root (`npm start`). Wiring only:
 *  1. read the settings from the environment (and `.env`);
 *  2. open the store — the data directory is locked to this process (R1);
 *  3. mark what a crash left running as interrupted (R3);
 *  4. serve HTTP.
 */
import { existsSync } from 'node:fs';
import { readSettings } from './config/read-settings.ts';
import { recoverInterrupted } from './runner/recover-interrupted.ts';
import { openStore } from './store/open-store.ts';
import { createHttpServer } from './web/create-http-server.ts';

async function start(): Promise<void> {
  if (existsSync('.env')) process.loadEnvFile('.env');
  const settings = readSettings(process.env);
  const store = await openStore({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl });
  // Hold: this process runs no actions yet, so it starts none.
  await recoverInterrupted(store, { actor: 'sluice', now: Date.now, hold: true });
  const server = createHttpServer();
  server.listen(settings.port, () => {
    const where = settings.databaseUrl ? 'PostgreSQL' : settings.dataDir;
    console.log(`Sluice listening on http://localhost:${settings.port} (state in ${where})`);
  });
  const stop = () => {
    server.close();
    void store.close().then(() => process.exit(0));
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

start().catch((error: unknown) => {
  const coded = error instanceof Error && 'code' in error;
  console.error(coded ? `Sluice cannot start: ${error.message}` : error);
  process.exit(1);
});
