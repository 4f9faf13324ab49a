/**
 * The record of what an approval let through (PRODUCT K4): the artifacts,
 * by sha256, that the deploys it gates may deploy. The runner writes it
 * when the approval is decided and the deploy reads it before it goes out,
 * so it is kept here, below both, as plain data.
 */

/** Where an approval's binding is recorded when it is approved, keyed `executionId/stage/action/attempt`. */
export const APPROVAL_BINDING = 'approval-binding';

export interface ApprovalBinding {
  /** The sha256 of each artifact name the gated deploys use. */
  artifacts: Record<string, string>;
  by: string;
  at: number;
}

export function bindingKey(executionId: string, stage: string, action: string, attempt: number): string {
  return `${executionId}/${stage}/${action}/${attempt}`;
}
