/**
 * The webhook inbox (PRODUCT G1): verified deliveries are stored before
 * GitHub hears 200, then claimed one at a time by whichever replica is free.
 */
export interface NewDelivery {
  id: string;
  event: string;
  payload: string;
  receivedAt: number;
  /** Stored as handled already, with this note: an event Sluice does not act on. */
  done?: string;
}

export interface Delivery {
  id: string;
  event: string;
  payload: string;
  receivedAt: number;
  status: 'received' | 'processing' | 'done' | 'failed';
  attempts: number;
  note?: string;
}

export interface InboxStore {
  /** Stores a verified webhook unless its delivery id is known; true when it was new. */
  recordDelivery(delivery: NewDelivery): Promise<boolean>;
  /** Stores several in one transaction (one commit for many webhooks); for each, whether it was new. */
  recordDeliveries(deliveries: NewDelivery[]): Promise<boolean[]>;
  /** The oldest delivery waiting to be processed (or whose processor's lease ran out), claimed for `owner`. */
  claimDelivery(owner: string, now: number, leaseMs: number): Promise<Delivery | undefined>;
  finishDelivery(id: string, status: 'done' | 'failed', note: string | undefined, now: number): Promise<void>;
  /** After a crash, alone on the store: the deliveries being handled by the dead process may be taken again at once. */
  releaseDeliveryClaims(): Promise<number>;
  /** Lets the delivery be claimed again from `retryAt` on, keeping why it failed. */
  postponeDelivery(id: string, note: string, retryAt: number): Promise<void>;
  getDelivery(id: string): Promise<Delivery | undefined>;
  /** Empties payloads of deliveries handled before `payloadsBefore`; deletes those handled before `idsBefore`. */
  pruneDeliveries(payloadsBefore: number, idsBefore: number): Promise<{ payloads: number; deliveries: number }>;
}
