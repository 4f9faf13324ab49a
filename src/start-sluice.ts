/**
 * Starts Sluice as a service — what `npm start` runs, and what tests start
 * on a loopback port. Wiring only, told in order:
 *  1. the operator's server config, and the logger that masks its secrets;
 *  2. the store (the data directory is locked, R1; a full disk or a
 *     PostgreSQL that is down is waited out);
 *  3. the runner with its actions, and the links to execution pages;
 *  4. GitHub: Probot's webhooks into the inbox, and the reporter — or the
 *     setup flow while no app is configured;
 *  5. Slack, when configured: approval cards, clicks and `/sluice` commands;
 *  6. the HTTP server, and the sweep and the prune on their timers;
 *  7. every part started in order: the server listens, what the last
 *     process left is recovered (R3), Slack connects, the inbox handles
 *     what waits, the timers run. They stop in reverse order.
 */
import { createHmac, randomBytes } from 'node:crypto';
import type { Server } from 'node:http';
import type { Settings, SlackSettings } from './config/read-settings.ts';
import type { GithubApi } from './github/github-api.ts';
import type { GithubReporter } from './github/github-reporter.ts';
import type { WebhookInbox } from './github/webhook-inbox.ts';
import type { Logger } from './log/create-logger.ts';
import { serveMetrics } from './metrics/serve-metrics.ts';
import { SluiceMetrics } from './metrics/sluice-metrics.ts';
import type { PipelineRunner } from './runner/pipeline-runner.ts';
import type { PruneReport } from './runner/prune-data.ts';
import { connectGithub, type GithubOptions, type ServiceGithub } from './service/connect-github.ts';
import type { ServiceSlack } from './service/connect-slack.ts';
import { createRunner, type ServiceRunner } from './service/create-runner.ts';
import { createServiceLogger } from './service/create-service-logger.ts';
import { openServiceStore, stateDir } from './service/open-service-store.ts';
import { announceChanges, ExecutionNews } from './store/announce-changes.ts';
import { NO_SERVER_CONFIG, readServerConfig } from './service/read-server-config.ts';
import { recoverAtStart } from './service/recover-at-start.ts';
import type { ServiceContext } from './service/service-context.ts';
import { scheduleUpkeep, type Upkeep } from './service/schedule-upkeep.ts';
import { serveHttp, type ServiceHttp } from './service/serve-http.ts';
import { ServiceParts, type ServicePart } from './service/service-part.ts';
import type { SlackApp } from './slack/create-slack-app.ts';
import type { Store } from './store/store.ts';
import { createPageLinks } from './web/page-links.ts';

export interface StartOptions {
  /** Replaces the GitHub API client (tests that need no JWT); defaults to Probot's. */
  githubApi?: GithubApi;
  /**
   * GitHub asks apps to leave a second between writes (its secondary rate
   * limits), and Probot's Octokit does so, and retries requests that failed
   * with a 5xx after a pause; a secondary rate limit is waited out as its
   * Retry-After says. Tests against a local stand-in may turn all off.
   */
  githubPacing?: boolean;
  /** The inbox's poll interval and first retry delay (defaults 5 s and 10 s). */
  inboxPollMs?: number;
  inboxRetryMs?: number;
  /** How often log lines reach check runs (default 5 s). */
  logIntervalMs?: number;
  /** The first pause before a GitHub report that failed is tried again (default 15 s, doubling up to 5 min). */
  githubRetryMs?: number;
  /** The address to listen on (default: every interface). */
  host?: string;
  /** Where the app manifest and `.env` are (default: the working directory). */
  cwd?: string;
  /** The time, for the runner, approval expiry and Slack (tests move it on). */
  clock?: () => number;
  /**
   * How often the sweep runs: approvals expire, Slack catches up, and
   * actions of dead peers are interrupted (default: 30 s, or half the lease
   * when that is shorter).
   */
  sweepMs?: number;
  /**
   * How often an execution page's event stream also looks for what other
   * replicas stored (default 5 s on PostgreSQL; never on SQLite, which this
   * process alone writes). What this process stores wakes it at once.
   */
  pagePollMs?: number;
  /** How often a failed Slack API call is tried again (default 3). */
  slackRetries?: number;
  /** Receives the message of each log line, masked, instead of stdout (tests read them). */
  log?: (line: string) => void;
  /** The logger to use instead of one built from the settings. */
  logger?: Logger;
}

