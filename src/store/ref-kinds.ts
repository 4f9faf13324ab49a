/**
 * The typed map of ref kinds: for every kind a module declared in
 * `RefKinds` (see ref-store.ts), the shape its JSON must have. The store
 * checks each ref it reads against it, so a damaged row is refused where it
 * is read, with its kind and key, and not found out later, deep in a
 * reporter. The map is typed over `RefKinds` itself: a kind declared without
 * a shape here, or a shape that does not give its kind's type, does not
 * type-check; the store imports none of the modules that own the kinds.
 */
import { z } from 'zod';
import type { CreationClaim, RefKind, RefKinds } from './ref-store.ts';
import { StoreError } from './store.ts';

const actionRef = z.object({ executionId: z.string(), stage: z.string(), action: z.string(), attempt: z.number() });
const hostRef = z.object({
  name: z.string(),
  address: z.string(),
  port: z.number().optional(),
  user: z.string().optional(),
});
const unreachable = z.object({ since: z.number(), nextTryAt: z.number(), tries: z.number(), error: z.string() });
const cardCommit = z.object({
  sha: z.string(),
  message: z.string(),
  author: z.string().optional(),
  people: z
    .array(
      z.object({
        role: z.enum(['author', 'committer']),
        login: z.string().optional(),
        email: z.string().optional(),
      }),
    )
    .optional(),
});

const REF_SHAPES: { [K in RefKind]: z.ZodType<RefKinds[K]> } = {
  installation: z.object({ id: z.number() }),
  branch_head: z.object({
    delivery: z.string(),
    sha: z.string(),
    before: z.string(),
    pushedAt: z.number(),
    again: z.literal(true).optional(),
  }),
  check_run: z.object({
    id: z.number().optional(),
    sent: z.string(),
    completed: z.boolean(),
    version: z.number().optional(),
    level: z.number().optional(),
  }),
  check_run_id: z.object({ executionId: z.string(), pipelineId: z.string(), stage: z.string() }),
  deployment: z.object({
    id: z.number(),
    environment: z.string(),
    state: z.enum(['queued', 'in_progress', 'success', 'failure', 'error', 'inactive']),
  }),
  deployment_refused: z.object({ status: z.number() }),
  deployment_active: z.object({ id: z.number() }),
  github_report_due: z.object({ due: z.boolean() }),
  slack_card: z.object({
    channel: z.string(),
    ts: z.string(),
    sent: z.string(),
    digest: z.string().optional(),
    waitingFor: z.array(z.string()).optional(),
    changes: z
      .object({
        base: z.string(),
        compareUrl: z.string().optional(),
        commits: z.array(cardCommit),
        total: z.number().optional(),
      })
      .optional(),
    refused: z.array(z.object({ user: z.string(), did: z.string() })).optional(),
    unchecked: z.array(z.string()).optional(),
    replies: z.array(z.string()),
    version: z.number().optional(),
  }),
  'approval-binding': z.object({ artifacts: z.record(z.string(), z.string()), by: z.string(), at: z.number() }),
  live_command: z.object({
    ref: actionRef,
    host: hostRef,
    mark: z.string(),
    pgid: z.number().optional(),
    startedAt: z.number().optional(),
    hostLimitMs: z.number().optional(),
    unreachable: unreachable.optional(),
  }),
  live_workspace: z.object({
    ref: actionRef,
    host: hostRef,
    workspace: z.string(),
    unreachable: unreachable.optional(),
  }),
};

const CREATION_CLAIM_SHAPE: z.ZodType<CreationClaim> = z.object({ owner: z.string(), token: z.string() });

/** A ref's JSON, checked against its kind's shape; a row that is not JSON, or not of that shape, says which it is. */
export function parseRef<K extends RefKind>(kind: K, key: string, text: string): RefKinds[K] {
  return parseStoredJson(REF_SHAPES[kind], text, `The store's ${kind} ref "${key}"`, fixRow(kind, key));
}

/** A claim on a creation, as `claimCreation` wrote it under `key` (`<ref key>#<ref kind>`). */
export function parseCreationClaim(key: string, text: string): CreationClaim {
  return parseStoredJson(CREATION_CLAIM_SHAPE, text, `The store's claim on creating "${key}"`, fixRow('creating', key));
}

function fixRow(kind: string, key: string): string {
  return `Delete the row of kind "${kind}" and key "${key}" from external_refs (Sluice forgets what it recorded there), or restore it from a backup.`;
}

/**
 * JSON Sluice wrote to the store, checked against `shape`: text that is not
 * JSON, or not of that shape, is a `StoreError` that says which row
 * (`what`), what is wrong with it, and `fix`. The value is returned as
 * stored, not the parse's copy: fields a shape does not name are kept.
 */
export function parseStoredJson<T>(shape: z.ZodType<T>, text: string, what: string, fix: string): T {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new StoreError('CORRUPT_ROW', `${what} cannot be read: it is not JSON (${text.slice(0, 80)}). ${fix}`, {
      cause: error,
    });
  }
  const checked = shape.safeParse(value);
  if (!checked.success) {
    const problems = checked.error.issues.map((i) => `${i.path.join('.') || 'the value'}: ${i.message}`).join('; ');
    throw new StoreError(
      'CORRUPT_ROW',
      `${what} cannot be read: it is not what Sluice writes there (${problems}). ${fix}`,
      {
        cause: checked.error,
      },
    );
  }
  return value as T;
}
