/**
 * The shop: the repository (acme/shop) the GitHub and Slack tests push to,
 * its files and pipelines, and what its production serves. The app builds
 * VERSION into an artifact; its start script writes the version it runs.
 * Its server config deploys on this machine (`local`), builds on `builder`.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOf, type FixturePipeline, pipelineFixture } from './pipeline-fixture.ts';

/** The repository the default server config, pipelines and installation are written for. */
export const REPO = 'acme/shop';

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

/** The build prints the granted secret on purpose: it must reach no Slack message. */
export function productionPipeline(build?: string[]): string {
  if (!build) return pipelineFixture('shop-to-production');
  return pipelineFixture('shop-to-production', (pipeline) => {
    buildOf(pipeline).run = build;
  });
}

/**
 * Splits the shop's production stage in two: its approval in a stage `name`
 * of its own, then production with only the deploy, which no longer needs it.
 */
export function approvalInItsOwnStage(pipeline: FixturePipeline, name: string): void {
  const at = pipeline.stages.findIndex((stage) => stage.name === 'production');
  const [approve, deploy] = pipeline.stages[at]!.actions;
  delete deploy!.needs;
  pipeline.stages.splice(at, 1, { name, actions: [approve!] }, { name: 'production', actions: [deploy!] });
}

/** The version production serves now (what its start script wrote), or undefined before the first deploy. */
export function productionVersion(started: { dir: string }): string | undefined {
  const file = join(started.dir, 'srv-prod', 'current', 'started');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export function shopFiles(version: string, pipeline = productionPipeline()): Record<string, string> {
  return { '.github/sluice.yml': pipeline, VERSION: `${version}\n`, 'deploy/start.sh': 'cat dist/VERSION > started\n' };
}

/** What the shop's server config holds beyond dev on this machine. */
export interface ShopServerOptions {
  /** The repositories allowed on this machine's hosts: the shop alone unless given (`acme/*`). */
  repos?: string;
  /** dev's URL, shown on its Deployments. */
  devUrl?: string;
  /** A production environment too, behind an approval in a Slack channel. */
  production?: {
    url?: string;
    approval: { channel: string; approvers: string[]; timeout?: string; skipForRollbacks?: boolean };
  };
  /** Sections after the secrets (`github:`, `slack:`), as YAML. */
  extra?: string;
}

/**
 * The server config the GitHub and Slack tests start Sluice with: dev (and
 * production if asked for) in `dir` on this machine, the build on `builder`,
 * and the API_TOKEN secret granted to the shop.
 */
export function shopServerConfig(dir: string, options: ShopServerOptions = {}): string {
  const lines = [
    'hosts:',
    '  builder: [local]',
    'local:',
    `  repos: [${options.repos ?? REPO}]`,
    'environments:',
    '  dev:',
    '    hosts: [local]',
    `    path: ${join(dir, 'srv-dev')}`,
  ];
  if (options.devUrl) lines.push(`    url: ${options.devUrl}`);
  const production = options.production;
  if (production) {
    lines.push('  production:', '    hosts: [local]', `    path: ${join(dir, 'srv-prod')}`);
    if (production.url) lines.push(`    url: ${production.url}`);
    const { channel, approvers, timeout, skipForRollbacks } = production.approval;
    lines.push('    approval:', `      slack_channel: ${channel}`, `      approvers: [${approvers.join(', ')}]`);
    if (timeout) lines.push(`      timeout: ${timeout}`);
    if (skipForRollbacks) lines.push('      skip_for_rollbacks: true');
  }
  lines.push('secrets:', `  API_TOKEN: { env: SLUICE_TEST_CANARY, repos: [${REPO}] }`);
  return `${lines.join('\n')}\n${options.extra ?? ''}`;
}
