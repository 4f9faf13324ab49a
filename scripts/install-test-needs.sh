#!/usr/bin/env bash
# What the tests need from the machine, found before they run (`npm test`
# runs this first, and so does .ci/run): root, since each test host is an
# sshd in a mount namespace of its own, and Debian's packages for the real
# parts the tests use. As root it installs what is missing; otherwise it
# says in one line what to install.
#
# git and tar: sources and artifacts; postgresql: the store's second database;
# openssh-server, haproxy and socat: real SSH hosts and a load balancer for the
# deploy tests; curl and procps: health checks and process checks on those
# hosts; chromium: the execution page, in a real browser; prometheus: promtool
# and a real scrape of the metrics; systemd: systemd-analyze checks the unit;
# xxd and bsdextrautils: xxd and hexdump, whose dumps secret masking is tested on.
set -euo pipefail

packages=(git tar curl procps postgresql openssh-server haproxy socat chromium prometheus systemd xxd bsdextrautils)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done

if [ "$(id -u)" != 0 ]; then
  if [ "${#missing[@]}" -gt 0 ]; then
    echo "The tests need root and Debian's ${missing[*]}: run 'sudo apt-get install ${missing[*]}', then 'sudo npm test'." >&2
  else
    echo "The tests need root (each test host is an sshd in a mount namespace of its own): run 'sudo npm test'." >&2
  fi
  exit 1
fi
[ "${#missing[@]}" -eq 0 ] && exit 0

if ! command -v apt-get >/dev/null; then
  echo "The tests need ${missing[*]} (Debian package names); this machine has no apt-get: install them with its package manager." >&2
  exit 1
fi
echo "Installing what the tests need: ${missing[*]}"
apt-get update -qq
DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
