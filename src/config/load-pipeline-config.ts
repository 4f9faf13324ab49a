/**
 * Read a pipeline file (`.github/sluice.yml`): YAML, schema, then the rules
 * across fields, with the server config when there is one. Every problem
 * comes back with its line and column; nothing is thrown for bad input.
 */
import type { PipelineDefinition } from '../pipeline/definition.ts';
import { checkPipeline } from './check-pipeline.ts';
import type { ConfigProblem } from './config-problem.ts';
import { pipelineSchema, type PipelineConfig } from './pipeline.schema.ts';
import { locateProblems, readConfigFile, readYamlConfig } from './read-yaml-config.ts';
import type { ServerConfig } from './server.schema.ts';
import { toPipelineDefinition } from './to-pipeline-definition.ts';

export type PipelineLoad =
  { ok: true; config: PipelineConfig; definition: PipelineDefinition } | { ok: false; problems: ConfigProblem[] };

export interface PipelineCheckOptions {
  server?: ServerConfig;
  /** The repository the pipeline belongs to (owner/name), for the host groups it may use. */
  repo?: string;
}

/** Check pipeline text; `file` is the name problems are reported under. */
export function parsePipelineConfig(text: string, options: PipelineCheckOptions & { file: string }): PipelineLoad {
  const read = readYamlConfig(text, options.file, pipelineSchema);
  if (!read.ok) return read;
  const problems = locateProblems(read.source, checkPipeline(read.value, options.server, options.repo));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: read.value, definition: toPipelineDefinition(read.value) };
}

export async function loadPipelineConfig(path: string, options: PipelineCheckOptions = {}): Promise<PipelineLoad> {
  const read = await readConfigFile(path, 'the pipeline file', 'create it (see README.md) or pass --pipeline <file>');
  return read.ok ? parsePipelineConfig(read.text, { ...options, file: read.file }) : read;
}
