/**
 * A rolling deploy over an environment's hosts (PRODUCT S2–S4): stage the
 * release on every host first, so the critical path per host is only
 * drain → stop → switch → start → health → undrain; then batch by batch.
 * On a failure every host already touched goes back to its previous
 * release and the rollout stops with a reason that names host and step.
 */
import type { ActionOutcome } from '../actions/action-runner.ts';
import { formatDuration } from '../format-duration.ts';
import { ExecutorError, type ExecSession, type HostRef } from '../executor/executor.ts';
import { timerDelay } from '../executor/timer-delay.ts';
import {
  DeployFailure,
  checkHealth,
  runHook,
  stageRelease,
  switchTo,
  sessionOf,
  type HostRollout,
  type HostStepContext,
} from './host-steps.ts';
import { DEFAULT_MAX_SESSIONS, DEFAULT_MAX_UPLOADS, HostSlots, concurrencyLimit } from './host-slots.ts';
import { planBatches, resolveAmount, type Amount } from './plan-batches.ts';
import { listReleasesCommand, releasesToPrune, removeReleasesCommand } from './release-commands.ts';
import { errorMessage } from '../sluice-error.ts';

export interface RolloutOptions {
  environment: string;
  hosts: HostRollout[];
  batch: Amount;
  minHealthy: Amount;
  keepReleases: number;
  tarball: string;
  sha256: string;
  /** The operator's load-balancer commands around each host. */
  drain?: (host: string) => Promise<void>;
  undrain?: (host: string) => Promise<void>;
  /** How long putting the touched hosts back may take, whatever stopped the rollout (default 15 min). */
  rollbackTimeoutMs?: number;
  /**
   * Opens a session on a host. Given, the rollout opens and closes the
   * hosts' sessions itself, `maxSessions` at most at once; without it, every
   * host comes with its session open.
   */
  open?: (host: HostRef, signal?: AbortSignal) => Promise<ExecSession>;
  /** Hosts with a session open at once (default 8), whatever the batch size. */
  maxSessions?: number;
  /** Artifact uploads at once (default 8). */
  maxUploads?: number;
}

/** How each step of a host gets its session: from the rollout's limited places, or the one it came with. */
interface Sessions {
  use<T>(h: HostRollout, work: () => Promise<T>, signal?: AbortSignal): Promise<T>;
  /** Inside `use`: a fresh session for a host whose connection dropped. */
  reopen(h: HostRollout, signal?: AbortSignal): Promise<ExecSession>;
  /** Hosts to put first, so the ones holding a session use it before it is given away. */
  holding(h: HostRollout): boolean;
  closeAll(): Promise<void>;
}

function sessionsFor(options: RolloutOptions): Sessions {
  const { open } = options;
  if (!open)
    return {
      use: (_h, work) => work(),
      async reopen(h, signal) {
        if (!h.reopen) throw new DeployFailure(`${h.host.name}: cannot connect again`);
        h.session = await h.reopen(signal);
        return h.session;
      },
      holding: () => true,
      closeAll: async () => {},
    };
  const slots = new HostSlots(options.maxSessions ?? DEFAULT_MAX_SESSIONS, open);
  return {
    use: (h, work, signal) => slots.use(h, work, signal),
    reopen: (h, signal) => slots.reopen(h, signal),
    holding: (h) => h.session !== undefined,
    closeAll: () => slots.closeAll(),
  };
}

export const DEFAULT_ROLLBACK_TIMEOUT_MS = 15 * 60_000;

export async function rollingDeploy(ctx: HostStepContext, options: RolloutOptions): Promise<ActionOutcome> {
  const sessions = sessionsFor(options);
  try {
    return await rollOut(ctx, options, sessions);
  } finally {
    await sessions.closeAll();
  }
}

