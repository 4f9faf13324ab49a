/**
 * Two of Slack's limits, kept for the Slack stand-in: rate limits per
 * method (HTTP 429 `ratelimited` with `Retry-After`, and every call before
 * that time has passed refused again), and a `response_url`'s 5 posts
 * within 30 minutes of being issued (then 404 `used_url` or `expired_url`),
 * each with a `response_type` Slack knows (`ephemeral`, `in_channel`;
 * Slack documents no other, so anything else is refused with 400) and a
 * text of at most 40,000 characters.
 */
import { blockKitErrors, invalidBlocksAnswer, textTooLong } from './slack-block-kit.ts';

/** The visibilities Slack's docs give a `response_url` post: only the user who asked (the default), or the channel. */
export const RESPONSE_TYPES: readonly string[] = ['ephemeral', 'in_channel'];

/** How often and how long Slack takes posts to one `response_url`. */
export const RESPONSE_URL_USES = 5;
export const RESPONSE_URL_LIFETIME_MS = 30 * 60_000;

export class RateLimits {
  /** Every 429 answered, with the `Retry-After` it gave. */
  readonly answered: Array<{ method: string; at: number; retryAfter: number }> = [];
  /** Calls of a rate-limited method made before its `Retry-After` had passed. */
  early = 0;
  readonly #next: Array<{ method: string; seconds: number; count: number }> = [];
  readonly #until = new Map<string, number>();

  /** The next `count` calls of `method` are refused with `Retry-After: seconds`. */
  add(method: string, seconds: number, count: number): void {
    this.#next.push({ method, seconds, count });
  }

  /** Seconds to wait, if this call of `method` at `at` is refused with a 429. */
  check(method: string, at: number): number | undefined {
    const until = this.#until.get(method);
    if (until !== undefined && at < until) {
      this.early++;
      const retryAfter = Math.ceil((until - at) / 1000);
      this.answered.push({ method, at, retryAfter });
      return retryAfter;
    }
    const limit = this.#next.find((l) => l.method === method && l.count > 0);
    if (!limit) return undefined;
    limit.count--;
    this.#until.set(method, at + limit.seconds * 1000);
    this.answered.push({ method, at, retryAfter: limit.seconds });
    return limit.seconds;
  }
}

export class ResponseUrls {
  /** Posts taken, in order, by the id in the URL. */
  readonly taken: Array<{ id: string; body: Record<string, unknown> }> = [];
  /** Posts refused (`used_url`, `expired_url`). */
  readonly refused: Array<{ id: string; error: string }> = [];
  readonly #urls = new Map<string, { issued: number; uses: number }>();
  readonly #clock: () => number;

  constructor(clock: () => number) {
    this.#clock = clock;
  }

  issue(id: string): void {
    this.#urls.set(id, { issued: this.#clock(), uses: 0 });
  }

  /** A post to a response URL: taken, or refused as Slack refuses it (HTTP status, answer). */
  post(id: string, raw: string): [number, Record<string, unknown>] {
    const url = this.#urls.get(id);
    if (!url) return [404, { ok: false, error: 'invalid_url' }];
    const refuse = (error: string): [number, Record<string, unknown>] => (
      this.refused.push({ id, error }),
      [404, { ok: false, error }]
    );
    if (this.#clock() - url.issued > RESPONSE_URL_LIFETIME_MS) return refuse('expired_url');
    if (url.uses >= RESPONSE_URL_USES) return refuse('used_url');
    const body = JSON.parse(raw || '{}') as Record<string, unknown>;
    if (!body.text && !body.blocks) return [400, { ok: false, error: 'no_text' }];
    if (body.response_type !== undefined && !RESPONSE_TYPES.includes(String(body.response_type)))
      return [400, { ok: false, error: 'invalid_response_type' }];
    const tooLong = textTooLong(body.text);
    if (tooLong) return [400, { ok: false, error: tooLong }];
    if (body.blocks !== undefined) {
      const errors = blockKitErrors(typeof body.blocks === 'string' ? JSON.parse(body.blocks) : body.blocks);
      if (errors.length > 0) return [400, invalidBlocksAnswer(errors)];
    }
    url.uses++;
    this.taken.push({ id, body });
    return [200, { ok: true }];
  }
}
