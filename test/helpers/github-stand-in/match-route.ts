/**
 * GitHub's REST routes as its OpenAPI description (@octokit/openapi, pinned)
 * lists them: a request's method and path matched to one operation and its
 * path parameters, or nothing, which GitHub answers with 404 (it answers an
 * unsupported method so too, not with 405). The description is read once,
 * on the first request, and shared by every stand-in of the process.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

/** The parts of an OpenAPI 3.0 document the stand-in reads. */
export interface OpenApiDocument {
  paths: Record<string, Record<string, OpenApiOperation | unknown>>;
  components: Record<string, Record<string, unknown>>;
}

export interface OpenApiParameter {
  name: string;
  in: 'path' | 'query' | 'header' | 'cookie';
  required?: boolean;
  schema?: Record<string, unknown>;
  'x-multi-segment'?: boolean;
}

export interface OpenApiOperation {
  operationId: string;
  parameters?: Array<OpenApiParameter | { $ref: string }>;
  requestBody?:
    { required?: boolean; content?: Record<string, { schema?: Record<string, unknown> }> } | { $ref: string };
  externalDocs?: { url: string };
}

export interface MatchedRoute {
  /** `METHOD /template`, e.g. `PATCH /repos/{owner}/{repo}/check-runs/{check_run_id}`. */
  key: string;
  operation: OpenApiOperation;
  /** The path's parameters, decoded. */
  params: Record<string, string>;
  /** The operation's parameters, their `$ref`s resolved. */
  parameters: OpenApiParameter[];
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];

interface Template {
  path: string;
  pattern: RegExp;
  names: string[];
  /**
   * Without a multi-segment parameter: the segment count a path must have, and its literal segments by position (a
   * quick test before the pattern).
   */
  segments?: number;
  fixed: Array<[number, string]>;
  /** Literal segments: among templates that match, the most literal wins (`/check-runs/{id}` before `/{path}`). */
  literals: number;
}

let description: OpenApiDocument | undefined;
let templates: Template[] | undefined;
/**
 * Templates without a multi-segment parameter by their segment count, and the others: a request tries only those that
 * can match.
 */
let bySegments: Map<number, Template[]> | undefined;
let multiSegment: Template[] = [];

/** GitHub's description of api.github.com, parsed on first use. */
export function githubDescription(): OpenApiDocument {
  if (!description) {
    const file = createRequire(import.meta.url).resolve('@octokit/openapi/generated/api.github.com.json');
    description = JSON.parse(readFileSync(file, 'utf8')) as OpenApiDocument;
  }
  return description;
}

/** The operation GitHub serves for `method path` (path without `/api/v3` and query), or undefined: GitHub's 404. */
export function matchRoute(method: string, path: string): MatchedRoute | undefined {
  loadRoutes();
  let best: { template: Template; match: RegExpExecArray } | undefined;
  const parts = path.split('/');
  for (const template of [...(bySegments?.get(parts.length) ?? []), ...multiSegment]) {
    if (template.segments !== undefined && template.fixed.some(([i, text]) => parts[i] !== text)) continue;
    const match = template.pattern.exec(path);
    if (match && (!best || template.literals > best.template.literals)) best = { template, match };
  }
  if (!best) return undefined;
  const operation = githubDescription().paths[best.template.path]?.[method.toLowerCase()] as
    OpenApiOperation | undefined;
  if (!operation || !METHODS.includes(method.toLowerCase())) return undefined;
  const params: Record<string, string> = {};
  best.template.names.forEach((name, i) => {
    params[name] = safeDecode(best.match[i + 1] ?? '');
  });
  return { ...describeRoute(`${method.toUpperCase()} ${best.template.path}`)!, params };
}

/** `METHOD /template`'s operation and parameters (no values), or undefined when the description lacks it. */
export function describeRoute(key: string): MatchedRoute | undefined {
  const doc = githubDescription();
  const [method = '', path = ''] = key.split(' ');
  const pathItem = doc.paths[path] as
    ({ parameters?: OpenApiOperation['parameters'] } & Record<string, unknown>) | undefined;
  const operation = METHODS.includes(method.toLowerCase())
    ? (pathItem?.[method.toLowerCase()] as OpenApiOperation | undefined)
    : undefined;
  if (!pathItem || !operation) return undefined;
  const parameters = [...(pathItem.parameters ?? []), ...(operation.parameters ?? [])].map((p) =>
    resolveRef<OpenApiParameter>(doc, p),
  );
  return { key, operation, params: {}, parameters };
}

/** Reads the description and compiles its path templates now, so that no later request waits for it. */
export function loadRoutes(): void {
  if (templates) return;
  const doc = githubDescription();
  templates = Object.keys(doc.paths).map((template) => compileTemplate(doc, template));
  bySegments = new Map();
  for (const template of templates) {
    if (template.segments === undefined) continue;
    bySegments.set(template.segments, [...(bySegments.get(template.segments) ?? []), template]);
  }
  multiSegment = templates.filter((template) => template.segments === undefined);
}

/** Whether the description has `METHOD /template` (a route table's entries must all be GitHub's). */
export function hasRoute(key: string): boolean {
  return describeRoute(key) !== undefined;
}

/** An object or the component its `$ref` (`#/components/<kind>/<name>`) points at. */
export function resolveRef<T>(doc: OpenApiDocument, value: T | { $ref: string }): T {
  let current: unknown = value;
  for (let depth = 0; depth < 10 && current && typeof current === 'object' && '$ref' in current; depth++) {
    const [, kind = '', name = ''] =
      /^#\/components\/([^/]+)\/(.+)$/.exec(String((current as { $ref: string }).$ref)) ?? [];
    current = doc.components[kind]?.[name.replace(/~1/g, '/').replace(/~0/g, '~')];
  }
  return current as T;
}

function compileTemplate(doc: OpenApiDocument, path: string): Template {
  const names: string[] = [];
  const multi = new Set<string>();
  for (const item of Object.values(doc.paths[path] ?? {})) {
    const parameters = (item as OpenApiOperation | undefined)?.parameters;
    if (!Array.isArray(parameters)) continue;
    for (const p of parameters) {
      const parameter = resolveRef<OpenApiParameter>(doc, p);
      if (parameter?.in === 'path' && parameter['x-multi-segment']) multi.add(parameter.name);
    }
  }
  let literals = 0;
  const source = path
    .split('/')
    .map((segment) =>
      segment.replace(/\{([^}]+)\}|[^{}]+/g, (part, name: string | undefined) => {
        if (name === undefined) {
          literals++;
          return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
        }
        names.push(name);
        return multi.has(name) ? '(.+)' : '([^/]+)';
      }),
    )
    .join('/');
  const segments = path.split('/');
  const fixed = segments.flatMap((segment, i): Array<[number, string]> =>
    segment.includes('{') ? [] : [[i, segment]],
  );
  const multiSegment = names.some((name) => multi.has(name));
  return {
    path,
    pattern: new RegExp(`^${source}$`),
    names,
    literals,
    fixed,
    ...(!multiSegment && { segments: segments.length }),
  };
}

function safeDecode(value: string): string {
  try {
    return decodeURIComponent(value);
  } catch {
    return value;
  }
}
