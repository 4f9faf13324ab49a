/**
 * GitHub calls in the metrics: each request's final outcome (after
 * Octokit's own retries), and each wait GitHub's rate limits asked for
 * (the throttling plugin's callbacks; Sluice still waits and retries as
 * Probot does).
 */
import type { ProbotOctokit } from 'probot';
import { outcomeOfStatus, type SluiceMetrics } from './sluice-metrics.ts';
import { formatDuration } from '../format-duration.ts';

type OctokitClass = typeof ProbotOctokit;
type Octokit = InstanceType<OctokitClass>;
type RateLimitHandler = (
  retryAfter: number,
  options: { method?: string; url?: string },
  octokit: Pick<Octokit, 'log'>,
) => boolean;

export function instrumentOctokit(Octokit: OctokitClass, metrics: SluiceMetrics): OctokitClass {
  const counted =
    (kind: string): RateLimitHandler =>
    (retryAfter, options, octokit) => {
      metrics.apiCall('github', 'rate_limited');
      metrics.rateLimitWait('github', retryAfter);
      octokit.log.warn(
        `${kind} hit with "${options.method} ${options.url}", retrying in ${formatDuration(retryAfter * 1000)}.`,
      );
      return true;
    };
  return Octokit.plugin((octokit: Pick<Octokit, 'hook'>) => {
    octokit.hook.wrap('request', async (request, options) => {
      try {
        const response = await request(options);
        metrics.apiCall('github', 'ok');
        return response;
      } catch (error) {
        metrics.apiCall('github', outcomeOfStatus((error as { status?: number }).status));
        throw error;
      }
    });
  }).defaults((given: { throttle?: object }) => ({
    ...given,
    throttle: {
      ...given.throttle,
      onRateLimit: counted('Rate limit'),
      onSecondaryRateLimit: counted('Secondary rate limit'),
    },
  }));
}
