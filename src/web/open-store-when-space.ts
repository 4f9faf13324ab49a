/**
 * Start-up on a full disk, or before PostgreSQL is up (PRODUCT R3): when
 * the database cannot even be opened because its disk is full or its
 * server cannot be reached, exiting would only have a supervisor restart
 * Sluice in a loop. Instead Sluice says so once, answers every request on
 * its port with 503 and the reason (GitHub lists a refused webhook as
 * failed, for the operator to redeliver), and opens the database again, a
 * little less often each time, until it can; then the caller starts as usual.
 */
import { createServer, type Server } from 'node:http';
import { setTimeout as delay } from 'node:timers/promises';
import { isDatabaseDown } from '../store/is-database-down.ts';
import { isDiskFull } from '../store/is-disk-full.ts';
import { errorMessage } from '../sluice-error.ts';
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

/**
 * Why the database cannot be opened for now, for the log and for callers; undefined: it will not clear up by itself.
 */
function passing(error: unknown, dir: string): { line: string; reason: string } | undefined {
  if (isDiskFull(error))
    return {
      line: `${diskFullLine(dir)} (Sluice cannot open its database; it answers 503 until it can)`,
      reason: diskFullLine(dir),
    };
  // The log names the server; the answer to anyone on the port does not.
  if (isDatabaseDown(error))
    return {
      line: `${errorMessage(error)} Sluice answers 503 and tries again until it can.`,
      reason: 'its PostgreSQL cannot be reached',
    };
  return undefined;
}

export async function openStoreWhenSpace(open: () => Promise<Store>, options: OpenWhenSpaceOptions): Promise<Store> {
  let why: ReturnType<typeof passing>;
  try {
    return await open();
  } catch (error) {
    why = passing(error, options.dir);
    if (!why) throw error;
  }
  let current = why;
  const server = await serveUnavailable(options, () => current.reason);
  options.log(current.line);
  try {
    for (let wait = options.retryMs ?? 1000; ; wait = Math.min(wait * 2, options.maxRetryMs ?? 10_000)) {
      await delay(wait);
      try {
        return await open();
      } catch (error) {
        why = passing(error, options.dir);
        if (!why) throw error;
        // Once per spell: a new line only when the reason changes.
        if (why.reason !== current.reason) options.log(why.line);
        current = why;
      }
    }
  } finally {
    server.closeAllConnections();
    await new Promise<void>((done) => server.close(() => done()));
  }
}

async function serveUnavailable(options: OpenWhenSpaceOptions, why: () => string): Promise<Server> {
  const server = createServer((request, response) => {
    const reason = `Sluice cannot open its database: ${why()}. Nothing was stored or acknowledged; try again later.\n`;
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
