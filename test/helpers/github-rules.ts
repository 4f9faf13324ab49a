/**
 * What GitHub refuses, as the GitHub stand-in checks it: the limits of
 * GitHub's REST description (@octokit/openapi-types) and what GitHub does
 * beyond it (byte limits), each with GitHub's status and message, and the
 * permission each endpoint the stand-in serves needs of an installation.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

export interface Refusal {
  status: number;
  body: Record<string, unknown>;
  headers?: Record<string, string>;
}

/** What a route of the stand-in answers: JSON, or bytes (a tarball, a redirect). */
export interface Answer {
  status: number;
  body: unknown;
  headers?: Record<string, string>;
}

/** GitHub's 422 for a field it checks itself (not by its schema): `Validation Failed` with one error per field. */
export function validationFailed(resource: string, field: string, message: string, documentation: string): Refusal {
  return {
    status: 422,
    body: {
      message: 'Validation Failed',
      errors: [{ resource, code: 'custom', field, message }],
      documentation_url: `https://docs.github.com/rest/${documentation}`,
      status: '422',
    },
  };
}

/** GitHub's 422 for a request its schema refuses. */
export function invalidRequest(message: string, documentation: string): Refusal {
  return {
    status: 422,
    body: {
      message: `Invalid request.\n\n${message}`,
      documentation_url: `https://docs.github.com/rest/${documentation}`,
      status: '422',
    },
  };
}

/** GitHub's 404; `documentation` empty for a path it has no operation for. */
export function notFound(documentation: string): Refusal {
  return {
    status: 404,
    body: {
      message: 'Not Found',
      documentation_url: `https://docs.github.com/rest${documentation && `/${documentation}`}`,
      status: '404',
    },
  };
}

/** GitHub's answer for a commit (a SHA or a ref) the repository does not have: 422, not 404. */
export function noCommit(ref: string, documentation: string): Refusal {
  return {
    status: 422,
    body: {
      message: `No commit found for SHA: ${ref}`,
      documentation_url: `https://docs.github.com/rest/${documentation}`,
      status: '422',
    },
  };
}

/** What GitHub answers an installation whose app lacks the permission an endpoint needs. */
export function notAccessible(documentation: string): Refusal {
  return {
    status: 403,
    body: {
      message: 'Resource not accessible by integration',
      documentation_url: `https://docs.github.com/rest/${documentation}`,
      status: '403',
    },
  };
}

/** GitHub's limit of `output.summary` and `output.text`: 65,535 bytes of UTF-8, though its docs say characters. */
export const OUTPUT_BYTES = 65_535;
const CHECK_RUN_DOCS = 'checks/runs#create-a-check-run';

/** The limits GitHub documents for a check run's fields, and the byte limits it keeps. */
export function checkRunProblem(body: Record<string, unknown>): Refusal | undefined {
  const invalid = (message: string) => invalidRequest(message, CHECK_RUN_DOCS);
  const statuses = ['queued', 'in_progress', 'completed'];
  if (body.status !== undefined && !statuses.includes(String(body.status)))
    return invalid(`For 'properties/status', "${String(body.status)}" is not one of ${JSON.stringify(statuses)}.`);
  const conclusions = [
    'action_required',
    'cancelled',
    'failure',
    'neutral',
    'success',
    'skipped',
    'stale',
    'timed_out',
  ];
  if (body.conclusion !== undefined && !conclusions.includes(String(body.conclusion)))
    return invalid(
      `For 'properties/conclusion', "${String(body.conclusion)}" is not one of ${JSON.stringify(conclusions)}.`,
    );
  if (body.status === 'completed' && body.conclusion === undefined)
    return invalid('conclusion is required when status is completed');
  // GitHub's docs: conclusion is "Required if you provide completed_at or a status of completed".
  if (body.completed_at !== undefined && body.conclusion === undefined)
    return invalid('conclusion is required when completed_at is given');
  const output = body.output as
    { title?: unknown; summary?: unknown; text?: unknown; annotations?: unknown } | undefined;
  if (output !== undefined) {
    if (typeof output.title !== 'string') return invalid('"title" wasn\'t supplied.');
    if (typeof output.summary !== 'string') return invalid('"summary" wasn\'t supplied.');
    for (const field of ['summary', 'text'] as const) {
      const value = output[field];
      if (typeof value === 'string' && Buffer.byteLength(value, 'utf8') > OUTPUT_BYTES) {
        return validationFailed(
          'CheckRun',
          field,
          `${field} exceeds a maximum bytesize of ${OUTPUT_BYTES}`,
          CHECK_RUN_DOCS,
        );
      }
    }
    if (output.annotations !== undefined) {
      if (!Array.isArray(output.annotations))
        return invalid(`For 'properties/annotations', ${JSON.stringify(output.annotations)} is not an array.`);
      if (output.annotations.length > 50)
        return invalid(
          `For 'properties/annotations', the array has ${output.annotations.length} items; at most 50 are allowed per request.`,
        );
      for (const annotation of output.annotations as Array<Record<string, unknown>>) {
        const problem = annotationProblem(annotation);
        if (problem) return invalid(problem);
      }
    }
  }
  const actions = (body.actions ?? []) as Array<{ label: string; description: string; identifier: string }>;
  if (actions.length > 3)
    return invalid(`For 'properties/actions', the array has ${actions.length} items; at most 3 are allowed.`);
  for (const a of actions) {
    if (a.label.length > 20 || a.description.length > 40 || a.identifier.length > 20)
      return invalid(`action ${a.identifier} is over a length limit (label 20, description 40, identifier 20)`);
  }
  return undefined;
}

