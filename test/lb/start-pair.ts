/**
 * The seed's setup on loopback: two hosts running v1 of the fixture app
 * behind HAProxy, both already seen UP by its health checks.
 */
import { freeLoopbackPort } from '../helpers/free-port.ts';
import { startHaproxy, type RunningHaproxy } from '../helpers/haproxy.ts';
import { makeLocalAppHost, type LocalAppHost } from './local-app-host.ts';

export interface Pair {
  hosts: [LocalAppHost, LocalAppHost];
  lb: RunningHaproxy;
  /** The load balancer's front door. */
  url: string;
  /** Stops HAProxy and both apps, removes their directories. */
  stop(): Promise<void>;
}

/** Starts host1 and host2 (v1) and HAProxy in front of them. */
export async function startPair(options: { startupDelayMs?: number } = {}): Promise<Pair> {
  const hosts: [LocalAppHost, LocalAppHost] = [
    makeLocalAppHost({ name: 'host1', port: await freeLoopbackPort(), ...options }),
    makeLocalAppHost({ name: 'host2', port: await freeLoopbackPort(), ...options }),
  ];
  let lb: RunningHaproxy | undefined;
  const stop = async () => {
    await lb?.stop();
    await Promise.all(hosts.map((host) => host.remove()));
  };
  try {
    await Promise.all(hosts.map((host) => host.start()));
    lb = await startHaproxy({ backends: hosts });
    await Promise.all(hosts.map((host) => lb?.waitUntilUp(host.name)));
    return { hosts, lb, url: `http://127.0.0.1:${lb.port}/`, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}