async function rollOut(ctx: HostStepContext, options: RolloutOptions, sessions: Sessions): Promise<ActionOutcome> {
  const names = (hs: HostRollout[]) => hs.map((h) => h.host.name).join(', ');
  let batches: HostRollout[][];
  try {
    batches = planBatches(options.hosts, {
      batch: options.batch,
      minHealthy: options.minHealthy,
      environment: options.environment,
    });
  } catch (error) {
    return { ok: false, reason: errorMessage(error) };
  }
  // The first batch's hosts staged last, so the sessions still open afterwards are the ones it needs first.
  const first = Math.min(options.hosts.length, options.maxSessions ?? DEFAULT_MAX_SESSIONS);
  const stagingOrder = [...options.hosts.slice(first), ...options.hosts.slice(0, first)];
  const uploads = concurrencyLimit(options.maxUploads ?? DEFAULT_MAX_UPLOADS);
  const [stageFailure] = await onEachHost(ctx, sessions, stagingOrder, 'staged', (h) =>
    stageRelease(ctx, h, options.tarball, options.sha256, uploads),
  );
  if (stageFailure) return { ok: false, reason: errorMessage(stageFailure) };

  const touched: HostRollout[] = [];
  for (const [i, batch] of batches.entries()) {
    if (ctx.signal?.aborted) {
      // Stopped between batches: the hosts done so far run the new release, the rest the old one.
      const rolledBack = await rollBackOnItsOwn(ctx, options, sessions, touched);
      return {
        ok: false,
        reason: `${stopReason(ctx.signal)} before batch ${i + 1} of ${batches.length}; ${rolledBack}`,
      };
    }
    ctx.log('*', `batch ${i + 1} of ${batches.length}: ${names(batch)}`, 'sluice');
    const failures = await onEachHost(ctx, sessions, batch, 'drained', (h) => deployHost(ctx, options, h, touched));
    if (failures.length > 0) {
      ctx.log('*', `${failures.map(errorMessage).join('; ')}; ${rollbackPlan(touched)}`, 'sluice');
      const rolledBack = await rollBackOnItsOwn(ctx, options, sessions, touched);
      return { ok: false, reason: `${errorMessage(failures[0])}; ${rolledBack}` };
    }
  }

  // Hosts still holding a session first, so they use it before another host takes their place.
  const pruneOrder = [...options.hosts].sort((a, b) => Number(sessions.holding(b)) - Number(sessions.holding(a)));
  await Promise.all(
    pruneOrder.map((h) =>
      sessions
        .use(h, () => prune(ctx, h, options.keepReleases), ctx.signal)
        .catch((error: unknown) =>
          ctx.log(h.host.name, `could not remove old releases: ${errorMessage(error)}`, 'sluice'),
        ),
    ),
  );
  ctx.log('*', `${options.environment}: ${names(options.hosts)} now run release ${ctx.releaseId}`, 'sluice');
  return { ok: true };
}

/**
 * `work` on each host, as many at once as there are places for sessions.
 * Once one fails, the hosts still waiting for a place do not start; returns
 * the failures in the order they happened (none: every host did its part).
 */
async function onEachHost(
  ctx: HostStepContext,
  sessions: Sessions,
  hosts: HostRollout[],
  what: 'staged' | 'drained',
  work: (h: HostRollout) => Promise<void>,
): Promise<unknown[]> {
  const failures: unknown[] = [];
  const stop = new AbortController();
  const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
  await Promise.all(
    hosts.map(async (h) => {
      let started = false;
      try {
        await sessions.use(
          h,
          () => {
            started = true;
            return work(h);
          },
          signal,
        );
      } catch (error) {
        // Waiting for a place when another host failed: it never started, which is no failure of its own.
        if (!started && stop.signal.aborted) return;
        if (!started && ctx.signal?.aborted)
          failures.push(new DeployFailure(`${h.host.name}: ${stopReason(ctx.signal)} before it was ${what}`));
        else failures.push(error);
        stop.abort();
      }
    }),
  );
  return failures;
}

async function deployHost(
  ctx: HostStepContext,
  options: RolloutOptions,
  h: HostRollout,
  touched: HostRollout[],
): Promise<void> {
  const name = h.host.name;
  if (ctx.signal?.aborted) throw new DeployFailure(`${name}: ${stopReason(ctx.signal)} before it was drained`);
  touched.push(h);
  // Set first: a drain that fails may have taken the host out already (HAProxy drains, then waits for its sessions).
  h.drained = true;
  if (options.drain) await lbCommand(ctx, name, 'drain', options.drain);
  if (h.previous) {
    h.stopped = true;
    h.stopUnfinished = true;
    await runHook(ctx, h, 'stop', h.previous);
    h.stopUnfinished = false;
  }
  await runHook(ctx, h, 'before_install', ctx.releaseId);
  await ctx.beforeSwitch?.();
  await switchTo(ctx, h, ctx.releaseId);
  h.switched = true;
  await runHook(ctx, h, 'after_install', ctx.releaseId);
  await runHook(ctx, h, 'start', ctx.releaseId);
  await runHook(ctx, h, 'validate', ctx.releaseId);
  await checkHealth(ctx, h);
  if (options.undrain) await lbCommand(ctx, name, 'undrain', options.undrain);
  h.drained = false;
}

