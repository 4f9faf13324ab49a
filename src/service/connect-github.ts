/**
 * The service's GitHub side. With the GitHub App configured: Probot's
 * webhook middleware, which stores each delivery in the inbox and wakes
 * it; the inbox, which handles them; and the reporter, which keeps check
 * runs and Deployments in step. Without it, the setup flow that creates
 * the app.
 */
import { randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import { Probot } from 'probot';
import { DEFAULT_WEBHOOK_PATH, GITHUB_COM } from '../config/read-settings.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import type { SlackMembership } from '../github/check-rollback-permission.ts';
import { probotApi, type GithubApi } from '../github/github-api.ts';
import { GithubReporter } from '../github/github-reporter.ts';
import { handleDelivery } from '../github/handle-delivery.ts';
import { paceOctokit } from '../github/pace-octokit.ts';
import { receiveWebhooks } from '../github/receive-webhooks.ts';
import { serveSetupFlow } from '../github/serve-setup-flow.ts';
import { WebhookInbox } from '../github/webhook-inbox.ts';
import { probotLogger } from '../log/create-logger.ts';
import { instrumentOctokit } from '../metrics/instrument-octokit.ts';
import { errorMessage } from '../sluice-error.ts';
import type { HttpRoutes } from '../web/create-http-server.ts';
import type { ServiceContext } from './service-context.ts';
import type { ServicePart } from './service-part.ts';

export interface GithubOptions {
  /** Where the app manifest and `.env` of the setup flow are. */
  cwd: string;
  /** Slack's view of who is who, once Slack runs (for *Roll back* and *Re-run* on GitHub). */
  people(): SlackMembership | undefined;
  /** The client to use instead of Probot's (tests that need no JWT). */
  api?: GithubApi;
  /** Whether writes are paced and 5xx retried, as GitHub asks of apps (default true). */
  pacing?: boolean;
  inboxPollMs?: number;
  inboxRetryMs?: number;
  logIntervalMs?: number;
  retryMs?: number;
}

export interface ServiceGithub {
  api?: GithubApi;
  reporter?: GithubReporter;
  /** Lets the reporter send what it holds before it stops. */
  reporterPart?: ServicePart;
  inbox?: WebhookInbox;
  routes: Pick<HttpRoutes, 'github' | 'setup'>;
}

export async function connectGithub(context: ServiceContext, options: GithubOptions): Promise<ServiceGithub> {
  const { settings, store, logger } = context;
  const log = (line: string) => logger.info(line);
  const warn = (line: string) => logger.warn(line);
  const app = settings.github;
  const Octokit = instrumentOctokit(paceOctokit(options.pacing !== false, warn), context.metrics);
  // Probot logs through Sluice's logger, at LOG_LEVEL (default warn, as in Probot).
  const probot = app
    ? new Probot({
        appId: app.appId,
        privateKey: app.privateKey,
        secret: app.webhookSecret,
        baseUrl: app.baseUrl,
        log: probotLogger(logger, settings.logLevel),
        Octokit,
      })
    : undefined;
  const api = options.api ?? (probot && app ? probotApi(probot, app.appId) : undefined);
  const reporter = api
    ? new GithubReporter({
        store,
        api,
        pageUrl: (id, stage) => context.links.executionUrl(id, stage),
        environmentInfo: (environment) => environmentInfo(context.server, environment),
        logIntervalMs: options.logIntervalMs,
        ...(options.retryMs !== undefined && { retryMs: options.retryMs }),
        clock: context.clock,
        onError: (error) => warn(`Sluice could not update GitHub: ${errorMessage(error)}`),
        log,
      })
    : undefined;
  const reporterPart: ServicePart | undefined = reporter && {
    idle: () => reporter.idle(),
    get busy() {
      return reporter.busy;
    },
    async stop() {
      await reporter.idle();
      reporter.stop();
    },
  };
  if (!probot || !api) {
    const server = settings.githubServer ?? GITHUB_COM;
    const setup = serveSetupFlow({
      publicUrl: settings.publicUrl,
      webhookUrl: `${settings.publicUrl}${settings.webhookPath ?? DEFAULT_WEBHOOK_PATH}`,
      manifestFile: resolve(options.cwd, 'app.yml'),
      envFile: resolve(options.cwd, '.env'),
      webUrl: server.webUrl,
      apiUrl: server.apiUrl,
      ...(settings.githubOrg && { org: settings.githubOrg }),
      log,
    });
    return { ...(api && { api }), reporter, reporterPart, routes: { setup } };
  }
  const handling = {
    store,
    api,
    runner: context.runner,
    server: context.server,
    sourcesDir: resolve(settings.dataDir, 'sources'),
    sources: context.sources,
    clock: context.clock,
    appId: api.appId,
    people: options.people,
  };
  const inbox = new WebhookInbox({
    store,
    owner: `sluice-${process.pid}-${randomBytes(4).toString('hex')}`,
    handle: (delivery) => handleDelivery(handling, delivery),
    ...(options.inboxPollMs !== undefined && { pollMs: options.inboxPollMs }),
    ...(options.inboxRetryMs !== undefined && { retryAfterMs: options.inboxRetryMs }),
    onError: (error, delivery) =>
      logger
        .child({ delivery: delivery.id, event: delivery.event })
        .warn(`Sluice could not handle ${delivery.event} delivery ${delivery.id}: ${errorMessage(error)}`),
    onHandled: (delivery, note) =>
      logger
        .child({ delivery: delivery.id, event: delivery.event, ...repoOf(delivery.payload) })
        .info(`${delivery.event} delivery ${delivery.id}: ${note}`),
    onStoreError: (error) =>
      warn(
        `Sluice could not read or update its webhook inbox, and tries again at its next poll: ${errorMessage(error)}`,
      ),
  });
  const github = await receiveWebhooks(probot, store, () => inbox.wake(), { path: settings.webhookPath });
  return { api, reporter, reporterPart, inbox, routes: { github } };
}

function environmentInfo(server: ServerConfig, environment: string) {
  const env = server.environments?.[environment];
  return { ...(env?.url && { url: env.url }), production: Boolean(env?.approval) };
}

/** The repository a webhook concerns, for its log line. */
function repoOf(payload: string): { repo?: string } {
  try {
    const repo = (JSON.parse(payload) as { repository?: { full_name?: unknown } }).repository?.full_name;
    return typeof repo === 'string' ? { repo } : {};
  } catch {
    return {};
  }
}