export interface RunningSluice {
  server: Server;
  url: string;
  store: Store;
  runner: PipelineRunner;
  inbox?: WebhookInbox;
  reporter?: GithubReporter;
  slack?: SlackApp;
  /** Every line Sluice and Probot log goes through it, masked. */
  logger: Logger;
  /**
   * What the service does every `sweepMs`, now: interrupt the actions of
   * dead peers, expire the approvals that waited too long, and send Slack
   * what it could not send before. Returns how many approvals expired.
   */
  sweep(): Promise<number>;
  /** What the service does every `retention.interval` (and once at start): prune what the retention settings let go. */
  prune(): Promise<PruneReport>;
  /** Resolves when no webhook waits, no action runs and every report is sent. */
  idle(): Promise<void>;
  /** The hosts a deploy running here has drained or switched and not yet put back. */
  leftBehind(): string[];
  /**
   * Stops taking work, waits for what runs, and closes. With `cancel`, what
   * runs here is cancelled first (with that reason) and its deploys roll
   * back the hosts they touched before the store closes. With `interrupt`
   * (a graceful stop), no action starts any more, what runs has `graceMs` to
   * end, and what still runs then is stopped — its deploys put back the
   * hosts they touched — and left for the next start to mark interrupted,
   * its claims released.
   */
  close(options?: { cancel?: string; interrupt?: { reason: string; graceMs: number } }): Promise<void>;
}

/** How often a page's event stream looks for what other replicas on the same PostgreSQL stored. */
const OTHER_REPLICAS_POLL_MS = 5_000;

export async function startSluice(settings: Settings, options: StartOptions = {}): Promise<RunningSluice> {
  const clock = options.clock ?? Date.now;
  const address = options.host ?? settings.host ?? '::';

  // 1. The server config, and the logger.
  const server = await readServerConfig(settings.serverConfig);
  const logger = options.logger ?? createServiceLogger(settings, server, options.log);
  if (!settings.serverConfig) logger.warn(NO_SERVER_CONFIG);

  // 2. The store, telling open pages' event streams what this process stores (instead of their polling it).
  const news = new ExecutionNews();
  const store = announceChanges(await openServiceStore(settings, address, (line) => logger.info(line)), news);
  const stopping = new AbortController();
  let wired: Wired;
  try {
    // 3. The runner, and the links to execution pages in check runs and Slack.
    const { runner, context } = wireRunner({ settings, store, server, logger, clock });

    // 4. GitHub.
    let slack: ServiceSlack | undefined;
    const github = await connectGithub(
      context,
      githubOptions(options, () => slack?.people),
    );
    if (github.reporter) runner.watchers.push(github.reporter);

    // 5. Slack.
    if (settings.slack) {
      slack = await connectServiceSlack(context, settings.slack, github, options);
      runner.watchers.push(slack.reporter);
    }

    // 6. The HTTP server, and the upkeep on timers.
    const http = serveService({ context, github, slack, news, address, options });
    const upkeep = scheduleServiceUpkeep({ context, runner, slack, options, signal: stopping.signal });

    // 7. The parts in the order they start. They stop in reverse: what reports outlives the runner, the store them all.
    const parts = new ServiceParts(
      partsInStartOrder({ context, runner, github, slack, http, upkeep, signal: stopping.signal }),
      (request) => {
        // Said at once: no action starts any more; the timers, and a recovery that waits for space, end.
        stopping.abort();
        if (request.interrupt) runner.runner.drain(request.interrupt.reason);
      },
    );
    wired = {
      parts,
      port: () => http.port(),
      sluice: whatRuns({ context, runner, github, slack, http, upkeep }),
    };
  } catch (error) {
    await store.close();
    throw error;
  }
  const { parts, sluice } = wired;
  // A part that fails to start stops those started before it, the store last.
  await parts.start();
  return {
    ...sluice,
    url: `http://${urlHost(options.host ?? settings.host)}:${wired.port()}`,
    idle: () => parts.idle(),
    close: ({ cancel, interrupt } = {}) =>
      parts.stop({
        ...(cancel !== undefined && { cancel }),
        ...(interrupt && { interrupt }),
        graceOver: interrupt ? Date.now() + interrupt.graceMs : 0,
      }),
  };
}

/** The service's context once its runner is made: what GitHub, Slack, the HTTP server and the upkeep are wired from. */
interface WiredContext extends ServiceContext {
  /** The store as opened, whose close is a part of its own. */
  store: Store;
}

/** The parts as they are made, for the steps that make one from those before it. */
interface Wiring {
  context: WiredContext;
  runner: ServiceRunner;
  github: ServiceGithub;
  slack: ServiceSlack | undefined;
  http: ServiceHttp;
  upkeep: Upkeep;
}

/** Step 3: the runner with its actions and metrics, and the context the other parts are made from. */
function wireRunner(base: Pick<WiredContext, 'settings' | 'store' | 'server' | 'logger' | 'clock'>): {
  runner: ServiceRunner;
  context: WiredContext;
} {
  const { settings, store, server, logger, clock } = base;
  const metrics = new SluiceMetrics(store);
  const runner = createRunner({
    store,
    server,
    dataDir: settings.dataDir,
    clock,
    logger,
    metrics,
    countExecutions: Boolean(settings.metricsToken),
  });
  const links = createPageLinks(settings.publicUrl, pageLinkKey(settings));
  return {
    runner,
    context: { settings, store, server, runner: runner.runner, sources: runner.sources, links, metrics, logger, clock },
  };
}

