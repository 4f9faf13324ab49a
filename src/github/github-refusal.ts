/**
 * A write GitHub refuses for what it is, not for a passing fault: 422 (it
 * does not take the content), 403 (the app may not), 404 (what it updates
 * is gone), 409 or 400. Sent again unchanged it would be refused again, so
 * the reporter logs it once, adapts where it can and goes on with the next
 * check run or Deployment, instead of stopping the execution's reports.
 * A 5xx, a 401 or a rate limit is no refusal: those are tried again later.
 */

export interface GithubRefusal {
  status: number;
  /**
   * GitHub's message with the errors it lists, e.g. `Validation Failed: summary exceeds a maximum bytesize of 65535`.
   */
  message: string;
}

const REFUSED = [400, 403, 404, 409, 410, 422];

export function refusalOf(error: unknown): GithubRefusal | undefined {
  if (!error || typeof error !== 'object') return undefined;
  const status = (error as { status?: unknown }).status;
  if (typeof status !== 'number' || !REFUSED.includes(status)) return undefined;
  const response = (error as { response?: { data?: unknown; headers?: Record<string, string | number | undefined> } })
    .response;
  const headers = response?.headers ?? {};
  // A secondary rate limit is a 403 too; it says when to come back, and Sluice does.
  if (headers['retry-after'] !== undefined || String(headers['x-ratelimit-remaining']) === '0') return undefined;
  const message = describeAnswer(response?.data) ?? (error instanceof Error ? error.message : String(status));
  if (/rate limit/i.test(message)) return undefined;
  return { status, message };
}

function describeAnswer(data: unknown): string | undefined {
  if (!data || typeof data !== 'object') return typeof data === 'string' && data ? data : undefined;
  const { message, errors } = data as { message?: unknown; errors?: unknown };
  const details = (Array.isArray(errors) ? errors : [])
    .map((e: unknown) =>
      typeof e === 'string'
        ? e
        : e && typeof e === 'object'
          ? String((e as { message?: unknown; code?: unknown }).message ?? (e as { code?: unknown }).code ?? '')
          : '',
    )
    .filter(Boolean);
  const head = typeof message === 'string' ? message.replace(/\s+/g, ' ').trim() : undefined;
  if (!head && details.length === 0) return undefined;
  return [head, details.join('; ')].filter(Boolean).join(': ');
}

/**
 * Says each refusal once: the same write refused the same way (every log
 * update of a build would be) is logged the first time only. Remembers a
 * bounded number, so a long-running service does not grow.
 */
export class RefusalLog {
  readonly #seen = new Set<string>();
  readonly #log: (line: string) => void;
  readonly #limit: number;

  constructor(log: (line: string) => void, limit = 1000) {
    this.#log = log;
    this.#limit = limit;
  }

  /** `what`: the write, e.g. `check run "Sluice: build" of acme/shop #3`; `outcome`: what Sluice did instead. */
  note(what: string, refusal: GithubRefusal, outcome: string): void {
    const key = `${what}\n${refusal.status}\n${refusal.message}\n${outcome}`;
    if (this.#seen.has(key)) return;
    if (this.#seen.size >= this.#limit) this.#seen.delete(this.#seen.values().next().value!);
    this.#seen.add(key);
    this.#log(`GitHub refused the ${what} (${refusal.status} ${refusal.message}); ${outcome}.`);
  }
}
