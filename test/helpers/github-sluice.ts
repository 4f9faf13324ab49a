/**
 * Sluice as a GitHub App on a loopback port, pointed at a GitHub stand-in,
 * with a server config whose hosts are this machine (`local`). Everything it
 * starts, `close` stops and removes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'node:test';
import type { Settings } from '../../src/config/read-settings.ts';
import { startSluice, type RunningSluice, type StartOptions } from '../../src/start-sluice.ts';
import type { Permissions } from './github-rules.ts';
import { GithubStandIn } from './github-stand-in.ts';
import { pushPayload, sendWebhook, type PushInput, type SentWebhook, type WebhookOptions } from './github-webhooks.ts';
import { REPO, shopServerConfig } from './shop.ts';

export const WEBHOOK_SECRET = 'webhook-secret-for-tests';
export const CANARY = 'canary-S3cr3t-value-8c1f';

export interface GithubSluice {
  sluice: RunningSluice;
  github: GithubStandIn;
  dir: string;
  logs: string[];
  /**
   * Once `sluice` is closed: Sluice started again on the same data, server
   * config, settings and stand-in, as after a restart, logging to `logs`;
   * `close` stops it too.
   */
  restart(start?: Partial<StartOptions>): Promise<RunningSluice>;
  /**
   * A webhook, signed with the app's webhook secret and sent as GitHub sends it to the Sluice running now (the
   * restarted one after `restart`); Sluice's reply.
   */
  send(event: string, payload: unknown, options?: WebhookOptions): Promise<SentWebhook>;
  /** A push of REPO (or of `push.repo`), sent as `send` sends it. */
  sendPush(push: Omit<PushInput, 'repo'> & { repo?: string }, options?: WebhookOptions): Promise<SentWebhook>;
  close(): Promise<void>;
}

export interface GithubSluiceOptions {
  serverConfig?: (dir: string) => string;
  /** More settings (Slack's), added to the GitHub App's; a function gets the stand-in (for its key or id). */
  settings?: Partial<Settings> | ((github: GithubStandIn) => Partial<Settings>);
  start?: Partial<StartOptions>;
  /**
   * The repositories the app is installed on (installation 77); its tokens
   * reach these only, as on GitHub. Default: acme/shop, the repository the
   * default server config and pipelines are written for.
   */
  installed?: string[];
  /** What the app's installation may do (default: what app.yml asks for). */
  githubPermissions?: Permissions;
  /** Runs when everything else has stopped. */
  cleanup?: () => Promise<void>;
}

/**
 * For a test file: the function its tests start Sluice with. What a test
 * started is stopped, and its files removed, after that test, passed or
 * failed.
 */
export function githubSluicePerTest(): (options?: GithubSluiceOptions) => Promise<GithubSluice> {
  return closedAfterEach(startGithubSluice);
}

/** `start`, with an afterEach that closes everything it started during the test. */
export function closedAfterEach<O, T extends { close(): Promise<void> }>(
  start: (options?: O) => Promise<T>,
): (options?: O) => Promise<T> {
  const running: T[] = [];
  afterEach(async () => {
    for (const started of running.splice(0)) await started.close();
  });
  return async (options) => {
    const started = await start(options);
    running.push(started);
    return started;
  };
}

export async function startGithubSluice(options: GithubSluiceOptions = {}): Promise<GithubSluice> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-github-'));
  const github = await new GithubStandIn(
    options.githubPermissions && { permissions: options.githubPermissions },
  ).start();
  github.install(options.installed ?? [REPO]);
  process.env.SLUICE_TEST_CANARY = CANARY;
  const config =
    options.serverConfig?.(dir) ?? shopServerConfig(dir, { repos: 'acme/*', devUrl: 'https://dev.example.com' });
  writeFileSync(join(dir, 'server.yml'), config);
  const logs: string[] = [];
  const settings: Settings = {
    port: 0,
    dataDir: join(dir, 'data'),
    serverConfig: join(dir, 'server.yml'),
    publicUrl: 'http://sluice.test',
    github: {
      appId: github.appId,
      privateKey: github.privateKey,
      webhookSecret: WEBHOOK_SECRET,
      baseUrl: github.apiUrl,
    },
    ...(typeof options.settings === 'function' ? options.settings(github) : options.settings),
  };
  const log = (line: string) => logs.push(line);
  const sluice = await startSluice(settings, {
    host: '127.0.0.1',
    logIntervalMs: 50,
    githubPacing: false,
    inboxPollMs: 50,
    inboxRetryMs: 100,
    cwd: dir,
    log,
    ...options.start,
  });
  const restarted: RunningSluice[] = [];
  const send = (event: string, payload: unknown, sendOptions?: WebhookOptions) =>
    sendWebhook((restarted.at(-1) ?? sluice).url, WEBHOOK_SECRET, event, payload, sendOptions);
  let closed: Promise<void> | undefined;
  return {
    sluice,
    github,
    dir,
    logs,
    send,
    sendPush: (push, sendOptions) => send('push', pushPayload({ repo: REPO, ...push }), sendOptions),
    async restart(start) {
      const again = await startSluice(settings, { host: '127.0.0.1', githubPacing: false, cwd: dir, log, ...start });
      restarted.push(again);
      return again;
    },
    /** Once: a second call waits for the first. */
    close() {
      closed ??= (async () => {
        for (const again of restarted) await again.close();
        await sluice.close();
        await github.stop();
        await options.cleanup?.();
        rmSync(dir, { recursive: true, force: true });
      })();
      return closed;
    },
  };
}
