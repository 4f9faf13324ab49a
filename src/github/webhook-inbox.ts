/**
 * The durable inbox (PRODUCT G1): webhooks are stored before GitHub gets its
 * reply, and handled from the store, oldest first, one at a time. A crash
 * loses nothing: a delivery being handled is taken again once its lease runs
 * out, and handlers are idempotent (an execution per delivery, ids kept).
 * A handler that fails (GitHub unreachable) is tried again later.
 */
import type { InboxStore, Delivery } from '../store/store.ts';
import { errorMessage } from '../sluice-error.ts';

/** A delivery whose handler keeps failing is tried this often, 10 s, 20 s, 40 s … apart. */
const MAX_ATTEMPTS = 6;
const RETRY_AFTER_MS = 10_000;

/**
 * How long a claimed delivery stays with the process handling it. The claim
 * is not renewed, so this is longer than any handler takes (a push makes an
 * execution and its check runs through GitHub's API); past it, another
 * process, or this one started again after a crash, takes the delivery.
 */
const DEFAULT_LEASE_MS = 5 * 60_000;

export interface WebhookInboxOptions {
  store: InboxStore;
  /** Handles one delivery; returns a sentence recorded with it. Throwing records a failure. */
  handle(delivery: Delivery): Promise<string>;
  /** This process, as the holder of claims. */
  owner: string;
  /** How long a claimed delivery stays with this process (default DEFAULT_LEASE_MS, 5 min). */
  leaseMs?: number;
  /** How often to look for deliveries stored by others, left by a crash or due for another try. */
  pollMs?: number;
  /** The wait before the first retry of a failed delivery; it doubles with each. */
  retryAfterMs?: number;
  clock?: () => number;
  onError?(error: unknown, delivery: Delivery): void;
  /** A delivery was handled: what its handler said of it. */
  onHandled?(delivery: Delivery, note: string): void;
  /** The store itself failed; the inbox goes on at its next wake or poll. */
  onStoreError?(error: unknown): void;
}

export class WebhookInbox {
  readonly #options: WebhookInboxOptions;
  #draining: Promise<void> | undefined;
  #again = false;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Claimed deliveries whose end could not be recorded: id → why. */
  readonly #unrecorded = new Map<string, string>();

  constructor(options: WebhookInboxOptions) {
    this.#options = options;
  }

  /** Handle what is waiting now, then look again every `pollMs`. */
  start(): void {
    this.wake();
    this.#timer = setInterval(() => this.wake(), this.#options.pollMs ?? 5000);
    this.#timer.unref();
  }

  /** A delivery was stored: handle it soon. */
  wake(): void {
    if (this.#stopped) return;
    if (this.#draining) {
      this.#again = true;
      return;
    }
    this.#draining = this.#drain().finally(() => {
      this.#draining = undefined;
      if (this.#again) {
        this.#again = false;
        this.wake();
      }
    });
  }

  get busy(): boolean {
    return this.#draining !== undefined;
  }

  /** Resolves when nothing stored so far is waiting. */
  async idle(): Promise<void> {
    while (this.#draining) await this.#draining;
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    clearInterval(this.#timer);
    await this.#draining;
  }

  /**
   * Never rejects: a store that fails (a full disk, a database restarting)
   * ends this round, reported to `onStoreError`; the next wake or poll tries
   * again, and a delivery whose end could not be recorded is released
   * first, to be handled again (handlers are idempotent).
   */
  async #drain(): Promise<void> {
    try {
      await this.#drainStored();
    } catch (error) {
      this.#options.onStoreError?.(error);
    }
  }

  async #drainStored(): Promise<void> {
    const { store, owner } = this.#options;
    const clock = this.#options.clock ?? Date.now;
    const leaseMs = this.#options.leaseMs ?? DEFAULT_LEASE_MS;
    // Deliveries whose end the store did not take go back at once, not when their lease runs out.
    for (const [id, why] of this.#unrecorded) {
      // Due a millisecond ago: a claim takes leases that ran out before its own time, and the claim below may come in
      // the same millisecond.
      await store.postponeDelivery(id, why, clock() - 1);
      this.#unrecorded.delete(id);
    }
    for (;;) {
      if (this.#stopped) return;
      const delivery = await store.claimDelivery(owner, clock(), leaseMs);
      if (!delivery) return;
      try {
        await this.#handleOne(delivery);
      } catch (error) {
        this.#unrecorded.set(
          delivery.id,
          `the store failed as it was handled, so it is handled again: ${errorMessage(error)}`,
        );
        throw error;
      }
    }
  }

  async #handleOne(delivery: Delivery): Promise<void> {
    const { store } = this.#options;
    const clock = this.#options.clock ?? Date.now;
    try {
      const note = await this.#options.handle(delivery);
      await store.finishDelivery(delivery.id, 'done', note, clock());
      this.#options.onHandled?.(delivery, note);
    } catch (error) {
      this.#options.onError?.(error, delivery);
      const why = errorMessage(error);
      // GitHub may be down for a while: try again later, a few times, before giving up.
      if (delivery.attempts < MAX_ATTEMPTS)
        await store.postponeDelivery(
          delivery.id,
          why,
          clock() + (this.#options.retryAfterMs ?? RETRY_AFTER_MS) * 2 ** (delivery.attempts - 1),
        );
      else await store.finishDelivery(delivery.id, 'failed', why, clock());
    }
  }
}
