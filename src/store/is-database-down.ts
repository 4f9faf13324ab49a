/**
 * Whether PostgreSQL could not be reached because it is not there yet or
 * not right now: the connection refused, reset, timed out or unroutable,
 * or the server starting up or shutting down (a host booting with Sluice
 * before PostgreSQL, a database restart). That clears up by itself, so
 * Sluice waits it out instead of exiting into a restart loop (PRODUCT R3).
 * A refused login, a wrong password or a missing database does not: those
 * still fail the start with what to fix.
 */
const NETWORK = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  'EPIPE',
]);
// admin_shutdown, crash_shutdown, cannot_connect_now (starting up), and class 08 (connection exception).
const SERVER = new Set(['57P01', '57P02', '57P03', '08000', '08001', '08003', '08006']);

export function isDatabaseDown(error: unknown): boolean {
  for (let cause = error, depth = 0; cause && depth < 5; cause = (cause as { cause?: unknown }).cause, depth++) {
    const { code, syscall, message } = cause as { code?: unknown; syscall?: unknown; message?: unknown };
    if (typeof code === 'string' && (NETWORK.has(code) || SERVER.has(code))) return true;
    // A Unix socket that is not there: the server is not running.
    if (code === 'ENOENT' && syscall === 'connect') return true;
    // node-postgres' own words for a connect that timed out or a server that hung up.
    if (
      typeof message === 'string' &&
      /^(timeout exceeded when trying to connect|Connection terminated (unexpectedly|due to connection timeout))$/.test(
        message,
      )
    )
      return true;
  }
  return false;
}
