/**
 * The service's Slack side, when Slack is configured: the Bolt app (its
 * clicks and `/sluice` commands), the reporter that keeps approval cards
 * true, and Slack's view of who is who. Its part connects the app, then
 * posts the cards of gates that opened before a restart, or before Slack
 * was configured.
 */
import { resolve } from 'node:path';
import type { SlackSettings } from '../config/read-settings.ts';
import { changesSince, githubWebUrl } from '../github/changes-since.ts';
import type { GithubApi } from '../github/github-api.ts';
import { startFromRef } from '../github/start-from-ref.ts';
import type { SlackApp } from '../slack/create-slack-app.ts';
import type { SlackPeople } from '../slack/slack-people.ts';
import type { SlackReporter } from '../slack/slack-reporter.ts';
import { startSlack } from '../slack/start-slack.ts';
import type { ServiceContext } from './service-context.ts';
import type { ServicePart } from './service-part.ts';

export interface SlackOptions {
  settings: SlackSettings;
  /** GitHub, when the app is configured: the changes an approval card lists, and runs started from Slack. */
  api?: GithubApi;
  retries?: number;
}

export interface ServiceSlack {
  app: SlackApp;
  reporter: SlackReporter;
  people: SlackPeople;
  /** Connects the app and catches the cards up. */
  part: ServicePart;
  /** Lets the reporter send what it holds before it stops. */
  reporterPart: ServicePart;
}

export async function connectSlack(context: ServiceContext, options: SlackOptions): Promise<ServiceSlack> {
  const { store, runner, server, logger } = context;
  const api = options.api;
  const githubApp = context.settings.github;
  // Links to commits, on the GitHub the app is on.
  const web = githubApp ? githubWebUrl(githubApp.baseUrl) : undefined;
  const { app, reporter, people } = await startSlack({
    settings: options.settings,
    counter: context.metrics,
    store,
    runner,
    server,
    pageUrl: (id, stage) => context.links.executionUrl(id, stage),
    ...(api && {
      changesFor: (execution, environment) => changesSince(store, api, execution, environment),
      startRun: async (input) => {
        const result = await startFromRef(
          {
            store,
            runner,
            server,
            api,
            sourcesDir: resolve(context.settings.dataDir, 'sources'),
            sources: context.sources,
          },
          { ...input, trigger: `run from Slack by ${input.by}` },
        );
        return result.ok
          ? {
              ok: true,
              seq: result.execution.seq,
              sha: result.execution.revision.sha,
              ...(result.execution.revision.ref && { ref: result.execution.revision.ref }),
            }
          : result;
      },
    }),
    ...(web && { commitUrl: (repo, sha) => `${web}/${repo}/commit/${sha}` }),
    clock: context.clock,
    log: (line) => logger.info(line),
    warn: (line) => logger.warn(line),
    ...(options.retries !== undefined && { retries: options.retries }),
  });
  return {
    app,
    reporter,
    people,
    part: {
      async start() {
        await app.start();
        await reporter.catchUp();
      },
      idle: () => app.idle(),
      get busy() {
        return app.busy;
      },
      stop: () => app.stop(),
    },
    reporterPart: {
      idle: () => reporter.idle(),
      get busy() {
        return reporter.busy;
      },
      stop: async () => {
        await reporter.idle();
        reporter.stop();
      },
    },
  };
}