/**
 * The rollback must not be stopped by what stopped the rollout (a cancel,
 * a lost claim or lock, a Ctrl-C): a host left drained or half switched is
 * worse than a rollback that finishes. It gets a signal of its own that only
 * its time limit aborts.
 */
async function rollBackOnItsOwn(
  ctx: HostStepContext,
  options: RolloutOptions,
  sessions: Sessions,
  touched: HostRollout[],
): Promise<string> {
  const limitMs = options.rollbackTimeoutMs ?? DEFAULT_ROLLBACK_TIMEOUT_MS;
  const limit = new AbortController();
  const timer = setTimeout(() => limit.abort(), timerDelay(limitMs));
  try {
    const sentence = await rollBack({ ...ctx, signal: limit.signal }, options, sessions, touched);
    return limit.signal.aborted
      ? `${sentence} (the rollback ran out of its time limit of ${formatDuration(limitMs)})`
      : sentence;
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Put every touched host back on its previous release, the failed ones
 * (out of service already) first; returns a sentence for the reason. A host
 * in service on the new release is not taken out if that would leave fewer
 * than the minimum of healthy hosts: a working new release beats an outage.
 */
async function rollBack(
  ctx: HostStepContext,
  options: RolloutOptions,
  sessions: Sessions,
  touched: HostRollout[],
): Promise<string> {
  const back: string[] = [];
  const stuck: string[] = [];
  const minHealthy = Math.max(1, resolveAmount(options.minHealthy, options.hosts.length));
  const inService = () => options.hosts.filter((h) => !h.drained).length;
  const order = [...touched].reverse().sort((a, b) => Number(b.drained ?? false) - Number(a.drained ?? false));
  for (const h of order) {
    const name = h.host.name;
    if (!h.previous) {
      stuck.push(`${name} (no earlier release to go back to; left drained)`);
      continue;
    }
    if (options.drain && !h.drained && inService() - 1 < minHealthy) {
      stuck.push(
        `${name} (kept on release ${ctx.releaseId}: taking it out would leave fewer than ${minHealthy} host${minHealthy === 1 ? '' : 's'} in service)`,
      );
      continue;
    }
    try {
      await sessions.use(h, () => rollBackReconnecting(ctx, options, sessions, h), ctx.signal);
      back.push(name);
    } catch (error) {
      stuck.push(`${name} (rollback failed: ${errorMessage(error)})`);
    }
  }
  const parts = [];
  if (back.length > 0) parts.push(`rolled back ${back.join(', ')} to ${touched.find((h) => h.previous)?.previous}`);
  if (stuck.length > 0) parts.push(`not rolled back: ${stuck.join('; ')}`);
  return parts.join('; ') || 'no host had been changed';
}

/**
 * A host whose connection dropped (often what failed the deploy) is likely
 * back a moment later: its rollback connects once more and carries on where
 * it stopped, rather than leaving it drained with its app stopped.
 */
async function rollBackReconnecting(
  ctx: HostStepContext,
  options: RolloutOptions,
  sessions: Sessions,
  h: HostRollout,
): Promise<void> {
  try {
    await rollBackHost(ctx, options, h);
  } catch (error) {
    if (!(options.open || h.reopen) || !isLostConnection(error)) throw error;
    ctx.log(h.host.name, `${errorMessage(error)}; connecting again to roll it back`, 'sluice');
    await sessions.reopen(h, ctx.signal);
    await rollBackHost(ctx, options, h);
  }
}

/** One host back on its previous release and in service; each step is skipped once done, so it can be tried again. */
async function rollBackHost(ctx: HostStepContext, options: RolloutOptions, h: HostRollout): Promise<void> {
  const name = h.host.name;
  const previous = h.previous!;
  ctx.log(name, `rolling back to ${previous}`, 'sluice');
  // Hosts of earlier batches are back in service: take them out again first.
  if (options.drain && !h.drained) await lbCommand(ctx, name, 'drain', options.drain);
  h.drained = true;
  if (h.switched) {
    await runHook(ctx, h, 'stop', ctx.releaseId).catch((error: unknown) => {
      if (isLostConnection(error)) throw error;
      ctx.log(name, `stop hook failed during rollback: ${errorMessage(error)}`, 'sluice');
    });
    await switchTo(ctx, h, previous);
    h.switched = false;
  }
  // The release gone back to starts with its own hooks: the new ones may be what failed.
  // One never stopped (the deploy failed at the drain) still runs: it only goes back in service.
  if (h.stopped) {
    // A stop cut short may have left the app half down: stopped to the end first, so its start finds it stopped.
    if (h.stopUnfinished) {
      await runHook(ctx, h, 'stop', previous, h.previousApp).catch((error: unknown) => {
        if (isLostConnection(error)) throw error;
        ctx.log(name, `stop hook failed during rollback: ${errorMessage(error)}`, 'sluice');
      });
      h.stopUnfinished = false;
    }
    await runHook(ctx, h, 'start', previous, h.previousApp);
    h.stopped = false;
  }
  await checkHealth(ctx, h, h.previousApp);
  if (options.undrain) await lbCommand(ctx, name, 'undrain', options.undrain);
  h.drained = false;
}

function isLostConnection(error: unknown): boolean {
  return error instanceof ExecutorError && error.code === 'HOST_UNREACHABLE';
}

/** "rolling back web1, web2 to <id>", per release gone back to; hosts with none to go back to said as such. */
function rollbackPlan(touched: HostRollout[]): string {
  const byTarget = new Map<string, string[]>();
  const none: string[] = [];
  for (const h of touched) {
    if (h.previous) byTarget.set(h.previous, [...(byTarget.get(h.previous) ?? []), h.host.name]);
    else none.push(h.host.name);
  }
  const parts = [...byTarget].map(([id, names]) => `${names.join(', ')} to ${id}`);
  const back = parts.length > 0 ? `rolling back ${parts.join('; ')}` : '';
  const first =
    none.length > 0 ? `${none.join(', ')} ${none.length === 1 ? 'has' : 'have'} no earlier release to go back to` : '';
  return [back, first].filter(Boolean).join('; ');
}

async function lbCommand(
  ctx: HostStepContext,
  host: string,
  what: 'drain' | 'undrain',
  run: (host: string) => Promise<void>,
): Promise<void> {
  try {
    await run(host);
    ctx.log(host, what === 'drain' ? 'drained from the load balancer' : 'back in the load balancer', 'sluice');
  } catch (error) {
    throw new DeployFailure(`${host}: the ${what} command failed: ${errorMessage(error)}`, { cause: error });
  }
}

/** Housekeeping after every host succeeded: a failure here (a lost connection) is said, never the deploy's outcome. */
async function prune(ctx: HostStepContext, h: HostRollout, keep: number): Promise<void> {
  const name = h.host.name;
  try {
    const ids: string[] = [];
    await sessionOf(h).run(listReleasesCommand(h.paths), {
      timeoutMs: 60_000,
      onLine: (line, stream) => stream === 'stdout' && ids.push(line),
    });
    const old = releasesToPrune(ids, keep, [ctx.releaseId, h.previous]);
    if (old.length === 0) return;
    const result = await sessionOf(h).run(removeReleasesCommand(h.paths, old), { timeoutMs: 5 * 60_000 });
    if (result.exitCode === 0)
      ctx.log(name, `removed ${old.length} old release${old.length === 1 ? '' : 's'}`, 'sluice');
    else ctx.log(name, `could not remove old releases (exit code ${result.exitCode})`, 'sluice');
  } catch (error) {
    ctx.log(name, `could not remove old releases: ${errorMessage(error)}`, 'sluice');
  }
}

/** What stopped the rollout, in words: the abort's reason when it has one. */
function stopReason(signal: AbortSignal): string {
  const reason: unknown = signal.reason;
  return reason instanceof Error && reason.name !== 'AbortError' ? `stopped (${reason.message})` : 'cancelled';
}
