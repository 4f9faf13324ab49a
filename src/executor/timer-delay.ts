/**
 * Node fires a timer set for longer than 2^31 - 1 ms (about 24.8 days)
 * after 1 ms, with only a warning: a `timeout: 30d` or a retention
 * `interval: 30d` would fire at once. A longer delay waits the longest a
 * timer can instead; no command or prune waits that long in practice.
 */
export const MAX_TIMER_MS = 2 ** 31 - 1;

export function timerDelay(ms: number): number {
  return Math.min(ms, MAX_TIMER_MS);
}
