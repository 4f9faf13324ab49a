/**
 * Sluice reads webhooks as GitHub's published schemas describe them: every
 * field its payload schemas read is required, optional and nullable exactly
 * as in `@octokit/webhooks-schemas`, and of the same JSON types, so Sluice
 * refuses nothing GitHub sends. The fields are found by walking Sluice's own
 * schemas, so a field added there is checked here without a word more.
 */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { describe, test } from 'node:test';
import type { z } from 'zod';
import { checkRunSchema, checkSuiteSchema, pushSchema, readPush } from '../../src/github/webhook-payloads.ts';

interface JsonSchema {
  $ref?: string;
  type?: string | string[];
  oneOf?: JsonSchema[];
  anyOf?: JsonSchema[];
  properties?: Record<string, JsonSchema>;
  required?: string[];
  definitions?: Record<string, JsonSchema>;
}

const published = createRequire(import.meta.url)('@octokit/webhooks-schemas') as JsonSchema;

/** What a field is: its JSON types (null among them when nullable) and whether it may be left out. */
interface Field {
  types: string[];
  optional: boolean;
}

function resolve(schema: JsonSchema): JsonSchema {
  if (!schema.$ref) return schema;
  const name = schema.$ref.replace('#/definitions/', '');
  const target = published.definitions?.[name];
  if (!target) throw new Error(`no definition ${name}`);
  return resolve(target);
}

/** The alternatives a schema allows (oneOf/anyOf flattened), each resolved. */
function alternatives(schema: JsonSchema): JsonSchema[] {
  const resolved = resolve(schema);
  const options = resolved.oneOf ?? resolved.anyOf;
  return options ? options.flatMap(alternatives) : [resolved];
}

function jsonTypes(schema: JsonSchema): string[] {
  return alternatives(schema).flatMap((s) => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]));
}

/**
 * The published field at `path` under the event's schemas, merged over their
 * alternatives (one per action): optional or nullable when any says so.
 */
function publishedField(event: string, path: string[]): Field | undefined {
  let level: JsonSchema[] = alternatives({ $ref: `#/definitions/${event}` });
  let optional = false;
  for (const key of path) {
    // Whether the key may be missing from its object (when the object is there).
    optional = false;
    const objects = level.filter((s) => jsonTypes(s).includes('object') || s.properties);
    const next: JsonSchema[] = [];
    for (const object of objects) {
      const property = object.properties?.[key];
      if (!property) {
        optional = true;
        continue;
      }
      if (!object.required?.includes(key)) optional = true;
      next.push(...alternatives(property));
    }
    if (next.length === 0) return undefined;
    level = next;
  }
  return { types: [...new Set(level.flatMap(jsonTypes))].sort(), optional };
}

/** Every field Sluice's schema reads, with its types and whether it may be left out. */
function sluiceFields(
  schema: z.ZodType,
  path: string[] = [],
  optional = false,
  nullable = false,
): Array<{ path: string[]; field: Field }> {
  const def = schema.def as unknown as {
    type: string;
    innerType?: z.ZodType;
    options?: z.ZodType[];
    shape?: Record<string, z.ZodType>;
  };
  switch (def.type) {
    case 'optional':
      return sluiceFields(def.innerType!, path, true, nullable);
    case 'nullable':
      return sluiceFields(def.innerType!, path, optional, true);
    case 'object': {
      const here = { path, field: { types: [...(nullable ? ['null'] : []), 'object'].sort(), optional } };
      const children = Object.entries((schema as z.ZodObject).shape).flatMap(([key, child]) =>
        sluiceFields(child as z.ZodType, [...path, key]),
      );
      return [...(path.length > 0 ? [here] : []), ...children];
    }
    default:
      return [
        {
          path,
          field: { types: [...new Set([...leafTypes(schema), ...(nullable ? ['null'] : [])])].sort(), optional },
        },
      ];
  }
}

function leafTypes(schema: z.ZodType): string[] {
  const def = schema.def as unknown as { type: string; options?: z.ZodType[] };
  if (def.type === 'union') return def.options!.flatMap(leafTypes);
  if (def.type === 'number') return [(schema as z.ZodNumber).isInt ? 'integer' : 'number'];
  return [def.type];
}

describe('webhook payloads as GitHub publishes them', () => {
  const events: Array<[string, string, z.ZodType]> = [
    ['push', 'push$event', pushSchema],
    ['check_run', 'check_run_event', checkRunSchema],
    ['check_suite', 'check_suite_event', checkSuiteSchema],
  ];
  for (const [event, definition, schema] of events) {
    test(`every field of ${event} that Sluice reads is required, optional and nullable as GitHub's schema says`, () => {
      const fields = sluiceFields(schema);
      assert.ok(fields.length > 5, 'the walk found the fields');
      for (const { path, field } of fields) {
        const name = `${event}.${path.join('.')}`;
        const theirs = publishedField(definition, path);
        assert.ok(theirs, `${name} is not in GitHub's schema`);
        assert.equal(field.optional, theirs.optional, `${name}: optional in Sluice's schema must match GitHub's`);
        assert.deepEqual(field.types, theirs.types, `${name}: its types (null for nullable) must match GitHub's`);
      }
    });
  }

  test('the walk sees what GitHub’s schema says of a null e-mail, push time and head commit', () => {
    assert.deepEqual(publishedField('push$event', ['head_commit', 'author', 'email']), {
      types: ['null', 'string'],
      optional: false,
    });
    assert.deepEqual(publishedField('push$event', ['repository', 'pushed_at']), {
      types: ['integer', 'null', 'string'],
      optional: false,
    });
    assert.deepEqual(publishedField('push$event', ['head_commit']), { types: ['null', 'object'], optional: false });
    assert.deepEqual(publishedField('push$event', ['installation']), { types: ['object'], optional: true });
  });

  test('a push with a null e-mail and push time, or a deleted branch without a head commit, is readable', () => {
    const push = {
      ref: 'refs/heads/main',
      before: 'a'.repeat(40),
      after: 'b'.repeat(40),
      deleted: false,
      repository: { full_name: 'acme/shop', default_branch: 'main', pushed_at: null },
      head_commit: {
        id: 'b'.repeat(40),
        message: 'Change',
        author: { name: 'Alice', email: null },
        committer: { name: 'Alice', email: null },
      },
      pusher: { name: 'alice', email: null },
      sender: { login: 'alice' },
    };
    assert.equal(readPush(push).ok, true);
    assert.equal(readPush({ ...push, deleted: true, after: '0'.repeat(40), head_commit: null }).ok, true);
  });

  test('a field GitHub always sends, missing, is still unreadable, with where', () => {
    const read = readPush({
      ref: 'refs/heads/main',
      before: 'a',
      after: 'b',
      deleted: false,
      head_commit: null,
      pusher: { name: 'a' },
      sender: { login: 'a' },
    });
    assert.equal(read.ok, false);
    assert.match(read.ok ? '' : read.why, /^not a push Sluice can read: repository: /);
  });
});
