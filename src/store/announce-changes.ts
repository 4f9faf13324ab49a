/**
 * News of executions within one process: who follows an execution (an open
 * page's event stream) is woken when this process stores a log line or a
 * state change of it, instead of asking the store every half second whether
 * anything happened. What another process stores (a replica on the same
 * PostgreSQL) is not heard here; its followers look for that on a slow poll.
 */
import type { ActionRef, EngineStep, LogLine, Store } from './store.ts';

export class ExecutionNews {
  readonly #followers = new Map<string, Set<() => void>>();

  /** Calls `wake` after each change to the execution this process stores, until the returned function is called. */
  follow(executionId: string, wake: () => void): () => void {
    let followers = this.#followers.get(executionId);
    if (!followers) this.#followers.set(executionId, (followers = new Set()));
    // A wrapper of its own, so following twice with one function is two followers.
    const entry = () => wake();
    followers.add(entry);
    return () => {
      followers.delete(entry);
      if (followers.size === 0 && this.#followers.get(executionId) === followers) this.#followers.delete(executionId);
    };
  }

  /** Wakes the execution's followers: something of it was stored. */
  tell(executionId: string): void {
    for (const wake of [...(this.#followers.get(executionId) ?? [])]) wake();
  }

  /** How many follow the execution now. */
  followers(executionId: string): number {
    return this.#followers.get(executionId)?.size ?? 0;
  }
}

/**
 * `store`, telling `news` of every log line appended, every state change
 * saved and every execution deleted, once the write is committed (a
 * follower that reads then finds it).
 */
export function announceChanges(store: Store, news: ExecutionNews): Store {
  const appendLog = async (ref: ActionRef, lines: LogLine[]) => {
    await store.appendLog(ref, lines);
    if (lines.length > 0) news.tell(ref.executionId);
  };
  const updatePipeline: Store['updatePipeline'] = async (pipelineId, options, step) => {
    let changed: string[] = [];
    const commands = await store.updatePipeline(pipelineId, options, (snapshot) => {
      const result: EngineStep = step(snapshot);
      changed = [...new Set(result.changes.map((c) => c.executionId))];
      return result;
    });
    for (const id of changed) news.tell(id);
    return commands;
  };
  const deleteExecutions = async (ids: string[]) => {
    const deleted = await store.deleteExecutions(ids);
    for (const id of ids) news.tell(id);
    return deleted;
  };
  const own: Partial<Store> = { appendLog, updatePipeline, deleteExecutions };
  return new Proxy(store, {
    get(target, key) {
      if (Object.hasOwn(own, key)) return own[key as keyof Store];
      const value: unknown = Reflect.get(target, key, target);
      // The store's methods use its private fields: they run on the store itself, not on the proxy.
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(target) : value;
    },
  });
}
