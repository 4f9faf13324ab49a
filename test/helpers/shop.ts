/**
 * The shop: the repository (acme/shop) the GitHub and Slack tests push to,
 * its files and pipelines, and what its production serves. The app builds
 * VERSION into an artifact; its start script writes the version it runs.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { buildOf, pipelineFixture } from './pipeline-fixture.ts';

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

/** The version production serves now (what its start script wrote), or undefined before the first deploy. */
export function productionVersion(started: { dir: string }): string | undefined {
  const file = join(started.dir, 'srv-prod', 'current', 'started');
  return existsSync(file) ? readFileSync(file, 'utf8').trim() : undefined;
}

export function shopFiles(version: string, pipeline = productionPipeline()): Record<string, string> {
  return { '.github/sluice.yml': pipeline, VERSION: `${version}\n`, 'deploy/start.sh': 'cat dist/VERSION > started\n' };
}
