/**
 * Split an environment's hosts into rolling batches (PRODUCT S3): `batch`
 * hosts at a time (a count or a percentage), never taking so many out that
 * fewer than `min_healthy` stay in service. Pure.
 */
import { SluiceError } from '../sluice-error.ts';

export type Amount = number | `${number}%`;

export class RolloutPlanError extends SluiceError<'ROLLOUT_PLAN'> {
  constructor(message: string) {
    super('ROLLOUT_PLAN', message);
  }
}

/** A count, or a percentage of `total` (rounded up for batches, up for the healthy minimum too: safe either way). */
export function resolveAmount(amount: Amount, total: number): number {
  if (typeof amount === 'number') return amount;
  const percent = Number(amount.slice(0, -1));
  return Math.ceil((percent / 100) * total);
}

export function planBatches<T>(hosts: T[], options: { batch: Amount; minHealthy: Amount; environment: string }): T[][] {
  const total = hosts.length;
  if (total === 0) throw new RolloutPlanError(`environment "${options.environment}" has no hosts`);
  const wanted = Math.max(1, resolveAmount(options.batch, total));
  const minHealthy = resolveAmount(options.minHealthy, total);
  const size = Math.min(wanted, total - minHealthy);
  if (size < 1) {
    throw new RolloutPlanError(
      `environment "${options.environment}" has ${total} host${total === 1 ? '' : 's'} and must keep ${minHealthy} healthy, so no host can be taken out for the deploy; lower rolling.min_healthy or add hosts`,
    );
  }
  const batches: T[][] = [];
  for (let i = 0; i < total; i += size) batches.push(hosts.slice(i, i + size));
  return batches;
}