function annotationProblem(a: Record<string, unknown>): string | undefined {
  for (const field of ['path', 'message'] as const)
    if (typeof a[field] !== 'string') return `"${field}" wasn't supplied.`;
  for (const field of ['start_line', 'end_line'] as const)
    if (!Number.isInteger(a[field])) return `"${field}" wasn't supplied.`;
  if (!['notice', 'warning', 'failure'].includes(String(a.annotation_level)))
    return `For 'properties/annotation_level', ${JSON.stringify(a.annotation_level)} is not one of ["notice","warning","failure"].`;
  if (typeof a.title === 'string' && a.title.length > 255) return 'annotation title is longer than 255 characters';
  for (const field of ['message', 'raw_details'] as const) {
    if (typeof a[field] === 'string' && Buffer.byteLength(a[field], 'utf8') > 65_535)
      return `annotation ${field} is larger than 64 KB`;
  }
  if ((a.start_column !== undefined || a.end_column !== undefined) && a.start_line !== a.end_line)
    return 'start_column and end_column are only allowed when start_line and end_line are the same';
  return undefined;
}

export const DEPLOYMENT_STATES = [
  'error',
  'failure',
  'inactive',
  'in_progress',
  'queued',
  'pending',
  'success',
] as const;
const STATUS_DOCS = 'deployments/statuses#create-a-deployment-status';

export function deploymentStatusProblem(body: Record<string, unknown>): Refusal | undefined {
  if (!DEPLOYMENT_STATES.includes(body.state as (typeof DEPLOYMENT_STATES)[number])) {
    return invalidRequest(
      `For 'properties/state', ${JSON.stringify(body.state)} is not one of ${JSON.stringify(DEPLOYMENT_STATES)}.`,
      STATUS_DOCS,
    );
  }
  if (typeof body.description === 'string' && body.description.length > 140) {
    return validationFailed(
      'DeploymentStatus',
      'description',
      'description is too long (maximum is 140 characters)',
      STATUS_DOCS,
    );
  }
  return undefined;
}

export type Permissions = Record<string, 'read' | 'write'>;

/** The permissions Sluice's app manifest asks for: what an installation token of the app may do. */
export function manifestPermissions(): Permissions {
  const manifest = parse(readFileSync(fileURLToPath(new URL('../../app.yml', import.meta.url)), 'utf8')) as {
    default_permissions?: Permissions;
  };
  return { ...manifest.default_permissions };
}

/** The permission an endpoint of the stand-in needs, by method and path below `/repos/{owner}/{repo}`. */
export function requiredPermission(
  method: string,
  rest: string,
): { name: string; level: 'read' | 'write'; docs: string } | undefined {
  if (rest === '' && method === 'GET') return { name: 'metadata', level: 'read', docs: 'repos/repos#get-a-repository' };
  if (/^\/(contents|tarball|commits|compare)\//.test(rest) && method === 'GET')
    return { name: 'contents', level: 'read', docs: 'repos/contents' };
  if (rest.startsWith('/check-runs') || rest.startsWith('/check-suites'))
    return { name: 'checks', level: method === 'GET' ? 'read' : 'write', docs: 'checks/runs' };
  if (rest.startsWith('/deployments'))
    return { name: 'deployments', level: method === 'GET' ? 'read' : 'write', docs: 'deployments/deployments' };
  if (rest.startsWith('/statuses/'))
    return { name: 'statuses', level: method === 'GET' ? 'read' : 'write', docs: 'commits/statuses' };
  if (rest.startsWith('/issues') || rest.startsWith('/pulls'))
    return {
      name: rest.startsWith('/issues') ? 'issues' : 'pull_requests',
      level: method === 'GET' ? 'read' : 'write',
      docs: 'issues',
    };
  return undefined;
}

/** Whether `granted` covers `needed` (write includes read). */
export function allows(granted: Permissions, needed: { name: string; level: 'read' | 'write' }): boolean {
  const level = granted[needed.name];
  return level === 'write' || (level === 'read' && needed.level === 'read');
}
