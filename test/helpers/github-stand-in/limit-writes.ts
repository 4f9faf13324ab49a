/**
 * GitHub's secondary rate limit on requests that create content (at most 80
 * a minute and 500 an hour for an app, and less when it is busy): above it
 * GitHub answers 403 or 429 with `Retry-After` and "You have exceeded a
 * secondary rate limit", and keeps refusing until that time has passed. A
 * test sets the budget small to see that Sluice waits as told.
 */
import type { Refusal } from '../github-rules.ts';

export interface WriteLimit {
  /** How many writes the window allows. */
  writes: number;
  /** The window's length (ms). */
  perMs: number;
  /** What `Retry-After` says, in seconds. */
  retryAfterSeconds: number;
  /** GitHub answers either (default 403). */
  status?: 403 | 429;
}

export const SECONDARY_RATE_LIMIT_MESSAGE =
  'You have exceeded a secondary rate limit. Please wait a few minutes before you try again. If you reach out to GitHub Support for help, please include the request ID.';

export class WriteBudget {
  readonly #limit: WriteLimit;
  #times: number[] = [];
  #blockedUntil = 0;

  constructor(limit: WriteLimit) {
    if (!(limit.writes >= 0 && limit.perMs > 0 && limit.retryAfterSeconds > 0))
      throw new Error('a write limit needs writes ≥ 0, perMs > 0 and retryAfterSeconds > 0');
    this.#limit = limit;
  }

  /** Counts a write made at `now`; the refusal when the budget is spent (the write does not happen). */
  take(now: number): Refusal | undefined {
    if (now < this.#blockedUntil) return this.#refusal(Math.ceil((this.#blockedUntil - now) / 1000));
    this.#times = this.#times.filter((t) => t > now - this.#limit.perMs);
    if (this.#times.length >= this.#limit.writes) {
      // After the wait the window starts afresh, as it does on GitHub once Retry-After has passed.
      this.#times = [];
      this.#blockedUntil = now + this.#limit.retryAfterSeconds * 1000;
      return this.#refusal(this.#limit.retryAfterSeconds);
    }
    this.#times.push(now);
    return undefined;
  }

  #refusal(seconds: number): Refusal {
    return {
      status: this.#limit.status ?? 403,
      headers: { 'retry-after': String(seconds), 'x-ratelimit-remaining': '4999' },
      body: {
        message: SECONDARY_RATE_LIMIT_MESSAGE,
        documentation_url:
          'https://docs.github.com/free-pro-team@latest/rest/overview/rate-limits-for-the-rest-api#about-secondary-rate-limits',
        status: String(this.#limit.status ?? 403),
      },
    };
  }
}
