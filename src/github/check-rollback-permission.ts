/**
 * Who may press *Roll back* on a check run: the operator's rules, the same
 * as for `/sluice rollback`. A GitHub user may if the server config lists
 * their login under `github.rollback`, or if `slack.people` maps their login
 * to a Slack user whom `slack.commands.rollback` allows (directly, as a
 * member of a listed user group, or through "*"). A login nobody mapped is
 * nobody in Slack, so "*" alone does not let every GitHub user in.
 */
import type { ServerConfig } from '../config/server.schema.ts';
import type { SlackPeople } from '../slack/slack-people.ts';

/** Why `login` may not roll back `environment`, or undefined when they may. */
export async function checkRollbackPermission(server: ServerConfig | undefined, people: SlackPeople | undefined, login: string | undefined, environment: string): Promise<string | undefined> {
  const who = login ? `GitHub user @${login}` : 'a GitHub user without a login';
  const rule =
    'the server config lets the logins of github.rollback do it, and the Slack users of slack.commands.rollback whose login slack.people maps';
  if (!login) return `${who} may not roll back ${environment}: ${rule}`;
  const lower = login.toLowerCase();
  if ((server?.github?.rollback ?? []).some((allowed) => allowed.toLowerCase() === lower)) return undefined;
  const mapped = Object.entries(server?.slack?.people ?? {}).find(([key]) => key.toLowerCase() === lower)?.[1];
  const allowed = server?.slack?.commands?.rollback ?? [];
  if (mapped && allowed.length > 0) {
    const among = people ? await people.isAmong(mapped, allowed) : allowed.includes('*') || allowed.includes(mapped);
    if (among) return undefined;
  }
  return `${who} may not roll back ${environment}: ${rule}${mapped ? ` (@${login} is Slack user ${mapped}, whom slack.commands.rollback does not list)` : ''}`;
}
