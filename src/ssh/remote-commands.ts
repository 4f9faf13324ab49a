/**
 * The shell text the SSH executor sends to a host (pure, no I/O). Values
 * never become part of a script: every script is a constant run as
 * `bash -c SCRIPT sluice ARG…`, and paths, commands, process group ids
 * arrive as positional arguments quoted with quoteArg (PRODUCT S7).
 */
import { DETACH_OUTPUT } from '../executor/detach-output.ts';
import type { Leftovers } from '../executor/executor.ts';
import { quoteArg } from '../executor/shell-quote.ts';

/**
 * Marker lines the run script prints on stdout before the command starts.
 * The group id line ends with the time limit (seconds) the host itself
 * holds the command to, empty when it holds none (no GNU timeout there).
 */
export function runMarkers(nonce: string): { pgid: RegExp; noCwd: string } {
  return { pgid: new RegExp(`^sluice-${nonce}:pgid:(\\d+):(\\d*)$`), noCwd: `sluice-${nonce}:no-cwd` };
}

// SIGTERM to the group; SIGKILL to what is left after $2 tenths of a second;
// then a moment for the kernel to finish, so callers can rely on "gone".
// Zombies do not count: kill -0 would see them until init reaps them, and
// some inits (in containers) reap only every second or two.
const STOP_GROUP = `group_alive() {
  if out=$(ps -A -o pgid= -o stat= 2>/dev/null); then
    printf '%s\\n' "$out" | awk -v g="$1" '$1 == g && $2 !~ /^Z/ { found = 1 } END { exit !found }'
  else
    kill -0 -- "-$1" 2>/dev/null
  fi
}
stop_group() {
  [ "$1" -gt 1 ] 2>/dev/null || return 2
  kill -TERM -- "-$1" 2>/dev/null || return 0
  i=0
  while group_alive "$1"; do
    if [ "$i" -ge "$2" ]; then kill -KILL -- "-$1" 2>/dev/null; break; fi
    sleep 0.1; i=$((i + 1))
  done
  i=0
  while group_alive "$1" && [ "$i" -lt 10 ]; do sleep 0.1; i=$((i + 1)); done
  return 0
}`;

// $1 nonce, $2 cwd, $3 env file, '-' (the env text comes first on stdin,
// up to a NUL byte: bash reads a pipe a byte at a time, so the command gets
// the rest untouched) or '', $4 command, $5 grace (tenths of a
// second), $6 leftovers: `stop` or `keep`, $7 mark, $8 the host's own time
// limit in seconds or '', $9 grace in seconds, $10 KEEP_WRAPPER.
// The command runs under setsid as leader of its own process group and
// prints that group id first, so the executor can stop all of it later
// with a second exec. The env file (0600, values never on a command line)
// is sourced and deleted before the command starts. `<&0` keeps stdin:
// bash gives a background job /dev/null otherwise. As a background job
// setsid is never a group leader, so it does not fork and `$!` is the group.
// With `stop`, whatever the command leaves running is stopped once it
// exits, as locally. With `keep` it runs on, and its output no longer
// holds the channel open once the command has exited (DETACH_OUTPUT).
// The mark goes into the environment after the env file, so no variable of
// the pipeline's replaces it. With a host limit, coreutils' `timeout` (as
// the group's leader) stops the whole group at it even when the Sluice
// process that started the command is gone for good; its SIGKILL follows
// the grace period. A host without GNU timeout runs the command without.
// timeout sends that SIGKILL only while its own child lives: a process of
// the group that ignores SIGTERM outlives a command that does not. So once
// the limit has been reached (timeout says 124, or 137, and the time has
// passed) this script stops the group itself, for a hook too: a hook that
// times out keeps nothing running.
// With `keep`, the end of the command's output is marked by its own parent
// as it exits, not by this script once timeout has exited too: what a
// daemon prints a moment later must not pass for the hook's.
// $1 the command, $2 the end marker.
const KEEP_WRAPPER = `bash --norc -c "$1"
code=$?
printf '%s\\n' "$2"
printf '%s\\n' "$2" >&2
exit "$code"`;

