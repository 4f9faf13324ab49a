/**
 * Starts Sluice as a service — what `npm start` runs, and what tests start
 * on a loopback port. Wiring only, in order:
 *  1. the server config and the store (the data directory is locked, R1);
 *  2. the action runner and the pipeline runner;
 *  3. GitHub: Probot's webhook middleware, the inbox, the reporter — or the
 *     setup flow while no app is configured;
 *  4. Slack, when configured: approval cards, clicks and `/sluice` commands;
 *  5. the HTTP server; then what a crash left running is marked interrupted
 *     (R3), the inbox handles what waits, and open approvals expire on time.
 */
import { createHmac, randomBytes } from 'node:crypto';
import { resolve } from 'node:path';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { Probot } from 'probot';
import { loadServerConfig } from './config/load-server-config.ts';
import { formatProblem } from './config/config-problem.ts';
import { DEFAULT_WEBHOOK_PATH, type Settings } from './config/read-settings.ts';
import type { ServerConfig } from './config/server.schema.ts';
import { probotApi, type GithubApi } from './github/github-api.ts';
import { GithubReporter } from './github/github-reporter.ts';
import { handleDelivery } from './github/handle-delivery.ts';
import { receiveWebhooks } from './github/receive-webhooks.ts';
import { serveSetupFlow } from './github/serve-setup-flow.ts';
import { WebhookInbox } from './github/webhook-inbox.ts';
import { approvalRules } from './config/approval-rules.ts';
import { recoveryRules } from './config/recovery-rules.ts';
import { retentionRules } from './config/retention-rules.ts';
import { changesSince, githubWebUrl } from './github/changes-since.ts';
import { startFromRef } from './github/start-from-ref.ts';
import { createSluiceActions } from './runner/create-sluice-actions.ts';
import { expireApprovals } from './runner/expire-approvals.ts';
import { describePrune, pruneData, type PruneReport } from './runner/prune-data.ts';
import { PipelineRunner } from './runner/pipeline-runner.ts';
import type { SlackApp } from './slack/create-slack-app.ts';
import type { SlackReporter } from './slack/slack-reporter.ts';
import type { SlackPeople } from './slack/slack-people.ts';
import { startSlack } from './slack/start-slack.ts';
import { announceChanges, ExecutionNews } from './store/announce-changes.ts';
import { openStore } from './store/open-store.ts';
import { timerDelay } from './executor/timer-delay.ts';
import type { Store } from './store/store.ts';
import { createHttpServer, type HttpRoutes } from './web/create-http-server.ts';
import { diskFullLine, openStoreWhenSpace } from './web/open-store-when-space.ts';
import { recoverWhenSpace } from './runner/recover-when-space.ts';
import { createPageLinks } from './web/page-links.ts';
import { instrumentOctokit } from './metrics/instrument-octokit.ts';
import { paceOctokit } from './github/pace-octokit.ts';
import { observeExecutions } from './metrics/observe-executions.ts';
import { serveMetrics } from './metrics/serve-metrics.ts';
import { SluiceMetrics } from './metrics/sluice-metrics.ts';
import { errorMessage, SluiceError } from './sluice-error.ts';
import { createLogger, probotLogger, type Logger } from './log/create-logger.ts';
import { serverSecrets, settingsSecrets } from './log/log-secrets.ts';
import { logActionOutput, logRunner } from './log/log-runner.ts';

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

export class StartError extends SluiceError<'START_FAILED'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('START_FAILED', message, options);
  }
}

/** A listen failure in the operator's words: which setting to change. */
function listenError(error: NodeJS.ErrnoException, port: number, address: string): Error {
  const where = address === '::' ? `port ${port}` : `${address} port ${port}`;
  if (error.code === 'EADDRINUSE')
    return new StartError(
      `PORT ${port} is in use: another process listens on ${where}. Stop it, or set PORT to a free port.`,
      { cause: error },
    );
  if (error.code === 'EACCES')
    return new StartError(
      `PORT ${port} needs privileges this process lacks: use a port above 1023 (and a reverse proxy in front), or give Node the capability to bind it.`,
      { cause: error },
    );
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND')
    return new StartError(
      `HOST ${address} is not an address of this machine: set HOST to one of its addresses (or leave it unset to listen on all).`,
      { cause: error },
    );
  return error;
}

