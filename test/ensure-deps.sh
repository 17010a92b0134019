#!/usr/bin/env bash
# Installs what the demo and the tests need on a fresh Debian machine, skipping what is there:
# the network tools and build headers (apt), the npm packages (npm ci) and the build (addon + TypeScript).
set -euo pipefail
cd "$(dirname "$0")/.."

missing=()
for pair in ip:iproute2 ss:iproute2 sysctl:procps nft:nftables iptables:iptables iperf3:iperf3 tcpdump:tcpdump \
            curl:curl ping:iputils-ping python3:python3 make:make g++:g++ promtool:prometheus \
            dpkg-buildpackage:dpkg-dev dh:debhelper help2man:help2man lintian:lintian fakeroot:fakeroot \
            systemd-analyze:systemd setpriv:util-linux hping3:hping3 traceroute:traceroute; do
  command -v "${pair%%:*}" >/dev/null 2>&1 || missing+=("${pair#*:}")
done
# Headers the addon's NFQUEUE binding builds against.
for pair in libnetfilter_queue/libnetfilter_queue.h:libnetfilter-queue-dev libmnl/libmnl.h:libmnl-dev; do
  [ -f "/usr/include/${pair%%:*}" ] || missing+=("${pair#*:}")
done
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "ensure-deps: missing Debian packages: ${missing[*]} (run as root to install them)" >&2
    exit 1
  fi
  echo "ensure-deps: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends $(printf '%s\n' "${missing[@]}" | sort -u) >/dev/null
fi

# node-gyp must use the local Node headers, never download them.
export npm_config_nodedir="${npm_config_nodedir:-/usr}"
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
else
  [ -f build/Makefile ] || npx --no-install node-gyp configure --nodedir="$npm_config_nodedir" >/dev/null
  npm run --silent build >/dev/null
fi
