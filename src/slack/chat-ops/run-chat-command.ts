/**
 * Chat-ops (PRODUCT K5): a `/sluice` command from Slack, checked against
 * the operator's `slack.commands` (who may run what), then carried out on
 * the store and the runner — the same events the CLI and GitHub send.
 * Answers are short; a mistake says what to type instead. Commands that
 * change something answer in the channel, so the team sees who did what.
 */
import type { ServerConfig } from '../../config/server.schema.ts';
import { EngineError } from '../../pipeline/engine.ts';
import { isStoppedShort } from '../../pipeline/states.ts';
import type { PipelineRunner } from '../../runner/pipeline-runner.ts';
import { approvalRules } from '../../config/approval-rules.ts';
import { startRollback } from '../../runner/start-rollback.ts';
import type {
  ArtifactRecordStore,
  ExecutionStore,
  ClaimStore,
  ExecutionSummary,
  LockState,
  PipelineRecord,
} from '../../store/store.ts';
import type { SlackPeople } from '../slack-people.ts';
import { approverMention } from '../approval-card.ts';
import { escapeText, mentionActors } from '../slack-text.ts';
import { overviewText, repoText } from './chat-status.ts';
import { helpText, parseChatCommand, type ChatCommand } from './parse-chat-command.ts';
import { findAction } from '../../pipeline/definition.ts';

export interface ChatDeps {
  store: ExecutionStore & ClaimStore & ArtifactRecordStore;
  runner: PipelineRunner;
  server?: ServerConfig;
  people: SlackPeople;
  pageUrl(executionId: string): string;
  /** Starts a run of a repository's ref through GitHub; absent when no GitHub App is configured. */
  startRun?(input: {
    repo: string;
    ref?: string;
    by: string;
  }): Promise<{ ok: true; seq: number; sha: string; ref?: string } | { ok: false; reason: string }>;
  clock?: () => number;
}

export interface ChatAnswer {
  text: string;
  /** Shown to the channel, not only to the user. */
  inChannel?: boolean;
}

export async function runChatCommand(deps: ChatDeps, user: string, text: string): Promise<ChatAnswer> {
  const parsed = parseChatCommand(text);
  if (!parsed.ok) return { text: parsed.text };
  const { command } = parsed;
  if (command.name === 'help') return { text: helpText() };
  const refusal = await permission(deps, user, command.name);
  if (refusal) return { text: refusal };
  try {
    return await carryOut(deps, `slack:${user}`, command);
  } catch (error) {
    if (error instanceof EngineError) return { text: escapeText(error.message) };
    throw error;
  }
}

async function permission(
  deps: ChatDeps,
  user: string,
  name: Exclude<ChatCommand['name'], 'help'>,
): Promise<string | undefined> {
  const allowed = deps.server?.slack?.commands?.[name];
  if (allowed === undefined) {
    return name === 'status'
      ? undefined
      : `Nobody may run \`/sluice ${name}\` yet: the operator lists who may in Sluice's server config, under \`slack.commands.${name}\`.`;
  }
  if (await deps.people.isAmong(user, allowed)) return undefined;
  const who = allowed.length > 0 ? `; ask ${allowed.map(approverMention).join(', ')}` : '';
  return `You may not run \`/sluice ${name}\`${who}.`;
}