const RUN = `if ! cd -- "$2" 2>/dev/null; then printf 'sluice-%s:no-cwd\\n' "$1"; exit 1; fi
${STOP_GROUP}
if [ "$6" = keep ]; then
${DETACH_OUTPUT}
detach_output "sluice-$1:end"
fi
limit=$8
if [ -n "$limit" ] && ! timeout --version >/dev/null 2>&1; then limit=; fi
start=$SECONDS
setsid -w bash --norc -c 'printf "sluice-%s:pgid:%s:%s\\n" "$1" "$$" "$5"
if [ "$2" = - ]; then IFS= read -r -d "" sluice_env || exit 1; eval "$sluice_env" || exit 1; unset sluice_env
elif [ -n "$2" ]; then . "$2" || exit 1; rm -f -- "$2"; fi
export SLUICE_COMMAND_MARK="$4"
limit=()
if [ -n "$5" ]; then limit=(timeout -k "$6" "$5"); fi
if [ "$7" = keep ]; then exec "\${limit[@]}" bash --norc -c "$8" sluice-hook "$3" "sluice-$1:end"; fi
exec "\${limit[@]}" bash --norc -c "$3"' sluice-command "$1" "$3" "$4" "$7" "$limit" "$9" "$6" "\${10}" <&0 &
pgid=$!
wait "$pgid"
code=$?
if [ -n "$limit" ] && { [ "$code" = 124 ] || [ "$code" = 137 ]; } && [ $((SECONDS - start)) -ge "$limit" ]; then stop_group "$pgid" "$5"; fi
if [ "$6" = keep ]; then end_output "sluice-$1:end"; exit "$code"; fi
stop_group "$pgid" "$5"
exit "$code"`;

// $1 grace (tenths), then `PGID:MARK` per command (PGID empty when it was
// never learnt), then `--`, then workspaces. A group is stopped only if one
// of its processes still carries the command's mark in its environment:
// process group ids are reused, and another program may have this one now.
// Without /proc (not Linux) nothing can be told apart, so nothing is stopped.
// Only the recorded group: a daemon that left it (setsid) is not this
// command's to stop.
const STOP_ORPHANS = `${STOP_GROUP}
pgid_of() {
  local s
  read -r s < "/proc/$1/stat" 2>/dev/null || return 1
  s=\${s##*) }
  set -- $s
  printf '%s\\n' "$3"
}
grace=$1; shift
while [ "$#" -gt 0 ] && [ "$1" != -- ]; do
  want=\${1%%:*}; mark=\${1#*:}; shift
  [ -d /proc/self ] || { echo "no /proc here: cannot tell the process group of mark $mark from another"; continue; }
  groups=$(grep -lzxF -- "SLUICE_COMMAND_MARK=$mark" /proc/[0-9]*/environ 2>/dev/null | while IFS=/ read -r _ _ pid _; do pgid_of "$pid"; done | sort -un)
  for g in $groups; do
    [ -z "$want" ] || [ "$g" = "$want" ] || continue
    [ "$g" -gt 1 ] 2>/dev/null || continue
    stop_group "$g" "$grace"
    echo "stopped process group $g"
  done
done
[ "$1" = -- ] && shift
for ws; do
  rm -rf -- "$ws" 2>/dev/null || { chmod -R u+w -- "$ws" 2>/dev/null; rm -rf -- "$ws"; }
  echo "removed $ws"
done`;

const MAKE_WORKSPACE = `mkdir -p -- "$1" || exit 1
if [ ! -O "$1" ]; then echo "$1 is not owned by $(id -un): refusing to make workspaces in it" >&2; exit 1; fi
ws=$(mktemp -d -- "$1/sluice-ws-XXXXXXXXXX") || exit 1
cd -- "$ws" && pwd -P`;

// Tools such as Go's module cache leave read-only directories behind.
const REMOVE_WORKSPACE = `rm -rf -- "$1" 2>/dev/null || { chmod -R u+w -- "$1" 2>/dev/null; rm -rf -- "$1"; }`;

