#!/bin/sh
# Checks that the Debian/Ubuntu packages fastpath's build and tests need are
# installed; installs the missing ones when run as root (npm's preinstall).
#
#   FASTPATH_SKIP_SYSTEM_DEPS=1   skip the check entirely
#
# Exit 0: everything present (or installed, or skipped). Exit 1: packages are
# missing and we may not install them (not root, or no dpkg/apt-get).
set -eu

# Package -> why it is needed:
#   libdpdk-dev pkg-config          the native addon (DPDK 22.11 headers, libdpdk.pc)
#   dpdk                            dpdk-devbind.py, the PMD plugins
#   dpdk-dev                        dpdk-testpmd, dpdk-telemetry.py (benchmark)
#   dpdk-doc                        l3fwd example sources for the benchmark
#   libpcap-dev                     the addon links libpcap (capture filters: pcap_compile); the pcap PMD (benchmark traffic source)
#   build-essential make g++ cmake  node-gyp / cmake-js builds
#   python3                         node-gyp
#   iproute2 iputils-ping iputils-tracepath tcpdump tshark iperf3 ethtool
#   netcat-openbsd procps python3-scapy   integration tests and the demo
#   nftables                        SIFTR tests: drop 2% of a sender's TCP segments
#   prometheus                      promtool: the control test checks /metrics with it (the package also
#                                   installs, and on systemd hosts enables, a Prometheus server unit)
#   frr bird2                       Linux-integration tests: FRR (zebra, bgpd, ospf6d) on the host and
#                                   BIRD 2 in a test namespace peer through the mirrors; the tests run
#                                   their own instances (scratch config and sockets), whatever the
#                                   packages' own service units do
PACKAGES="libdpdk-dev dpdk dpdk-dev dpdk-doc pkg-config libpcap-dev build-essential make g++ cmake python3 iproute2 iputils-ping iputils-tracepath tcpdump tshark iperf3 ethtool netcat-openbsd procps python3-scapy nftables prometheus frr bird2"

if [ "${FASTPATH_SKIP_SYSTEM_DEPS:-}" = "1" ]; then
  echo "fastpath: FASTPATH_SKIP_SYSTEM_DEPS=1, skipping the system package check"
  exit 0
fi

if ! command -v dpkg-query >/dev/null 2>&1; then
  echo "fastpath: dpkg-query not found: not a Debian-based system." >&2
  echo "fastpath: install the equivalents of: $PACKAGES" >&2
  echo "fastpath: then rerun with FASTPATH_SKIP_SYSTEM_DEPS=1 to skip this check." >&2
  exit 1
fi

missing_packages() {
  out=""
  for p in $PACKAGES; do
    st=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
    case "$st" in
      *" installed") ;;
      *) out="$out $p" ;;
    esac
  done
  echo "${out# }"
}

MISSING=$(missing_packages)
if [ -z "$MISSING" ]; then
  echo "fastpath: system packages present"
  exit 0
fi

INSTALL_CMD="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $MISSING"

if [ "$(id -u)" != "0" ]; then
  echo "fastpath: missing system packages: $MISSING" >&2
  echo "fastpath: install them as root:" >&2
  echo "  sudo sh -c '$INSTALL_CMD'" >&2
  echo "fastpath: (or set FASTPATH_SKIP_SYSTEM_DEPS=1 to skip this check)" >&2
  exit 1
fi

echo "fastpath: installing missing system packages: $MISSING"
export DEBIAN_FRONTEND=noninteractive
export DEBCONF_NONINTERACTIVE_SEEN=true
# Never prompt: tshark (wireshark-common) asks whether non-root users may
# capture; iperf3 asks whether to run a daemon. Answer both "no".
if command -v debconf-set-selections >/dev/null 2>&1; then
  printf '%s\n' \
    'wireshark-common wireshark-common/install-setuid boolean false' \
    'iperf3 iperf3/start_daemon boolean false' | debconf-set-selections
fi

# Wait for a concurrent apt/dpkg instead of failing on its lock.
APT_OPTS="-o DPkg::Lock::Timeout=600 -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold"
# shellcheck disable=SC2086
apt-get $APT_OPTS update
# shellcheck disable=SC2086
apt-get $APT_OPTS install -y --no-install-recommends $MISSING </dev/null

STILL=$(missing_packages)
if [ -n "$STILL" ]; then
  echo "fastpath: still missing after apt-get install: $STILL" >&2
  exit 1
fi
echo "fastpath: system packages installed"
