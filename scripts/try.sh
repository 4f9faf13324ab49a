#!/usr/bin/env bash
# `npm run try`: brings what the try needs and is missing, then runs it.
# The project's dependencies (Node 24 among them) when node_modules is absent;
# as root, Debian's packages for the hosts and the load balancer; as anyone
# else, one line saying which to install.
set -euo pipefail
cd "$(dirname "$0")/.."
# A node_modules without the project's Node (installed with --ignore-scripts,
# or before Sluice brought its own) is installed again, as an absent one is.
[ -x node_modules/.bin/node ] || npm ci
export PATH="$PWD/node_modules/.bin:$PATH"
node scripts/need-node.js
packages=(git tar curl procps openssh-server haproxy)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "$(id -u)" != 0 ]; then
  echo "npm run try starts sshd hosts in mount namespaces of their own, which needs root: run 'sudo npm run try'${missing:+ after 'sudo apt-get install ${missing[*]}'}." >&2
  exit 1
fi
if [ "${#missing[@]}" -gt 0 ]; then
  echo "Installing what the try needs: ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
exec node scripts/try.ts "$@"
