/**
 * Sluice as a GitHub App and a Slack app on a loopback port, pointed at
 * the GitHub and Slack stand-ins, with a production environment behind an
 * approval in a Slack channel. The clock can be moved on (for expiry).
 */
import { createHash } from 'node:crypto';
import type { StartOptions } from '../../src/start-sluice.ts';
import type { ActionSummary } from '../../src/store/execution-store.ts';
import type { Settings } from '../../src/config/read-settings.ts';
import type { CommitAuthor } from './github-stand-in.ts';
import { closedAfterEach, startGithubSluice, type GithubSluice } from './github-sluice.ts';
import { REPO, shopFiles, shopServerConfig } from './shop.ts';
import { buttonClick, sendSlackRequest, signSlackRequest, SIGNING_SECRET, slashCommand } from './slack-requests.ts';
import { APP_TOKEN, BOT_TOKEN, SlackStandIn, type SlackMessage } from './slack-stand-in.ts';
import { ALICE, ANN, CAROL, CHANNEL, MALLORY, RELEASE_GROUP } from './slack-workspace.ts';
import { findActionSummary } from '../../src/store/store.ts';

/** Also here for the tests that import them with `startSlackSluice`. */
export { REPO };
export { ALICE, ANN, CAROL, CHANNEL, MALLORY, RELEASE_GROUP } from './slack-workspace.ts';

/** Commit n's sha: unlike each other from the first character, as real ones are. */
export function sha(n: number): string {
  return createHash('sha1').update(`commit ${n}`).digest('hex');
}

export interface SlackSluice extends GithubSluice {
  slack: SlackStandIn;
  /** Moves Sluice's clock on. */
  later(ms: number): void;
  /** Pushes commit `n` (sha(n)) of `version` after commit n-1, and waits until Sluice is idle. */
  /**
   * `author`/`committer`: of the commit (as `git commit --author` sets them); `sender`: who pushed it (GitHub login and
   * e-mail).
   */
  push(
    n: number,
    version: string,
    options?: {
      message?: string;
      branch?: string;
      pipeline?: string;
      author?: CommitAuthor;
      committer?: CommitAuthor;
      sender?: { login: string; email: string };
    },
  ): Promise<void>;
  /** The newest approval card in the channel, as it reads now (a copy: later updates do not change it). */
  card(): SlackMessage;
  /** A user clicks Approve or Reject on a card and confirms; waits until Sluice is idle. */
  click(card: SlackMessage, button: 'approve' | 'reject', user: string): Promise<{ status: number }>;
  /** `/sluice <text>` by `user`; returns what Sluice answered at the response URL. */
  command(text: string, user: string): Promise<Record<string, unknown>>;
  /** What Sluice told `user` privately (ephemeral messages) in the deploys channel, oldest first. */
  told(user: string): string[];
  /** Production's approval gate in execution `seq`, as the store holds it now. */
  gate(seq: number): Promise<ActionSummary | undefined>;
}

/**
 * The shop's server config with production behind an approval in the deploys channel, and who may use which command.
 */
export function serverConfig(dir: string, extra = ''): string {
  return shopServerConfig(dir, {
    production: { approval: { channel: CHANNEL, approvers: [ANN, ALICE, RELEASE_GROUP], timeout: '24h' } },
    extra: `slack:
  commands:
    run: [${ANN}]
    retry: [${RELEASE_GROUP}]
    cancel: [${ANN}]
    rollback: [${ANN}]
    lock: [${ANN}]
    unlock: [${ANN}]
    disable: [${ANN}]
    enable: [${ANN}]
${extra}`,
  });
}

/** Everything a reader sees on a card version, as one text. */
export function textOf(version: { blocks: Array<Record<string, unknown>> }): string {
  const texts: string[] = [];
  const walk = (value: unknown): void => {
    if (Array.isArray(value)) value.forEach(walk);
    else if (value && typeof value === 'object') {
      for (const [key, inner] of Object.entries(value)) {
        if (key === 'text' && typeof inner === 'string') texts.push(inner);
        else if (key !== 'confirm' && key !== 'value') walk(inner);
      }
    }
  };
  walk(version.blocks);
  return texts.join('\n');
}

