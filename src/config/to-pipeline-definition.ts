/**
 * A checked pipeline file as the engine and the action runners see it:
 * defaults filled in (a stage needs the one before it, 30 min per command,
 * a 60 s health timeout), durations in milliseconds.
 */
import type { ActionDefinition, AppSpec, PipelineDefinition } from '../pipeline/definition.ts';
import { parseDuration } from './parse-duration.ts';
import type { ActionConfig, PipelineConfig } from './pipeline.schema.ts';

export const DEFAULT_COMMAND_TIMEOUT_MS = 30 * 60_000;
export const DEFAULT_HEALTH_TIMEOUT_MS = 60_000;
export const DEFAULT_HEALTH_INTERVAL_MS = 500;

const ms = (text: string | undefined, fallback: number) =>
  text === undefined ? fallback : (parseDuration(text) ?? fallback);

export function toPipelineDefinition(config: PipelineConfig): PipelineDefinition {
  return {
    mode: config.mode ?? 'superseded',
    stages: config.stages.map((stage, s) => ({
      name: stage.name,
      needs: stage.needs ?? (s === 0 ? [] : [config.stages[s - 1]!.name]),
      actions: stage.actions.map(toAction),
    })),
    ...(config.app ? { app: toApp(config.app) } : {}),
  };
}

function toAction(action: ActionConfig): ActionDefinition {
  const base = { name: action.name, needs: action.needs ?? [] };
  if (action.build) {
    const { host, run, artifact, inputs, timeout, env, secrets } = action.build;
    return {
      ...base,
      kind: 'build',
      build: {
        host,
        run,
        ...(artifact ? { artifact } : {}),
        inputs: inputs ?? [],
        timeoutMs: ms(timeout, DEFAULT_COMMAND_TIMEOUT_MS),
        env: env ?? {},
        secrets: secrets ?? [],
      },
    };
  }
  if (action.command) {
    const { host, run, inputs, timeout, env, secrets } = action.command;
    return {
      ...base,
      kind: 'command',
      command: {
        host,
        run,
        inputs: inputs ?? [],
        timeoutMs: ms(timeout, DEFAULT_COMMAND_TIMEOUT_MS),
        env: env ?? {},
        secrets: secrets ?? [],
      },
    };
  }
  if (action.deploy) return { ...base, kind: 'deploy', deploy: { ...action.deploy } };
  if (action.approval) return { ...base, kind: 'approval', approval: { ...action.approval } };
  throw new Error(`action "${action.name}" has no kind; the schema should have refused it`);
}

function toApp(app: NonNullable<PipelineConfig['app']>): AppSpec {
  const health = app.health;
  return {
    hooks: { ...app.hooks },
    ...(health
      ? {
          health: {
            ...(health.http ? { http: health.http } : {}),
            ...(health.command ? { command: health.command } : {}),
            timeoutMs: ms(health.timeout, DEFAULT_HEALTH_TIMEOUT_MS),
            intervalMs: ms(health.interval, DEFAULT_HEALTH_INTERVAL_MS),
          },
        }
      : {}),
  };
}