function urlHost(host: string | undefined): string {
  if (!host || host === '::' || host === '0.0.0.0') return '127.0.0.1';
  return host.includes(':') ? `[${host}]` : host;
}

export async function startSluice(settings: Settings, options: StartOptions = {}): Promise<RunningSluice> {
  const cwd = options.cwd ?? process.cwd();
  // Without a config the app still judges pipelines against one: an empty one, so no repository reaches this machine.
  const server: ServerConfig = settings.serverConfig ? await readServerConfig(settings.serverConfig) : {};
  const sink = options.log;
  const logger =
    options.logger ??
    createLogger({
      level: settings.logLevel ?? 'info',
      format: settings.logFormat ?? 'pretty',
      levelInString: settings.logLevelInString ?? false,
      // Many-line secrets (keys) are hidden line by line; see createLogger.
      secrets: [...settingsSecrets(settings), ...serverSecrets(server)].filter((value) => !value.includes('\n')),
      keys: [
        ...(settings.github ? [settings.github.privateKey] : []),
        ...serverSecrets(server).filter((value) => value.includes('\n')),
      ],
      ...(sink && { record: (record) => sink(record.msg) }),
    });
  const log = (line: string) => logger.info(line);
  const warn = (line: string) => logger.warn(line);
  const address = options.host ?? settings.host ?? '::';
  // What fills up: the data directory, or PostgreSQL's disk.
  const stateDir = settings.databaseUrl ? 'PostgreSQL' : resolve(settings.dataDir);
  const fullLine = diskFullLine(stateDir);
  // Open pages' event streams are woken by what this process stores, instead of polling the store.
  const news = new ExecutionNews();
  const opened = await openStoreWhenSpace(
    () => openStore({ dataDir: settings.dataDir, databaseUrl: settings.databaseUrl }),
    {
      dir: stateDir,
      port: settings.port,
      host: address,
      log,
    },
  );
  const store = announceChanges(opened, news);
  const stopping = new AbortController();
  try {
    const { actions, rollouts, stopOrphans } = createSluiceActions(store, server, settings.dataDir);
    const github = settings.github;
    // Page links are signed with a key derived from the webhook secret: every replica makes the same links.
    const linkKey = github
      ? createHmac('sha256', github.webhookSecret).update('sluice page links').digest('hex')
      : randomBytes(32).toString('hex');
    const links = createPageLinks(settings.publicUrl, linkKey);
    const metrics = new SluiceMetrics(store);
    const Octokit = instrumentOctokit(paceOctokit(options.githubPacing !== false, warn), metrics);
    // Probot logs through Sluice's logger, at LOG_LEVEL (default warn, as in Probot).
    const probot = github
      ? new Probot({
          appId: github.appId,
          privateKey: github.privateKey,
          secret: github.webhookSecret,
          baseUrl: github.baseUrl,
          log: probotLogger(logger, settings.logLevel),
          Octokit,
        })
      : undefined;
    const api = options.githubApi ?? (probot && github ? probotApi(probot, github.appId) : undefined);
    const reporter = api
      ? new GithubReporter({
          store,
          api,
          pageUrl: (id, stage) => links.executionUrl(id, stage),
          environmentInfo: (environment) => environmentInfo(server, environment),
          logIntervalMs: options.logIntervalMs,
          ...(options.githubRetryMs !== undefined && { retryMs: options.githubRetryMs }),
          onError: (error) => warn(`Sluice could not update GitHub: ${errorMessage(error)}`),
          log,
        })
      : undefined;
    const clock = options.clock ?? Date.now;
    let slackReporter: SlackReporter | undefined;
    // Slack's view of who is who, for *Roll back* on GitHub; set once Slack starts.
    let slackPeopleOf: SlackPeople | undefined;
    const recovery = recoveryRules(server);
    const runner = new PipelineRunner({
      store,
      actions,
      stopOrphans,
      actor: 'sluice',
      clock,
      leaseMs: recovery.leaseMs,
      retryInterrupted: () => recovery.retryInterruptedBuilds,
      listener: {
        onChange: (_pipeline, ids) => {
          reporter?.executionsChanged(ids);
          slackReporter?.executionsChanged(ids);
          if (settings.metricsToken) observeExecutions(store, metrics, ids);
        },
        onLeaseRenewal: (outcome, count) => metrics.leaseRenewal(outcome, count),
        onLog: (ref, line) => {
          reporter?.logged(ref);
          logActionOutput(logger, ref, line);
        },
        ...logRunner(logger),
        onError: (error) => logger.error(`Sluice error: ${errorMessage(error)}`),
      },
    });

    const pagePollMs = options.pagePollMs ?? (store.kind === 'postgres' ? OTHER_REPLICAS_POLL_MS : undefined);
    const routes: HttpRoutes = {
      pages: { store, links, news, ...(pagePollMs !== undefined && { pollMs: pagePollMs }) },
      metrics: serveMetrics(metrics, settings.metricsToken),
    };
    let inbox: WebhookInbox | undefined;
    if (probot && api) {
      const deps = {
        store,
        api,
        runner,
        server,
        sourcesDir: resolve(settings.dataDir, 'sources'),
        clock,
        appId: api.appId,
        people: () => slackPeopleOf,
      };
      inbox = new WebhookInbox({
        store,
        owner: `sluice-${process.pid}-${randomBytes(4).toString('hex')}`,
        handle: (delivery) => handleDelivery(deps, delivery),
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
      const wake = () => inbox?.wake();
      routes.github = await receiveWebhooks(probot, store, wake, { path: settings.webhookPath });
    } else {
      routes.setup = serveSetupFlow({
        publicUrl: settings.publicUrl,
        webhookUrl: `${settings.publicUrl}${settings.webhookPath ?? DEFAULT_WEBHOOK_PATH}`,
        manifestFile: resolve(cwd, 'app.yml'),
        envFile: resolve(cwd, '.env'),
        webUrl: process.env.GHE_HOST
          ? `${process.env.GHE_PROTOCOL || 'https'}://${process.env.GHE_HOST}`
          : 'https://github.com',
        apiUrl: process.env.GHE_HOST
          ? `${process.env.GHE_PROTOCOL || 'https'}://${process.env.GHE_HOST}/api/v3`
          : 'https://api.github.com',
        ...(process.env.GH_ORG && { org: process.env.GH_ORG }),
        log,
      });
    }

    let slack: SlackApp | undefined;
    if (settings.slack) {
      const web = github ? githubWebUrl(github.baseUrl) : undefined;
      const started = await startSlack({
        settings: settings.slack,
        counter: metrics,
        store,
        runner,
        server,
        pageUrl: (id, stage) => links.executionUrl(id, stage),
        ...(api && {
          changesFor: (execution, environment) => changesSince(store, api, execution, environment),
          startRun: async (input) => {
            const result = await startFromRef(
              { store, runner, server, api, sourcesDir: resolve(settings.dataDir, 'sources') },
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
        clock,
        log,
        warn,
        ...(options.slackRetries !== undefined && { retries: options.slackRetries }),
      });
      slack = started.app;
      slackReporter = started.reporter;
      slackPeopleOf = started.people;
      if (slack.route) routes.slack = slack.route;
    }
    const sweep = async () => {
      await runner.sweep();
      const expired = await expireApprovals(
        store,
        runner,
        (environment) => approvalRules(server, environment),
        clock(),
      );
      await slackReporter?.catchUp();
      return expired;
    };

    const http = createHttpServer(routes, (error, req) =>
      logger
        .child({ method: req.method, path: req.url?.split('?')[0] })
        .error(error instanceof Error ? error : { err: error }, 'Sluice could not answer a request'),
    );
    await new Promise<void>((done, fail) => {
      http.once('error', (error: NodeJS.ErrnoException) => fail(listenError(error, settings.port, address)));
      http.listen(settings.port, address, () => done());
    });
    const port = (http.address() as AddressInfo).port;
    const recovering = await recoverWhenSpace(() => runner.recover(), { log, fullLine, signal: stopping.signal });
    // What GitHub did not take before a restart (it was down) is sent now.
    await reporter
      ?.resume()
      .catch((error: unknown) => log(`Sluice could not read which GitHub reports wait: ${errorMessage(error)}`));
    inbox?.start();
    await slack?.start();
    // Cards of gates that opened before a restart, or before Slack was configured.
    await slackReporter?.catchUp();
    let sweeping: Promise<unknown> = Promise.resolve();
    const sweeper = setInterval(
      () => {
        sweeping = sweeping
          .then(sweep)
          .catch((error: unknown) =>
            warn(`Sluice could not expire approvals or catch Slack up: ${errorMessage(error)}`),
          );
      },
      options.sweepMs ?? Math.min(30_000, Math.floor(recovery.leaseMs / 2)),
    );
    sweeper.unref();
    if (!settings.serverConfig)
      warn(
        'No server config: SLUICE_CONFIG is not set, so Sluice knows no hosts and no environments, and every deploy fails. Write one (README, "The server config") and set SLUICE_CONFIG to its path.',
      );
    const retention = retentionRules(server);
    const prune = async () => {
      const report = await pruneData({ store, server, dataDir: settings.dataDir, now: clock(), rules: retention });
      const said = describePrune(report);
      if (said) log(said);
      return report;
    };
    let pruning: Promise<unknown> = Promise.resolve();
    const pruneInBackground = () => {
      pruning = pruning
        .then(prune)
        .catch((error: unknown) => warn(`Sluice could not prune old data (retention): ${errorMessage(error)}`));
    };
    pruneInBackground();
    // At least a minute apart: a prune reads every pipeline's history.
    const pruner = setInterval(pruneInBackground, timerDelay(Math.max(60_000, retention.intervalMs)));
    pruner.unref();

    let closed: Promise<void> | undefined;
    return {
      server: http,
      url: `http://${urlHost(options.host ?? settings.host)}:${port}`,
      store,
      runner,
      inbox,
      reporter,
      slack,
      logger,
      sweep,
      prune: () => {
        const run = pruning.then(prune);
        pruning = run.catch(() => {});
        return run;
      },
      async idle() {
        do {
          await slack?.idle();
          await inbox?.idle();
          await runner.idle();
          await reporter?.idle();
          await slackReporter?.idle();
        } while (runner.busy || inbox?.busy || reporter?.busy || slack?.busy || slackReporter?.busy);
      },
      leftBehind: () => rollouts.leftBehind(),
      close(closeOptions = {}) {
        closed ??= (async () => {
          stopping.abort();
          await recovering.done;
          clearInterval(sweeper);
          clearInterval(pruner);
          const interrupt = closeOptions.interrupt;
          if (interrupt) runner.drain(interrupt.reason);
          const graceOver = interrupt ? Date.now() + interrupt.graceMs : 0;
          await sweeping;
          await pruning;
          await inbox?.stop();
          await slack?.stop();
          http.closeAllConnections();
          await new Promise<void>((done) => http.close(() => done()));
          if (closeOptions.cancel) await runner.cancelRunning('sluice', closeOptions.cancel);
          if (interrupt && !(await idleWithin(runner, graceOver - Date.now()))) {
            const stopped = runner.interruptRunning(interrupt.reason);
            if (stopped.length > 0)
              warn(
                `The grace period (${interrupt.graceMs / 1000} s) is over: stopping ${stopped.map((ref) => `${ref.stage}/${ref.action}`).join(', ')} (a deploy first puts back the hosts it touched); the next start marks ${stopped.length === 1 ? 'it' : 'them'} interrupted.`,
              );
          }
          // From here an outcome the store refuses is not tried again: the process is going.
          runner.close();
          await runner.idle();
          await runner
            .releaseClaims()
            .catch((error: unknown) =>
              warn(
                `Sluice could not release its claims on what it leaves running (peers take it up when the claims run out): ${errorMessage(error)}`,
              ),
            );
          runner.stop();
          await reporter?.idle();
          await slackReporter?.idle();
          reporter?.stop();
          await store.close();
        })();
        return closed;
      },
    };
  } catch (error) {
    await store.close();
    throw error;
  }
}

async function readServerConfig(file: string): Promise<ServerConfig> {
  const result = await loadServerConfig(file);
  if (!result.ok)
    throw new StartError(
      `the server config (SLUICE_CONFIG) has problems:\n${result.problems.map(formatProblem).join('\n')}`,
    );
  return result.config;
}

function environmentInfo(server: ServerConfig | undefined, environment: string) {
  const env = server?.environments?.[environment];
  return { ...(env?.url && { url: env.url }), production: Boolean(env?.approval) };
}

/** Whether what runs ends within `ms`. */
async function idleWithin(runner: PipelineRunner, ms: number): Promise<boolean> {
  if (!runner.busy) return true;
  let timer: NodeJS.Timeout | undefined;
  const over = new Promise<false>((done) => (timer = setTimeout(() => done(false), Math.max(0, ms))));
  const ended = await Promise.race([runner.idle().then(() => true as const), over]);
  clearTimeout(timer);
  return ended;
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
