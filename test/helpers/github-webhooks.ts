/** Signed GitHub webhooks, sent over HTTP the way GitHub sends them. */
import { createHmac, randomUUID } from 'node:crypto';

export interface SentWebhook {
  status: number;
  text: string;
  ms: number;
}

export interface WebhookOptions {
  delivery?: string;
  tamper?: boolean;
  /** Where Sluice takes webhooks (WEBHOOK_PATH). */
  path?: string;
}

export async function sendWebhook(
  url: string,
  secret: string,
  event: string,
  payload: unknown,
  options: WebhookOptions = {},
): Promise<SentWebhook> {
  const body = JSON.stringify(payload);
  const signature = `sha256=${createHmac('sha256', secret)
    .update(options.tamper ? `${body} ` : body)
    .digest('hex')}`;
  const started = performance.now();
  const response = await fetch(`${url}${options.path ?? '/api/github/webhooks'}`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/test',
      'x-github-event': event,
      'x-github-delivery': options.delivery ?? randomUUID(),
      'x-hub-signature-256': signature,
    },
    body,
  });
  return { status: response.status, text: await response.text(), ms: performance.now() - started };
}

let pushedAt = Math.floor(Date.now() / 1000);

export interface PushInput {
  repo: string;
  branch?: string;
  before?: string;
  after: string;
  installation?: number;
  message?: string;
  pushedAt?: number;
  defaultBranch?: string;
  author?: { name: string; email: string; login?: string };
  committer?: { name: string; email: string; login?: string };
  sender?: { login: string; email: string };
}

/** A push event as GitHub sends it, with the fields Sluice reads. */
/** `author`/`committer` of the head commit default to Alice, and so does `sender`, who pushed. */
export function pushPayload(input: PushInput) {
  const gitActor = (who: { name: string; email: string; login?: string }) => ({
    name: who.name,
    email: who.email,
    ...(who.login && { username: who.login }),
  });
  const author = input.author ?? { name: 'Alice', email: 'alice@example.com', login: 'alice' };
  const [owner = '', name = ''] = input.repo.split('/');
  pushedAt += 1;
  return {
    ref: `refs/heads/${input.branch ?? 'main'}`,
    before: input.before ?? '0'.repeat(40),
    after: input.after,
    created: false,
    deleted: false,
    forced: false,
    repository: {
      id: 1,
      name,
      full_name: input.repo,
      owner: { login: owner },
      default_branch: input.defaultBranch ?? 'main',
      pushed_at: input.pushedAt ?? pushedAt,
    },
    pusher: { name: input.sender?.login ?? 'alice', email: input.sender?.email ?? 'alice@example.com' },
    sender: { login: input.sender?.login ?? 'alice', id: 7 },
    installation: { id: input.installation ?? 77 },
    head_commit: {
      id: input.after,
      message: input.message ?? 'Change things',
      timestamp: new Date().toISOString(),
      author: gitActor(author),
      committer: gitActor(input.committer ?? author),
    },
  };
}

export function sha(n: number): string {
  return n.toString(16).padStart(40, 'a');
}

/** A check_run event as GitHub sends it, with the run as GitHub holds it (its conclusion and output as they are). */
export function checkRunPayload(input: {
  action: string;
  id: number;
  /** The app the run belongs to. */
  appId: number;
  name: string;
  headSha: string;
  repo: string;
  status?: string;
  conclusion: string | null;
  output: { title: string; summary: string | null };
  /** The button pressed, for `requested_action`. */
  requestedAction?: string;
  /** Who pressed it (GitHub login). */
  sender: string;
}) {
  return {
    action: input.action,
    check_run: {
      id: input.id,
      name: input.name,
      head_sha: input.headSha,
      status: input.status ?? 'completed',
      conclusion: input.conclusion,
      output: { ...input.output, text: null, annotations_count: 0 },
      app: { id: input.appId, slug: 'sluice' },
    },
    requested_action: input.requestedAction ? { identifier: input.requestedAction } : null,
    repository: { full_name: input.repo, default_branch: 'main' },
    installation: { id: 77 },
    sender: { login: input.sender },
  };
}

/** The GitHub App manifest the setup page's form sends GitHub, as GitHub reads it out of the HTML. */
export function manifestOf(page: string): Record<string, unknown> {
  const value = /name="manifest" value="([^"]*)"/.exec(page)?.[1];
  if (value === undefined) throw new Error(`the setup page has no manifest field: ${page.slice(0, 500)}`);
  return JSON.parse(value.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&')) as Record<
    string,
    unknown
  >;
}
