/**
 * The two references the benchmark compares fastpath with:
 *
 *  - DPDK's l3fwd example (LPM lookup), built from Debian's dpdk-doc sources
 *    with its own Makefile: -O3 and `pkg-config --cflags libdpdk` (which has
 *    -march=corei7), then the -march fastpath's addon uses (FASTPATH_MARCH,
 *    default native), like the addon's build; patched to request only the Rx
 *    offloads the device has.
 *  - dpdk-testpmd in io forwarding mode: receive and transmit, nothing else,
 *    the I/O ceiling of these vdevs on one core.
 *
 * Both run on the same vdevs as fastpath (net_pcap replaying the pcap from
 * memory forever into the app, net_null as the sink), one forwarding lcore;
 * their rate is read from DPDK telemetry on the null port.
 */
import { createHash } from 'crypto';
import { execFileSync } from 'child_process';
import * as fs from 'fs';
import * as path from 'path';
import {
  ealMemoryArgs,
  MemoryMode,
  OUT_DIR,
  parseTscHz,
  registerPrefix,
  removeRuntimeDir,
  runCommand,
  spawnLogged,
  stopChild,
  tail,
  telemetryRate,
  TelemetrySample,
} from './common';

export const EXAMPLES_DIR = '/usr/share/dpdk/examples';
export const L3FWD_BUILD_DIR = path.join(OUT_DIR, 'l3fwd');
/** Bump when the patch or the build recipe changes: forces a rebuild. */
const L3FWD_RECIPE = 'fastpath-bench-l3fwd-2';

export const PCAP_PORT = 'net_pcap0';
export const NULL_PORT = 'net_null0';

export function vdevArgs(pcap: string): string[] {
  return [`--vdev=${PCAP_PORT},rx_pcap=${pcap},infinite_rx=1`, `--vdev=${NULL_PORT},no-rx=1`];
}

