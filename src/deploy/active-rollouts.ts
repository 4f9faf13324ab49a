/**
 * The rollouts this process is carrying out right now, host by host, so a
 * process told to exit at once can say what it leaves behind: which hosts
 * are out of the load balancer and which release each one is on.
 */
import type { HostRollout } from './host-steps.ts';

interface Rollout {
  environment: string;
  releaseId: string;
  hosts: HostRollout[];
}

export class ActiveRollouts {
  readonly #rollouts = new Set<Rollout>();

  /** Follow a rollout's hosts (their state changes as it goes); call the result when it ends. */
  track(environment: string, releaseId: string, hosts: HostRollout[]): () => void {
    const rollout = { environment, releaseId, hosts };
    this.#rollouts.add(rollout);
    return () => this.#rollouts.delete(rollout);
  }

  /** One line per host that is not as the rollout found it: drained, or on the new release. */
  leftBehind(): string[] {
    const lines: string[] = [];
    for (const { environment, releaseId, hosts } of this.#rollouts) {
      for (const h of hosts) {
        if (!h.drained && !h.switched) continue;
        const release = h.switched
          ? `on the new release ${releaseId}${h.previous ? ` (it ran ${h.previous})` : ''}`
          : `on release ${h.previous ?? '(none)'}`;
        const balancer = h.drained ? 'drained from the load balancer (its app may be stopped)' : 'in service';
        lines.push(`${h.host.name} (${environment}): ${balancer}, ${release}`);
      }
    }
    return lines;
  }
}
