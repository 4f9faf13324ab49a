/**
 * The rules of a pipeline that a schema cannot say: unique names, `needs`
 * that exist and form no cycle, unique artifacts, inputs produced by an
 * action that runs before, and — given the operator's server config — only
 * environments, host groups and secrets the operator defined, host groups
 * the repository may use (checkHostAccess), with no approval skipped, and no
 * command time limit above the operator's (a repository cannot widen what
 * the operator set).
 */
import { formatDuration } from '../format-duration.ts';
import { checkEnvironmentLocal, checkHostAccess } from './check-host-access.ts';
import { groupEntries } from './resolve-hosts.ts';
import { closestWord } from './closest-word.ts';
import type { ConfigPath } from './config-problem.ts';
import { parseDuration } from './parse-duration.ts';
import type { ActionConfig, PipelineConfig } from './pipeline.schema.ts';
import type { ServerConfig } from './server.schema.ts';

export interface RuleProblem {
  path: ConfigPath;
  at: 'key' | 'value';
  message: string;
}

interface ActionPlace {
  stage: number;
  action: number;
  config: ActionConfig;
}

/** `repo` is who the pipeline belongs to (owner/name); without one, only host groups open to every repository pass. */
export function checkPipeline(
  config: PipelineConfig,
  server?: ServerConfig,
  repo = 'an unnamed repository',
): RuleProblem[] {
  const problems: RuleProblem[] = [];
  const stageNeeds = checkStages(config, problems);
  const actionNeeds = config.stages.map((stage, s) => checkActions(stage.actions, s, problems));
  const stageBefore = ancestors(stageNeeds);
  const actionBefore = actionNeeds.map(ancestors);
  const produced = checkArtifacts(config, problems);

  const runsBefore = (producer: ActionPlace, stage: number, action: number) =>
    producer.stage === stage
      ? actionBefore[stage]![action]!.has(producer.action)
      : stageBefore[stage]!.has(producer.stage);

  const checkInput = (name: string, path: ConfigPath, stage: number, action: number) => {
    const producer = produced.get(name);
    if (!producer) {
      const guess = closestWord(name, [...produced.keys()]);
      const known =
        produced.size > 0
          ? `; artifacts in this pipeline: ${[...produced.keys()].join(', ')}`
          : '; a build action produces one with `artifact: { name, paths }`';
      problems.push({
        path,
        at: 'value',
        message: `artifact "${name}" is not produced by any action${guess ? ` (did you mean "${guess}"?)` : known}`,
      });
      return;
    }
    if (runsBefore(producer, stage, action)) return;
    const stageName = config.stages[stage]!.name;
    const producerStage = config.stages[producer.stage]!.name;
    const fix =
      producer.stage === stage
        ? `add "${producer.config.name}" to this action's needs`
        : `make stage "${stageName}" need stage "${producerStage}"`;
    problems.push({
      path,
      at: 'value',
      message: `artifact "${name}" comes from ${producerStage}/${producer.config.name}, which does not run before this action; ${fix}`,
    });
  };

  config.stages.forEach((stage, s) =>
    stage.actions.forEach((action, a) => {
      const base = ['stages', s, 'actions', a];
      const spec = action.build ?? action.command;
      spec?.inputs?.forEach((name, i) =>
        checkInput(name, [...base, action.build ? 'build' : 'command', 'inputs', i], s, a),
      );
      if (action.deploy) checkInput(action.deploy.artifact, [...base, 'deploy', 'artifact'], s, a);
    }),
  );

  if (server)
    checkAgainstServer(config, server, repo, problems, (approvalPlace, stage, action) =>
      runsBefore(approvalPlace, stage, action),
    );
  return problems;
}

function checkStages(config: PipelineConfig, problems: RuleProblem[]): number[][] {
  const index = uniqueNames(
    config.stages.map((s) => s.name),
    (i) => ['stages', i, 'name'],
    'stage',
    problems,
  );
  const needs = config.stages.map((stage, s) => {
    if (stage.needs === undefined) return s === 0 ? [] : [s - 1];
    return resolveNeeds(stage.needs, index, s, ['stages', s, 'needs'], `stage "${stage.name}"`, 'a stage', problems);
  });
  reportCycle(
    needs,
    (i) => config.stages[i]!.name,
    (i) => ['stages', i, 'needs'],
    'stages',
    problems,
  );
  return needs;
}

