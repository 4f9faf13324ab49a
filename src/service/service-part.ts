/**
 * The one lifecycle every part of the service has — the store, the
 * reporters, the runner, the HTTP server, the inbox, Slack, the timers —
 * so starting, waiting and stopping are loops over one list. Parts start in
 * the list's order and stop in reverse: each outlives what feeds it (the
 * reporters outlive the runner, which outlives the HTTP server and the
 * inbox), and the store, first in, goes last.
 */

/** How the service stops (see `RunningSluice.close`). */
export interface StopRequest {
  /** Cancel what runs here, with this reason, before it ends. */
  cancel?: string;
  /** A graceful stop: no action starts any more, and what runs has until `graceOver` to end. */
  interrupt?: { reason: string; graceMs: number };
  /** When the grace period is over (epoch ms); 0 without one. */
  graceOver: number;
}

export interface ServicePart {
  /** Begins its work, once the parts before it have. */
  start?(): void | Promise<void>;
  /** Resolves when nothing it took in is left to do. */
  idle?(): Promise<void>;
  /** Whether it has work in hand (taken since `idle` resolved, say). */
  readonly busy?: boolean;
  /** Ends its work, once the parts after it have. */
  stop?(request: StopRequest): void | Promise<void>;
}

export class ServiceParts {
  readonly #parts: readonly ServicePart[];
  readonly #announce: (request: StopRequest) => void;
  #started: ServicePart[] = [];
  #stopped: Promise<void> | undefined;

  /** `announce` hears of a stop before any part stops: what must end at once (timers, waits) ends there. */
  constructor(parts: readonly ServicePart[], announce: (request: StopRequest) => void) {
    this.#parts = parts;
    this.#announce = announce;
  }

  /**
   * Starts each part in order. One that fails stops those started before it (and those without a start), then the error
   * goes on.
   */
  async start(): Promise<void> {
    for (const part of this.#parts) {
      try {
        await part.start?.();
      } catch (error) {
        await this.stop({ graceOver: 0 }).catch(() => {});
        throw error;
      }
      this.#started.push(part);
    }
  }

  /** Waits in the order work flows, from what takes it in to what reports it, until no part has any left. */
  async idle(): Promise<void> {
    const flow = [...this.#parts].reverse();
    do {
      for (const part of flow) await part.idle?.();
    } while (flow.some((part) => part.busy));
  }

  /** Stops what started, in reverse order; asked again, the same stop. */
  stop(request: StopRequest): Promise<void> {
    this.#stopped ??= (async () => {
      this.#announce(request);
      for (const part of this.#started.reverse()) await part.stop?.(request);
    })();
    return this.#stopped;
  }
}
