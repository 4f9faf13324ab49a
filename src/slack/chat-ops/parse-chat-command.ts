/**
 * The text after `/sluice` (PRODUCT K5), read into a command. Pure. A
 * mistake is answered with what to type instead.
 */
import type { SlackCommand } from '../../config/server.schema.ts';
import { escapeText } from '../slack-text.ts';

export type ChatCommand =
  | { name: 'help' }
  | { name: 'status'; repo?: string }
  | { name: 'run'; repo: string; ref?: string }
  | { name: 'retry'; repo: string }
  | { name: 'cancel'; repo: string; /** The execution's number; default: the newest running one. */ seq?: number }
  | { name: 'rollback'; repo: string; environment: string }
  | { name: 'lock'; environment: string; reason?: string }
  | { name: 'unlock'; environment: string }
  | { name: 'disable'; repo: string; stage: string; reason?: string }
  | { name: 'enable'; repo: string; stage: string };

export type Parsed = { ok: true; command: ChatCommand } | { ok: false; text: string };

/** One line per command: what to type, and what it does. */
export const USAGE: Record<SlackCommand, string> = {
  status: '`/sluice status [repo]` — what each pipeline is doing, or one repository’s latest executions',
  run: '`/sluice run <repo> [branch|tag|sha]` — run the pipeline for a commit (default: the default branch)',
  retry: '`/sluice retry <repo>` — retry the failed stage of the repository’s newest execution',
  cancel:
    '`/sluice cancel <repo> [execution]` — stop a running execution (default: the newest); a deploy first puts back the hosts it touched',
  rollback: '`/sluice rollback <repo> <environment>` — deploy the release the environment ran before',
  lock: '`/sluice lock <environment> [reason]` — stop deploys to an environment until it is unlocked',
  unlock: '`/sluice unlock <environment>` — let deploys go to it again',
  disable: '`/sluice disable <repo> <stage> [reason]` — hold executions before a stage',
  enable: '`/sluice enable <repo> <stage>` — let held executions into the stage',
};

export function helpText(): string {
  return ['*Sluice commands*', ...Object.values(USAGE).map((line) => `• ${line}`)].join('\n');
}

const REPO = /^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)?$/;
const NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;
const REF = /^[A-Za-z0-9_./-]+$/;

export function parseChatCommand(text: string): Parsed {
  const words = text.trim().split(/\s+/).filter(Boolean);
  const [verb = 'help', ...rest] = words;
  const name = verb.toLowerCase();
  const reason = (from: number) => (rest.length > from ? rest.slice(from).join(' ').slice(0, 200) : undefined);
  const needs = (what: string, example: string): Parsed => ({
    ok: false,
    text: `\`/sluice ${name}\` needs ${what}, for example \`/sluice ${example}\`.\n${USAGE[name as SlackCommand]}`,
  });
  const bad = (what: string, value: string, rule: string): Parsed => ({
    ok: false,
    text: `"${escapeText(value)}" is not ${what}: ${rule}.`,
  });
  const repoOf = (value: string | undefined) =>
    value !== undefined && !REPO.test(value)
      ? bad('a repository', value, 'write it as owner/name, such as acme/shop')
      : undefined;
  const nameOf = (what: string, value: string | undefined) =>
    value !== undefined && !NAME.test(value)
      ? bad(`an ${what} name`, value, 'names use letters, digits, "-" and "_"')
      : undefined;

  switch (name) {
    case 'help':
      return { ok: true, command: { name: 'help' } };
    case 'status':
      return repoOf(rest[0]) ?? { ok: true, command: { name: 'status', ...(rest[0] && { repo: rest[0] }) } };
    case 'run':
      if (!rest[0]) return needs('a repository', 'run acme/shop main');
      if (rest[1] !== undefined && !REF.test(rest[1]))
        return bad('a branch, tag or commit', rest[1], 'use its name or sha');
      return repoOf(rest[0]) ?? { ok: true, command: { name: 'run', repo: rest[0], ...(rest[1] && { ref: rest[1] }) } };
    case 'retry':
      if (!rest[0]) return needs('a repository', 'retry acme/shop');
      return repoOf(rest[0]) ?? { ok: true, command: { name: 'retry', repo: rest[0] } };
    case 'cancel': {
      if (!rest[0]) return needs('a repository', 'cancel acme/shop');
      const seq = rest[1]?.replace(/^#/, '');
      if (seq !== undefined && !/^[1-9][0-9]{0,9}$/.test(seq))
        return bad('an execution', rest[1]!, 'give its number, such as 12 or #12');
      return (
        repoOf(rest[0]) ?? { ok: true, command: { name: 'cancel', repo: rest[0], ...(seq && { seq: Number(seq) }) } }
      );
    }
    case 'rollback':
      if (!rest[0] || !rest[1]) return needs('a repository and an environment', 'rollback acme/shop production');
      return (
        repoOf(rest[0]) ??
        nameOf('environment', rest[1]) ?? {
          ok: true,
          command: { name: 'rollback', repo: rest[0], environment: rest[1] },
        }
      );
    case 'lock':
    case 'unlock': {
      if (!rest[0]) return needs('an environment', `${name} production${name === 'lock' ? ' release freeze' : ''}`);
      const problem = nameOf('environment', rest[0]);
      if (problem) return problem;
      const why = reason(1);
      return {
        ok: true,
        command:
          name === 'lock'
            ? { name, environment: rest[0], ...(why && { reason: why }) }
            : { name, environment: rest[0] },
      };
    }
    case 'disable':
    case 'enable': {
      if (!rest[0] || !rest[1])
        return needs(
          'a repository and a stage',
          `${name} acme/shop production${name === 'disable' ? ' waiting for the migration' : ''}`,
        );
      const problem = repoOf(rest[0]) ?? nameOf('stage', rest[1]);
      if (problem) return problem;
      const why = reason(2);
      return {
        ok: true,
        command:
          name === 'disable'
            ? { name, repo: rest[0], stage: rest[1], ...(why && { reason: why }) }
            : { name, repo: rest[0], stage: rest[1] },
      };
    }
    default:
      return { ok: false, text: `Sluice has no command "${escapeText(verb)}".\n${helpText()}` };
  }
}