function checkActions(actions: ActionConfig[], s: number, problems: RuleProblem[]): number[][] {
  const index = uniqueNames(
    actions.map((a) => a.name),
    (i) => ['stages', s, 'actions', i, 'name'],
    'action in this stage',
    problems,
  );
  const needs = actions.map((action, a) =>
    resolveNeeds(
      action.needs ?? [],
      index,
      a,
      ['stages', s, 'actions', a, 'needs'],
      `action "${action.name}"`,
      'an action of this stage',
      problems,
    ),
  );
  reportCycle(
    needs,
    (i) => actions[i]!.name,
    (i) => ['stages', s, 'actions', i, 'needs'],
    'actions',
    problems,
  );
  return needs;
}

function uniqueNames(
  names: string[],
  pathOf: (i: number) => ConfigPath,
  what: string,
  problems: RuleProblem[],
): Map<string, number> {
  const index = new Map<string, number>();
  names.forEach((name, i) => {
    if (index.has(name))
      problems.push({
        path: pathOf(i),
        at: 'value',
        message: `"${name}" is already the name of another ${what}; names must be unique`,
      });
    else index.set(name, i);
  });
  return index;
}

function resolveNeeds(
  names: string[],
  index: Map<string, number>,
  self: number,
  path: ConfigPath,
  who: string,
  what: string,
  problems: RuleProblem[],
): number[] {
  const resolved: number[] = [];
  names.forEach((name, i) => {
    const target = index.get(name);
    if (target === undefined) {
      const guess = closestWord(name, [...index.keys()]);
      problems.push({
        path: [...path, i],
        at: 'value',
        message: `${who} needs "${name}", which is not ${what}${guess ? ` (did you mean "${guess}"?)` : ''}`,
      });
    } else if (target === self) {
      problems.push({ path: [...path, i], at: 'value', message: `${who} cannot need itself` });
    } else {
      resolved.push(target);
    }
  });
  return resolved;
}

/** Report one cycle through `needs`, if there is one, at the needs of the first member. */
function reportCycle(
  needs: number[][],
  nameOf: (i: number) => string,
  pathOf: (i: number) => ConfigPath,
  what: string,
  problems: RuleProblem[],
): void {
  const state = new Array<0 | 1 | 2>(needs.length).fill(0);
  const stack: number[] = [];
  const visit = (i: number): number[] | undefined => {
    state[i] = 1;
    stack.push(i);
    for (const next of needs[i]!) {
      if (state[next] === 1) return [...stack.slice(stack.indexOf(next)), next];
      if (state[next] === 0) {
        const cycle = visit(next);
        if (cycle) return cycle;
      }
    }
    stack.pop();
    state[i] = 2;
    return undefined;
  };
  for (let i = 0; i < needs.length; i++) {
    if (state[i] !== 0) continue;
    const cycle = visit(i);
    if (cycle) {
      const names = cycle.map(nameOf).join(' → ');
      problems.push({
        path: pathOf(cycle[0]!),
        at: 'key',
        message: `${what} ${names} need each other in a cycle, so none of them can start; remove one of these needs`,
      });
      return;
    }
  }
}

/** For each node, every node that must finish before it (transitively). */
function ancestors(needs: number[][]): Set<number>[] {
  const memo: (Set<number> | undefined)[] = [];
  const of = (i: number, seen: Set<number>): Set<number> => {
    const known = memo[i];
    if (known) return known;
    const result = new Set<number>();
    for (const need of needs[i]!) {
      if (seen.has(need)) continue; // a cycle, reported elsewhere
      result.add(need);
      for (const further of of(need, new Set([...seen, need]))) result.add(further);
    }
    memo[i] = result;
    return result;
  };
  return needs.map((_, i) => of(i, new Set([i])));
}

function checkArtifacts(config: PipelineConfig, problems: RuleProblem[]): Map<string, ActionPlace> {
  const produced = new Map<string, ActionPlace>();
  config.stages.forEach((stage, s) =>
    stage.actions.forEach((action, a) => {
      const name = action.build?.artifact?.name;
      if (name === undefined) return;
      const earlier = produced.get(name);
      if (earlier) {
        const where = `${config.stages[earlier.stage]!.name}/${earlier.config.name}`;
        problems.push({
          path: ['stages', s, 'actions', a, 'build', 'artifact', 'name'],
          at: 'value',
          message: `artifact "${name}" is also produced by ${where}; artifact names are unique in a pipeline`,
        });
      } else {
        produced.set(name, { stage: s, action: a, config: action });
      }
    }),
  );
  return produced;
}

