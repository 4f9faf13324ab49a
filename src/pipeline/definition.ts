/**
 * The pipeline as the engine sees it: stages, their order and their actions.
 * Produced from a validated `.github/sluice.yml` by `toPipelineDefinition`
 * (src/config); the engine reads only names, `needs` and the action kind.
 */

/** How a stage treats executions that wait to enter it (PRODUCT P3); the first is the default. */
export const EXECUTION_MODES = ['superseded', 'queued'] as const;

export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export interface PipelineDefinition {
  mode: ExecutionMode;
  /** Stages in the order the file lists them. */
  stages: StageDefinition[];
  /** How the app installs and runs on a host (hooks and health check). */
  app?: AppSpec;
}

export interface StageDefinition {
  name: string;
  /** Stages that must succeed before this one may start (a DAG). */
  needs: string[];
  actions: ActionDefinition[];
}

interface ActionBase {
  name: string;
  /** Actions of the same stage that must succeed before this one starts. */
  needs: string[];
}

export interface BuildSpec {
  /** A host group of the server config, or `local`. */
  host: string;
  run: string[];
  artifact?: ArtifactSpec;
  /** Artifacts of earlier actions unpacked into the workspace first. */
  inputs: string[];
  /** Per-command timeout in milliseconds. */
  timeoutMs: number;
  /** Plain environment variables for the commands. */
  env: Record<string, string>;
  /** Names of operator-granted secrets exposed as environment variables. */
  secrets: string[];
}

export interface ArtifactSpec {
  name: string;
  paths: string[];
}

export interface DeploySpec {
  environment: string;
  artifact: string;
}

export interface ApprovalSpec {
  environment: string;
}

export interface CommandSpec {
  host: string;
  run: string[];
  inputs: string[];
  timeoutMs: number;
  env: Record<string, string>;
  secrets: string[];
}

export interface AppSpec {
  hooks: Partial<Record<LifecycleHook, string[]>>;
  health?: HealthSpec;
}

export type LifecycleHook = 'stop' | 'before_install' | 'after_install' | 'start' | 'validate';

export interface HealthSpec {
  http?: string;
  command?: string;
  timeoutMs: number;
  intervalMs: number;
}

/** What an action does; its spec sits under the same name. */
export const ACTION_KINDS = ['build', 'deploy', 'approval', 'command'] as const;

export type ActionKind = (typeof ACTION_KINDS)[number];

/** The spec of each kind of action. */
interface ActionSpecs {
  build: BuildSpec;
  deploy: DeploySpec;
  approval: ApprovalSpec;
  command: CommandSpec;
}

/** An action: its kind, and its spec under the kind's name (`{ kind: 'build', build: BuildSpec }`). */
export type ActionDefinition = { [K in ActionKind]: ActionBase & { kind: K } & Pick<ActionSpecs, K> }[ActionKind];

/** The stage of that name, if the pipeline has one. */
export function findStage(definition: PipelineDefinition, name: string): StageDefinition | undefined {
  return definition.stages.find((s) => s.name === name);
}

/** The action `action` of stage `stage`, if the pipeline has one. */
export function findAction(
  definition: PipelineDefinition,
  stage: string,
  action: string,
): ActionDefinition | undefined {
  return findStage(definition, stage)?.actions.find((a) => a.name === action);
}

/** An action that deploys an artifact to an environment. */
export type DeployAction = Extract<ActionDefinition, { kind: 'deploy' }>;

/**
 * The deploy actions of the pipeline, each with its stage, in the order the file lists them; only those of
 * `where.stage` and only those to `where.environment` when given.
 */
export function deployActions(
  definition: PipelineDefinition,
  where: { stage?: string | undefined; environment?: string | undefined } = {},
): Array<{ stage: string; action: DeployAction }> {
  const found: Array<{ stage: string; action: DeployAction }> = [];
  for (const stage of definition.stages) {
    if (where.stage !== undefined && stage.name !== where.stage) continue;
    for (const action of stage.actions) {
      if (action.kind !== 'deploy') continue;
      if (where.environment === undefined || action.deploy.environment === where.environment)
        found.push({ stage: stage.name, action });
    }
  }
  return found;
}
