/**
 * Starts an execution of one commit of a repository, however it was asked
 * for (a push, `/sluice run`): the pipeline that runs is the default
 * branch's (PRODUCT G6), read as `refs/heads/<branch>` so that a tag of the
 * same name, which anyone who can push may create, is never taken for it;
 * the source is the commit's tarball through the API (S1). A push also checks that its branch is one the pipeline
 * names; a run
 * by hand may name any branch or commit (P1).
 */
import type { ArtifactStore } from '../artifact/artifact-store.ts';
import { keepSource } from '../artifact/keep-source.ts';
import { formatProblem } from '../config/config-problem.ts';
import { parsePipelineConfig } from '../config/load-pipeline-config.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import type { ExecutionState, Revision } from '../pipeline/snapshot.ts';
import type { PipelineRunner } from '../runner/pipeline-runner.ts';
import type { ExecutionStore, NewExecution } from '../store/store.ts';
import { downloadTarball } from './download-tarball.ts';
import { repoParams, type InstallationOctokit } from './github-api.ts';
import { isPipelineBranch } from '../config/match-branch.ts';
import { readRepoFile } from './read-repo-file.ts';

export const PIPELINE_FILE = '.github/sluice.yml';

export interface StartDeps {
  store: ExecutionStore;
  runner: PipelineRunner;
  server?: ServerConfig;
  /** Where downloaded source tarballs are kept. */
  sourcesDir: string;
  /** Where they are kept for every replica, when the store is shared (see keepSource). */
  sources?: ArtifactStore;
}

export interface CommitToStart {
  repo: string;
  defaultBranch: string;
  revision: Revision;
  /** Set for pushes: the branch must be one `on.push.branches` names. */
  pushed?: boolean;
  /** The default branch's pipeline file, when the caller has read it already. */
  pipelineText?: string;
  trigger: string;
  origin?: string;
  actor: string;
  /**
   * Known out of date before it starts (an older push of its branch): created superseded with this reason, and no
   * source fetched.
   */
  supersededBy?: string;
  /** Asked as it is created (see NewExecution). */
  supersededIf?: NewExecution['supersededIf'];
}

export type StartResult = { ok: true; execution: ExecutionState } | { ok: false; reason: string };

export async function startCommit(
  deps: StartDeps,
  octokit: InstallationOctokit,
  input: CommitToStart,
): Promise<StartResult> {
  const { owner, repo } = repoParams(input.repo);
  const text =
    input.pipelineText ??
    (await readRepoFile(octokit, { owner, repo, path: PIPELINE_FILE, ref: `refs/heads/${input.defaultBranch}` }));
  if (text === undefined)
    return { ok: false, reason: `no ${PIPELINE_FILE} on the default branch ${input.defaultBranch}` };
  const pipeline = parsePipelineConfig(text, { file: PIPELINE_FILE, server: deps.server, repo: input.repo });
  if (!pipeline.ok)
    return {
      ok: false,
      reason: `the default branch's ${PIPELINE_FILE} is invalid: ${pipeline.problems.map(formatProblem).join('; ')}`,
    };
  const branch = input.revision.ref;
  if (
    input.pushed &&
    branch !== undefined &&
    !isPipelineBranch(pipeline.config.on?.push?.branches, branch, input.defaultBranch)
  ) {
    return { ok: false, reason: `branch ${branch} is not one the pipeline runs for` };
  }
  const { supersededBy } = input;
  const source =
    supersededBy === undefined
      ? await keepSource(
          deps.sources,
          await downloadTarball(octokit, { owner, repo, ref: input.revision.sha }, deps.sourcesDir),
        )
      : undefined;
  const supersededIf = supersededBy === undefined ? input.supersededIf : async () => supersededBy;
  const pipelineId = await deps.store.ensurePipeline(input.repo, PIPELINE_FILE);
  const execution = await deps.runner.start(
    {
      pipelineId,
      revision: input.revision,
      definition: pipeline.definition,
      trigger: input.trigger,
      ...(source !== undefined && { source }),
      ...(input.origin !== undefined && { origin: input.origin }),
      ...(supersededIf && { supersededIf }),
    },
    input.actor,
  );
  return { ok: true, execution };
}
