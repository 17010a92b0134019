#!/usr/bin/env bash
# What the benchmarks need beyond the tests: a C compiler for the load tool, and HAProxy
# (Debian's) to compare with, hping3 for the soak. Installed when missing; HAProxy is optional.
set -euo pipefail
cd "$(dirname "$0")/.."
if ! command -v haproxy >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ensure-bench-deps: installing haproxy"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends haproxy >/dev/null 2>&1 \
    || echo "ensure-bench-deps: haproxy could not be installed; its rows are skipped" >&2
fi
# The soak's SYN flood.
if ! command -v hping3 >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
  echo "ensure-bench-deps: installing hping3"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends hping3 >/dev/null 2>&1 \
    || echo "ensure-bench-deps: hping3 could not be installed; the SYN flood phase fails" >&2
fi
mkdir -p bench/build
if [ ! -x bench/build/tcpbench ] || [ bench/tools/tcpbench.c -nt bench/build/tcpbench ]; then
  gcc -O2 -Wall -Wextra -o bench/build/tcpbench bench/tools/tcpbench.c
fi