function checkAgainstServer(
  config: PipelineConfig,
  server: ServerConfig,
  repo: string,
  problems: RuleProblem[],
  runsBefore: (approval: ActionPlace, stage: number, action: number) => boolean,
): void {
  const environments = Object.keys(server.environments ?? {});
  const groups = Object.keys(server.hosts ?? {});
  const secrets = Object.keys(server.secrets ?? {});
  const commandLimit =
    server.ssh?.command_timeout === undefined ? undefined : parseDuration(server.ssh.command_timeout);
  const approvals: ActionPlace[] = [];
  config.stages.forEach((stage, s) =>
    stage.actions.forEach((action, a) => action.approval && approvals.push({ stage: s, action: a, config: action })),
  );

  const unknownEnvironment = (name: string, path: ConfigPath) => {
    if (environments.includes(name)) return false;
    const guess = closestWord(name, environments);
    const known = environments.length > 0 ? `; it defines: ${environments.join(', ')}` : '';
    problems.push({
      path,
      at: 'value',
      message: `environment "${name}" is not defined in the server config${guess ? ` (did you mean "${guess}"?)` : known}`,
    });
    return true;
  };

  config.stages.forEach((stage, s) =>
    stage.actions.forEach((action, a) => {
      const base = ['stages', s, 'actions', a];
      if (action.deploy) {
        const path = [...base, 'deploy', 'environment'];
        const name = action.deploy.environment;
        const onLocal = environments.includes(name) ? checkEnvironmentLocal(server, repo, name) : undefined;
        if (onLocal) problems.push({ path, at: 'value', message: onLocal });
        if (!unknownEnvironment(name, path) && server.environments?.[name]?.approval) {
          const gated = approvals.some(
            (place) => place.config.approval?.environment === name && runsBefore(place, s, a),
          );
          if (!gated) {
            problems.push({
              path,
              at: 'value',
              message: `deploys to "${name}" need an approval first (the server config sets approval rules for it); add an approval action for "${name}" that this deploy needs`,
            });
          }
        }
      }
      if (action.approval) {
        const path = [...base, 'approval', 'environment'];
        const name = action.approval.environment;
        if (!unknownEnvironment(name, path) && !server.environments?.[name]?.approval) {
          problems.push({
            path,
            at: 'value',
            message: `environment "${name}" has no approval rules in the server config, so nobody could decide; the operator adds environments.${name}.approval`,
          });
        }
      }
      const spec = action.build ?? action.command;
      if (!spec) return;
      const kind = action.build ? 'build' : 'command';
      if (!groups.includes(spec.host)) {
        const guess = closestWord(spec.host, groups);
        const local =
          spec.host === 'local'
            ? '; pipelines run on the Sluice machine only where the operator defines the group `local: [local]`'
            : '';
        problems.push({
          path: [...base, kind, 'host'],
          at: 'value',
          message: `host group "${spec.host}" is not defined in the server config${guess ? ` (did you mean "${guess}"?)` : local || (groups.length > 0 ? `; it defines: ${groups.join(', ')}` : '')}`,
        });
      } else {
        const refused = checkHostAccess(server, repo, spec.host);
        if (refused) problems.push({ path: [...base, kind, 'host'], at: 'value', message: refused });
      }
      const asked = spec.timeout === undefined ? undefined : parseDuration(spec.timeout);
      const remote = groupEntries(server, spec.host)?.some((entry) => entry !== 'local') ?? false;
      if (remote && commandLimit !== undefined && asked !== undefined && asked > commandLimit) {
        problems.push({
          path: [...base, kind, 'timeout'],
          at: 'value',
          message: `timeout ${spec.timeout} is longer than the server config allows a command on an SSH host (ssh.command_timeout: ${formatDuration(commandLimit)}); ask for ${formatDuration(commandLimit)} or less, or have the operator raise it`,
        });
      }
      spec.secrets?.forEach((name, i) => {
        if (!secrets.includes(name)) {
          problems.push({
            path: [...base, kind, 'secrets', i],
            at: 'value',
            message: `secret "${name}" is not defined in the server config; the operator adds it under secrets`,
          });
        }
      });
    }),
  );
}
