/**
 * Drain and undrain through HAProxy's runtime API (the `stats socket` with
 * `level admin`), for environments configured with `load_balancer.haproxy`.
 * Unlike a fire-and-forget `echo … | socat`, each step waits for its effect:
 * a drain returns once the server holds no session, an undrain once
 * HAProxy's own health check sees the server UP — so the next host is never
 * taken out while the previous one is not yet back in service. Its errors
 * are plain: the rollout says them inside a `DeployFailure` that names the
 * host and the step.
 */
import { connect } from 'node:net';
import { formatDuration } from '../format-duration.ts';

export interface HaproxyTarget {
  /** Path of the runtime API socket. */
  socket: string;
  /** The backend holding the environment's servers; server names are host names. */
  backend: string;
  /** How long a drain or undrain may wait for its effect. */
  timeoutMs: number;
}

/** One row of `show stat`. */
export interface HaproxyStat {
  /** `backend/server`. */
  name: string;
  /** `UP`, `DOWN`, `DRAIN`, `MAINT`, or a transition such as `UP 1/3`. */
  status: string;
  /** Sessions open now (`scur`). */
  currentSessions: number;
  /** Sessions since start (`stot`). */
  totalSessions: number;
  /** Last health check (`L7OK`, `L4CON`, …). */
  checkStatus: string;
  fields: Record<string, string>;
}

/** Sends one command; HAProxy answers and closes the connection. */
export function haproxyCommand(socketPath: string, line: string, timeoutMs = 5000): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(socketPath);
    let answer = '';
    socket.setTimeout(timeoutMs, () =>
      socket.destroy(
        new Error(
          `HAProxy's runtime API at ${socketPath} did not answer "${line}" within ${formatDuration(timeoutMs)}`,
        ),
      ),
    );
    socket.on('connect', () => socket.write(`${line}\n`));
    socket.on('data', (chunk) => (answer += chunk.toString()));
    socket.on('end', () => resolve(answer));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      reject(
        new Error(
          `cannot reach HAProxy's runtime API at ${socketPath} (${error.code ?? error.message}); check stats socket … level admin in haproxy.cfg`,
        ),
      ),
    );
  });
}

/** `show stat` is CSV under a `# pxname,svname,…` header. */
export function parseStats(csv: string): HaproxyStat[] {
  const [header, ...rows] = csv.split('\n').filter((line) => line.trim() !== '');
  if (!header?.startsWith('# ')) throw new Error(`unexpected answer to "show stat": ${csv.slice(0, 200)}`);
  const columns = header.slice(2).split(',');
  return rows.map((row) => {
    const values = row.split(',');
    const fields = Object.fromEntries(columns.map((column, index) => [column, values[index] ?? '']));
    return {
      name: `${fields.pxname}/${fields.svname}`,
      status: fields.status ?? '',
      currentSessions: Number(fields.scur || 0),
      totalSessions: Number(fields.stot || 0),
      checkStatus: fields.check_status ?? '',
      fields,
    };
  });
}

export async function serverStat(target: HaproxyTarget, host: string): Promise<HaproxyStat> {
  const name = `${target.backend}/${host}`;
  const row = parseStats(await haproxyCommand(target.socket, 'show stat')).find((stat) => stat.name === name);
  if (!row)
    throw new Error(
      `HAProxy has no server ${name}; name the servers of backend ${target.backend} after the environment's hosts`,
    );
  return row;
}

async function setState(target: HaproxyTarget, host: string, state: 'ready' | 'drain'): Promise<void> {
  const answer = (await haproxyCommand(target.socket, `set server ${target.backend}/${host} state ${state}`)).trim();
  if (answer !== '')
    throw new Error(`HAProxy refused "set server ${target.backend}/${host} state ${state}": ${answer}`);
}

/** No new requests to the host; returns once those in flight are done. */
export async function haproxyDrain(target: HaproxyTarget, host: string): Promise<void> {
  await setState(target, host, 'drain');
  await waitFor(
    target,
    host,
    (stat) => stat.currentSessions === 0 && Number(stat.fields.qcur || 0) === 0,
    (stat) => `still had ${stat.currentSessions} open sessions`,
  );
}

/** Requests to the host again; returns once HAProxy's health check sees it UP. */
export async function haproxyUndrain(target: HaproxyTarget, host: string): Promise<void> {
  await setState(target, host, 'ready');
  // Exactly UP with a passed check: "UP 1/3" means checks are failing already.
  await waitFor(
    target,
    host,
    (stat) =>
      stat.status === 'UP' &&
      (stat.checkStatus === '' ||
        stat.checkStatus.startsWith('L7OK') ||
        stat.checkStatus.startsWith('L4OK') ||
        stat.checkStatus.startsWith('L6OK')),
    (stat) => `was ${stat.status} (last check ${stat.checkStatus || 'none'})`,
  );
}

async function waitFor(
  target: HaproxyTarget,
  host: string,
  done: (stat: HaproxyStat) => boolean,
  describe: (stat: HaproxyStat) => string,
): Promise<void> {
  const deadline = Date.now() + target.timeoutMs;
  for (;;) {
    const stat = await serverStat(target, host);
    if (done(stat)) return;
    if (Date.now() >= deadline)
      throw new Error(`${target.backend}/${host} ${describe(stat)} after ${formatDuration(target.timeoutMs)}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}
