/**
 * Group commit for the webhook inbox: deliveries that arrive while one
 * batch is being written go into the next, so a burst of webhooks costs a
 * few commits (a few disk syncs) instead of one each. Each delivery's reply
 * still waits until its own batch is on disk (PRODUCT G1).
 */
import type { NewDelivery, Store } from '../store/store.ts';

/** Enough rows per transaction to keep one commit short. */
const MAX_BATCH = 200;

export class DeliveryBatcher {
  readonly #store: Store;
  #queue: Array<{ delivery: NewDelivery; resolve: (isNew: boolean) => void; reject: (error: unknown) => void }> = [];
  #writing = false;

  constructor(store: Store) {
    this.#store = store;
  }

  /** Resolves once the delivery is stored: true when it was new. */
  record(delivery: NewDelivery): Promise<boolean> {
    return new Promise((resolve, reject) => {
      this.#queue.push({ delivery, resolve, reject });
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
