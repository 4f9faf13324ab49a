/**
 * The steps of a deploy on one host (PRODUCT S2): stage a release, switch
 * to it with the app's lifecycle hooks and a health check, or switch back.
 * Each step either completes or throws a `DeployFailure` whose message says
 * which host and which step, in plain words.
 */
import { posix } from 'node:path';
import { formatDuration, formatTimeLimit } from '../format-duration.ts';
import type { ExecSession, HostRef, OutputStream } from '../executor/executor.ts';
import { shellCommand } from '../executor/shell-quote.ts';
import type { AppSpec, LifecycleHook } from '../pipeline/definition.ts';
import {
  httpProbeCommand,
  parseCurrent,
  prepareCommand,
  readCurrentCommand,
  readReleaseAppCommand,
  releasePaths,
  releasePresentCommand,
  currentNotLinkCommand,
  switchCommand,
  unpackCommand,
  type ReleasePaths,
} from './release-commands.ts';
import { formatReleaseApp, parseReleaseApp } from './release-app.ts';
import { SluiceError, errorMessage } from '../sluice-error.ts';

export class DeployFailure extends SluiceError<'DEPLOY_FAILED'> {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEPLOY_FAILED', message, options);
  }
}

/** One host of a rollout and what Sluice knows of it. */
export interface HostRollout {
  host: HostRef;
  /** Open while one of the host's steps runs (and maybe between them; see host-slots.ts). */
  session?: ExecSession | undefined;
  paths: ReleasePaths;
  /** The release `current` pointed at before this deploy; absent on a first deploy. */
  previous?: string;
  /** The hooks and health check `previous` was deployed with (this deploy's where it kept none). */
  previousApp?: AppSpec;
  /** True once `current` points at the new release. */
  switched: boolean;
  /** True while the load balancer sends it nothing (drained and not yet undrained), or may (a drain that failed). */
  drained?: boolean;
  /** True from the stop hook of the release it ran until a start: its app may be stopped. */
  stopped?: boolean;
  /** True while that stop hook has not succeeded (cancelled, failed): its app may be half stopped. */
  stopUnfinished?: boolean;
  /** A fresh session on the same host, for a rollback whose session lost its connection. */
  reopen?: (signal?: AbortSignal) => Promise<ExecSession>;
}

/** What every host step of one rollout shares: the release and its app, the hooks' variables and limit, the log. */
export interface HostStepContext {
  app: AppSpec;
  releaseId: string;
  /** Variables every hook sees (SLUICE_ENVIRONMENT, SLUICE_RELEASE …). */
  env: Record<string, string>;
  hookTimeoutMs: number;
  signal?: AbortSignal;
  log(host: string, line: string, stream: OutputStream | 'sluice'): void;
  /** Waits between health probes; injectable for tests. */
  sleep(ms: number): Promise<void>;
  /** Runs before each host is switched to the new release; throws to stop the rollout there (fencing). */
  beforeSwitch?(): Promise<void>;
}

/** A host whose session is already open, for the whole rollout. */
export function hostRollout(session: ExecSession, path: string, reopen?: HostRollout['reopen']): HostRollout {
  return { host: session.host, session, paths: releasePaths(path), switched: false, ...(reopen && { reopen }) };
}

/** A host whose sessions the rollout opens itself, a limited number at once. */
export function hostToRollOut(host: HostRef, path: string): HostRollout {
  return { host, paths: releasePaths(path), switched: false };
}

/** The host's open session; a step runs only while it holds one. */
export function sessionOf(h: HostRollout): ExecSession {
  if (!h.session) throw new DeployFailure(`${h.host.name}: no session is open on the host for this step`);
  return h.session;
}

/** Quiet helper for Sluice's own commands; returns stdout lines or throws with stderr. */
async function sh(
  ctx: HostStepContext,
  h: HostRollout,
  what: string,
  command: string,
  stdin?: string,
): Promise<string[]> {
  const out: string[] = [];
  const err: string[] = [];
  const result = await sessionOf(h).run(command, {
    timeoutMs: 5 * 60_000,
    signal: ctx.signal,
    ...(stdin !== undefined ? { stdin } : {}),
    onLine: (line, stream) => (stream === 'stdout' ? out : err).push(line),
  });
  if (result.aborted) throw new DeployFailure(`${h.host.name}: cancelled while ${what}`);
  if (result.timedOut) throw new DeployFailure(`${h.host.name}: ${what} timed out`);
  if (result.exitCode !== 0) {
    const detail = err.slice(-3).join(' / ') || result.lostExit || `exit code ${result.exitCode}`;
    throw new DeployFailure(`${h.host.name}: ${what} failed: ${detail}`);
  }
  return out;
}

