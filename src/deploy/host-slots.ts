/**
 * How many hosts a rollout works on at once (the operator's
 * `ssh.max_sessions`), whatever the number of hosts or the batch size: a
 * host's session is opened when one of its steps starts and, once the step
 * is done, kept for the next step on the same host until another host needs
 * its place; the one left unused longest is closed first. A place is given
 * to a new host only once the session it held is closed, so no more hosts
 * than the limit have a session open at once. Also the limit on uploads
 * (`ssh.max_uploads`), which take the most bandwidth and CPU: a host uploads
 * while it holds its place, and an upload with the OpenSSH client is a
 * connection of its own, so the hosts see at most max_sessions plus
 * max_uploads connections from a rollout, from at most max_sessions hosts.
 */
import type { ExecSession, HostRef } from '../executor/executor.ts';

/** The hosts a rollout may hold a session on at once, and uploads at once, unless the operator says otherwise. */
export const DEFAULT_MAX_SESSIONS = 8;
export const DEFAULT_MAX_UPLOADS = 8;

/** What a host of a rollout needs here: the host, and its session while it holds a place. */
export interface SlotHolder {
  readonly host: HostRef;
  session?: ExecSession | undefined;
}

interface Place {
  holder: SlotHolder;
  busy: boolean;
}

export class HostSlots {
  readonly #limit: number;
  readonly #open: (host: HostRef, signal?: AbortSignal) => Promise<ExecSession>;
  /** The places taken, oldest use first (a Map keeps insertion order; a use moves its place to the end). */
  readonly #places = new Map<SlotHolder, Place>();
  readonly #waiting: (() => void)[] = [];
  #closed = false;

  constructor(limit: number, open: (host: HostRef, signal?: AbortSignal) => Promise<ExecSession>) {
    if (!(Number.isInteger(limit) && limit >= 1))
      throw new RangeError(`a session limit is a whole number ≥ 1, not ${limit}`);
    this.#limit = limit;
    this.#open = open;
  }

  /** Runs `work` with a session open on the holder's host, waiting for a place first when every one is in use. */
  async use<T>(holder: SlotHolder, work: (session: ExecSession) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const place = await this.#take(holder, signal);
    try {
      return await work(holder.session!);
    } finally {
      place.busy = false;
      this.#wake();
    }
  }

  /** Inside `use`: the holder's session lost its connection; a fresh one takes its place. */
  async reopen(holder: SlotHolder, signal?: AbortSignal): Promise<ExecSession> {
    const stale = holder.session;
    holder.session = undefined;
    await stale?.close().catch(() => {});
    holder.session = await this.#open(holder.host, signal);
    return holder.session;
  }

  /** Closes every session held; a use after this fails. */
  async closeAll(): Promise<void> {
    this.#closed = true;
    const places = [...this.#places.values()];
    this.#places.clear();
    await Promise.allSettled(places.map((p) => p.holder.session?.close()));
    for (const p of places) p.holder.session = undefined;
    for (const wake of this.#waiting.splice(0)) wake();
  }

  async #take(holder: SlotHolder, signal?: AbortSignal): Promise<Place> {
    for (;;) {
      // A step that outlives its rollout (a bug): the rollout's own outcome is decided already.
      if (this.#closed) throw new Error(`the rollout is over: no more sessions are opened (${holder.host.name})`);
      signal?.throwIfAborted();
      const own = this.#places.get(holder);
      if (own && !own.busy) {
        own.busy = true;
        this.#places.delete(holder);
        this.#places.set(holder, own);
        // A reopen that failed left the place without a session.
        if (!holder.session) await this.#fill(own, signal);
        return own;
      }
      if (!own) {
        const idle = [...this.#places.values()].find((p) => !p.busy);
        if (this.#places.size < this.#limit || idle) {
          const place: Place = { holder, busy: true };
          if (this.#places.size >= this.#limit && idle) {
            // The place goes to this host at once; its session opens once the other's is closed.
            this.#places.delete(idle.holder);
            this.#places.set(holder, place);
            const evicted = idle.holder.session;
            idle.holder.session = undefined;
            await evicted?.close().catch(() => {});
          } else {
            this.#places.set(holder, place);
          }
          await this.#fill(place, signal);
          return place;
        }
      }
      await new Promise<void>((resolve) => {
        const onAbort = () => resolve();
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#waiting.push(() => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        });
      });
    }
  }

  async #fill(place: Place, signal?: AbortSignal): Promise<void> {
    try {
      place.holder.session = await this.#open(place.holder.host, signal);
    } catch (error) {
      this.#places.delete(place.holder);
      this.#wake();
      throw error;
    }
  }

  #wake(): void {
    // Every waiter looks again: the one whose host just became idle may be any of them.
    for (const wake of this.#waiting.splice(0)) wake();
  }
}

/** At most `limit` of the calls run at once; the others wait their turn, first come first served. */
export function concurrencyLimit(limit: number): <T>(work: () => Promise<T>) => Promise<T> {
  let running = 0;
  const queue: (() => void)[] = [];
  return async <T>(work: () => Promise<T>): Promise<T> => {
    if (running >= limit) await new Promise<void>((resolve) => queue.push(resolve));
    else running++;
    try {
      return await work();
    } finally {
      const next = queue.shift();
      if (next) next();
      else running--;
    }
  };
}
