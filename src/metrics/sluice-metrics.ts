/**
 * What an operator can watch Sluice by, in Prometheus's text format
 * (`GET /metrics`). Two kinds: counts read from the store at scrape time
 * (executions, waiting approvals, the webhook inbox), so every replica
 * reports the same totals; and what this process saw happen (durations,
 * deploy outcomes, API calls, rate-limit waits, lease renewals), counted
 * here. The names follow Prometheus's conventions: `_total` counters,
 * `_seconds` units, a `sluice_` prefix.
 */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { ExecutionStore, ExecutionSummary } from '../store/store.ts';
import { findAction } from '../pipeline/definition.ts';

export type ApiService = 'github' | 'slack';
export type ApiOutcome = 'ok' | 'client_error' | 'server_error' | 'rate_limited' | 'network_error';

interface StoreGauges {
  executions: Gauge<'repo' | 'pipeline' | 'state'>;
  approvals: Gauge<'repo'>;
  approvalAge: Gauge<'repo'>;
  inboxDepth: Gauge;
  inboxLag: Gauge;
  storeUp: Gauge;
}

const DURATION_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 4 * 3600];

export class SluiceMetrics {
  readonly registry = new Registry();
  readonly #stageDuration: Histogram<'repo' | 'stage' | 'outcome'>;
  readonly #actionDuration: Histogram<'repo' | 'kind' | 'outcome'>;
  readonly #deploys: Counter<'environment' | 'outcome'>;
  readonly #interrupted: Counter<'repo' | 'kind'>;
  readonly #apiCalls: Counter<'service' | 'outcome'>;
  readonly #rateLimitWait: Counter<'service'>;
  readonly #leaseRenewals: Counter<'outcome'>;
  /** Stage and action runs already counted, so a change seen twice counts once. */
  readonly #seen = new Set<string>();