/** `setpriv --pdeathsig SIGKILL --` so no app outlives the bench, when setpriv has it. */
let deathSigPrefix: string[] | undefined;
export function deathSig(): string[] {
  if (deathSigPrefix === undefined) {
    try {
      const help = execFileSync('setpriv', ['--help'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      deathSigPrefix = help.includes('--pdeathsig') ? ['setpriv', '--pdeathsig', 'SIGKILL', '--'] : [];
    } catch {
      deathSigPrefix = [];
    }
  }
  return deathSigPrefix;
}

/** [cmd, args] run under setpriv --pdeathsig SIGKILL where possible. */
export function withDeathSig(cmd: string, args: string[]): [string, string[]] {
  const p = deathSig();
  return p.length ? [p[0], [...p.slice(1), cmd, ...args]] : [cmd, args];
}

function which(cmd: string): string | undefined {
  for (const dir of (process.env.PATH ?? '/usr/bin:/bin').split(':')) {
    const p = path.join(dir || '.', cmd);
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      /* next */
    }
  }
  return undefined;
}

// ---------------------------------------------------------------------------
// l3fwd build

/**
 * The patch: l3fwd 22.11 asks every port for RTE_ETH_RX_OFFLOAD_CHECKSUM,
 * which net_pcap and net_null lack, and refuses to start. It never reads the
 * checksum flags, so asking only for what the device has changes nothing
 * else. Two places: the port configuration and the Rx queue configuration.
 */
const PATCHES: Array<{ file: string; find: string; replace: string }> = [
  {
    file: 'main.c',
    find: `\t\tlocal_port_conf.rx_adv_conf.rss_conf.rss_hf &=\n\t\t\tdev_info.flow_type_rss_offloads;\n`,
    replace:
      `\t\tlocal_port_conf.rx_adv_conf.rss_conf.rss_hf &=\n\t\t\tdev_info.flow_type_rss_offloads;\n` +
      `\t\t/* fastpath bench: request only the Rx offloads the device has */\n` +
      `\t\tlocal_port_conf.rxmode.offloads &= dev_info.rx_offload_capa;\n`,
  },
  {
    // not a code change: lets the build append the -march fastpath's addon
    // is built with (binding.gyp: FASTPATH_MARCH, default native) after
    // libdpdk.pc's -march=corei7, so both are compiled for the same CPU
    file: 'Makefile',
    find: `CFLAGS += -I../common\n`,
    replace: `CFLAGS += -I../common\nCFLAGS += $(FASTPATH_BENCH_CFLAGS)\n`,
  },
  {
    file: 'main.c',
    find: `\t\t\trxq_conf.offloads = port_conf.rxmode.offloads;\n`,
    replace:
      `\t\t\t/* fastpath bench: only the Rx offloads the device has */\n` +
      `\t\t\trxq_conf.offloads = port_conf.rxmode.offloads &\n\t\t\t\tdev_info.rx_offload_capa;\n`,
  },
  {
    // the --routes cases: l3fwd's IPv6 LPM sized from the environment (its
    // compiled 1024 rules and 65536 tbl8 groups hold no full table);
    // unchanged when the variables are unset
    file: 'l3fwd_lpm.c',
    find: `#define IPV6_L3FWD_LPM_MAX_RULES         1024\n#define IPV6_L3FWD_LPM_NUMBER_TBL8S (1 << 16)\n`,
    replace:
      `#define IPV6_L3FWD_LPM_MAX_RULES (getenv("FP_L3FWD_V6_RULES") ? (uint32_t)atoi(getenv("FP_L3FWD_V6_RULES")) : 1024)\n` +
      `#define IPV6_L3FWD_LPM_NUMBER_TBL8S (getenv("FP_L3FWD_V6_TBL8S") ? (uint32_t)atoi(getenv("FP_L3FWD_V6_TBL8S")) : (1 << 16))\n`,
  },
  {
    // the same for its FIB mode (rte_fib6 trie: 65,535 routes, 32,768 groups compiled in)
    file: 'l3fwd_fib.c',
    find: `\tconfig.max_routes = (1 << 16) - 1;\n\tconfig.rib_ext_sz = 0;\n\tconfig.default_nh = FIB_DEFAULT_HOP;\n\tconfig.trie.nh_sz = RTE_FIB6_TRIE_4B;\n\tconfig.trie.num_tbl8 = (1 << 15);\n`,
    replace:
      `\tconfig.max_routes = getenv("FP_L3FWD_V6_RULES") ? atoi(getenv("FP_L3FWD_V6_RULES")) : (1 << 16) - 1;\n` +
      `\tconfig.rib_ext_sz = 0;\n\tconfig.default_nh = FIB_DEFAULT_HOP;\n\tconfig.trie.nh_sz = RTE_FIB6_TRIE_4B;\n` +
      `\tconfig.trie.num_tbl8 = getenv("FP_L3FWD_V6_TBL8S") ? (uint32_t)atoi(getenv("FP_L3FWD_V6_TBL8S")) : (1 << 15);\n`,
  },
];

function pkgConfig(args: string[]): string {
  return execFileSync('pkg-config', args, { encoding: 'utf8' }).trim();
}

function hashTree(h: ReturnType<typeof createHash>, dir: string): void {
  for (const name of fs.readdirSync(dir).sort()) {
    const p = path.join(dir, name);
    const st = fs.statSync(p);
    if (st.isDirectory()) hashTree(h, p);
    else {
      h.update(p);
      h.update(fs.readFileSync(p));
    }
  }
}

/** The -march fastpath's addon is built with (binding.gyp / CMakeLists.txt: FASTPATH_MARCH, default native). */
export function fastpathMarch(): string {
  return process.env.FASTPATH_MARCH || 'native';
}

export interface L3fwdBuild {
  binary: string;
  /** pkg-config --cflags libdpdk */
  cflags: string;
  /** the -march appended after them (the addon's) */
  march: string;
  dpdkVersion: string;
  rebuilt: boolean;
}

/**
 * Copies l3fwd (and examples/common) to bench/out/l3fwd/, patches it and
 * builds it with its own Makefile (make + pkg-config, -O3 plus libdpdk's
 * cflags). Reuses the binary when sources, patch, flags and compiler are
 * unchanged.
 */
export async function buildL3fwd(log: (s: string) => void): Promise<L3fwdBuild> {
  const src = path.join(EXAMPLES_DIR, 'l3fwd');
  if (!fs.existsSync(path.join(src, 'main.c'))) {
    throw new Error(`l3fwd sources not found in ${src}: install Debian's dpdk-doc package (apt-get install dpdk-doc)`);
  }
  for (const tool of ['make', 'cc', 'pkg-config']) {
    if (!which(tool)) throw new Error(`cannot build l3fwd: '${tool}' not found (apt-get install build-essential pkg-config)`);
  }
  let cflags: string;
  let libs: string;
  let dpdkVersion: string;
  try {
    cflags = pkgConfig(['--cflags', 'libdpdk']);
    libs = pkgConfig(['--libs', 'libdpdk']);
    dpdkVersion = pkgConfig(['--modversion', 'libdpdk']);
  } catch (e) {
    throw new Error(`pkg-config libdpdk failed (apt-get install libdpdk-dev): ${(e as Error).message}`);
  }
  const march = fastpathMarch();
  if (!/^[A-Za-z0-9_.-]+$/.test(march)) throw new Error(`bad FASTPATH_MARCH ${march}`);
  const h = createHash('sha256');
  h.update(L3FWD_RECIPE);
  h.update(march);
  h.update(JSON.stringify(PATCHES));
  h.update(cflags + '\n' + libs + '\n' + dpdkVersion + '\n');
  h.update(execFileSync('cc', ['--version'], { encoding: 'utf8' }));
  hashTree(h, src);
  hashTree(h, path.join(EXAMPLES_DIR, 'common'));
  const key = h.digest('hex');

  const work = path.join(L3FWD_BUILD_DIR, 'examples', 'l3fwd');
  const binary = path.join(work, 'build', 'l3fwd');
  const keyFile = path.join(L3FWD_BUILD_DIR, 'build.key');
  if (fs.existsSync(binary) && fs.existsSync(keyFile) && fs.readFileSync(keyFile, 'utf8').trim() === key) {
    return { binary, cflags, march, dpdkVersion, rebuilt: false };
  }
  log(`building l3fwd (DPDK ${dpdkVersion}) in ${path.relative(process.cwd(), L3FWD_BUILD_DIR) || '.'} ...`);
  fs.rmSync(L3FWD_BUILD_DIR, { recursive: true, force: true });
  fs.mkdirSync(path.join(L3FWD_BUILD_DIR, 'examples'), { recursive: true });
  // the Makefile includes ../common
  fs.cpSync(src, work, { recursive: true });
  fs.cpSync(path.join(EXAMPLES_DIR, 'common'), path.join(L3FWD_BUILD_DIR, 'examples', 'common'), { recursive: true });
  for (const p of PATCHES) {
    const f = path.join(work, p.file);
    const text = fs.readFileSync(f, 'utf8');
    const n = text.split(p.find).length - 1;
    if (n !== 1) {
      throw new Error(`cannot patch l3fwd ${p.file}: expected the text once, found it ${n} times (not DPDK 22.11's l3fwd?):\n${p.find}`);
    }
    fs.writeFileSync(f, text.replace(p.find, p.replace));
  }
  await runCommand('make', ['-C', work, '-j', '2', `FASTPATH_BENCH_CFLAGS=-march=${march}`, 'shared'], 'l3fwd-build.log', {
    env: { ...process.env, PKGCONF: 'pkg-config' },
  });
  if (!fs.existsSync(binary)) throw new Error(`l3fwd build produced no ${binary}`);
  fs.writeFileSync(keyFile, key + '\n');
  return { binary, cflags, march, dpdkVersion, rebuilt: true };
}

// ---------------------------------------------------------------------------
// runs

export interface AppRunOptions {
  pcap: string;
  /**
   * l3fwd: rule files (--rule_ipv4, --rule_ipv6) instead of its built-in routes, and for LPM/FIB the
   * IPv6 table's size (EM's rte_hash has room for 4M rules compiled in).
   */
  rules?: { v4: string; v6: string; lpmSize?: { maxRules: number; tbl8Groups: number } };
  memory: MemoryMode;
  /** CPU of the forwarding lcore. */
  fwdCpu: number;
  /** CPU of the main lcore (testpmd; l3fwd forwards on its main lcore). */
  mainCpu: number;
  warmupS: number;
  seconds: number;
  /** Seconds to wait for the app to start forwarding. */
  startTimeoutS: number;
  /** Unique per run. */
  prefix: string;
  logName: string;
}

export interface AppResult {
  mpps: number;
  /** TSC Hz as EAL measured it (from its debug log), when found. */
  tscHz?: number;
  packets: number;
  interval: number;
  /** Packets the pcap port received in the window (what the app took in). */
  rxPackets: number;
  /** Packets sent back out of the pcap port (l3fwd's route misses): should be 0. */
  wrongPort: number;
  rxNombuf: number;
  dpdkVersion: string;
}

async function runApp(cmd: string, args: string[], o: AppRunOptions): Promise<AppResult> {
  registerPrefix(o.prefix);
  const [c, a] = withDeathSig(cmd, args);
  const size = o.rules?.lpmSize;
  const env = size ? { ...process.env, FP_L3FWD_V6_RULES: String(size.maxRules), FP_L3FWD_V6_TBL8S: String(size.tbl8Groups) } : process.env;
  const app = spawnLogged(c, a, o.logName + '.log', { env });
  let sample: TelemetrySample;
  try {
    sample = await telemetryRate(o.prefix, NULL_PORT, o.warmupS, o.seconds, o.startTimeoutS, o.logName + '.telemetry.log', app);
  } catch (e) {
    await stopChild(app, 3000);
    removeRuntimeDir(o.prefix);
    throw new Error(`${path.basename(cmd)}: ${(e as Error).message}\n  app log: ${app.logFile}\n${tail(app.output(), 15)}`);
  }
  await stopChild(app, 5000);
  removeRuntimeDir(o.prefix);
  const nul = sample.delta[NULL_PORT];
  const pcap = sample.delta[PCAP_PORT];
  return {
    mpps: nul.opackets / sample.interval / 1e6,
    tscHz: parseTscHz(app.output()),
    packets: nul.opackets,
    interval: sample.interval,
    rxPackets: pcap?.ipackets ?? NaN,
    wrongPort: pcap?.opackets ?? 0,
    rxNombuf: (pcap?.rx_nombuf ?? 0) + (nul.rx_nombuf ?? 0),
    dpdkVersion: sample.version,
  };
}

/**
 * l3fwd's IPv6 lookups: lpm (rte_lpm6_lookup per packet), fib
 * (rte_fib6_lookup_bulk per burst), em (rte_hash on the 5-tuple, needing a
 * rule per flow).
 */
export type L3fwdLookup = 'lpm' | 'fib' | 'em';

/** Where l3fwd runs and on what: the pcap bench's vdevs, or bench/pktgen.ts's. */
export interface L3fwdArgsOptions {
  fwdCpu: number;
  memory: MemoryMode;
  prefix: string;
  /** --vdev arguments: port 0 (traffic in) first, port 1 (l3fwd's route for 2001:200:0:1::/64) second. */
  vdevs: string[];
  lookup: L3fwdLookup;
  rules?: AppRunOptions['rules'];
  /** -P: ports in promiscuous mode (needed where frames carry another port's MAC). */
  promiscuous?: boolean;
}

/**
 * l3fwd's command line, IPv6 routes from its built-in table (2001:200:0:1::/64
 * to port 1) unless `rules` are given. One lcore: EAL's main lcore on
 * `fwdCpu` forwards (l3fwd gives every lcore a Tx queue and net_pcap has only
 * one, so it cannot run a separate idle main lcore); EAL's control threads
 * stay off that CPU. `--parse-ptype`: these vdevs report no packet types,
 * l3fwd parses them in software. `--rx/tx-queue-size 4096` only sizes
 * l3fwd's mbuf pool (16704, like fastpath's 16383 and testpmd's 16384):
 * net_pcap with infinite_rx keeps every pcap packet (10000) in mbufs of that
 * pool; neither vdev has descriptor rings.
 */
export function l3fwdArgs(o: L3fwdArgsOptions): string[] {
  return [
    '-l',
    String(o.fwdCpu),
    '--no-pci',
    ...ealMemoryArgs(o.memory),
    `--file-prefix=${o.prefix}`,
    '--log-level=lib.eal:debug',
    ...o.vdevs,
    '--',
    '-p',
    '0x3',
    ...(o.promiscuous ? ['-P'] : []),
    `--config=(0,0,${o.fwdCpu}),(1,0,${o.fwdCpu})`,
    `--lookup=${o.lookup}`,
    // EM fills its IPv6 table (and not its IPv4 one) only when told the traffic is IPv6.
    ...(o.lookup === 'em' ? ['--ipv6'] : []),
    '--parse-ptype',
    '--rx-queue-size',
    '4096',
    '--tx-queue-size',
    '4096',
    ...(o.rules ? [`--rule_ipv4=${o.rules.v4}`, `--rule_ipv6=${o.rules.v6}`] : []),
  ];
}

/** l3fwd on the pcap bench's vdevs (net_pcap in, net_null out), measured on the null port. */
export function runL3fwd(binary: string, o: AppRunOptions, lookup: L3fwdLookup = 'lpm'): Promise<AppResult> {
  const args = l3fwdArgs({ fwdCpu: o.fwdCpu, memory: o.memory, prefix: o.prefix, vdevs: vdevArgs(o.pcap), lookup, rules: o.rules });
  return runApp(binary, args, o);
}

export function testpmdPath(): string | undefined {
  return which('dpdk-testpmd');
}

/**
 * dpdk-testpmd io forwarding: main lcore on `mainCpu`, one forwarding lcore
 * on `fwdCpu`, pcap port -> null port. `--stats-period` keeps it running with
 * no terminal on stdin.
 */
export function runTestpmd(o: AppRunOptions): Promise<AppResult> {
  const bin = testpmdPath();
  if (!bin) {
    return Promise.reject(new Error('dpdk-testpmd not found: it is in Debian\'s dpdk-dev package (apt-get install dpdk-dev)'));
  }
  return runApp(
    bin,
    [
      '-l',
      `${o.mainCpu},${o.fwdCpu}`,
      '--main-lcore',
      String(o.mainCpu),
      '--no-pci',
      ...ealMemoryArgs(o.memory),
      `--file-prefix=${o.prefix}`,
      '--log-level=lib.eal:debug',
      ...vdevArgs(o.pcap),
      '--',
      '--forward-mode=io',
      '--nb-cores=1',
      '--total-num-mbufs=16384',
      '--stats-period',
      '5',
    ],
    o,
  );
}
