/**
 * One connection per host, shared by every session an executor opens there
 * and closed when the last of them closes. A connection that was lost is
 * dropped, so the next session connects again.
 */
import type { SshConnection, SshTarget } from './ssh-connection.ts';

interface PoolEntry {
  connection: Promise<SshConnection>;
  /** Set once connected: release() must not count down a newer entry. */
  resolved?: SshConnection;
  users: number;
}

export class ConnectionPool {
  readonly #connect: (target: SshTarget, signal?: AbortSignal) => Promise<SshConnection>;
  readonly #entries = new Map<string, PoolEntry>();

  constructor(connect: (target: SshTarget, signal?: AbortSignal) => Promise<SshConnection>) {
    this.#connect = connect;
  }

  /** A connection to the target; every acquire needs one release. */
  async acquire(target: SshTarget, signal?: AbortSignal): Promise<SshConnection> {
    const key = keyOf(target);
    let entry = this.#entries.get(key);
    if (entry && (await settledLost(entry.connection))) {
      if (this.#entries.get(key) === entry) this.#entries.delete(key);
      entry = this.#entries.get(key);
    }
    if (!entry) {
      const created: PoolEntry = { connection: this.#connect(target, signal), users: 0 };
      entry = created;
      this.#entries.set(key, created);
      // A failed connect is forgotten at once, so the next acquire retries.
      created.connection.then(
        (connection) => (created.resolved = connection),
        () => {
          if (this.#entries.get(key) === created) this.#entries.delete(key);
        },
      );
    }
    entry.users += 1;
    try {
      return await entry.connection;
    } catch (error) {
      entry.users -= 1;
      throw error;
    }
  }

  /** Give a connection back; the last user closes it (resolved once it is closed). */
  release(connection: SshConnection): Promise<void> {
    const key = keyOf(connection.target);
    const entry = this.#entries.get(key);
    // Its entry was dropped when it was lost; a newer connection took its place.
    if (entry?.resolved !== connection) return connection.close();
    entry.users -= 1;
    if (entry.users > 0) return Promise.resolve();
    this.#entries.delete(key);
    return connection.close();
  }
}

function keyOf(target: SshTarget): string {
  return `${target.user}@${target.address}:${target.port}`;
}

async function settledLost(connection: Promise<SshConnection>): Promise<boolean> {
  try {
    return (await connection).closed;
  } catch {
    return true;
  }
}
