/**
 * Waiting for what a test looks for, without a sleep: `probe` is asked
 * again and again until it gives a value (anything but undefined), which
 * `until` resolves with. Past the time limit it throws, naming what it
 * waited for and, where `explain` is given, what that says of the state
 * (the last output of Sluice, what GitHub was told), so a time-out says why.
 */
export interface UntilOptions {
  /** How long to wait (default 60 s). */
  timeoutMs?: number;
  /** How long between two probes (default 100 ms). */
  intervalMs?: number;
  /** What to add to the error on a time-out. */
  explain?: () => string | Promise<string>;
}

export async function until<T>(
  what: string,
  probe: () => T | undefined | Promise<T | undefined>,
  { timeoutMs = 60_000, intervalMs = 100, explain }: UntilOptions = {},
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) {
      const why = explain ? `\n${await explain()}` : '';
      throw new Error(`not within ${timeoutMs} ms: ${what}${why}`);
    }
    await new Promise((done) => setTimeout(done, intervalMs));
  }
}
