/**
 * The summaries a store built most recently, by execution id, each good for
 * the one version it was read at: a reader that has just read an execution's
 * version takes the summary only if it is of that version, and builds it
 * again otherwise. Versions rise with every change of an execution's state
 * (see `ExecutionSummary.version`), so a summary kept here is never served
 * for a state other than the one just read, whichever replica changed it.
 *
 * Bounded: the least recently used go first. Summaries are frozen when they
 * are kept, since every reader is handed the same objects.
 */
import type { ExecutionSummary } from './execution-store.ts';

export class SummaryCache {
  readonly #capacity: number;
  /** In order of use, the least recent first (a Map keeps insertion order). */
  readonly #summaries = new Map<string, ExecutionSummary>();

  constructor(capacity: number) {
    this.#capacity = capacity;
  }

  /** The summary of execution `id` at `version`, if kept; anything else is not served. */
  get(id: string, version: number): ExecutionSummary | undefined {
    const summary = this.#summaries.get(id);
    if (summary?.version !== version) return undefined;
    this.#summaries.delete(id);
    this.#summaries.set(id, summary);
    return summary;
  }

  /** Keeps `summary` (frozen, with everything in it) unless a newer version of it is kept. */
  keep(summary: ExecutionSummary): ExecutionSummary {
    const kept = this.#summaries.get(summary.id);
    if (kept && kept.version > summary.version) return freezeDeep(summary);
    this.#summaries.delete(summary.id);
    this.#summaries.set(summary.id, freezeDeep(summary));
    if (this.#summaries.size > this.#capacity) this.#summaries.delete(this.#summaries.keys().next().value!);
    return summary;
  }

  get size(): number {
    return this.#summaries.size;
  }
}

/** Freezes `value` and everything in it (a summary is plain data: objects, arrays, strings and numbers). */
function freezeDeep<T>(value: T): T {
  if (typeof value !== 'object' || value === null) return value;
  Object.freeze(value);
  // Looping over the items and keys rather than Object.values halves the cost on a summary's definition.
  if (Array.isArray(value)) for (const inner of value) freezeDeep(inner);
  else for (const key in value) freezeDeep((value as Record<string, unknown>)[key]);
  return value;
}
