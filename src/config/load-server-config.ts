/**
 * Read the operator's server config: YAML, schema, then its cross-field
 * rules. Problems come back with line and column; nothing is thrown.
 */
import { checkServer } from './check-server.ts';
import type { ConfigProblem } from './config-problem.ts';
import { locateProblems, readConfigFile, readYamlConfig } from './read-yaml-config.ts';
import { serverSchema, type ServerConfig } from './server.schema.ts';

export type ServerLoad = { ok: true; config: ServerConfig } | { ok: false; problems: ConfigProblem[] };

export function parseServerConfig(text: string, file: string): ServerLoad {
  const read = readYamlConfig(text, file, serverSchema);
  if (!read.ok) return read;
  const problems = locateProblems(read.source, checkServer(read.value));
  if (problems.length > 0) return { ok: false, problems };
  return { ok: true, config: read.value };
}

export async function loadServerConfig(path: string): Promise<ServerLoad> {
  const read = await readConfigFile(
    path,
    'the server config',
    'create it (see README.md) or point SLUICE_CONFIG / --server at it',
  );
  return read.ok ? parseServerConfig(read.text, read.file) : read;
}