async function carryOut(
  deps: ChatDeps,
  by: string,
  command: Exclude<ChatCommand, { name: 'help' }>,
): Promise<ChatAnswer> {
  const { store } = deps;
  const now = (deps.clock ?? Date.now)();
  switch (command.name) {
    case 'status': {
      if (command.repo) {
        const pipeline = await findPipeline(store, command.repo);
        if (typeof pipeline === 'string') return { text: pipeline };
        return {
          text: repoText(
            pipeline.repo,
            await store.listExecutions({ pipelineId: pipeline.id, limit: 5 }),
            deps.pageUrl,
          ),
        };
      }
      const newest = await store.listNewestExecutions({ pipelines: 30 });
      const locks: LockState[] = [];
      for (const environment of Object.keys(deps.server?.environments ?? {})) {
        const lock = await store.findLock(`environment:${environment}`, now);
        if (lock) locks.push(lock);
      }
      return { text: overviewText(newest, locks, deps.pageUrl) };
    }
    case 'run': {
      if (!deps.startRun)
        return {
          text: 'Sluice runs pipelines from Slack through its GitHub App, which is not configured yet (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET).',
        };
      const started = await deps.startRun({ repo: command.repo, ...(command.ref && { ref: command.ref }), by });
      if (!started.ok) return { text: `Not started: ${escapeText(started.reason)}.` };
      return {
        text: `${mention(by)} started execution #${started.seq} of *${escapeText(command.repo)}* at \`${started.sha.slice(0, 7)}\`${started.ref ? ` (${escapeText(started.ref)})` : ''}.`,
        inChannel: true,
      };
    }
    case 'retry': {
      const pipeline = await findPipeline(store, command.repo);
      if (typeof pipeline === 'string') return { text: pipeline };
      const newest = await store.getNewestExecution(pipeline.id);
      const stage = newest?.stages.find((s) => isStoppedShort(s.status));
      if (!newest || !stage || !(isStoppedShort(newest.status) || newest.status === 'running')) {
        return {
          text: newest
            ? `The newest execution of *${escapeText(pipeline.repo)}* (#${newest.seq}, ${newest.status}) has no failed stage to retry.`
            : `*${escapeText(pipeline.repo)}* has no executions yet.`,
        };
      }
      await deps.runner.dispatch(
        pipeline.id,
        { type: 'retry_stage', executionId: newest.id, stage: stage.name, by },
        by,
      );
      return {
        text: `${mention(by)} is retrying stage *${escapeText(stage.name)}* of *${escapeText(pipeline.repo)}* #${newest.seq}.`,
        inChannel: true,
      };
    }
    case 'cancel': {
      const pipeline = await findPipeline(store, command.repo);
      if (typeof pipeline === 'string') return { text: pipeline };
      const execution =
        command.seq === undefined
          ? (await store.listExecutions({ pipelineId: pipeline.id })).find((e) => e.status === 'running')
          : await store.getExecution(command.seq, pipeline.id);
      if (!execution) {
        return {
          text:
            command.seq === undefined
              ? `*${escapeText(pipeline.repo)}* has no running execution to cancel.`
              : `*${escapeText(pipeline.repo)}* has no execution #${command.seq}.`,
        };
      }
      await deps.runner.dispatch(pipeline.id, { type: 'cancel_execution', executionId: execution.id, by }, by);
      const deploying = execution.stages.some(
        (s) =>
          s.status === 'running' &&
          s.actions.some((a) => a.status === 'running' && isDeploy(execution, s.name, a.name)),
      );
      const then = deploying
        ? ' Its deploy stops and first puts the hosts it touched back on their previous release.'
        : '';
      return {
        text: `⊘ ${mention(by)} cancelled execution #${execution.seq} of *${escapeText(pipeline.repo)}* (\`${execution.revision.sha.slice(0, 7)}\`).${then}`,
        inChannel: true,
      };
    }
    case 'rollback': {
      const unknown = unknownEnvironment(deps.server, command.environment);
      if (unknown) return { text: unknown };
      const pipeline = await findPipeline(store, command.repo);
      if (typeof pipeline === 'string') return { text: pipeline };
      const rules = approvalRules(deps.server, command.environment);
      const approve = !!rules && !rules.skipForRollbacks;
      const result = await startRollback(store, deps.runner, {
        pipelineId: pipeline.id,
        environment: command.environment,
        by,
        approve,
      });
      if (!result.ok) return { text: `Not rolled back: ${escapeText(result.reason)}.` };
      const waits = approve ? `; it waits for an approval in <#${rules.channel}>` : '';
      return {
        text: `${mention(by)} is rolling *${command.environment}* of *${escapeText(pipeline.repo)}* back to #${result.to.seq} (\`${result.to.revision.sha.slice(0, 7)}\`) in execution #${result.execution.seq}${waits}.`,
        inChannel: true,
      };
    }
    case 'lock': {
      const unknown = unknownEnvironment(deps.server, command.environment);
      if (unknown) return { text: unknown };
      const reason = command.reason ?? 'locked from Slack';
      const taken = await store.acquireLock({
        name: `environment:${command.environment}`,
        owner: by,
        reason,
        ttlMs: null,
        now,
      });
      if (!taken.ok)
        return {
          text: `*${command.environment}* is already locked by ${mention(taken.held.owner)}: ${escapeText(taken.held.reason)}.`,
        };
      return {
        text: `🔒 ${mention(by)} locked *${command.environment}*: ${escapeText(reason)}. Deploys to it fail until \`/sluice unlock ${command.environment}\`.`,
        inChannel: true,
      };
    }
    case 'unlock': {
      const unknown = unknownEnvironment(deps.server, command.environment);
      if (unknown) return { text: unknown };
      const name = `environment:${command.environment}`;
      const lock = await store.findLock(name, now);
      if (!lock) return { text: `*${command.environment}* is not locked.` };
      if (lock.expiresAt !== null)
        return {
          text: `*${command.environment}* is held by a deploy (${escapeText(lock.owner)}: ${escapeText(lock.reason)}); that lock frees itself when the deploy ends.`,
        };
      await store.releaseLock(name, { token: lock.token }, now);
      return {
        text: `🔓 ${mention(by)} unlocked *${command.environment}* (locked by ${mention(lock.owner)}: ${escapeText(lock.reason)}).`,
        inChannel: true,
      };
    }
    case 'disable':
    case 'enable': {
      const pipeline = await findPipeline(store, command.repo);
      if (typeof pipeline === 'string') return { text: pipeline };
      const newest = await store.getNewestExecution(pipeline.id);
      const stages = newest?.definition.stages.map((s) => s.name) ?? [];
      if (!stages.includes(command.stage))
        return {
          text: `*${escapeText(pipeline.repo)}* has no stage "${escapeText(command.stage)}"${stages.length ? ` (its stages: ${escapeText(stages.join(', '))})` : ''}.`,
        };
      const enabled = command.name === 'enable';
      const reason = command.name === 'disable' ? command.reason : undefined;
      await deps.runner.dispatch(
        pipeline.id,
        { type: 'set_transition', stage: command.stage, enabled, ...(reason && { reason }), by },
        by,
      );
      const into = `the transition into *${escapeText(command.stage)}* of *${escapeText(pipeline.repo)}*`;
      const text = enabled
        ? `${mention(by)} enabled ${into}; executions waiting at it go on.`
        : `${mention(by)} disabled ${into}${reason ? `: ${escapeText(reason)}` : ''}. Executions wait before it until \`/sluice enable ${escapeText(pipeline.repo)} ${escapeText(command.stage)}\`.`;
      return { text, inChannel: true };
    }
  }
}

