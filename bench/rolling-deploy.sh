#!/usr/bin/env bash
# A hand-written rolling deploy over plain ssh and scp: the baseline Sluice
# is measured against (bench/rollout.ts). Host by host: copy the tarball,
# check its sha256, unpack it into releases/<id>, [drain], stop the old
# release, switch `current`, start the new one, check health, [undrain],
# prune old releases. With --parallel, every host at once (no drain): the
# floor of what the transfers and restarts cost. With --control-master DIR,
# one OpenSSH connection per host, opened by its first step and shared by
# every later ssh and scp (ControlMaster=auto, ControlPath in DIR,
# ControlPersist), closed at the end: the script done well.
#
#   rolling-deploy.sh [--parallel] [--control-master DIR] [--haproxy SOCKET] --user USER
#     --key KEY --known-hosts FILE --path DEPLOY_PATH --release ID TARBALL NAME=ADDRESS:PORT...
#
# Prints "<host> <step> <seconds>" on stderr for each step (bench/rollout.ts
# sums them); exits non-zero if any host failed.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
parallel=false control= socket= user= key= known_hosts= path= release=
while [ $# -gt 0 ]; do
  case $1 in
    --parallel) parallel=true; shift ;;
    --control-master) control=$2; shift 2 ;;
    --haproxy) socket=$2; shift 2 ;;
    --user) user=$2; shift 2 ;;
    --key) key=$2; shift 2 ;;
    --known-hosts) known_hosts=$2; shift 2 ;;
    --path) path=$2; shift 2 ;;
    --release) release=$2; shift 2 ;;
    --) shift; break ;;
    -*) echo "$0: unknown option $1" >&2; exit 2 ;;
    *) break ;;
  esac
done
if [ -z "$user" ] || [ -z "$key" ] || [ -z "$known_hosts" ] || [ -z "$path" ] || [ -z "$release" ] || [ $# -lt 2 ]; then
  sed -n '12,13p' "$0" >&2
  exit 2
fi
tarball=$1
shift
hosts=("$@")
sha256=$(sha256sum "$tarball" | cut -d' ' -f1)
keep=5

ssh_opts=(-i "$key" -o UserKnownHostsFile="$known_hosts" -o StrictHostKeyChecking=yes -o BatchMode=yes -o ConnectTimeout=10 -o LogLevel=ERROR)
if [ -n "$control" ]; then
  # %C: a hash of host, port and user, so each host gets its own master.
  ssh_opts+=(-o ControlMaster=auto -o "ControlPath=$control/%C" -o ControlPersist=60)
  close_masters() {
    for host in "${hosts[@]}"; do
      local target=${host#*=}
      ssh "${ssh_opts[@]}" -p "${target##*:}" -O exit "$user@${target%:*}" 2>/dev/null || true
    done
  }
  trap close_masters EXIT
fi
q() { printf '%q' "$1"; }
P=$(q "$path")
R=$(q "$release")

deploy_host() {
  local name=${1%%=*} target=${1#*=}
  local address=${target%:*} port=${target##*:}
  local incoming="$P/incoming/$R.tar.gz" partial="$P/incoming/$R.partial"
  on() { ssh "${ssh_opts[@]}" -p "$port" "$user@$address" "$1"; }
  step() {
    local what=$1 started=$EPOCHREALTIME
    shift
    "$@"
    echo "$name $what $(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.3f", b - a }')" >&2
  }
  upload() {
    on "mkdir -p $P/releases $P/incoming"
    scp "${ssh_opts[@]}" -q -P "$port" "$tarball" "$user@$address:$incoming"
  }

  step upload upload
  step unpack on "echo '$sha256  '$incoming | sha256sum -c --quiet - && rm -rf $partial && mkdir -p $partial &&
    tar -xzf $incoming -C $partial --no-same-owner && mv -T $partial $P/releases/$R && rm -f $incoming"
  if [ -n "$socket" ]; then step drain "$here/haproxy-state.sh" "$socket" "app/$name" drain; fi
  # A first deploy has no current release to stop.
  step stop on "if [ -e $P/current ]; then cd $P/current && sh deploy/stop.sh; fi"
  step switch on "ln -sfn releases/$R $P/.current-$R && mv -T $P/.current-$R $P/current"
  step start on "cd $P/releases/$R && sh deploy/start.sh"
  # Every 100 ms for up to 3 s, as Sluice's health check in the bench pipeline.
  step health on ". $P/shared/app.env; for i in \$(seq 30); do
    curl -fsS -o /dev/null http://127.0.0.1:\$PORT/health && exit 0; sleep 0.1; done; exit 1"
  if [ -n "$socket" ]; then step undrain "$here/haproxy-state.sh" "$socket" "app/$name" ready; fi
  step prune on "cd $P/releases && ls -1 | sort | head -n -$keep | xargs -r rm -rf --"
}

if $parallel; then
  pids=()
  for host in "$@"; do
    deploy_host "$host" &
    pids+=($!)
  done
  failed=0
  for pid in "${pids[@]}"; do wait "$pid" || failed=$((failed + 1)); done
  if [ "$failed" -gt 0 ]; then
    echo "$0: $failed host(s) failed" >&2
    exit 1
  fi
else
  for host in "$@"; do deploy_host "$host"; done
fi
