/**
 * The fields of GitHub's webhook payloads that Sluice reads, checked before
 * any handler touches them: a payload without them (or with them of another
 * kind) is recorded as unreadable, not retried, and changes nothing.
 */
import { z } from 'zod';
import type { CheckRunPayload } from './handle-check-run.ts';
import type { PushPayload } from './handle-push.ts';

// GitHub's push schema allows a null e-mail (a committer without one).
const author = z.object({ name: z.string().optional(), email: z.string().nullable().optional(), username: z.string().optional() }).optional();

const pushSchema = z.object({
  ref: z.string(),
  before: z.string(),
  after: z.string(),
  deleted: z.boolean().optional(),
  repository: z.object({ full_name: z.string().regex(/^[\w.-]+\/[\w.-]+$/), default_branch: z.string(), pushed_at: z.union([z.number(), z.string()]).optional() }),
  installation: z.object({ id: z.number().int() }).optional(),
  head_commit: z.object({ id: z.string(), message: z.string(), author, committer: author }).nullable().optional(),
  pusher: z.object({ name: z.string().optional(), email: z.string().nullable().optional() }).optional(),
  sender: z.object({ login: z.string().optional() }).optional(),
});

const checkRunSchema = z.object({
  action: z.string(),
  check_run: z.object({ id: z.number().int(), app: z.object({ id: z.number().int() }).nullable().optional() }),
  requested_action: z.object({ identifier: z.string() }).optional(),
  sender: z.object({ login: z.string().optional() }).optional(),
});

export type Readable<T> = { ok: true; payload: T } | { ok: false; why: string };

export function readPush(payload: unknown): Readable<PushPayload> {
  return read('push', pushSchema, payload) as Readable<PushPayload>;
}

export function readCheckRun(payload: unknown): Readable<CheckRunPayload> {
  return read('check_run', checkRunSchema, payload) as Readable<CheckRunPayload>;
}

function read(event: string, schema: z.ZodType, payload: unknown): Readable<unknown> {
  const parsed = schema.safeParse(payload);
  if (parsed.success) return { ok: true, payload: parsed.data };
  const issues = parsed.error.issues.slice(0, 3).map((issue) => `${issue.path.join('.') || '(the payload)'}: ${issue.message}`);
  return { ok: false, why: `not a ${event} Sluice can read: ${issues.join('; ')}` };
}
