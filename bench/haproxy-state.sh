#!/usr/bin/env bash
# Put one HAProxy server in a state through the runtime API and wait for its
# effect, as Sluice's own drain does (src/deploy/haproxy-runtime.ts):
#
#   haproxy-state.sh SOCKET BACKEND/SERVER drain [TIMEOUT_S]   until it holds no session
#   haproxy-state.sh SOCKET BACKEND/SERVER ready [TIMEOUT_S]   until its health check sees it UP
#
# Used by rolling-deploy.sh and by the Ansible playbook (rollout.yml), so the
# hand-written baselines wait for exactly what Sluice waits for.
set -euo pipefail

if [ $# -lt 3 ]; then
  echo "usage: $0 SOCKET BACKEND/SERVER drain|ready [TIMEOUT_S]" >&2
  exit 2
fi
socket=$1 server=$2 state=$3 timeout_s=${4:-10}
case $state in drain | ready) ;; *) echo "$0: state is drain or ready, not $state" >&2; exit 2 ;; esac

api() { printf '%s\n' "$1" | socat -t 5 stdio "UNIX-CONNECT:$socket"; }

answer=$(api "set server $server state $state")
if [ -n "${answer//[[:space:]]/}" ]; then
  echo "$0: HAProxy refused \"set server $server state $state\": $answer" >&2
  exit 1
fi

# One `show stat` row as "scur|qcur|status|check_status", columns found by name.
row() {
  api "show stat" | awk -F, -v px="${server%%/*}" -v sv="${server#*/}" '
    NR == 1 { sub(/^# /, ""); for (i = 1; i <= NF; i++) col[$i] = i; next }
    $1 == px && $2 == sv { print $col["scur"] "|" $col["qcur"] "|" $col["status"] "|" $col["check_status"] }'
}

# Polled every 20 ms, like Sluice; bounded by TIMEOUT_S.
last=
for ((i = 0; i < timeout_s * 50; i++)); do
  last=$(row)
  IFS='|' read -r scur qcur status check <<<"$last"
  if [ "$state" = drain ] && [ "${scur:-1}" = 0 ] && [ "${qcur:-0}" = 0 ]; then exit 0; fi
  if [ "$state" = ready ] && [ "${status:-}" = UP ] && [[ ${check:-} == L7OK* ]]; then exit 0; fi
  sleep 0.02
done
echo "$0: $server not $state after ${timeout_s}s (scur|qcur|status|check: ${last:-no such server})" >&2
exit 1