export interface RunScriptOptions {
  /** Random, per run: marks the executor's own lines on stdout. */
  nonce: string;
  cwd: string;
  /** Absolute path of the env file, `-` for env text first on stdin (see `envOnStdin`), or undefined. */
  envFile: string | undefined;
  command: string;
  killGraceMs: number;
  /** What happens to processes the command leaves running once it exits. */
  leftovers: Leftovers;
  /** Put in the command's environment as SLUICE_COMMAND_MARK. */
  mark: string;
  /** The host stops the command's group after this long by itself; undefined: no limit there. */
  hostLimitMs: number | undefined;
}

/** Runs `command` with bash in `cwd`, in its own process group. */
export function buildRunCommand(options: RunScriptOptions): string {
  const grace = tenths(options.killGraceMs);
  const limit = options.hostLimitMs === undefined ? '' : String(Math.max(1, Math.ceil(options.hostLimitMs / 1000)));
  return bashScript(RUN, [
    options.nonce,
    options.cwd,
    options.envFile ?? '',
    options.command,
    String(grace),
    options.leftovers,
    options.mark,
    limit,
    `${Math.max(1, Math.ceil(grace / 10))}s`,
    KEEP_WRAPPER,
  ]);
}

/** Stops a process group: SIGTERM, then SIGKILL after the grace period. */
export function buildStopCommand(pgid: number, killGraceMs: number): string {
  if (!Number.isSafeInteger(pgid) || pgid <= 1) throw new RangeError(`not a process group id: ${pgid}`);
  return bashScript(`${STOP_GROUP}\nstop_group "$1" "$2"`, [String(pgid), String(tenths(killGraceMs))]);
}

/**
 * Stops what commands of a dead Sluice process left running (their process
 * groups, checked by mark) and removes their workspaces. Runs on any host,
 * this machine included, with bash and /proc.
 */
export function buildStopOrphansCommand(
  killGraceMs: number,
  commands: ReadonlyArray<{ pgid: number | undefined; mark: string }>,
  workspaces: readonly string[],
): string {
  for (const { pgid, mark } of commands) {
    if (pgid !== undefined && (!Number.isSafeInteger(pgid) || pgid <= 1))
      throw new RangeError(`not a process group id: ${pgid}`);
    if (!/^[0-9a-f]{8,64}$/.test(mark)) throw new RangeError(`not a command mark: ${mark}`);
  }
  const groups = commands.map(({ pgid, mark }) => `${pgid ?? ''}:${mark}`);
  return bashScript(STOP_ORPHANS, [String(tenths(killGraceMs)), ...groups, '--', ...workspaces]);
}

/** Makes a fresh 0700 directory under `baseDir` and prints its physical path. */
export function buildMakeWorkspaceCommand(baseDir: string): string {
  return bashScript(MAKE_WORKSPACE, [baseDir]);
}

export function buildRemoveWorkspaceCommand(workspace: string): string {
  return bashScript(REMOVE_WORKSPACE, [workspace]);
}

/**
 * What goes first on a command's stdin when its env file is `-`: the env
 * file's text and a NUL byte, which no variable can hold, to end it.
 */
export function envOnStdin(env: Record<string, string>): string {
  const text = buildEnvFile(env);
  if (text.includes('\0')) throw new RangeError('a variable holds a NUL byte, which no environment can carry');
  return `${text}\0`;
}

/** The env file's text: one `export NAME='value'` per variable. */
export function buildEnvFile(env: Record<string, string>): string {
  return Object.entries(env)
    .map(([name, value]) => {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw new RangeError(`"${name}" is not an environment variable name (letters, digits and "_")`);
      return `export ${name}=${quoteArg(value)}\n`;
    })
    .join('');
}

/**
 * Shell text for the login shell that sshd starts: bash runs the constant
 * script. `--norc`: Debian's bash reads ~/.bashrc again in every shell that
 * looks started by sshd; the login shell has read it already, and what it
 * exported (PATH) is inherited.
 */
function bashScript(script: string, args: readonly string[]): string {
  return ['exec', 'bash', '--norc', '-c', quoteArg(script), 'sluice', ...args.map(quoteArg)].join(' ');
}

function tenths(ms: number): number {
  return Math.max(0, Math.ceil(ms / 100));
}
