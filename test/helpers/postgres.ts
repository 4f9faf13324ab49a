/**
 * A real PostgreSQL for tests. With SLUICE_TEST_DATABASE_URL set, databases
 * are created (and dropped) on that server; otherwise a throwaway cluster is
 * started from the installed server binaries on a free loopback port, and
 * removed on `stop`. A missing PostgreSQL is an error, never a skip.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, chownSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freeLoopbackPort } from './free-port.ts';

const run = promisify(execFile);

export interface TestPostgres {
  /** A fresh, empty database of its own. */
  url: string;
  /** Another fresh, empty database on the same server (dropped or removed by `stop`). */
  freshDatabase(): Promise<string>;
  /**
   * Shuts the server down (fast: open connections are ended), as a restart or an outage does; only for a throwaway
   * cluster.
   */
  halt(): Promise<void>;
  /** Starts a halted server again on the same port and data. */
  resume(): Promise<void>;
  stop(): Promise<void>;
}

/** A server with one fresh database; call `stop` when done. */
export async function startPostgres(): Promise<TestPostgres> {
  const external = process.env.SLUICE_TEST_DATABASE_URL;
  const server = external ? useServer(external) : await startCluster();
  const created: string[] = [];
  const freshDatabase = async () => {
    const name = `sluice_test_${process.pid}_${created.length}_${Math.random().toString(36).slice(2, 8)}`;
    await server.admin(`CREATE DATABASE ${name}`);
    created.push(name);
    return server.urlOf(name);
  };
  try {
    const url = await freshDatabase();
    const stop = async () => {
      if (external) for (const name of created) await server.admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await server.stop();
    };
    return { url, freshDatabase, halt: server.halt, resume: server.resume, stop };
  } catch (error) {
    await server.stop();
    throw error;
  }
}

interface Server {
  urlOf(database: string): string;
  admin(sql: string): Promise<void>;
  halt(): Promise<void>;
  resume(): Promise<void>;
  stop(): Promise<void>;
}

function useServer(url: string): Server {
  const urlOf = (database: string) => {
    const parsed = new URL(url);
    parsed.pathname = `/${database}`;
    return parsed.toString();
  };
  const refuse = async () => {
    throw new Error(
      'SLUICE_TEST_DATABASE_URL points at a server these tests do not own, so they cannot stop and start it: unset it to use a throwaway cluster.',
    );
  };
  return { urlOf, admin: (sql) => runAdmin(url, sql), halt: refuse, resume: refuse, stop: async () => {} };
}

async function startCluster(): Promise<Server> {
  const bin = findServerBinaries();
  const dir = mkdtempSync(join(tmpdir(), 'sluice-pg-'));
  const asRoot = process.getuid?.() === 0;
  // The server refuses to run as root: the cluster belongs to the postgres user.
  if (asRoot) chownSync(dir, await idOf('-u'), await idOf('-g'));
  const as = (command: string, args: string[]) =>
    asRoot ? run('runuser', ['-u', 'postgres', '--', join(bin, command), ...args]) : run(join(bin, command), args);
  const data = join(dir, 'data');
  const stop = async () => {
    await as('pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => {});
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await as('initdb', ['-D', data, '-A', 'trust', '-U', 'postgres', '-E', 'UTF8', '--locale=C', '--no-sync']);
    const port = await freeLoopbackPort();
    // Durability of the test server is not under test; fsync off keeps the suite quick.
    const settings = `-c listen_addresses=127.0.0.1 -p ${port} -k ${dir} -c fsync=off -c full_page_writes=off`;
    const start = async () => {
      await as('pg_ctl', ['-D', data, '-l', join(dir, 'server.log'), '-o', settings, '-w', '-t', '60', 'start']);
    };
    await start();
    const urlOf = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
    const halt = async () => {
      await as('pg_ctl', ['-D', data, '-m', 'fast', '-w', 'stop']);
    };
    return { urlOf, admin: (sql) => runAdmin(urlOf('postgres'), sql), halt, resume: start, stop };
  } catch (error) {
    await stop();
    throw new Error(`Could not start a throwaway PostgreSQL cluster in ${dir}: ${(error as Error).message}`, {
      cause: error,
    });
  }
}

function findServerBinaries(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).sort((a, b) => Number(b) - Number(a)) : [];
  const bin = versions.map((v) => join(root, v, 'bin')).find((dir) => existsSync(join(dir, 'initdb')));
  if (!bin) {
    throw new Error(
      'PostgreSQL is not installed, and the store tests need a real one: install the server with ' +
        '`apt-get install postgresql`, or set SLUICE_TEST_DATABASE_URL to a server where the tests may create databases.',
    );
  }
  return bin;
}

async function idOf(flag: '-u' | '-g'): Promise<number> {
  const { stdout } = await run('id', [flag, 'postgres']);
  return Number(stdout.trim());
}

async function runAdmin(url: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}
