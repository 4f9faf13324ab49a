/**
 * Write the JSON Schemas of both config files to schema/, for editors
 * (`# yaml-language-server: $schema=…`). `npm run schema` regenerates them;
 * a test fails when the committed files are stale.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { pipelineSchema } from './pipeline.schema.ts';
import { serverSchema } from './server.schema.ts';

export function jsonSchemaText(schema: z.ZodType, title: string): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...json, title }, null, 2)}\n`;
}

export function renderSchemas(): Record<string, string> {
  return {
    'schema/pipeline.schema.json': jsonSchemaText(pipelineSchema, 'Sluice pipeline (.github/sluice.yml)'),
    'schema/server.schema.json': jsonSchemaText(serverSchema, 'Sluice server config'),
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  for (const [file, text] of Object.entries(renderSchemas())) {
    writeFileSync(`${root}${file}`, text);
    console.log(`wrote ${file}`);
  }
}
