/**
 * Everyone who brought a change to an approval (PRODUCT K2), none of whom
 * may approve it when self-approval is off: the pusher (the push's sender,
 * which a commit cannot forge, and the pusher's e-mail), the head commit's
 * author and committer, the authors and committers of every commit between
 * what the environment runs and this one, and whoever started, re-ran or
 * retried the execution (from its recorded history). A commit's author
 * name and e-mail are whatever its writer typed, so they only add people,
 * never vouch for anyone.
 */
import type { CommitPerson } from '../github/compare-changes.ts';
import type { ExecutionSummary, HistoryEntry } from '../store/store.ts';
import type { ApprovalCardInput } from './approval-card.ts';

export interface ChangePerson {
  /** What they did, said to them: "pushed this change", "wrote 1a2b3c4". */
  did: string;
  login?: string;
  email?: string;
  /** A Slack user id, when they acted in Slack. */
  slack?: string;
}

export function listChangePeople(execution: ExecutionSummary, changes: ApprovalCardInput['changes'], history: readonly HistoryEntry[]): ChangePerson[] {
  const { revision } = execution;
  const people: ChangePerson[] = [];
  const add = (did: string, login: string | undefined, email: string | undefined) => {
    if (login || email) people.push({ did, ...(login && { login }), ...(email && { email }) });
  };
  add('wrote this change', revision.author, revision.authorEmail);
  add('committed this change', revision.committer, revision.committerEmail);
  add('pushed this change', revision.pusher?.login, revision.pusher?.email);
  for (const commit of changes?.commits ?? []) {
    for (const person of commit.people ?? ([] as CommitPerson[])) add(`${person.role === 'author' ? 'wrote' : 'committed'} ${commit.sha.slice(0, 7)}`, person.login, person.email);
  }
  const actors = [
    ...history.filter((h) => h.entity === 'execution' && h.from === null).map((h) => ({ did: 'started this run', actor: h.actor })),
    ...history.filter((h) => h.reason?.startsWith('retried by ')).map((h) => ({ did: 'retried this run', actor: h.actor })),
  ];
  for (const { did, actor } of actors) {
    const [kind, id] = [actor.slice(0, actor.indexOf(':')), actor.slice(actor.indexOf(':') + 1)];
    if (kind === 'slack' && id) people.push({ did, slack: id });
    else if (kind === 'github' && id && id !== 'unknown') people.push({ did, login: id });
  }
  return dedupe(people);
}

/** One entry per identity, keeping the first thing they did. */
function dedupe(people: ChangePerson[]): ChangePerson[] {
  const seen = new Set<string>();
  return people.filter((p) => {
    const key = [p.slack, p.login?.toLowerCase(), p.email?.toLowerCase()].join('|');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** How a person is named where they cannot be matched: "GitHub user @x", or their e-mail. */
export function describePerson(person: ChangePerson): string {
  const email = person.email ? ` (${person.email})` : '';
  if (person.login) return /^[A-Za-z0-9-]+$/.test(person.login) ? `GitHub user @${person.login}${email}` : `"${person.login}"${email}`;
  return person.email ?? `Slack user ${person.slack}`;
}
