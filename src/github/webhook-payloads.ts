/**
 * The fields of GitHub's webhook payloads that Sluice reads, checked before
 * any handler touches them: a payload without them (or with them of another
 * kind) is recorded as unreadable, not retried, and changes nothing.
 *
 * Each field is required, optional or nullable exactly as GitHub's published
 * webhook schemas say (a test walks them), so nothing GitHub sends, such as a
 * `null` e-mail or push time, or no `head_commit` on a deleted branch, is
 * refused. Fields Sluice does not read are let through unchecked.
 */
import { z } from 'zod';

/** `owner/name`, as GitHub spells it: Sluice uses it in API paths. */
const fullName = z.string().regex(/^[\w.-]+\/[\w.-]+$/, 'not an owner/name');
const installation = z.object({ id: z.int() }).optional();
const sender = z.object({ login: z.string() });
/** A commit's author or committer: GitHub sends a null e-mail for one without. */
const gitActor = z.object({ name: z.string(), email: z.string().nullable(), username: z.string().optional() });

export const pushSchema = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean(),
  repository: z.object({
    full_name: fullName,
    default_branch: z.string(),
    // Seconds since the epoch on pushes, a date-time elsewhere, null on some.
    pushed_at: z.union([z.int(), z.string(), z.null()]),
  }),
  installation,
  // null when the push deleted the branch, or points at no commit.
  head_commit: z
    .object({
      id: z.string(),
      message: z.string(),
      author: gitActor,
      committer: gitActor,
    })
    .nullable(),
  pusher: z.object({ name: z.string(), email: z.string().nullable() }),
  sender,
});

export const checkRunSchema = z.object({
  action: z.string(),
  check_run: z.object({
    id: z.int(),
    head_sha: z.string(),
    status: z.string(),
    conclusion: z.string().nullable(),
    output: z.object({ summary: z.string().nullable() }),
    app: z.object({ id: z.int() }),
  }),
  requested_action: z.object({ identifier: z.string().optional() }).nullable().optional(),
  repository: z.object({ full_name: fullName }),
  installation,
  sender,
});

export const checkSuiteSchema = z.object({
  action: z.string(),
  check_suite: z.object({
    id: z.int(),
    head_sha: z.string(),
    app: z.object({ id: z.int() }),
  }),
  repository: z.object({ full_name: fullName }),
  installation,
  sender,
});

export type PushPayload = z.infer<typeof pushSchema>;
export type CheckRunPayload = z.infer<typeof checkRunSchema>;
export type CheckSuitePayload = z.infer<typeof checkSuiteSchema>;

export type Readable<T> = { ok: true; payload: T } | { ok: false; why: string };

export function readPush(payload: unknown): Readable<PushPayload> {
  return read('push', pushSchema, payload);
}

export function readCheckRun(payload: unknown): Readable<CheckRunPayload> {
  return read('check_run', checkRunSchema, payload);
}

export function readCheckSuite(payload: unknown): Readable<CheckSuitePayload> {
  return read('check_suite', checkSuiteSchema, payload);
}

function read<T>(event: string, schema: z.ZodType<T>, payload: unknown): Readable<T> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const issues = parsed.error.issues
    .slice(0, 3)
    .map((issue) => `${issue.path.join('.') || '(the payload)'}: ${issue.message}`);
  return { ok: false, why: `not a ${event} Sluice can read: ${issues.join('; ')}` };
}
