/**
 * Keeps Slack in step with approval gates (PRODUCT K1, K3, K4): a card in
 * the environment's channel when a gate opens, the same card updated on
 * every change (decided, expired, superseded, cancelled), and the deploy's
 * progress in its thread. Cards are kept in the store by gate and attempt,
 * so a restart updates the same messages. Updates of one execution are sent
 * in order, one at a time.
 */
import { boundArtifacts } from '../runner/bind-approval.ts';
import type { ApprovalRules } from '../config/approval-rules.ts';
import { SerialQueues } from '../runner/serial-queues.ts';
import { MAX_SWEEP_INTERVAL_MS } from '../runner/sweep-interval.ts';
import {
  type ArtifactRecordStore,
  type ExecutionStore,
  type RefStore,
  type ExecutionSummary,
  findActionSummary,
  type HistoryEntry,
} from '../store/store.ts';
import { approvalCard, decisionFrom, type ApprovalCardInput, type Decision } from './approval-card.ts';
import { deployThread } from './deploy-thread.ts';
import { describePerson, listChangePeople } from './list-change-people.ts';
import { CHANNEL_ERRORS, SlackApiError, TOKEN_ERRORS, type SlackApi } from './slack-api.ts';
import type { SlackPeople } from './slack-people.ts';
import { errorMessage, SluiceError } from '../sluice-error.ts';
import { formatDuration } from '../format-duration.ts';
import { CLAIM_RETRY_MS, CREATION_LEASE_MS } from '../store/ref-store.ts';
import { holdingCreation } from '../store/keep-lease.ts';
import { randomUUID } from 'node:crypto';

export interface SlackReporterOptions {
  store: ExecutionStore & ArtifactRecordStore & RefStore;
  api: SlackApi;
  rulesFor(environment: string): ApprovalRules | undefined;
  pageUrl(executionId: string, stage?: string): string;
  /** The commits between what `environment` runs now and this execution's commit (undefined: a first deploy). */
  changesFor?(execution: ExecutionSummary, environment: string): Promise<ApprovalCardInput['changes']>;
  commitUrl?(repo: string, sha: string): string | undefined;
  /** Who is who in Slack: to tell who brought a change, so they cannot approve it. */
  people?: SlackPeople;
  onError?(error: unknown): void;
  /** Who claims the cards this reporter posts (one per replica), so that two replicas post one card per gate. */
  owner?: string;
  /** How long a claim on posting a card holds before another replica may take it over (its holder died). */
  creationLeaseMs?: number;
  /** The pause before a card another replica is posting is looked at again. */
  claimRetryMs?: number;
  /** The time claims and refs are stamped with, as the rest of Sluice reads it; `Date.now` when not given. */
  clock?: () => number;
}

/** A posted card, by `<execution>/<stage>/<action>/<attempt>`. */
export interface CardRef {
  channel: string;
  ts: string;
  /** What was last sent, to skip updates that change nothing. */
  sent: string;
  digest?: string;
  /** Artifacts the gated deploys use that the build has not produced yet: the card waits for them. */
  waitingFor?: string[];
  changes?: ApprovalCardInput['changes'];
  /** The Slack users who brought the change (pushed, wrote, committed, retried it), when self-approval is off. */
  refused?: RefusedApprover[];
  /** Who of them cannot be checked, as the card says it. */
  unchecked?: string[];
  /** Keys of the thread replies posted. */
  replies: string[];
  /**
   * The version of the execution it last showed: an older one is not shown over it (unset: recorded before versions).
   */
  version?: number;
}

export const CARD_REF = 'slack_card';

declare module '../store/ref-store.ts' {
  interface RefKinds {
    slack_card: CardRef;
  }
}

export interface RefusedApprover {
  user: string;
  /** "pushed this change", "wrote 1a2b3c4". */
  did: string;
}

export class SlackReporter {
  readonly #options: SlackReporterOptions;
  readonly #queues: SerialQueues;
  /** Executions whose last update failed (Slack down, rate limited): tried again by `catchUp`. */
  readonly #behind = new Set<string>();
  /** Channels the bot cannot post in, with what Slack said: told once, until a post there works again. */
  readonly #closedChannels = new Map<string, string>();
  /** What Slack last said of the bot token itself, told once until a post works again. */
  #tokenRefused: string | undefined;
  readonly #owner: string;
  /**
   * Card claims a failed store could not end (the database away as the card
   * was posted or updated), with what to record: ended at the next report, or
   * the claim would stand for its whole lease and hold back every report of it.
   */
  readonly #unended: Array<{ key: string; token: string; card: CardRef | undefined }> = [];
  #stopped = false;
  readonly #retryTimers = new Set<NodeJS.Timeout>();
  /** Who waits in `idle` for the next look again. */
  #lookedAgain: Array<() => void> = [];

