/**
 * The Slack workspace the Slack tests run in: its deploys channel, whom
 * production's approval names, and someone who is in the workspace but no
 * approver. `startSlackSluice` sets the stand-in up with these.
 */
export const CHANNEL = 'C0DEPLOYS';
/** Approvers: Ann by id, Alice (who writes the commits) by id, Carol through the release group. */
export const ANN = 'U0ANN';
export const ALICE = 'U0ALICE';
export const CAROL = 'U0CAROL';
export const RELEASE_GROUP = 'S0RELEASE';
/** In the workspace, but no approver. */
export const MALLORY = 'U0MALLORY';
