/**
 * `sluice validate [<pipeline.yml> …] [--server <config.yml>] [--repo owner/name]`:
 * check the files and print one `file:line:col: message` line per problem.
 * With a server config, pipelines are also checked against its environments,
 * host groups and secrets, as the pipeline of `--repo` (default: the
 * repository of the checkout the file is in, as `sluice run` finds it).
 * Exit 0 when everything is valid, 1 otherwise.
 */
import { dirname, resolve } from 'node:path';
import { formatProblem } from '../config/config-problem.ts';
import { displayPath } from '../config/display-path.ts';
import { loadPipelineConfig } from '../config/load-pipeline-config.ts';
import { loadServerConfig } from '../config/load-server-config.ts';
import type { ServerConfig } from '../config/server.schema.ts';
import { CliError } from './cli-error.ts';
import { detectRepo } from './detect-repo.ts';
import { parseCliArgs } from './parse-cli-args.ts';

export interface LineIo {
  out: (line: string) => void;
  err: (line: string) => void;
}

export async function runValidate(args: string[], io: LineIo): Promise<number> {
  const { positionals, values } = parseCliArgs(args, { repo: { type: 'string' } });
  if (positionals.length === 0 && !values.serverFile) {
    throw new CliError(
      'Say what to check: sluice validate <pipeline.yml> [--server <config.yml>], or sluice validate --server <config.yml>',
      2,
    );
  }
  let failed = false;
  let server: ServerConfig | undefined;
  if (values.serverFile) {
    const loaded = await loadServerConfig(resolve(values.serverFile));
    if (loaded.ok) {
      server = loaded.config;
      const environments = Object.keys(server.environments ?? {});
      io.out(
        `✓ ${displayPath(resolve(values.serverFile))} is a valid server config (${plural(environments.length, 'environment')}${environments.length ? `: ${environments.join(', ')}` : ''})`,
      );
    } else {
      failed = true;
      for (const problem of loaded.problems) io.err(formatProblem(problem));
    }
  }
  for (const file of positionals) {
    if (values.serverFile && !server) {
      io.err(`${file}: not checked, since the server config it is checked against has problems`);
      continue;
    }
    const repo = server ? (values.repo ?? (await detectRepo(dirname(resolve(file))))) : undefined;
    const loaded = await loadPipelineConfig(resolve(file), { server, repo });
    if (loaded.ok) {
      const stages = loaded.definition.stages;
      const actions = stages.reduce((n, stage) => n + stage.actions.length, 0);
      io.out(
        `✓ ${displayPath(resolve(file))} is a valid pipeline (${plural(stages.length, 'stage')}, ${plural(actions, 'action')})${server ? ` for this server config, as ${repo}` : ''}`,
      );
    } else {
      failed = true;
      for (const problem of loaded.problems) io.err(formatProblem(problem));
    }
  }
  return failed ? 1 : 0;
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}
