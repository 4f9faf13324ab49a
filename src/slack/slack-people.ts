/**
 * Who is who in Slack (PRODUCT K2): whether a Slack user is one of an
 * environment's approvers (listed, or a member of a listed user group), and
 * which Slack user wrote a change (the operator's `slack.people` mapping by
 * GitHub login or e-mail, else Slack's e-mail lookup). Answers are kept for
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
}

export function slackPeople(api: SlackApi, mapping: Record<string, string> = {}, clock: () => number = Date.now): SlackPeople {
  const groups = new Map<string, { at: number; members: Promise<string[]> }>();
  const emails = new Map<string, { at: number; user: Promise<string | undefined> }>();
  const fresh = <T extends { at: number }>(cache: Map<string, T>, key: string) => {
    const hit = cache.get(key);
    return hit && clock() - hit.at < KEEP_MS ? hit : undefined;
  };
  const membersOf = (group: string) => {
    const hit = fresh(groups, group);
    if (hit) return hit.members;
    const members = api.groupMembers(group);
    groups.set(group, { at: clock(), members });
    members.catch(() => groups.delete(group));
    return members;
  };
  const userOf = (email: string) => {
    const hit = fresh(emails, email);
    if (hit) return hit.user;
    const user = api.userByEmail(email);
    emails.set(email, { at: clock(), user });
    user.catch(() => emails.delete(email));
    return user;
  };
  const lower = Object.fromEntries(Object.entries(mapping).map(([who, id]) => [who.toLowerCase(), id]));
  return {
    async isAmong(user, allowed) {
      if (allowed.includes('*') || allowed.includes(user)) return true;
      for (const group of allowed.filter((id) => id.startsWith('S'))) {
        if ((await membersOf(group)).includes(user)) return true;
      }
      return false;
    },
    async authorOf(revision) {
      const mapped = [revision.author, revision.authorEmail].map((who) => who && lower[who.toLowerCase()]).find(Boolean);
      if (mapped) return mapped;
      return revision.authorEmail ? userOf(revision.authorEmail) : undefined;
    },
  };
}
