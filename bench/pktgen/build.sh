#!/bin/sh
# Builds Pktgen-DPDK 23.03.0, with Lua, against the system's DPDK (Debian
# 12's libdpdk-dev 22.11), for `npm run bench:pktgen`.
#
#   bench/pktgen/build.sh <pktgen source dir>
#
# The source is Pktgen-DPDK's public tree at tag pktgen-23.03.0
# (https://github.com/pktgen/Pktgen-DPDK), outside this repository, e.g.
#   git clone --depth 1 -b pktgen-23.03.0 https://github.com/pktgen/Pktgen-DPDK /work/pktgen-src
# Its pcap/ folder (large sample captures) is not needed.
#
# Builds in <source dir>/build (binary: <source dir>/build/app/pktgen) and
# records the source dir in bench/out/pktgen-source, where bench:pktgen looks
# for it (or set PKTGEN_DIR). Not part of npm install or CI: it is a bench.
#
# Needs: meson ninja-build libnuma-dev liblua5.3-dev libdpdk-dev pkg-config
# (apt-get install meson ninja-build libnuma-dev liblua5.3-dev).
set -eu

if [ $# -ne 1 ] || [ ! -f "$1/meson.build" ] || [ ! -f "$1/Pktgen.lua" ]; then
  echo "usage: $0 <Pktgen-DPDK source dir> (the folder holding meson.build and Pktgen.lua)" >&2
  exit 2
fi
src=$(cd "$1" && pwd)
repo=$(cd "$(dirname "$0")/../.." && pwd)

missing=""
for tool in meson ninja pkg-config cc; do
  command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
pkg-config --exists libdpdk 2>/dev/null || missing="$missing libdpdk-dev"
pkg-config --exists lua5.3 2>/dev/null || missing="$missing liblua5.3-dev"
pkg-config --exists numa 2>/dev/null || [ -f /usr/include/numa.h ] || missing="$missing libnuma-dev"
if [ -n "$missing" ]; then
  echo "$0: missing:$missing (apt-get install meson ninja-build pkg-config libnuma-dev liblua5.3-dev libdpdk-dev)" >&2
  exit 1
fi

version=$(cat "$src/VERSION" 2>/dev/null || echo unknown)
case "$version" in
  23.03.*) ;;
  *) echo "$0: warning: $src is Pktgen $version; bench:pktgen was checked with 23.03.0" >&2 ;;
esac

# -Dc_args: Debian's libdpdk.pc puts DPDK's include dir only on the targets
# that link DPDK; pktgen's lib/lua includes rte_version.h without it.
if [ ! -f "$src/build/build.ninja" ]; then
  meson setup "$src/build" "$src" -Denable_lua=true \
    -Dc_args="$(pkg-config --cflags-only-I libdpdk)"
fi
ninja -C "$src/build"

bin="$src/build/app/pktgen"
[ -x "$bin" ] || { echo "$0: the build made no $bin" >&2; exit 1; }
mkdir -p "$repo/bench/out"
echo "$src" > "$repo/bench/out/pktgen-source"
echo "built $bin (Pktgen $version); recorded $src in bench/out/pktgen-source"