/** Step 4: what the start options say of GitHub; `people` is Slack's view of who is who, once Slack runs. */
function githubOptions(options: StartOptions, people: GithubOptions['people']): GithubOptions {
  return {
    cwd: options.cwd ?? process.cwd(),
    people,
    ...(options.githubApi && { api: options.githubApi }),
    ...(options.githubPacing !== undefined && { pacing: options.githubPacing }),
    ...(options.inboxPollMs !== undefined && { inboxPollMs: options.inboxPollMs }),
    ...(options.inboxRetryMs !== undefined && { inboxRetryMs: options.inboxRetryMs }),
    ...(options.logIntervalMs !== undefined && { logIntervalMs: options.logIntervalMs }),
    ...(options.githubRetryMs !== undefined && { retryMs: options.githubRetryMs }),
  };
}

/** Step 5: Slack, when it is configured. */
async function connectServiceSlack(
  context: WiredContext,
  settings: SlackSettings,
  github: ServiceGithub,
  options: StartOptions,
): Promise<ServiceSlack> {
  // Loaded only when Slack is configured: Bolt and its HTTP stack are a good part of an idle process's memory.
  const { connectSlack } = await import('./service/connect-slack.ts');
  return connectSlack(context, {
    settings,
    ...(github.api && { api: github.api }),
    ...(options.slackRetries !== undefined && { retries: options.slackRetries }),
  });
}

/** Step 6: the one HTTP server, with GitHub's routes, the execution pages, `/metrics` and Slack's route. */
function serveService(
  wiring: Pick<Wiring, 'context' | 'github' | 'slack'> & {
    news: ExecutionNews;
    address: string;
    options: StartOptions;
  },
): ServiceHttp {
  const { context, github, slack, options } = wiring;
  const { settings, store, links, metrics, logger } = context;
  const pagePollMs = options.pagePollMs ?? (store.kind === 'postgres' ? OTHER_REPLICAS_POLL_MS : undefined);
  return serveHttp(
    {
      ...github.routes,
      pages: { store, links, news: wiring.news, ...(pagePollMs !== undefined && { pollMs: pagePollMs }) },
      metrics: serveMetrics(metrics, settings.metricsToken),
      ...(slack?.app.route && { slack: slack.app.route }),
    },
    { port: settings.port, address: wiring.address },
    logger,
  );
}

/** Step 6: the sweep and the prune on their timers, which end when a stop is announced (`signal`). */
function scheduleServiceUpkeep(
  wiring: Pick<Wiring, 'context' | 'runner' | 'slack'> & { options: StartOptions; signal: AbortSignal },
): Upkeep {
  const { context, runner, options } = wiring;
  return scheduleUpkeep({
    store: context.store,
    server: context.server,
    runner: runner.runner,
    slackReporter: wiring.slack?.reporter,
    retryUnreachable: () => runner.retryUnreachable(),
    dataDir: context.settings.dataDir,
    clock: context.clock,
    logger: context.logger,
    ...(options.sweepMs !== undefined && { sweepMs: options.sweepMs }),
    signal: wiring.signal,
  });
}

/**
 * Step 7: every part in the order it starts — the store (its close), the reporters, the runner, the HTTP server, the
 * recovery of what the last process left (R3), Slack, the inbox, the timers. They stop in reverse.
 */
function partsInStartOrder(wiring: Wiring & { signal: AbortSignal }): ServicePart[] {
  const { context, runner, github, slack, upkeep } = wiring;
  const recovery = recoverAtStart({
    runner: runner.runner,
    reporter: github.reporter,
    logger: context.logger,
    stateDir: stateDir(context.settings),
    signal: wiring.signal,
  });
  const closeStore: ServicePart = { stop: () => context.store.close() };
  return [
    closeStore,
    ...present(github.reporterPart, slack?.reporterPart),
    runner,
    wiring.http,
    recovery,
    ...present(slack?.part, github.inbox),
    upkeep.sweeper,
    upkeep.pruner,
  ];
}

/** What a caller of `startSluice` reaches of the parts, before they start. */
function whatRuns(parts: Wiring): Wired['sluice'] {
  const { context, runner, github, upkeep } = parts;
  return {
    server: parts.http.server,
    store: context.store,
    runner: runner.runner,
    inbox: github.inbox,
    reporter: github.reporter,
    slack: parts.slack?.app,
    logger: context.logger,
    sweep: upkeep.sweep,
    prune: () => upkeep.pruner.runNow(),
    leftBehind: () => runner.leftBehind(),
  };
}

/** What the story wires, before any part starts. */
interface Wired {
  parts: ServiceParts;
  port(): number;
  sluice: Omit<RunningSluice, 'url' | 'idle' | 'close'>;
}

/** Page links are signed with a key derived from the webhook secret: every replica makes the same links. */
function pageLinkKey(settings: Settings): string {
  return settings.github
    ? createHmac('sha256', settings.github.webhookSecret).update('sluice page links').digest('hex')
    : randomBytes(32).toString('hex');
}

function urlHost(host: string | undefined): string {
  if (!host || host === '::' || host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

function present(...parts: Array<ServicePart | undefined>): ServicePart[] {
  return parts.filter((part): part is ServicePart => part !== undefined);
}