/** A repository's pipeline by `owner/name`, or by `name` when only one owner has it. A string says what was wrong. */
async function findPipeline(
  store: ExecutionStore & ClaimStore & ArtifactRecordStore,
  repo: string,
): Promise<PipelineRecord | string> {
  const all = await store.listPipelines();
  const matches = repo.includes('/')
    ? all.filter((p) => p.repo.toLowerCase() === repo.toLowerCase())
    : all.filter((p) => p.repo.split('/')[1]?.toLowerCase() === repo.toLowerCase());
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1)
    return `"${escapeText(repo)}" could be ${escapeText(matches.map((p) => p.repo).join(' or '))}; write owner/name.`;
  const known = all.map((p) => p.repo).slice(0, 10);
  return `Sluice has no pipeline for "${escapeText(repo)}"${known.length ? ` (it knows ${escapeText(known.join(', '))})` : ''}.`;
}

function unknownEnvironment(server: ServerConfig | undefined, environment: string): string | undefined {
  const names = Object.keys(server?.environments ?? {});
  if (names.includes(environment)) return undefined;
  return `There is no environment "${escapeText(environment)}" in Sluice's server config${names.length ? ` (its environments: ${names.join(', ')})` : ''}.`;
}

function isDeploy(execution: ExecutionSummary, stage: string, action: string): boolean {
  return findAction(execution.definition, stage, action)?.kind === 'deploy';
}

function mention(actor: string): string {
  return mentionActors(escapeText(actor));
}
