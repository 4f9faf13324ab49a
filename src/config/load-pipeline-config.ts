/**
 * Read a pipeline file (`.github/sluice.yml`): YAML, schema, then the rules
 * across fields, with the server config when there is one. Every problem
 * comes back with its line and column; nothing is thrown for bad input.
 */
import { readFile } from 'node:fs/promises';
import type { PipelineDefinition } from '../pipeline/definition.ts';
import { checkPipeline } from './check-pipeline.ts';
import type { ConfigProblem } from './config-problem.ts';
import { displayPath } from './display-path.ts';
import { pipelineSchema, type PipelineConfig } from './pipeline.schema.ts';
import { locate, readYamlConfig } from './read-yaml-config.ts';
import type { ServerConfig } from './server.schema.ts';
import { toPipelineDefinition } from './to-pipeline-definition.ts';
import { errorMessage } from '../sluice-error.ts';

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
  const problems = checkPipeline(read.value, options.server, options.repo).map((rule) => ({
    file: options.file,
    ...locate(read.source, rule.path, rule.at),
    message: rule.message,
  }));
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, config: read.value, definition: toPipelineDefinition(read.value) };
}

export async function loadPipelineConfig(path: string, options: PipelineCheckOptions = {}): Promise<PipelineLoad> {
  const file = displayPath(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    return {
      ok: false,
      problems: [
        {
          file,
          line: 1,
          col: 1,
          message: unreadable(error, 'the pipeline file', 'create it (see README.md) or pass --pipeline <file>'),
        },
      ],
    };
  }
  return parsePipelineConfig(text, { ...options, file });
}

export function unreadable(error: unknown, what: string, fix: string): string {
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'ENOENT') return `${what} does not exist; ${fix}`;
  if (code === 'EACCES') return `${what} cannot be read (permission denied); let the user running Sluice read it`;
  if (code === 'EISDIR') return `${what} is a directory, not a file`;
  return `${what} cannot be read: ${errorMessage(error)}`;
}

export function sortProblems(problems: ConfigProblem[]): ConfigProblem[] {
  return problems.toSorted((a, b) => a.line - b.line || a.col - b.col);
}
