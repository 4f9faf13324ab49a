/**
 * How Sluice's Octokit keeps to GitHub's rate limits. Probot's Octokit
 * spaces writes a second apart and waits out the primary limit, but on a
 * secondary rate limit (403 or 429, "You have exceeded a secondary rate
 * limit", with `Retry-After`) Probot only logs and gives up, and the report
 * that write carried is lost. GitHub asks integrations to wait the seconds
 * `Retry-After` says and try again; Sluice does, a few times, and says so.
 * Tests against a local stand-in may turn pacing off: no spacing, no waits.
 */
import { ProbotOctokit } from 'probot';
import { formatDuration } from '../format-duration.ts';

/** Tries of one request refused for a secondary rate limit, after the first. */
export const SECONDARY_RETRIES = 3;

interface ThrottledRequest {
  method: string;
  url: string;
  request: { retryCount: number };
}

export function paceOctokit(pacing: boolean, log: (line: string) => void): typeof ProbotOctokit {
  if (!pacing)
    return ProbotOctokit.defaults((given: { throttle?: object }) => ({
      ...given,
      throttle: { ...given.throttle, enabled: false },
      retry: { enabled: false },
    }));
  return ProbotOctokit.defaults((given: { throttle?: object }) => ({
    ...given,
    throttle: {
      ...given.throttle,
      onSecondaryRateLimit: (retryAfter: number, request: ThrottledRequest) => {
        const again = request.request.retryCount < SECONDARY_RETRIES;
        log(
          `GitHub's secondary rate limit refused ${request.method} ${request.url}; ${again ? `Sluice tries again in ${formatDuration(retryAfter * 1000)}, as GitHub asked` : `Sluice gave up after ${SECONDARY_RETRIES + 1} tries`}.`,
        );
        return again;
      },
    },
  }));
}
