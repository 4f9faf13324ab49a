/**
 * While an action runs, the store knows what it runs where (PRODUCT R3): a
 * record per session (host and workspace) and per command (host, process
 * group and the mark in its environment), each gone once it ends. Should
 * the Sluice process die (kill -9, a lost machine) or the connection drop,
 * the records left are what recovery stops before the action runs again
 * (see stopOrphans).
 */
import { randomBytes } from 'node:crypto';
import type { ExecSession, Executor, HostRef, RunOptions, RunResult } from '../executor/executor.ts';
import type { RefStore, ActionRef } from '../store/store.ts';

export const LIVE_COMMAND = 'live_command';
export const LIVE_WORKSPACE = 'live_workspace';

export interface LiveCommand {
  ref: ActionRef;
  host: HostRef;
  mark: string;
  /** Unset until the host said it. */
  pgid?: number;
  /** When this process learnt the group id (the command ran by then), by its clock. */
  startedAt?: number;
  /** The time limit the host itself stops the command at, counted from its start; unset when it holds none. */
  hostLimitMs?: number;
  /** Set by recovery while the host cannot be reached: the record stays, for the next try. */
  unreachable?: Unreachable;
}

/** A host recovery could not reach, for the records it keeps. */
export interface Unreachable {
  /** When recovery first failed to reach it. */
  since: number;
  /** When the periodic sweep tries it again (backing off). */
  nextTryAt: number;
  tries: number;
  /** Why, as the last try said it. */
  error: string;
}

export interface LiveWorkspace {
  ref: ActionRef;
  host: HostRef;
  workspace: string;
  unreachable?: Unreachable;
}

declare module '../store/ref-store.ts' {
  interface RefKinds {
    live_command: LiveCommand;
    live_workspace: LiveWorkspace;
  }
}

/** Keys of an attempt's records start with this: they are pruned with the execution. */
export function liveKeyPrefix(ref: ActionRef): string {
  return `${ref.executionId}/${ref.stage}/${ref.action}/${ref.attempt}/`;
}

/** Executors whose sessions record, for one attempt of an action, what they run. */
export function trackCommands(
  executorFor: (host: HostRef) => Executor,
  store: RefStore,
  ref: ActionRef,
): (host: HostRef) => Executor {
  return (host) => {
    const executor = executorFor(host);
    return {
      async open(target, options) {
        const session = await executor.open(target, options);
        const key = `${liveKeyPrefix(ref)}ws-${randomBytes(8).toString('hex')}`;
        // A record the store does not take (a full disk) leaves only recovery short of it: the action goes on.
        await store
          .putRef(
            LIVE_WORKSPACE,
            key,
            { ref, host: target, workspace: session.workspace } satisfies LiveWorkspace,
            Date.now(),
          )
          .catch(() => {});
        return new TrackedSession(session, store, ref, key);
      },
    };
  };
}

class TrackedSession implements ExecSession {
  readonly #session: ExecSession;
  readonly #store: RefStore;
  readonly #ref: ActionRef;
  readonly #key: string;

  constructor(session: ExecSession, store: RefStore, ref: ActionRef, key: string) {
    this.#session = session;
    this.#store = store;
    this.#ref = ref;
    this.#key = key;
  }

  get host(): HostRef {
    return this.#session.host;
  }

  get workspace(): string {
    return this.#session.workspace;
  }

  async run(command: string, options: RunOptions): Promise<RunResult> {
    const mark = randomBytes(8).toString('hex');
    const key = `${liveKeyPrefix(this.#ref)}${mark}`;
    const record: LiveCommand = { ref: this.#ref, host: this.#session.host, mark };
    const now = Date.now();
    // Before it starts: a process that dies before the group id is known still leaves the mark to find it by.
    let recorded = this.#store.putRef(LIVE_COMMAND, key, record, now).catch(() => {});
    await recorded;
    try {
      return await this.#session.run(command, {
        ...options,
        mark,
        onStarted: (pgid, hostLimitMs) => {
          const startedAt = Date.now();
          const started: LiveCommand = {
            ...record,
            pgid,
            startedAt,
            ...(hostLimitMs !== undefined && { hostLimitMs }),
          };
          recorded = recorded.then(() => this.#store.putRef(LIVE_COMMAND, key, started, startedAt)).catch(() => {});
          options.onStarted?.(pgid, hostLimitMs);
        },
      });
    } finally {
      await recorded;
      await this.#store.deleteRef(LIVE_COMMAND, key).catch(() => {});
    }
  }

  upload(localPath: string, remotePath: string): Promise<void> {
    return this.#session.upload(localPath, remotePath);
  }

  download(remotePath: string, localPath: string): Promise<void> {
    return this.#session.download(remotePath, localPath);
  }

  async close(): Promise<void> {
    await this.#session.close();
    await this.#store.deleteRef(LIVE_WORKSPACE, this.#key).catch(() => {});
  }
}
