/**
 * Read the operator's server config: YAML, schema, then its cross-field
 * rules. Problems come back with line and column; nothing is thrown.
 */
import { readFile } from 'node:fs/promises';
import { checkServer } from './check-server.ts';
import type { ConfigProblem } from './config-problem.ts';
import { displayPath } from './display-path.ts';
import { sortProblems, unreadable } from './load-pipeline-config.ts';
import { locate, readYamlConfig } from './read-yaml-config.ts';
import { serverSchema, type ServerConfig } from './server.schema.ts';

export type ServerLoad = { ok: true; config: ServerConfig } | { ok: false; problems: ConfigProblem[] };

export function parseServerConfig(text: string, file: string): ServerLoad {
  const read = readYamlConfig(text, file, serverSchema);
  if (!read.ok) return read;
  const problems = checkServer(read.value).map((rule) => ({
    file,
    ...locate(read.source, rule.path, rule.at),
    message: rule.message,
  }));
  if (problems.length > 0) return { ok: false, problems: sortProblems(problems) };
  return { ok: true, config: read.value };
}

export async function loadServerConfig(path: string): Promise<ServerLoad> {
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
          message: unreadable(
            error,
            'the server config',
            'create it (see README.md) or point SLUICE_CONFIG / --server at it',
          ),
        },
      ],
    };
  }
  return parseServerConfig(text, file);
}
