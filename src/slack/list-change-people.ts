/**
 * Everyone who brought a change to an approval (PRODUCT K2), none of whom
 * may approve it when self-approval is off: the pusher (the push's sender,
 * which a commit cannot forge, and the pusher's e-mail), the head commit's
 * author and committer, the authors and committers of every commit between
 * what the environment runs and this one, and whoever started, re-ran or
 * retried the execution (from its recorded history).
 *
 * Only identities GitHub tells are taken as logins: the sender, and the
 * `username` (push) or `login` (compare, commit) GitHub gives a commit's
 * author and committer. A commit's author *name* is free text, so it is
 * never a login here: `git commit --author "alice <x@y>"` must not make the
 * approver alice an author of the change, and so unable to approve it.
 *
 * A commit's e-mail is free text too, yet it counts: it is how an honest
 * author without a GitHub login (or pushed by someone else) is known, and
 * ignoring it would let them approve their own change. A forged e-mail can
 * therefore make one approver count as an author. That fails closed — it
 * takes an approver away for that change, never lets anyone approve — and
 * the card says who is refused and which commit made them so, so another
 * approver decides, seeing the forgery for what it is.
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

export function listChangePeople(
  execution: ExecutionSummary,
  changes: ApprovalCardInput['changes'],
  history: readonly HistoryEntry[],
): ChangePerson[] {
  const { revision } = execution;
  const people: ChangePerson[] = [];
  const add = (did: string, login: string | undefined, email: string | undefined) => {
    if (login || email) people.push({ did, ...(login && { login }), ...(email && { email }) });
  };
  add('wrote this change', revision.authorLogin, revision.authorEmail);
  add('committed this change', revision.committerLogin, revision.committerEmail);
  add('pushed this change', revision.pusher?.login, revision.pusher?.email);
  for (const commit of changes?.commits ?? []) {
    for (const person of commit.people ?? ([] as CommitPerson[]))
      add(`${person.role === 'author' ? 'wrote' : 'committed'} ${commit.sha.slice(0, 7)}`, person.login, person.email);
  }
  const actors = [
    ...history
      .filter((h) => h.entity === 'execution' && h.from === null)
      .map((h) => ({ did: 'started this run', actor: h.actor })),
    ...history
      .filter((h) => h.reason?.startsWith('retried by '))
      .map((h) => ({ did: 'retried this run', actor: h.actor })),
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
  if (person.login)
    return /^[A-Za-z0-9-]+$/.test(person.login) ? `GitHub user @${person.login}${email}` : `"${person.login}"${email}`;
  return person.email ?? `Slack user ${person.slack}`;
}
