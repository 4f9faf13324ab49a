/**
 * Group commit for the webhook inbox: deliveries that arrive while one
 * batch is being written go into the next, so a burst of webhooks costs a
 * few commits (a few disk syncs) instead of one each. Each delivery's reply
 * still waits until its own batch is on disk (PRODUCT G1).
 */
import type { InboxStore, NewDelivery } from '../store/store.ts';

/** Enough rows per transaction to keep one commit short. */
const MAX_BATCH = 200;

interface Waiting {
  delivery: NewDelivery;
  resolve: (isNew: boolean) => void;
  reject: (error: unknown) => void;
}

export class DeliveryBatcher {
  readonly #store: InboxStore;
  #queue: Waiting[] = [];
  #writing = false;

  constructor(store: InboxStore) {
    this.#store = store;
  }

  /**
   * Resolves once the delivery is stored: true when it was new. An abort
   * while the delivery still waits for its batch takes it out of the queue
   * (it is then never stored); once its batch is being written, the write
   * goes on and the promise settles with it.
   */
  record(delivery: NewDelivery, signal?: AbortSignal): Promise<boolean> {
    return new Promise((resolve, reject) => {
      const waiting: Waiting = { delivery, resolve, reject };
      signal?.addEventListener(
        'abort',
        () => {
          const at = this.#queue.indexOf(waiting);
          if (at === -1) return;
          this.#queue.splice(at, 1);
          reject(signal.reason);
        },
        { once: true },
      );
      this.#queue.push(waiting);
      if (!this.#writing) {
        this.#writing = true;
        // Let the deliveries arriving in this turn of the event loop join the first batch.
        setImmediate(() => void this.#write());
      }
    });
  }

  async #write(): Promise<void> {
    while (this.#queue.length > 0) {
      const batch = this.#queue.splice(0, MAX_BATCH);
      try {
        const results = await this.#store.recordDeliveries(batch.map((b) => b.delivery));
        batch.forEach((b, i) => b.resolve(results[i] ?? false));
      } catch (error) {
        for (const b of batch) b.reject(error);
      }
    }
    this.#writing = false;
  }
}
