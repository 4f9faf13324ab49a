/**
 * Crash recovery at start-up writes (it marks interrupted actions, frees
 * leases). On a full disk it cannot: Sluice says so once and serves on —
 * webhooks are refused with 503 where they cannot be stored — and recovers
 * in the background, trying again a little less often each time, once
 * there is space (PRODUCT R3). Another error still fails the start.
 */
import { setTimeout as delay } from 'node:timers/promises';
import { isDiskFull } from '../store/is-disk-full.ts';
import { errorMessage } from '../sluice-error.ts';

export async function recoverWhenSpace(
  recover: () => Promise<unknown>,
  options: { log(line: string): void; fullLine: string; signal: AbortSignal; retryMs?: number; maxRetryMs?: number },
): Promise<{ done: Promise<void> }> {
  try {
    await recover();
    return { done: Promise.resolve() };
  } catch (error) {
    if (!isDiskFull(error)) throw error;
  }
  options.log(
    `${options.fullLine} (Sluice serves on, refuses webhooks it cannot store, and finishes its start-up recovery once there is space)`,
  );
  const done = (async () => {
    for (
      let wait = options.retryMs ?? 1000;
      !options.signal.aborted;
      wait = Math.min(wait * 2, options.maxRetryMs ?? 10_000)
    ) {
      await delay(wait, undefined, { signal: options.signal }).catch(() => {});
      if (options.signal.aborted) return;
      try {
        await recover();
        options.log('there is space again: Sluice finished its start-up recovery');
        return;
      } catch (error) {
        if (!isDiskFull(error))
          options.log(`Sluice could not finish its start-up recovery: ${errorMessage(error)}; it tries again`);
      }
    }
  })();
  return { done };
}
