/**
 * Who may act on production from a check run: the operator's rules, the
 * same as for the `/sluice` command of that name. A GitHub user may press
 * *Roll back* if the server config lists their login under
 * `github.rollback`, or if `slack.people` maps their login to a Slack user
 * whom `slack.commands.rollback` allows (directly, as a member of a listed
 * user group, or through "*"); *Re-run* of a deploy to an environment with
 * approval rules is judged the same way by `github.retry` and
 * `slack.commands.retry`. A login nobody mapped is nobody in Slack, so "*"
 * alone does not let every GitHub user in.
 */
import type { ServerConfig } from '../config/server.schema.ts';

/**
 * Whether a Slack user is among a rule's users and groups. Slack's view of
 * who is who answers it once Slack runs; declared here, it leaves GitHub's
 * handlers free of the Slack code that builds on them.
 */
export interface SlackMembership {
  isAmong(user: string, allowed: readonly string[]): Promise<boolean>;
}

export type GithubCommand = 'rollback' | 'retry';

const DOING: Record<GithubCommand, string> = { rollback: 'roll back', retry: 're-run a deploy to' };

/** Why `login` may not roll back `environment`, or undefined when they may. */
export function checkRollbackPermission(
  server: ServerConfig | undefined,
  people: SlackMembership | undefined,
  login: string | undefined,
  environment: string,
): Promise<string | undefined> {
  return checkGithubPermission(server, people, login, 'rollback', environment);
}

/** Why `login` may not do `command` to `environment` from GitHub, or undefined when they may. */
export async function checkGithubPermission(
  server: ServerConfig | undefined,
  people: SlackMembership | undefined,
  login: string | undefined,
  command: GithubCommand,
  environment: string,
): Promise<string | undefined> {
  const who = login ? `GitHub user @${login}` : 'a GitHub user without a login';
  const doing = `${DOING[command]} ${environment}`;
  const rule = `the server config lets the logins of github.${command} do it, and the Slack users of slack.commands.${command} whose login slack.people maps`;
  if (!login) return `${who} may not ${doing}: ${rule}`;
  const lower = login.toLowerCase();
  if ((server?.github?.[command] ?? []).some((allowed) => allowed.toLowerCase() === lower)) return undefined;
  const mapped = Object.entries(server?.slack?.people ?? {}).find(([key]) => key.toLowerCase() === lower)?.[1];
  const allowed = server?.slack?.commands?.[command] ?? [];
  if (mapped && allowed.length > 0) {
    const among = people ? await people.isAmong(mapped, allowed) : allowed.includes('*') || allowed.includes(mapped);
    if (among) return undefined;
  }
  return `${who} may not ${doing}: ${rule}${mapped ? ` (@${login} is Slack user ${mapped}, whom slack.commands.${command} does not list)` : ''}`;
}