  constructor(store: ExecutionStore, now: () => number = Date.now) {
    const registers = [this.registry];
    // The process's own figures, by hand: prom-client's default set has names Prometheus's linter refuses.
    const startedAt = Date.now() / 1000 - process.uptime();
    new Gauge({
      name: 'sluice_process_resident_memory_bytes',
      help: 'Resident memory of this Sluice process.',
      registers,
      collect() {
        this.set(process.memoryUsage().rss);
      },
    });
    new Gauge({
      name: 'sluice_process_heap_used_bytes',
      help: 'JavaScript heap in use.',
      registers,
      collect() {
        this.set(process.memoryUsage().heapUsed);
      },
    });
    new Counter({
      name: 'sluice_process_cpu_seconds_total',
      help: 'CPU time this process used, user and system.',
      registers,
      collect() {
        const cpu = process.cpuUsage();
        this.reset();
        this.inc((cpu.user + cpu.system) / 1e6);
      },
    });
    new Gauge({
      name: 'sluice_process_start_time_seconds',
      help: 'When this process started, in seconds since the epoch.',
      registers,
      collect() {
        this.set(startedAt);
      },
    });
    // One read of the store per scrape feeds all the store gauges (prom-client calls each gauge's collect).
    let reading: Promise<void> | undefined;
    const collect = (): Promise<void> =>
      (reading ??= this.#readStore(store, now, gauges).finally(() => (reading = undefined)));
    const gauges: StoreGauges = {
      executions: new Gauge({
        name: 'sluice_executions',
        help: 'Executions in the store, by pipeline and state.',
        labelNames: ['repo', 'pipeline', 'state'],
        registers,
        collect,
      }),
      approvals: new Gauge({
        name: 'sluice_approvals_waiting',
        help: 'Approval gates waiting for a decision.',
        labelNames: ['repo'],
        registers,
        collect,
      }),
      approvalAge: new Gauge({
        name: 'sluice_approval_oldest_wait_seconds',
        help: 'How long the oldest waiting approval gate has waited.',
        labelNames: ['repo'],
        registers,
        collect,
      }),
      inboxDepth: new Gauge({
        name: 'sluice_webhook_inbox_depth',
        help: 'Webhooks stored and not yet handled.',
        registers,
        collect,
      }),
      inboxLag: new Gauge({
        name: 'sluice_webhook_inbox_lag_seconds',
        help: 'Age of the oldest webhook not yet handled (0 when none waits).',
        registers,
        collect,
      }),
      storeUp: new Gauge({
        name: 'sluice_store_up',
        help: 'Whether the last read of the store for these metrics worked (1) or failed (0).',
        registers,
        collect,
      }),
    };

    this.#stageDuration = new Histogram({
      name: 'sluice_stage_duration_seconds',
      help: 'Time from a stage run starting to its end, by outcome.',
      labelNames: ['repo', 'stage', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#actionDuration = new Histogram({
      name: 'sluice_action_duration_seconds',
      help: 'Time an action ran, by kind and outcome.',
      labelNames: ['repo', 'kind', 'outcome'],
      buckets: DURATION_BUCKETS,
      registers,
    });
    this.#deploys = new Counter({
      name: 'sluice_deploys_total',
      help: 'Deploy actions that ended, by environment and outcome.',
      labelNames: ['environment', 'outcome'],
      registers,
    });
    this.#interrupted = new Counter({
      name: 'sluice_actions_interrupted_total',
      help: 'Actions ended as interrupted (their process died or stopped).',
      labelNames: ['repo', 'kind'],
      registers,
    });
    this.#apiCalls = new Counter({
      name: 'sluice_api_calls_total',
      help: 'Calls to GitHub and Slack, by outcome.',
      labelNames: ['service', 'outcome'],
      registers,
    });
    this.#rateLimitWait = new Counter({
      name: 'sluice_api_rate_limit_wait_seconds_total',
      help: 'Time GitHub or Slack told Sluice to wait before calling again.',
      labelNames: ['service'],
      registers,
    });
    this.#leaseRenewals = new Counter({
      name: 'sluice_lease_renewals_total',
      help: 'Renewals of the claims on running actions, by outcome (renewed, lost to a peer, failed to reach the store).',
      labelNames: ['outcome'],
      registers,
    });
  }

  async #readStore(store: ExecutionStore, now: () => number, g: StoreGauges): Promise<void> {
    try {
      const m = await store.readMetrics();
      g.executions.reset();
      for (const row of m.executions)
        g.executions.set({ repo: row.repo, pipeline: row.file, state: row.status }, row.count);
      g.approvals.reset();
      g.approvalAge.reset();
      const byRepo = new Map<string, number[]>();
      for (const a of m.approvals) byRepo.set(a.repo, [...(byRepo.get(a.repo) ?? []), a.since]);
      for (const [repo, since] of byRepo) {
        g.approvals.set({ repo }, since.length);
        g.approvalAge.set({ repo }, Math.max(0, (now() - Math.min(...since)) / 1000));
      }
      g.inboxDepth.set(m.inbox.depth);
      g.inboxLag.set(m.inbox.oldestReceivedAt === null ? 0 : Math.max(0, (now() - m.inbox.oldestReceivedAt) / 1000));
      g.storeUp.set(1);
    } catch {
      // A store that cannot be read is itself worth watching; the scrape still answers.
      g.storeUp.set(0);
    }
  }

  /** Count what finished in an execution since it was last seen. */
  observeExecution(execution: ExecutionSummary): void {
    for (const stage of execution.stages) {
      let started: number | undefined;
      let finished: number | undefined;
      for (const action of stage.actions) {
        if (action.startedAt !== undefined) started = Math.min(started ?? action.startedAt, action.startedAt);
        if (action.finishedAt !== undefined) finished = Math.max(finished ?? action.finishedAt, action.finishedAt);
        if (!isFinal(action.status) || action.startedAt === undefined || action.finishedAt === undefined) continue;
        const key = `${execution.id}/${stage.name}/${action.name}/${action.attempt}`;
        if (this.#seen.has(key)) continue;
        this.#seen.add(key);
        const spec = findAction(execution.definition, stage.name, action.name);
        const kind = spec?.kind ?? 'unknown';
        this.#actionDuration.observe(
          { repo: execution.repo, kind, outcome: action.status },
          (action.finishedAt - action.startedAt) / 1000,
        );
        if (spec?.kind === 'deploy')
          this.#deploys.inc({ environment: spec.deploy.environment, outcome: action.status });
        if (action.status === 'interrupted') this.#interrupted.inc({ repo: execution.repo, kind });
      }
      const stageKey = `${execution.id}/${stage.name}/${stage.attempt}`;
      if (isFinal(stage.status) && started !== undefined && finished !== undefined && !this.#seen.has(stageKey)) {
        this.#seen.add(stageKey);
        this.#stageDuration.observe(
          { repo: execution.repo, stage: stage.name, outcome: stage.status },
          (finished - started) / 1000,
        );
      }
    }
    // An execution that is over changes no more: forget its keys.
    if (isFinal(execution.status))
      for (const key of [...this.#seen]) if (key.startsWith(`${execution.id}/`)) this.#seen.delete(key);
  }

  apiCall(service: ApiService, outcome: ApiOutcome): void {
    this.#apiCalls.inc({ service, outcome });
  }

  rateLimitWait(service: ApiService, seconds: number): void {
    if (Number.isFinite(seconds) && seconds > 0) this.#rateLimitWait.inc({ service }, seconds);
  }

  leaseRenewal(outcome: 'renewed' | 'lost' | 'failed', count = 1): void {
    if (count > 0) this.#leaseRenewals.inc({ outcome }, count);
  }

  /** The text a Prometheus server scrapes. */
  async render(): Promise<{ contentType: string; body: string }> {
    return { contentType: this.registry.contentType, body: await this.registry.metrics() };
  }
}

function isFinal(status: string): boolean {
  return status !== 'pending' && status !== 'running' && status !== 'waiting' && status !== 'awaiting_approval';
}

/** How an HTTP status reads as an outcome. */
export function outcomeOfStatus(status: number | undefined): ApiOutcome {
  if (status === undefined) return 'network_error';
  if (status === 429) return 'rate_limited';
  if (status >= 500) return 'server_error';
  if (status >= 400) return 'client_error';
  return 'ok';
}
