/**
 * Sluice as a GitHub App on a loopback port, pointed at a GitHub stand-in,
 * with a server config whose hosts are this machine (`local`). Everything it
 * starts, `close` stops and removes.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Settings } from '../../src/config/read-settings.ts';
import { startSluice, type RunningSluice, type StartOptions } from '../../src/start-sluice.ts';
import type { Permissions } from './github-rules.ts';
import { GithubStandIn } from './github-stand-in.ts';
import { buildOf, pipelineFixture } from './pipeline-fixture.ts';

export const WEBHOOK_SECRET = 'webhook-secret-for-tests';
export const CANARY = 'canary-S3cr3t-value-8c1f';

export interface GithubSluice {
  sluice: RunningSluice;
  github: GithubStandIn;
  dir: string;
  logs: string[];
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

export async function startGithubSluice(options: GithubSluiceOptions = {}): Promise<GithubSluice> {
  const dir = mkdtempSync(join(tmpdir(), 'sluice-github-'));
  const github = await new GithubStandIn(
    options.githubPermissions && { permissions: options.githubPermissions },
  ).start();
  github.install(options.installed ?? ['acme/shop']);
  process.env.SLUICE_TEST_CANARY = CANARY;
  const config = options.serverConfig?.(dir) ?? defaultServerConfig(dir);
  writeFileSync(join(dir, 'server.yml'), config);
  const logs: string[] = [];
  const sluice = await startSluice(
    {
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
    },
    {
      host: '127.0.0.1',
      logIntervalMs: 50,
      githubPacing: false,
      inboxPollMs: 50,
      inboxRetryMs: 100,
      cwd: dir,
      log: (line) => logs.push(line),
      ...options.start,
    },
  );
  return {
    sluice,
    github,
    dir,
    logs,
    async close() {
      await sluice.close();
      await github.stop();
      await options.cleanup?.();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function defaultServerConfig(dir: string): string {
  return `hosts:
  builder: [local]
local:
  repos: [acme/*]
environments:
  dev:
    hosts: [local]
    path: ${join(dir, 'srv-dev')}
    url: https://dev.example.com
secrets:
  API_TOKEN: { env: SLUICE_TEST_CANARY, repos: [acme/shop] }
`;
}

/** A pipeline that builds VERSION into an artifact and deploys it to dev; `build` replaces the build commands. */
export function pipelineFile(build?: string[]): string {
  return pipelineFixture('shop-to-production', (pipeline) => {
    pipeline.on!.push!.branches.push('release/*');
    pipeline.stages = pipeline.stages.filter((stage) => stage.name !== 'production');
    if (build) buildOf(pipeline).run = build;
  });
}

export function appFiles(version: string, pipeline = pipelineFile()): Record<string, string> {
  return { '.github/sluice.yml': pipeline, VERSION: `${version}\n`, 'deploy/start.sh': 'cat dist/VERSION > started\n' };
}
