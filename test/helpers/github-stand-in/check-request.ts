/**
 * What GitHub's schema refuses of a request, checked against the operation
 * in its OpenAPI description: path parameters (a mismatch is 404, as the
 * route would not exist), query parameters and the JSON body (422
 * "Invalid request." with what is wrong, as GitHub words it: `"name"
 * wasn't supplied.`, `"foo" is not a permitted key.`, `For 'properties/x',
 * … is not one of …`). GitHub refuses keys its schema does not list, so an
 * object schema that does not allow more keys allows none. Schemas are
 * compiled on first use and kept per operation.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';
import { invalidRequest, notFound, type Refusal } from '../github-rules.ts';
import {
  githubDescription,
  resolveRef,
  type MatchedRoute,
  type OpenApiDocument,
  type OpenApiOperation,
} from './match-route.ts';

type Schema = Record<string, unknown>;

const bodies = new Ajv({ strict: false, allErrors: false, verbose: true });
const params = new Ajv({ strict: false, allErrors: false, verbose: true, coerceTypes: true });
// ajv-formats is CommonJS: its plugin is the module's `default`.
const formats = (addFormats as unknown as { default: (ajv: Ajv) => Ajv }).default;
formats(bodies);
formats(params);
const compiled = new Map<string, ValidateFunction>();

/** The refusal GitHub answers this request with, or undefined when its description takes it. */
export function checkRequest(route: MatchedRoute, query: Record<string, string>, body: unknown): Refusal | undefined {
  const docs = documentation(route.operation);
  for (const parameter of route.parameters) {
    if (parameter.in !== 'path' && parameter.in !== 'query') continue;
    const value = parameter.in === 'path' ? route.params[parameter.name] : query[parameter.name];
    if (value === undefined) {
      if (parameter.required)
        return parameter.in === 'path' ? notFound(docs) : invalidRequest(`"${parameter.name}" wasn't supplied.`, docs);
      continue;
    }
    const validate = compile(`${route.key} ${parameter.in} ${parameter.name}`, params, parameter.schema ?? {});
    if (!validate({ value }) && validate.errors?.[0]) {
      if (parameter.in === 'path') return notFound(docs);
      return invalidRequest(describeError(validate.errors[0], parameter.name), docs);
    }
  }
  const requestBody = route.operation.requestBody && resolveRef(githubDescription(), route.operation.requestBody);
  const schema =
    requestBody && 'content' in requestBody ? requestBody.content?.['application/json']?.schema : undefined;
  if (!schema) return undefined;
  if (body === undefined)
    return requestBody && 'required' in requestBody && requestBody.required
      ? invalidRequest('Invalid input: a JSON body is required.', docs)
      : undefined;
  const validate = compile(`${route.key} body`, bodies, schema, false);
  if (validate({ value: body }) || !validate.errors?.[0]) return undefined;
  return invalidRequest(describeError(validate.errors[0]), docs);
}

/**
 * Compiles a route's checks ahead of its first request: reading the
 * description and compiling take a while, and a request waiting on them
 * would hold up whatever else the test process serves at that moment.
 */
export function prepareChecks(route: MatchedRoute): void {
  for (const parameter of route.parameters) {
    if (parameter.in === 'path' || parameter.in === 'query')
      compile(`${route.key} ${parameter.in} ${parameter.name}`, params, parameter.schema ?? {});
  }
  const requestBody = route.operation.requestBody && resolveRef(githubDescription(), route.operation.requestBody);
  const schema =
    requestBody && 'content' in requestBody ? requestBody.content?.['application/json']?.schema : undefined;
  if (schema) compile(`${route.key} body`, bodies, schema, false);
}

/** The docs path of an operation, for `documentation_url` (`checks/runs#create-a-check-run`). */
export function documentation(operation: OpenApiOperation): string {
  return (operation.externalDocs?.url ?? '').replace(/^https:\/\/docs\.github\.com\/(?:[a-z-]+\/)?rest\/?/, '') || '';
}

function compile(key: string, ajv: Ajv, schema: Schema, open = true): ValidateFunction {
  let validate = compiled.get(key);
  if (!validate) {
    const inlined = inline(githubDescription(), schema, open, 0);
    validate = ajv.compile({ type: 'object', properties: { value: inlined }, required: ['value'] });
    compiled.set(key, validate);
  }
  return validate;
}

/**
 * The schema with its `$ref`s inlined (request bodies do not recurse; a
 * guard stops at depth 30), OpenAPI's `nullable` without a `type` made an
 * `anyOf` Ajv reads, and, unless `open`, every object schema that lists
 * properties and says nothing of others closed to them.
 */
function inline(doc: OpenApiDocument, schema: unknown, open: boolean, depth: number): unknown {
  if (depth > 30 || !schema || typeof schema !== 'object') return schema;
  if (Array.isArray(schema)) return schema.map((item) => inline(doc, item, open, depth + 1));
  const source = resolveRef<Schema>(doc, schema as Schema) ?? {};
  const out: Schema = {};
  for (const [key, value] of Object.entries(source)) {
    if (key === 'example' || key === 'examples' || key === 'description' || key.startsWith('x-')) continue;
    if (key === 'properties' && value && typeof value === 'object') {
      out.properties = Object.fromEntries(
        Object.entries(value).map(([name, property]) => [name, inline(doc, property, open, depth + 1)]),
      );
    } else out[key] = inline(doc, value, open, depth + 1);
  }
  if (!open && out.properties && out.additionalProperties === undefined && out.patternProperties === undefined)
    out.additionalProperties = false;
  if (out.nullable === true && out.type === undefined) {
    const { nullable: _nullable, ...rest } = out;
    return { anyOf: [rest, { type: 'null' }] };
  }
  return out;
}

/** An Ajv error as GitHub words its schema's refusals. */
function describeError(error: ErrorObject, parameter?: string): string {
  const segments = error.instancePath
    .split('/')
    .slice(2)
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
  const at = parameter ?? (segments.length > 0 ? `properties/${segments.join('/')}` : 'body');
  const value = JSON.stringify(error.data);
  const detail = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return `"${String(detail.missingProperty)}" wasn't supplied.`;
    case 'additionalProperties':
      return `"${String(detail.additionalProperty)}" is not a permitted key.`;
    case 'enum':
      return `For '${at}', ${value} is not one of ${JSON.stringify(detail.allowedValues)}.`;
    case 'type': {
      const type = String(detail.type);
      return `For '${at}', ${value} is not ${/^[aeiou]/.test(type) ? 'an' : 'a'} ${type}.`;
    }
    default:
      return `For '${at}', ${value} ${error.message ?? 'is not valid'}.`;
  }
}
