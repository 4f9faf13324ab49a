/**
 * The answer to a re-run Sluice cannot do. When someone re-runs a check,
 * GitHub puts its check suite back to `queued` and leaves the rest to the
 * app; an app that does nothing leaves the commit "queued" for ever. So
 * Sluice says why, on GitHub: the re-run check run is completed again
 * (keeping its conclusion, or `neutral` when it had none) with the reason
 * above its summary; a re-run of the whole suite gets a `neutral` check run
 * of its own. A write GitHub refuses is noted, not retried.
 */
import { repoParams, type GithubApi, type InstallationOctokit } from './github-api.ts';
import { errorMessage } from '../sluice-error.ts';

/** GitHub's limit on `output.summary`, in bytes of UTF-8. */
const SUMMARY_BYTES = 65_535;

export const RERUN_CHECK_NAME = 'Sluice: re-run';

interface Where {
  repo: string;
  installation?: number | undefined;
}

export async function answerCheckRunRerun(
  api: GithubApi,
  where: Where & { checkRunId: number; conclusion: string | null; summary?: string | null | undefined },
  why: string,
): Promise<string> {
  return write(api, where, why, async (octokit, params) => {
    const summary = `**Not re-run:** ${why}${where.summary ? `\n\n---\n\n${where.summary}` : ''}`;
    await octokit.rest.checks.update({
      ...params,
      check_run_id: where.checkRunId,
      status: 'completed',
      conclusion: toConclusion(where.conclusion),
      completed_at: new Date().toISOString(),
      output: { title: 'Not re-run', summary: cutBytes(summary, SUMMARY_BYTES) },
    });
  });
}

export async function answerSuiteRerun(
  api: GithubApi,
  where: Where & { headSha: string },
  why: string,
): Promise<string> {
  return write(api, where, why, async (octokit, params) => {
    await octokit.rest.checks.create({
      ...params,
      name: RERUN_CHECK_NAME,
      head_sha: where.headSha,
      status: 'completed',
      conclusion: 'neutral',
      completed_at: new Date().toISOString(),
      output: { title: 'Nothing re-run', summary: cutBytes(`**Nothing re-run:** ${why}`, SUMMARY_BYTES) },
    });
  });
}

type Write = (octokit: InstallationOctokit, params: { owner: string; repo: string }) => Promise<void>;

/** `why`, and whether GitHub was told; a 5xx or a lost connection throws, so the delivery is tried again. */
async function write(api: GithubApi, where: Where, why: string, send: Write): Promise<string> {
  if (where.installation === undefined) return `${why} (no installation in the payload to say so on GitHub)`;
  try {
    await send(await api.installation(where.installation), repoParams(where.repo));
    return `${why} (said so on GitHub)`;
  } catch (error) {
    const status = (error as { status?: unknown }).status;
    if (typeof status === 'number' && status >= 400 && status < 500)
      return `${why} (GitHub refused the answer: ${status} ${errorMessage(error)})`;
    throw error;
  }
}

/** The check run's conclusion as it was, or `neutral`: GitHub's conclusion for "nothing to say either way". */
function toConclusion(
  conclusion: string | null,
): 'action_required' | 'cancelled' | 'failure' | 'neutral' | 'success' | 'skipped' | 'stale' | 'timed_out' {
  const known = ['action_required', 'cancelled', 'failure', 'neutral', 'success', 'skipped', 'timed_out'] as const;
  return known.find((c) => c === conclusion) ?? 'neutral';
}

/** At most `limit` bytes of UTF-8, cut between characters. */
function cutBytes(text: string, limit: number): string {
  if (Buffer.byteLength(text) <= limit) return text;
  let bytes = 0;
  let end = 0;
  for (const char of text) {
    bytes += Buffer.byteLength(char);
    if (bytes > limit - 3) break;
    end += char.length;
  }
  return `${text.slice(0, end)}…`;
}