export interface SlackSluiceOptions {
  serverConfig?: (dir: string) => string;
  /** Sluice connects to the stand-in over a WebSocket instead of taking HTTP requests. */
  socketMode?: boolean;
  start?: Partial<StartOptions>;
  settings?: Partial<Settings>;
}

/**
 * For a test file: the function its tests start Sluice with. What a test
 * started is stopped, and its files removed, after that test, passed or
 * failed.
 */
export function slackSluicePerTest(): (options?: SlackSluiceOptions) => Promise<SlackSluice> {
  return closedAfterEach(startSlackSluice);
}

export async function startSlackSluice(options: SlackSluiceOptions = {}): Promise<SlackSluice> {
  const slack = await new SlackStandIn().start();
  // The deploys channel, with Sluice's bot invited to it and the workspace's people in it.
  slack.invite(CHANNEL);
  slack.join(CHANNEL, [ANN, ALICE, CAROL, MALLORY]);
  slack.groups.set(RELEASE_GROUP, [CAROL]);
  slack.emails.set('alice@example.com', ALICE);
  let offset = 0;
  const app = await startGithubSluice({
    serverConfig: options.serverConfig ?? ((dir) => serverConfig(dir)),
    settings: {
      slack: options.socketMode
        ? { botToken: BOT_TOKEN, appToken: APP_TOKEN, apiUrl: slack.apiUrl }
        : { botToken: BOT_TOKEN, signingSecret: SIGNING_SECRET, apiUrl: slack.apiUrl },
      ...options.settings,
    },
    start: { clock: () => Date.now() + offset, sweepMs: 3_600_000, slackRetries: 0, ...options.start },
    cleanup: () => slack.stop(),
  });
  let responses = 0;
  return {
    ...app,
    slack,
    later(ms) {
      offset += ms;
    },
    async push(n, version, pushOptions = {}) {
      const { author, committer, sender } = pushOptions;
      app.github.addCommit(REPO, sha(n), shopFiles(version, pushOptions.pipeline), {
        message: pushOptions.message ?? `Release ${version}`,
        ...(author && { author }),
        ...(committer && { committer }),
      });
      const reply = await app.sendPush({
        ...(n > 1 && { before: sha(n - 1) }),
        after: sha(n),
        ...(pushOptions.branch && { branch: pushOptions.branch }),
        message: pushOptions.message ?? `Release ${version}`,
        ...(author && { author }),
        ...(committer && { committer }),
        ...(sender && { sender }),
      });
      if (reply.status !== 200) throw new Error(`the push was refused: ${reply.status} ${reply.text}`);
      await app.sluice.idle();
    },
    card() {
      const card = slack.cards(CHANNEL).at(-1);
      if (!card)
        throw new Error(`no card in ${CHANNEL}; Slack was sent ${JSON.stringify(slack.calls.map((c) => c.method))}`);
      return structuredClone(card);
    },
    async click(card, button, user) {
      const reply = await sendSlackRequest(
        app.sluice.url,
        signSlackRequest(buttonClick(card, `sluice_${button}`, user)),
      );
      await app.sluice.idle();
      return reply;
    },
    told(user) {
      return slack
        .called('chat.postEphemeral')
        .filter((c) => c.args.user === user && c.args.channel === CHANNEL)
        .map((c) => String(c.args.text));
    },
    async gate(seq) {
      const execution = await app.sluice.store.getExecution(seq);
      return execution && findActionSummary(execution, 'production', 'approve');
    },
    async command(text, user) {
      const id = `command-${++responses}`;
      const reply = await sendSlackRequest(
        app.sluice.url,
        signSlackRequest(slashCommand(text, user, slack.responseUrl(id))),
      );
      if (reply.status !== 200) throw new Error(`/sluice ${text} was refused: ${reply.status}`);
      await app.sluice.idle();
      const answer = slack.responses.find((r) => r.id === id);
      if (!answer) throw new Error(`/sluice ${text} got no answer`);
      return answer.body;
    },
  };
}