  readonly #clock: () => number;

  constructor(options: SlackReporterOptions) {
    this.#options = options;
    this.#queues = new SerialQueues(options.onError);
    this.#owner = options.owner ?? `sluice-${randomUUID()}`;
    this.#clock = options.clock ?? Date.now;
  }

  /** No more retries of cards other replicas were posting. */
  stop(): void {
    this.#stopped = true;
    for (const timer of this.#retryTimers) clearTimeout(timer);
    this.#retryTimers.clear();
    this.#wakeIdle();
  }

  executionsChanged(executionIds: readonly string[]): void {
    for (const id of executionIds) {
      this.#queues.add(id, async () => {
        this.#behind.add(id);
        try {
          if ((await this.#sync(id)) === 'claimed-elsewhere') this.#lookAgain(id);
        } catch (error) {
          this.#tell(error);
          return;
        }
        this.#behind.delete(id);
      });
    }
  }

  /**
   * Sends what could not be sent before, and the cards of gates that opened
   * while Sluice was not running or Slack could not be reached.
   */
  async catchUp(): Promise<void> {
    const ids = new Set(this.#behind);
    for (const pipelineId of await this.#options.store.listPipelinesAwaitingApproval()) {
      for (const execution of await this.#options.store.listExecutions({ pipelineId, limit: 100 })) {
        if (execution.status === 'running') ids.add(execution.id);
      }
    }
    this.executionsChanged([...ids]);
  }

  get busy(): boolean {
    return this.#queues.busy || this.#retryTimers.size > 0;
  }

  /**
   * A channel the bot cannot post in is said once, with what to do, rather
   * than at every sweep; the executions stay behind and are sent once it can.
   */
  #tell(error: unknown): void {
    const refused = tokenRefusal(error);
    if (refused) {
      if (this.#tokenRefused === refused.slackError) return;
      this.#tokenRefused = refused.slackError;
      return this.#options.onError?.(
        new SluiceError(
          'SLACK_REFUSED',
          `${refused.message}: Slack no longer takes SLACK_BOT_TOKEN (the app was uninstalled, or its token revoked or replaced): reinstall the Slack app to the workspace ("OAuth & Permissions" → "Reinstall"), set SLACK_BOT_TOKEN to its bot token and restart Sluice. Cards are posted at the first sweep after that; meanwhile \`sluice approve <execution>\` on the Sluice machine decides a gate.`,
          { cause: error },
        ),
      );
    }
    const channel =
      error instanceof SlackApiError && error.slackError && CHANNEL_ERRORS.has(error.slackError)
        ? error.channel
        : undefined;
    if (!channel || !(error instanceof SlackApiError)) return this.#options.onError?.(error);
    if (this.#closedChannels.get(channel) === error.slackError) return;
    this.#closedChannels.set(channel, error.slackError!);
    const fix =
      error.slackError === 'not_in_channel'
        ? `the bot is not in channel ${channel}: invite it there (/invite @Sluice in that channel)`
        : error.slackError === 'is_archived'
          ? `channel ${channel} is archived: unarchive it, or give the environment another slack_channel in the server config`
          : `Slack knows no channel ${channel} the bot can see: set the environment's slack_channel in the server config to the channel's id (its details in Slack show it, starting with C)`;
    this.#options.onError?.(
      new SluiceError(
        'SLACK_REFUSED',
        `${error.message}: ${fix}. Sluice posts the card at its next sweep (within ${formatDuration(MAX_SWEEP_INTERVAL_MS)}) once it can; meanwhile \`sluice approve <execution>\` on the Sluice machine decides it.`,
        { cause: error },
      ),
    );
  }

  /** A card of this execution is being posted by another replica: sync again once it will have recorded it. */
  #lookAgain(executionId: string): void {
    if (this.#stopped) return;
    const timer = setTimeout(() => {
      this.#retryTimers.delete(timer);
      this.executionsChanged([executionId]);
      this.#wakeIdle();
    }, this.#options.claimRetryMs ?? CLAIM_RETRY_MS);
    timer.unref();
    this.#retryTimers.add(timer);
  }

  #opened(channel: string): void {
    this.#closedChannels.delete(channel);
    this.#tokenRefused = undefined;
  }

  /** Resolves when every card update so far has been sent, those that waited for a peer's claim included. */
  async idle(): Promise<void> {
    for (;;) {
      await this.#queues.idle();
      if (this.#retryTimers.size === 0 || this.#stopped) return;
      await new Promise<void>((resolve) => this.#lookedAgain.push(resolve));
    }
  }

  #wakeIdle(): void {
    const waiting = this.#lookedAgain;
    this.#lookedAgain = [];
    for (const resolve of waiting) resolve();
  }

  async #sync(executionId: string): Promise<'claimed-elsewhere' | undefined> {
    const { store } = this.#options;
    // One that fails again is kept again by #end.
    for (const left of this.#unended.splice(0)) await this.#end(left.key, left.token, left.card).catch(() => {});
    const execution = await store.getExecution(executionId);
    if (!execution) return;
    let waiting: 'claimed-elsewhere' | undefined;
    let history: HistoryEntry[] | undefined;
    for (const stage of execution.definition.stages) {
      for (const action of stage.actions) {
        if (action.kind !== 'approval') continue;
        const rules = this.#options.rulesFor(action.approval.environment);
        if (!rules) continue;
        const state = findActionSummary(execution, stage.name, action.name);
        if (!state) continue;
        const prefix = `${execution.id}/${stage.name}/${action.name}/`;
        const cards = await store.listRefs(CARD_REF, prefix);
        // Cards of earlier attempts close with what their attempt ended as.
        for (const { key, value } of cards) {
          const attempt = Number(key.slice(prefix.length));
          if (attempt === state.attempt) continue;
          history ??= await store.listHistory(execution.id);
          const rendered = await this.#render(
            key,
            value,
            execution,
            stage.name,
            action.name,
            rules,
            endOf(history, stage.name, action.name, attempt),
          );
          waiting ??= rendered;
        }
        const key = `${prefix}${state.attempt}`;
        const card = cards.find((c) => c.key === key)?.value;
        const reported = card
          ? await this.#render(key, card, execution, stage.name, action.name, rules)
          : state.status === 'awaiting_approval'
            ? await this.#post(key, execution, stage.name, action.name, rules)
            : undefined;
        waiting ??= reported;
      }
    }
    return waiting;
  }

  async #post(
    key: string,
    execution: ExecutionSummary,
    stage: string,
    action: string,
    rules: ApprovalRules,
  ): Promise<'claimed-elsewhere' | undefined> {
    const { store } = this.#options;
    // Claimed before anything is asked of Slack, so that two replicas reporting the same gate post one card.
    const claim = {
      owner: this.#owner,
      now: this.#clock(),
      leaseMs: this.#options.creationLeaseMs ?? CREATION_LEASE_MS,
    };
    const claimed = await store.claimCreation(CARD_REF, key, claim, (card) => card === undefined);
    if (claimed.decision === 'claimed-elsewhere') return 'claimed-elsewhere';
    if (claimed.decision === 'made') {
      return this.#render(key, claimed.value!, execution, stage, action, rules);
    }
    let ref: CardRef | undefined;
    try {
      // Renewed while Slack takes its time (rate limits waited out): the claim stands while this replica lives.
      ref = await this.#holding(key, claim, claimed.token, () => this.#postCard(execution, stage, action, rules));
    } finally {
      await this.#end(key, claimed.token, ref);
    }
  }

