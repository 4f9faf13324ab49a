/**
 * Ids Sluice keeps of what it made elsewhere (check runs, Deployments, Slack
 * cards) and small records of its own, as JSON by kind and key.
 *
 * `RefKinds` maps each kind to the type of its value. The module that owns
 * a kind adds it where its type is defined, by declaration merging:
 *
 *     declare module '../store/ref-store.ts' {
 *       interface RefKinds { check_run: CheckRunRef }
 *     }
 *
 * so the store never imports its callers, and a kind nobody declared, or a
 * value of the wrong shape, does not type-check. The kind's JSON shape goes
 * into the map in ref-kinds.ts beside it (a kind without one does not
 * type-check either): every ref read is checked against it, and a row that
 * does not match is refused with its kind and key.
 */

/**
 * How long a claim on a creation holds without renewal. Its holder renews it
 * while its calls to GitHub or Slack last (they may wait out rate limits for
 * minutes); once it runs out unrenewed, the holder is taken for dead and
 * another reporter creates the thing in its place.
 */
export const CREATION_LEASE_MS = 120_000;

/** The pause before a reporter looks again at a creation another one has claimed. */
export const CLAIM_RETRY_MS = 1_000;

// Merged into by the owner of each kind (see above): an interface, not a type.
// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RefKinds {}

export type RefKind = keyof RefKinds;

/** A creation elsewhere that one reporter has claimed, so that another does not make a second one. */
export interface CreationClaim {
  /** What the reporter that claimed it is called (a replica's id). */
  owner: string;
  /** Unique to this claim: only its holder ends it. */
  token: string;
}

/** The ref as it stands once the creation was decided on, and who makes it. */
export type CreationDecision<K extends RefKind> =
  /** Made by no one yet, and now claimed by the caller: it creates, then calls `finishCreation` with `token`. */
  | { decision: 'create'; token: string; value: RefKinds[K] | undefined }
  /** Not (or no longer) to be made: someone made it meanwhile; `value` is what they recorded. */
  | { decision: 'made'; value: RefKinds[K] | undefined }
  /** Another reporter holds a live claim on making it: try again later, when it will have recorded it. */
  | { decision: 'claimed-elsewhere'; value: RefKinds[K] | undefined };

export interface RefStore {
  getRef<K extends RefKind>(kind: K, key: string): Promise<RefKinds[K] | undefined>;
  putRef<K extends RefKind>(kind: K, key: string, value: RefKinds[K], now: number): Promise<void>;
  deleteRef(kind: RefKind, key: string): Promise<void>;
  /** Every ref of `kind` whose key starts with `prefix`. */
  listRefs<K extends RefKind>(kind: K, prefix: string): Promise<Array<{ key: string; value: RefKinds[K] }>>;

  /**
   * Decides, in one transaction, who creates the thing the ref `kind`/`key`
   * will record: the claim is inserted if absent (or taken over when its
   * holder has not finished within `leaseMs`: it died between claim and
   * create), and only then is the ref read and `needed` asked whether it
   * still has to be made. Two replicas reporting the same change thus make
   * one check run, one Deployment, one card. Reporters claim their updates
   * the same way (a check run's next view, a Deployment's next status, a
   * card's next state): one writer at a time, and `needed` refuses what is
   * older than the ref records.
   */
  claimCreation<K extends RefKind>(
    kind: K,
    key: string,
    claim: { owner: string; now: number; leaseMs: number },
    needed: (value: RefKinds[K] | undefined) => boolean,
  ): Promise<CreationDecision<K>>;
  /**
   * Stamps the claim `owner`/`token` with `now`, so that its lease runs from
   * now: its holder is alive and still making the thing (a write GitHub or
   * Slack keeps waiting). False when the claim no longer stands.
   */
  renewCreation(kind: RefKind, key: string, claim: CreationClaim, now: number): Promise<boolean>;
  /**
   * Ends the claim `token`: records `value` (what was made; undefined when
   * nothing was) and drops the claim, in one transaction. Resolves whether
   * the claim still stood (its lease had not run out into another's). With
   * `ifHeld`, a claim taken over records nothing: what was decided under it
   * (a branch's head) is decided again, against what the new holder recorded.
   */
  finishCreation<K extends RefKind>(
    kind: K,
    key: string,
    token: string,
    value: RefKinds[K] | undefined,
    now: number,
    options?: { ifHeld?: boolean },
  ): Promise<boolean>;
}