/** Upload, verify and unpack the artifact into `releases/<id>`; learn the current release. */
export async function stageRelease(
  ctx: HostStepContext,
  h: HostRollout,
  tarball: string,
  sha256: string,
  /** Runs the upload when the rollout's limit on uploads lets it. */
  uploadSlot?: (work: () => Promise<void>) => Promise<void>,
): Promise<void> {
  const name = h.host.name;
  await sh(ctx, h, 'preparing the deploy directory', prepareCommand(h.paths));
  const remote = posix.join(h.paths.incoming, `${ctx.releaseId}.tar.gz`);
  try {
    await (uploadSlot ?? ((work) => work()))(() => sessionOf(h).upload(tarball, remote));
  } catch (error) {
    throw new DeployFailure(`${name}: uploading the artifact failed: ${errorMessage(error)}`, { cause: error });
  }
  const [line] = await sh(ctx, h, 'hashing the uploaded artifact', shellCommand(['sha256sum', '--', remote]));
  const digest = /^\\?([0-9a-f]{64})\s/.exec(line ?? '')?.[1];
  if (digest !== sha256) {
    throw new DeployFailure(
      `${name}: the artifact arrived corrupted: expected sha256 ${sha256}, got ${digest ?? line ?? 'nothing'}`,
    );
  }
  await sh(ctx, h, 'unpacking the release', unpackCommand(h.paths, ctx.releaseId, remote), formatReleaseApp(ctx.app));
  const [notLink] = await sh(ctx, h, 'looking at current', currentNotLinkCommand(h.paths));
  if (notLink === 'not-a-link') {
    throw new DeployFailure(
      `${name}: ${h.paths.current} is not a link to a release (a directory or file put there by hand?), so no deploy can switch it; no host was taken out of service: move it away, then deploy again`,
    );
  }
  const [current] = await sh(ctx, h, 'reading the current release', readCurrentCommand(h.paths));
  h.previous = parseCurrent(current ?? '');
  if (h.previous) {
    // Neither its stop hook nor a rollback could run in it: stop here, before anything is drained.
    const [present] = await sh(ctx, h, `looking for release ${h.previous}`, releasePresentCommand(h.paths, h.previous));
    if (present !== 'present') {
      throw new DeployFailure(
        `${name}: current points at releases/${h.previous}, which is not on the host (removed by hand?), so its stop hook cannot run and nothing could be rolled back to; no host was taken out of service: point current at a release that is there, then deploy again`,
      );
    }
    const kept = parseReleaseApp(
      (await sh(ctx, h, `reading the hooks of release ${h.previous}`, readReleaseAppCommand(h.paths, h.previous))).join(
        '\n',
      ),
    );
    if (!kept)
      ctx.log(
        name,
        `release ${h.previous} kept no hooks of its own; a rollback to it would use this deploy's`,
        'sluice',
      );
    h.previousApp = kept ?? ctx.app;
  }
  ctx.log(
    name,
    `release ${ctx.releaseId} staged${h.previous ? ` (current: ${h.previous})` : ' (first release)'}`,
    'sluice',
  );
}

/**
 * Run one lifecycle hook's commands (of `app`: this deploy's unless said) in a release directory, output in the log.
 */
export async function runHook(
  ctx: HostStepContext,
  h: HostRollout,
  hook: LifecycleHook,
  releaseId: string,
  app: AppSpec = ctx.app,
): Promise<void> {
  const name = h.host.name;
  const cwd = posix.join(h.paths.releases, releaseId);
  for (const command of app.hooks[hook] ?? []) {
    ctx.log(name, `${hook}: $ ${command}`, 'sluice');
    const result = await sessionOf(h).run(command, {
      cwd,
      env: { ...ctx.env, SLUICE_RELEASE: releaseId, SLUICE_RELEASE_DIR: cwd },
      timeoutMs: ctx.hookTimeoutMs,
      signal: ctx.signal,
      // A hook may start the app (`nohup app &`); only a timeout or a cancel stops what it leaves.
      leftovers: 'keep',
      onLine: (line, stream) => ctx.log(name, line, stream),
    });
    if (result.aborted) throw new DeployFailure(`${name}: cancelled during the ${hook} hook`);
    if (result.timedOut)
      throw new DeployFailure(
        `${name}: ${hook} hook "${command}" timed out after ${formatTimeLimit(ctx.hookTimeoutMs, result.limitMs)}`,
      );
    if (result.exitCode !== 0)
      throw new DeployFailure(`${name}: ${hook} hook "${command}" exited with code ${result.exitCode}`);
  }
}

/** Point `current` at a release (atomic rename). */
export async function switchTo(ctx: HostStepContext, h: HostRollout, releaseId: string): Promise<void> {
  await sh(ctx, h, `switching current to ${releaseId}`, switchCommand(h.paths, releaseId));
  ctx.log(h.host.name, `current → releases/${releaseId}`, 'sluice');
}

/**
 * Probe `app`'s health check (this deploy's unless said) until healthy or out of time; the failure names the check and
 * its last answer.
 */
export async function checkHealth(ctx: HostStepContext, h: HostRollout, app: AppSpec = ctx.app): Promise<void> {
  const health = app.health;
  if (!health) return;
  const name = h.host.name;
  const what = health.http ? `health check ${health.http}` : `health check "${health.command}"`;
  const deadline = Date.now() + health.timeoutMs;
  let last: string;
  let probes = 0;
  for (;;) {
    probes++;
    const remaining = Math.max(1, deadline - Date.now());
    const probeSeconds = Math.max(1, Math.min(5, Math.ceil(remaining / 1000)));
    const command = health.http ? httpProbeCommand(health.http, probeSeconds) : health.command!;
    const lines: string[] = [];
    const result = await sessionOf(h).run(command, {
      cwd: h.paths.current,
      env: ctx.env,
      timeoutMs: probeSeconds * 1000 + 1000,
      signal: ctx.signal,
      leftovers: 'keep',
      onLine: (line) => lines.push(line),
    });
    if (result.aborted) throw new DeployFailure(`${name}: cancelled during the ${what}`);
    if (result.exitCode === 0) {
      ctx.log(name, `healthy after ${probes} probe${probes === 1 ? '' : 's'}`, 'sluice');
      return;
    }
    last = lines.at(-1) ?? (result.timedOut ? 'no answer in time' : `exit code ${result.exitCode}`);
    if (Date.now() + health.intervalMs >= deadline) break;
    await ctx.sleep(health.intervalMs);
  }
  throw new DeployFailure(`${name}: ${what} failed for ${formatDuration(health.timeoutMs)} (last answer: ${last})`);
}
