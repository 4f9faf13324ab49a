/**
 * Write the JSON Schemas of both config files to schema/, for editors
 * (`# yaml-language-server: $schema=…`), and their field reference to
 * docs/reference.md. `npm run schema` regenerates them; a test fails when
 * the committed files are stale.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { pipelineSchema } from './pipeline.schema.ts';
import { renderReference } from './render-reference.ts';
import { serverSchema } from './server.schema.ts';

export function jsonSchemaText(schema: z.ZodType, title: string): string {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' });
  return `${JSON.stringify({ ...json, title }, null, 2)}\n`;
}

export function renderSchemas(): Record<string, string> {
  const pipeline = jsonSchemaText(pipelineSchema, 'Sluice pipeline (.github/sluice.yml)');
  const server = jsonSchemaText(serverSchema, 'Sluice server config');
  const reference = renderReference([
    {
      title: 'The pipeline file: `.github/sluice.yml`',
      file: 'schema/pipeline.schema.json',
      intro: 'The repository’s own file: stages, actions, build commands, artifacts, the app’s hooks and health check.',
      schema: JSON.parse(pipeline) as object,
    },
    {
      title: 'The server config: `SLUICE_CONFIG`',
      file: 'schema/server.schema.json',
      intro:
        'The operator’s file: SSH, hosts, environments, approvals, secrets and Slack. A repository can never widen what it sets.',
      schema: JSON.parse(server) as object,
    },
  ]);
  return {
    'schema/pipeline.schema.json': pipeline,
    'schema/server.schema.json': server,
    'docs/reference.md': reference,
  };
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../../', import.meta.url));
  for (const [file, text] of Object.entries(renderSchemas())) {
    mkdirSync(dirname(`${root}${file}`), { recursive: true });
    writeFileSync(`${root}${file}`, text);
    console.log(`wrote ${file}`);
  }
}
