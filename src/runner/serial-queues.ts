/**
 * Work kept in order per key: what is queued for one key runs after what
 * was queued for it before, one at a time; different keys run side by side.
 * The reporters use it so the updates of one execution never overtake each
 * other. A failure is handed to `onError` and does not stop the queue.
 */
export class SerialQueues {
  readonly #queues = new Map<string, Promise<void>>();
  readonly #onError: (error: unknown) => void;

  constructor(onError: (error: unknown) => void = () => {}) {
    this.#onError = onError;
  }

  add(key: string, work: () => Promise<void>): void {
    const previous = this.#queues.get(key) ?? Promise.resolve();
    const next = previous
      .then(work)
      .catch((error: unknown) => this.#onError(error))
      .finally(() => {
        if (this.#queues.get(key) === next) this.#queues.delete(key);
      });
    this.#queues.set(key, next);
  }

  get busy(): boolean {
    return this.#queues.size > 0;
  }

  /** Resolves when everything queued so far has run. */
  async idle(): Promise<void> {
    while (this.#queues.size > 0) await Promise.allSettled([...this.#queues.values()]);
  }
}
