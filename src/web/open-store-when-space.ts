/**
 * Start-up on a full disk (PRODUCT R3): when the database cannot even be
 * opened because its disk is full, exiting would only have a supervisor
 * restart Sluice in a loop. Instead Sluice says so once, answers every
 * request on its port with 503 and the reason (GitHub redelivers a webhook
 * it was refused), and opens the database again, a little less often each
 * time, until it can; then the caller starts as usual.
 */
import { createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { isDiskFull } from '../store/is-disk-full.ts';
import type { Store } from '../store/store.ts';

export interface OpenWhenSpaceOptions {
  /** What is full, for the operator: the data directory. */
  dir: string;
  port: number;
  host: string;
  log(line: string): void;
  /** First wait between tries (default 1 s); doubles up to `maxRetryMs`. */
  retryMs?: number;
  maxRetryMs?: number;
}

/** The line Sluice logs once per spell of a full disk. */
export function diskFullLine(dir: string): string {
  return `disk full at ${dir}: free space to go on`;
}

export async function openStoreWhenSpace(open: () => Promise<Store>, options: OpenWhenSpaceOptions): Promise<Store> {
  try {
    return await open();
  } catch (error) {
    if (!isDiskFull(error)) throw error;
  }
  const server = await serveUnavailable(options);
  options.log(`${diskFullLine(options.dir)} (Sluice cannot open its database; it answers 503 until it can)`);
  try {
    for (let wait = options.retryMs ?? 1000; ; wait = Math.min(wait * 2, options.maxRetryMs ?? 10_000)) {
      await delay(wait);
      try {
        return await open();
      } catch (error) {
        if (!isDiskFull(error)) throw error;
      }
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
}

async function serveUnavailable(options: OpenWhenSpaceOptions): Promise<Server> {
  const reason = `Sluice cannot open its database: ${diskFullLine(options.dir)}. Nothing was stored or acknowledged; try again later.\n`;
  const server = createServer((request, response) => {
    // Drain what was sent, so the answer is read and the connection not reset.
    request.resume();
    response.writeHead(503, { 'content-type': 'text/plain; charset=utf-8', 'retry-after': '30', connection: 'close' });
    response.end(reason);
  });
  await new Promise<void>((done, fail) => {
    server.once('error', fail);
    server.listen(options.port, options.host, () => done());
  });
  return server;
}
