/**
 * The replies in an approval card's thread (PRODUCT K3): once approved, how
 * each deploy behind the gate goes — started, then succeeded or failed with
 * the reason. Pure: each reply has a key, and the reporter posts those it
 * has not posted yet, so a reply is never sent twice.
 */
import { type ExecutionSummary, findActionSummary } from '../store/store.ts';
import { gatedDeploys } from './approval-card.ts';
import { escapeText, fitMessageText } from './slack-text.ts';

/**
 * How much of a failure's reason a thread reply quotes: enough to read, short enough that the link to the logs stays.
 */
export const REASON_LIMIT = 3000;
import { isStoppedShort } from '../pipeline/states.ts';
import { formatDuration } from '../format-duration.ts';

export interface ThreadReply {
  key: string;
  text: string;
}

export function deployThread(
  execution: ExecutionSummary,
  stage: string,
  environment: string,
  pageUrl: string,
): ThreadReply[] {
  const replies: ThreadReply[] = [];
  const sha7 = execution.revision.sha.slice(0, 7);
  for (const name of gatedDeploys(execution, stage, environment)) {
    const action = findActionSummary(execution, stage, name);
    if (!action || action.status === 'pending') continue;
    const key = (what: string) => `${name}/${action.attempt}/${what}`;
    replies.push({
      key: key('started'),
      text: `🚀 Deploying \`${sha7}\` to *${environment}*${action.attempt > 1 ? ` (attempt ${action.attempt})` : ''}…`,
    });
    const took =
      action.startedAt !== undefined && action.finishedAt !== undefined
        ? ` in ${formatDuration(action.finishedAt - action.startedAt)}`
        : '';
    if (action.status === 'succeeded') {
      replies.push({
        key: key('done'),
        text: `✅ *${environment}* runs \`${sha7}\` now (deployed${took}). <${pageUrl}|Pipeline>`,
      });
    } else if (isStoppedShort(action.status)) {
      const why = action.reason ? `: ${escapeText(fitMessageText(action.reason, REASON_LIMIT))}` : '';
      replies.push({
        key: key('done'),
        text: `❌ The deploy of \`${sha7}\` to *${environment}* ${action.status}${why}. <${pageUrl}|Logs>`,
      });
    }
  }
  return replies;
}
