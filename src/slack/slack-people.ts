/**
 * Who is who in Slack (PRODUCT K2): whether a Slack user is one of an
 * environment's approvers (listed, or a member of a listed user group), and
 * which Slack user someone who pushed or wrote a change is (the operator's
 * `slack.people` mapping by GitHub login or e-mail, else Slack's e-mail
 * lookup). Answers are kept for
 * a minute, so a burst of clicks costs one API call.
 */
import type { Revision } from '../pipeline/snapshot.ts';
import type { SlackApi } from './slack-api.ts';

const KEEP_MS = 60_000;

export interface SlackPeople {
  /** True when `user` is one of `allowed`: a user id, a member of a group id, or `*`. */
  isAmong(user: string, allowed: readonly string[]): Promise<boolean>;
  /** The Slack user who wrote the change, when Sluice can tell. */
  authorOf(revision: Revision): Promise<string | undefined>;
  /** The Slack user someone is: their own id, the mapping by login or e-mail, else Slack's e-mail lookup. */
  slackUserOf(person: { slack?: string; login?: string; email?: string }): Promise<string | undefined>;
  /**
   * Every Slack user someone may be: their own id, the mapping by login and
   * by e-mail, and Slack's e-mail lookup, all of them. A pusher mapped by
   * login to one account whose e-mail is another's is both, so neither
   * approves their change.
   */
  slackUsersOf(person: { slack?: string; login?: string; email?: string }): Promise<string[]>;
}

export function slackPeople(
  api: SlackApi,
  mapping: Record<string, string> = {},
  clock: () => number = Date.now,
): SlackPeople {
  const membersOf = remembered((group: string) => api.groupMembers(group), clock);
  const userOf = remembered((email: string) => api.userByEmail(email), clock);
  const lower = Object.fromEntries(Object.entries(mapping).map(([who, id]) => [who.toLowerCase(), id]));
  const slackUserOf: SlackPeople['slackUserOf'] = async (person) => {
    if (person.slack) return person.slack;
    const mapped = [person.login, person.email].map((who) => who && lower[who.toLowerCase()]).find(Boolean);
    if (mapped) return mapped;
    return person.email ? userOf(person.email) : undefined;
  };
  const slackUsersOf: SlackPeople['slackUsersOf'] = async (person) => {
    const mapped = [person.login, person.email].map((who) => who && lower[who.toLowerCase()]);
    const looked = person.email ? await userOf(person.email) : undefined;
    return [...new Set([person.slack, ...mapped, looked].filter((id): id is string => Boolean(id)))];
  };
  return {
    async isAmong(user, allowed) {
      if (allowed.includes('*') || allowed.includes(user)) return true;
      for (const group of allowed.filter((id) => id.startsWith('S'))) {
        if ((await membersOf(group)).includes(user)) return true;
      }
      return false;
    },
    authorOf: (revision) =>
      slackUserOf({
        ...(revision.authorLogin && { login: revision.authorLogin }),
        ...(revision.authorEmail && { email: revision.authorEmail }),
      }),
    slackUserOf,
    slackUsersOf,
  };
}

/** `load`, with each key's answer kept for KEEP_MS; a failed answer is not kept. */
function remembered<T>(load: (key: string) => Promise<T>, clock: () => number): (key: string) => Promise<T> {
  const kept = new Map<string, { at: number; value: Promise<T> }>();
  return (key) => {
    const hit = kept.get(key);
    if (hit && clock() - hit.at < KEEP_MS) return hit.value;
    const value = load(key);
    kept.set(key, { at: clock(), value });
    value.catch(() => kept.delete(key));
    return value;
  };
}
