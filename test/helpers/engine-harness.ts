/**
 * An in-memory pipeline for engine tests: holds one snapshot, sends events
 * through the real engine and keeps what it asked to run.
 */
import type { ActionDefinition, ExecutionMode, PipelineDefinition } from '../../src/pipeline/definition.ts';
import { step, type EngineEvent } from '../../src/pipeline/engine.ts';
import { newExecutionState } from '../../src/pipeline/new-execution-state.ts';
import type { Command, PipelineSnapshot, StateChange } from '../../src/pipeline/snapshot.ts';

type ActionShorthand = string | { name: string; needs?: string[]; kind?: ActionDefinition['kind'] };

/** `stages` as `{ build: ['compile'], dev: ['deploy'] }`; needs default to the stage before. */
export function pipeline(
  stages: Record<string, ActionShorthand[]>,
  options: { mode?: ExecutionMode; needs?: Record<string, string[]> } = {},
): PipelineDefinition {
  const names = Object.keys(stages);
  return {
    mode: options.mode ?? 'superseded',
    stages: names.map((name, i) => ({
      name,
      needs: options.needs?.[name] ?? (i === 0 ? [] : [names[i - 1]!]),
      actions: stages[name]!.map((a) => toAction(typeof a === 'string' ? { name: a } : a)),
    })),
  };
}

function toAction(a: { name: string; needs?: string[]; kind?: ActionDefinition['kind'] }): ActionDefinition {
  const base = { name: a.name, needs: a.needs ?? [] };
  const kind = a.kind ?? (a.name.startsWith('approve') ? 'approval' : 'build');
  if (kind === 'approval') return { ...base, kind, approval: { environment: 'production' } };
  return {
    ...base,
    kind: 'build',
    build: { host: 'local', run: ['true'], inputs: [], timeoutMs: 1000, env: {}, secrets: [] },
  };
}

export class EngineHarness {
  snapshot: PipelineSnapshot = { pipelineId: 'p', transitions: {}, executions: [] };
  commands: Command[] = [];
  changes: StateChange[] = [];
  private clock = 1_000;
  readonly definition: PipelineDefinition;

  constructor(definition: PipelineDefinition) {
    this.definition = definition;
  }

  /** Start an execution of a new revision; returns its id (`e1`, `e2` …). */
  push(sha = `sha${this.snapshot.executions.length + 1}`): string {
    const seq = this.snapshot.executions.length + 1;
    const id = `e${seq}`;
    this.snapshot.executions.push(newExecutionState(id, seq, { sha: sha.padEnd(7, '0') }, this.definition));
    this.send({ type: 'tick' });
    return id;
  }

  send(event: EngineEvent): Command[] {
    this.clock += 1;
    const result = step(this.snapshot, event, this.clock);
    this.snapshot = result.snapshot;
    this.commands.push(...result.commands);
    this.changes.push(...result.changes);
    return result.commands;
  }

  /** Finish a running action the way an executor would. */
  finish(executionId: string, path: string, outcome: 'ok' | string = 'ok'): Command[] {
    const [stage, action] = path.split('/') as [string, string];
    const attempt = this.execution(executionId).stages[stage]!.actions[action]!.attempt;
    if (outcome === 'ok') return this.send({ type: 'action_succeeded', executionId, stage, action, attempt });
    return this.send({ type: 'action_failed', executionId, stage, action, attempt, reason: outcome });
  }

  execution(id: string) {
    const execution = this.snapshot.executions.find((e) => e.id === id);
    if (!execution) throw new Error(`no execution ${id}`);
    return execution;
  }

  /** What `sluice status` would show: `running · build:succeeded dev:running(deploy:running)`. */
  status(id: string): string {
    const e = this.execution(id);
    const stages = Object.entries(e.stages).map(([name, s]) => {
      const open = Object.entries(s.actions)
        .filter(([, a]) => a.status !== 'pending' || s.status === 'running' || s.status === 'failed')
        .map(([n, a]) => `${n}:${a.status}`);
      return `${name}:${s.status}${s.status === 'running' || s.status === 'failed' ? `(${open.join(',')})` : ''}`;
    });
    return `${e.status} · ${stages.join(' ')}`;
  }

  /** The `run` and `request_approval` commands issued so far, as `e1 build/compile`. */
  started(): string[] {
    return this.commands
      .filter((c) => c.type === 'run' || c.type === 'request_approval')
      .map((c) => `${c.executionId} ${c.stage}/${c.action}${c.attempt > 1 ? ` #${c.attempt}` : ''}`);
  }
}
