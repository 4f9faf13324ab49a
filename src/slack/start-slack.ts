/**
 * Sluice's Slack side, put together for the service: the Bolt app, the
 * reporter that keeps approval cards true, the approval clicks and the
 * `/sluice` commands — over the same store and runner as GitHub and the CLI.
 */
import { approvalRules } from '../config/approval-rules.ts';
import type { SlackSettings } from '../config/read-settings.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { ExecutionSummary, StoreConcerns } from '../store/store.ts';
import type { ApprovalCardInput } from './approval-card.ts';
import { runChatCommand, type ChatDeps } from './chat-ops/run-chat-command.ts';
import { createSlackApp, type SlackApp } from './create-slack-app.ts';
import type { SlackCallCounter } from './slack-api.ts';
import { decideApproval } from './decide-approval.ts';
import type { SlackApi } from './slack-api.ts';
import { slackPeople, type SlackPeople } from './slack-people.ts';
import { SlackReporter } from './slack-reporter.ts';
import { errorMessage } from '../sluice-error.ts';

export interface SlackDeps {
  settings: SlackSettings;
  store: StoreConcerns;
  runner: PipelineRunner;
  server?: ServerConfig;
  pageUrl(executionId: string, stage?: string): string;
  changesFor?(execution: ExecutionSummary, environment: string): Promise<ApprovalCardInput['changes']>;
  commitUrl?(repo: string, sha: string): string | undefined;
  startRun?: ChatDeps['startRun'];
  clock: () => number;
  log(line: string): void;
  /** What went wrong (Bolt's warnings and errors, a Slack update that failed); `log` when not given. */
  warn?(line: string): void;
  retries?: number;
  /** Counts Slack calls and rate-limit waits (the metrics). */
  counter?: SlackCallCounter;
}

export async function startSlack(
  deps: SlackDeps,
): Promise<{ app: SlackApp; reporter: SlackReporter; people: SlackPeople }> {
  const rulesFor = (environment: string) => approvalRules(deps.server, environment);
  // One for the cards and the clicks, so both share Slack's answers.
  let shared: SlackPeople | undefined;
  const peopleOf = (api: SlackApi) => (shared ??= slackPeople(api, deps.server?.slack?.people, deps.clock));
  const app = await createSlackApp(
    deps.settings,
    (api) => {
      const people = peopleOf(api);
      const chatDeps: ChatDeps = {
        store: deps.store,
        runner: deps.runner,
        server: deps.server,
        people,
        pageUrl: (id) => deps.pageUrl(id),
        clock: deps.clock,
        ...(deps.startRun && { startRun: deps.startRun }),
      };
      return {
        decide: (click) =>
          decideApproval({ store: deps.store, runner: deps.runner, rulesFor, people, clock: deps.clock }, click),
        chat: (user, text) => runChatCommand(chatDeps, user, text),
      };
    },
    {
      log: deps.log,
      ...(deps.warn && { warn: deps.warn }),
      ...(deps.retries !== undefined && { retries: deps.retries }),
      ...(deps.counter && { counter: deps.counter }),
    },
  );
  const reporter = new SlackReporter({
    store: deps.store,
    api: app.api,
    rulesFor,
    pageUrl: deps.pageUrl,
    ...(deps.changesFor && { changesFor: deps.changesFor }),
    ...(deps.commitUrl && { commitUrl: deps.commitUrl }),
    people: peopleOf(app.api),
    clock: deps.clock,
    onError: (error) => (deps.warn ?? deps.log)(`Sluice could not update Slack: ${errorMessage(error)}`),
  });
  return { app, reporter, people: peopleOf(app.api) };
}
