/**
 * The `sluice` command: validate config, run a pipeline for a local
 * checkout, and look at or steer what the store holds.
 */
import { runValidate } from './validate-command.ts';
import { CliError } from './cli-error.ts';
import { type Io, stdio } from './io.ts';
import { messageForPeople } from '../sluice-error.ts';
import { runPipeline } from './run-command.ts';
import { runStatus } from './status-command.ts';
import { runApprove, runCancel, runRerun, runRetry, runTransition } from './steer-commands.ts';

const USAGE = `Usage: sluice <command> [options]

Commands:
  validate <pipeline.yml> [--server <config.yml>] [--repo <owner/name>]
                                                    check a pipeline file (and its environments)
  validate --server <config.yml>                    check a server config
  run [--pipeline .github/sluice.yml] [--server <config.yml>] [--approve yes|no]
                                                    run the pipeline for this checkout
  status [<execution>] [--json]                     list executions, or show one with its history
  retry <execution> <stage>                         retry a failed stage and go on from there
  rerun <execution>                                 run the same revision again from the start
  approve <execution> [--comment <text>]            approve the open approval of an execution
  reject <execution> [--comment <text>]             reject it
  cancel <execution>                                cancel a running execution
  transition disable <stage> [--reason <text>]      hold executions before a stage
  transition enable <stage>                         let them go on

Options for every command that reads the store:
  --data-dir <dir>       where Sluice keeps its database, artifacts and logs (default: $SLUICE_DATA_DIR,
                         else $XDG_STATE_HOME/sluice or ~/.local/state/sluice)
  --database-url <url>   use PostgreSQL instead (default: $DATABASE_URL)
`;

export async function main(argv: string[], io: Io = stdio): Promise<number> {
  const [command, ...args] = argv;
  try {
    switch (command) {
      case 'validate':
        return await runValidate(args, { out: (s) => io.out(`${s}\n`), err: (s) => io.err(`${s}\n`) });
      case 'run':
        return await runPipeline(args, io);
      case 'status':
        return await runStatus(args, io);
      case 'retry':
        return await runRetry(args, io);
      case 'rerun':
        return await runRerun(args, io);
      case 'approve':
        return await runApprove(args, io, true);
      case 'reject':
        return await runApprove(args, io, false);
      case 'cancel':
        return await runCancel(args, io);
      case 'transition':
        return await runTransition(args, io);
      case undefined:
      case 'help':
      case '--help':
      case '-h':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        io.err(`Unknown command "${command}".\n\n${USAGE}`);
        return 2;
    }
  } catch (error) {
    const forPeople = messageForPeople(error);
    if (forPeople === undefined) throw error;
    io.err(`${forPeople}\n`);
    return error instanceof CliError ? error.exitCode : 1;
  }
}
