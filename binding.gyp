{
  # The addon's one source list is native/sources.txt (CMakeLists.txt reads it too).
  # CPU flags: FASTPATH_MARCH (default "native"; e.g. "corei7" or "x86-64-v3"
  # for a portable build). DPDK comes from `pkg-config libdpdk`; libpcap (the
  # capture's filter compiler, pcap_compile) from `pkg-config libpcap`.
  # -fvisibility=hidden: the data plane's globals are reached PC-relative
  # instead of through the GOT; only the N-API entry point is exported.
  "variables": {
    "fastpath_march%": "<!(echo ${FASTPATH_MARCH:-native})"
  },
  "targets": [
    {
      "target_name": "fastpath",
      "sources": ["<!@(cat native/sources.txt)"],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": ["NAPI_VERSION=8", "NAPI_CPP_EXCEPTIONS", "_GNU_SOURCE", "ALLOW_EXPERIMENTAL_API"],
      "cflags": ["<!@(pkg-config --cflags libdpdk)", "-O3", "-march=<(fastpath_march)", "-fvisibility=hidden", "-Wall", "-Wextra", "-Wno-unused-parameter"],
      "cflags_c": ["-std=gnu11"],
      "cflags_cc": ["-std=gnu++17", "-fexceptions"],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++14", "-std=gnu++1y"],
      "libraries": ["<!@(pkg-config --libs libdpdk)", "<!@(pkg-config --libs libpcap)"]
    }
  ]
}