  /** Runs `work` under the card's claim `token`, renewed while it lasts. */
  #holding<T>(
    key: string,
    claim: { owner: string; leaseMs: number },
    token: string,
    work: () => Promise<T>,
  ): Promise<T> {
    const { owner, leaseMs } = claim;
    return holdingCreation(
      this.#options.store,
      { kind: CARD_REF, key, owner, token, leaseMs, clock: this.#clock },
      work,
    );
  }

  /** Ends a card's claim, recording `card`; if the store fails, keeps it to end at the next report, and throws. */
  async #end(key: string, token: string, card: CardRef | undefined): Promise<void> {
    try {
      await this.#options.store.finishCreation(CARD_REF, key, token, card, this.#clock());
    } catch (error) {
      this.#unended.push({ key, token, card });
      throw error;
    }
  }

  async #postCard(execution: ExecutionSummary, stage: string, action: string, rules: ApprovalRules): Promise<CardRef> {
    const { store, api } = this.#options;
    const { digest, missing } = await boundArtifacts(store, execution, stage, action, rules.environment);
    let changes: ApprovalCardInput['changes'];
    try {
      changes = await this.#options.changesFor?.(execution, rules.environment);
    } catch (error) {
      // The card goes out without the commit list rather than not at all.
      this.#options.onError?.(error);
    }
    const who = rules.allowSelfApproval ? { refused: [], unchecked: [] } : await this.#whoBrought(execution, changes);
    const base: CardRef = {
      channel: '',
      ts: '',
      sent: '',
      ...(digest && { digest }),
      ...(missing.length > 0 && { waitingFor: missing }),
      ...(changes && { changes }),
      refused: who.refused,
      unchecked: who.unchecked,
      replies: [],
    };
    const card = approvalCard(this.#input(execution, stage, action, rules, base));
    const posted = await api.postMessage({ channel: rules.channel, ...card });
    this.#opened(rules.channel);
    return {
      ...base,
      channel: posted.channel,
      ts: posted.ts,
      sent: JSON.stringify(card),
      version: execution.version,
    };
  }

  /**
   * The Slack users who brought this change, and who of them Slack cannot
   * name. Worked out when the card is posted, from the pusher, the commits
   * and the execution's history so far; a retry posts a new card.
   */
  async #whoBrought(
    execution: ExecutionSummary,
    changes: ApprovalCardInput['changes'],
  ): Promise<{ refused: RefusedApprover[]; unchecked: string[] }> {
    const people = this.#options.people;
    if (!people) return { refused: [], unchecked: [] };
    const refused: RefusedApprover[] = [];
    const unchecked: string[] = [];
    const since = changes && `the commits since ${changes.base.slice(0, 7)}`;
    if (changes && changes.total === undefined)
      unchecked.push(
        `GitHub could not list ${since}: approvers cannot be checked against their authors and committers`,
      );
    else if (changes?.total !== undefined && changes.total > changes.commits.length) {
      unchecked.push(
        `GitHub listed ${changes.commits.length} of the ${changes.total} commits since ${changes.base.slice(0, 7)}: approvers cannot be checked against the authors and committers of the others`,
      );
    }
    for (const person of listChangePeople(execution, changes, await this.#options.store.listHistory(execution.id))) {
      // A lookup that failed (Slack refused or was out of reach) is no answer: the card is not
      // posted until it works, since whoever it could not look up could otherwise approve.
      const users = await people.slackUsersOf(person).catch((error: unknown) => {
        throw new SluiceError(
          'SLACK_LOOKUP_FAILED',
          `could not look up ${describePerson(person)} in Slack, so the approval card waits: ${errorMessage(error)}`,
          { cause: error },
        );
      });
      for (const user of users) refused.push({ user, did: person.did });
      if (users.length === 0)
        unchecked.push(
          `Could not match ${describePerson(person)} to a Slack user: approvers cannot be checked against them`,
        );
    }
    return { refused, unchecked: [...new Set(unchecked)] };
  }

  /**
   * Brings a posted card (and its thread) up to date. Claimed like its
   * posting, so that two replicas send each update and each thread reply
   * once, and a card is never put back to an older state of the execution
   * (another replica's read, or one that waited) than it shows.
   */
  async #render(
    key: string,
    ref: CardRef,
    execution: ExecutionSummary,
    stage: string,
    action: string,
    rules: ApprovalRules,
    decision?: Decision,
  ): Promise<'claimed-elsewhere' | undefined> {
    const { store, api } = this.#options;
    const { version } = execution;
    const older = (card: CardRef) => (card.version ?? -1) > version;
    if (older(ref) || !(await this.#renderPlan(ref, execution, stage, action, rules, decision)).due) return;
    const claim = {
      owner: this.#owner,
      now: this.#clock(),
      leaseMs: this.#options.creationLeaseMs ?? CREATION_LEASE_MS,
    };
    const claimed = await store.claimCreation(CARD_REF, key, claim, (card) => card !== undefined && !older(card));
    if (claimed.decision === 'claimed-elsewhere') return 'claimed-elsewhere';
    if (claimed.decision === 'made') return;
    const plan = await this.#renderPlan(claimed.value!, execution, stage, action, rules, decision);
    const card = plan.ref;
    let changed = false;
    try {
      await this.#holding(key, claim, claimed.token, async () => {
        if (plan.card) {
          await api.updateMessage({ channel: card.channel, ts: card.ts, ...plan.card });
          Object.assign(card, { sent: JSON.stringify(plan.card), version });
          changed = true;
        }
        for (const reply of plan.replies) {
          await api.postMessage({ channel: card.channel, thread_ts: card.ts, text: reply.text });
          card.replies.push(reply.key);
          card.version = Math.max(card.version ?? -1, version);
          changed = true;
          await store.putRef(CARD_REF, key, card, this.#clock());
        }
      });
    } finally {
      await this.#end(key, claimed.token, changed ? card : undefined);
    }
  }

  /** What `ref` lacks of the execution: the card to send (if it changed) and the thread replies not posted. */
  async #renderPlan(
    ref: CardRef,
    execution: ExecutionSummary,
    stage: string,
    action: string,
    rules: ApprovalRules,
    decision?: Decision,
  ): Promise<{
    ref: CardRef;
    card?: ReturnType<typeof approvalCard>;
    replies: ReturnType<typeof deployThread>;
    due: boolean;
  }> {
    const { store } = this.#options;
    const next: CardRef = { ...ref, replies: [...ref.replies] };
    if (!decision && next.waitingFor && next.waitingFor.length > 0) {
      // The build beside the gate has gone on: the card binds to what it produced.
      const { digest, missing } = await boundArtifacts(store, execution, stage, action, rules.environment);
      next.waitingFor = missing;
      if (digest) next.digest = digest;
    }
    const card = approvalCard(this.#input(execution, stage, action, rules, next), decision);
    const changed = JSON.stringify(card) !== next.sent;
    const replies = decision
      ? []
      : deployThread(execution, stage, rules.environment, this.#options.pageUrl(execution.id, stage)).filter(
          (reply) => !next.replies.includes(reply.key),
        );
    return { ref: next, ...(changed && { card }), replies, due: changed || replies.length > 0 };
  }

  #input(
    execution: ExecutionSummary,
    stage: string,
    action: string,
    rules: ApprovalRules,
    ref: Pick<CardRef, 'digest' | 'waitingFor' | 'changes' | 'unchecked'>,
  ): ApprovalCardInput {
    const { digest, waitingFor, changes, unchecked } = ref;
    const openedAt = findActionSummary(execution, stage, action)?.startedAt ?? execution.updatedAt;
    const commitUrl = this.#options.commitUrl?.(execution.repo, execution.revision.sha);
    return {
      execution,
      stage,
      action,
      environment: rules.environment,
      approvers: rules.approvers,
      expiresAt: openedAt + rules.timeoutMs,
      pageUrl: this.#options.pageUrl(execution.id, stage),
      ...(digest && { digest }),
      ...(waitingFor && waitingFor.length > 0 && { waitingFor }),
      ...(commitUrl && { commitUrl }),
      ...(changes && { changes }),
      ...(unchecked && unchecked.length > 0 && { unchecked }),
    };
  }
}

/** How an earlier attempt of a gate ended, from the recorded history. */
function endOf(history: HistoryEntry[], stage: string, action: string, attempt: number): Decision {
  const last = history
    .filter((h) => h.entity === 'action' && h.stage === stage && h.action === action && h.attempt === attempt)
    .at(-1);
  return decisionFrom({
    status: last?.to ?? 'cancelled',
    ...(last?.reason !== undefined && { reason: last.reason }),
    ...(last && { finishedAt: last.at }),
  });
}

/**
 * The Slack error that says the bot token is refused, wherever it is in the error's causes (a lookup wraps it, say).
 */
function tokenRefusal(error: unknown): SlackApiError | undefined {
  for (let at: unknown = error, depth = 0; at instanceof Error && depth < 10; at = at.cause, depth++) {
    if (at instanceof SlackApiError && at.slackError && TOKEN_ERRORS.has(at.slackError)) return at;
  }
  return undefined;
}
