/**
 * Shell functions for a command whose leftovers may keep running (a deploy
 * hook that starts the app with `nohup app &`), pure text for the run
 * scripts of both executors.
 *
 * A background process inherits the command's stdout and stderr. Were they
 * the executor's own pipes (the SSH channel, or Sluice's pipes here), the
 * command would count as running until that process closed them: `nohup app
 * &` would hold a hook open for ever. So the command writes into pipes of
 * the run script's own, and a relay copies each to the real stream until
 * the end marker, which the run script writes once the command's own
 * process has exited: everything the command wrote comes before it. Then
 * each relay lets go of the real stream and keeps reading into /dev/null,
 * so a daemon that still writes there neither blocks nor dies of SIGPIPE,
 * after Sluice and its connection are gone too.
 *
 * `detach_output END` (run once, before the command starts) makes the
 * script's stdout and stderr those pipes; `end_output END` marks the end.
 * END is a marker no output contains (random per run). The relay is bash's
 * `read`, which takes a pipe a byte at a time and so hands on each line at
 * once (awk may wait to fill a buffer, as mawk does).
 */
export const DETACH_OUTPUT = `relay_output() {
  while IFS= read -r line || [ -n "$line" ]; do
    case $line in *"$1"*)
      line=\${line%%"$1"*}
      if [ -n "$line" ]; then printf '%s\\n' "$line"; fi
      break ;;
    esac
    printf '%s\\n' "$line"
  done
  exec cat >/dev/null 2>&1
}
detach_output() {
  exec 3>&1 4>&2
  exec 1> >(exec 1>&3 2>&4 3>&- 4>&-; relay_output "$1")
  exec 2> >(exec 1>&4 2>&4 3>&- 4>&-; relay_output "$1")
  exec 3>&- 4>&-
}
end_output() {
  printf '%s\\n' "$1"
  printf '%s\\n' "$1" >&2
}`;
