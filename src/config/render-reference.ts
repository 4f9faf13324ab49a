/**
 * The reference of every field of both config files, as Markdown, from
 * their JSON Schemas (so from the zod schemas and their descriptions):
 * docs/reference.md. `npm run schema` writes it with the schemas; a test
 * fails when it is stale.
 */

interface JsonSchema {
  type?: string | string[];
  description?: string;
  properties?: Record<string, JsonSchema>;
  required?: string[];
  items?: JsonSchema;
  additionalProperties?: JsonSchema | boolean;
  propertyNames?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  pattern?: string;
  minItems?: number;
  minimum?: number;
  maximum?: number;
}

interface Row {
  path: string;
  type: string;
  required: boolean;
  description: string;
}

export function renderReference(
  sections: Array<{ title: string; file: string; intro: string; schema: object }>,
): string {
  const parts = [
    '# Configuration reference',
    '',
    'Every field of the two config files, generated from their schemas by `npm run schema` (do not edit by hand). `<name>` stands for a key you choose; `[]` for each item of a list.',
  ];
  for (const section of sections) {
    parts.push(
      '',
      `## ${section.title}`,
      '',
      section.intro,
      '',
      `JSON Schema for editors: [\`${section.file}\`](../${section.file}).`,
      '',
      '| field | type | required | what it is |',
      '|---|---|---|---|',
    );
    const rows: Row[] = [];
    walk(section.schema as JsonSchema, '', false, rows);
    for (const row of rows)
      parts.push(`| \`${row.path}\` | ${row.type} | ${row.required ? 'yes' : ''} | ${cell(row.description)} |`);
  }
  return `${parts.join('\n')}\n`;
}

function walk(schema: JsonSchema, path: string, required: boolean, rows: Row[]): void {
  const description = schema.description ?? describeUnion(schema) ?? '';
  // A map's plain values (`env.<name>`) say nothing their map does not.
  const plain = path.endsWith('.<name>') && !description && !['object', 'array'].includes(String(schema.type));
  if (path && !plain) rows.push({ path, type: typeOf(schema), required, description });
  const objects = [schema, ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])].filter(
    (s) => s.properties || (typeof s.additionalProperties === 'object' && s.additionalProperties),
  );
  for (const object of objects) {
    for (const [key, inner] of Object.entries(object.properties ?? {}))
      walk(inner, path ? `${path}.${key}` : key, object.required?.includes(key) ?? false, rows);
    if (typeof object.additionalProperties === 'object')
      walk(object.additionalProperties, `${path}.<name>`, false, rows);
  }
  const items = schema.items ?? [...(schema.anyOf ?? [])].find((s) => s.items)?.items;
  if (items && (items.properties || items.anyOf?.some((s) => s.properties))) walk(items, `${path}[]`, false, rows);
}

function typeOf(schema: JsonSchema): string {
  if (schema.enum) return schema.enum.map((v) => `\`${String(v)}\``).join(' \\| ');
  if (schema.const !== undefined) return `\`${String(schema.const)}\``;
  const union = schema.anyOf ?? schema.oneOf;
  if (union) return [...new Set(union.map(typeOf))].join(' or ');
  if (schema.type === 'array') return `list of ${schema.items ? typeOf(schema.items) : 'any'}`;
  if (schema.type === 'object') return schema.properties ? 'object' : 'map';
  if (schema.type === 'integer') return 'integer';
  return Array.isArray(schema.type) ? schema.type.join(' or ') : (schema.type ?? 'any');
}

function describeUnion(schema: JsonSchema): string | undefined {
  return (schema.anyOf ?? schema.oneOf)?.map((s) => s.description).find(Boolean);
}

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}
