/**
 * Reading what dpdk-config/pktgen/ipv6-flows.lua prints through Pktgen-DPDK.
 * Pktgen draws its screen with ANSI escapes around the script's `print`
 * lines, so the lines are found by their wording after the escapes are
 * removed, wherever the screen put them.
 *
 * The script prints (see the .lua file):
 *   fastpath ipv6-flows: mode=single rate=100% for 10s, tx port 0 -> rx port 1
 *     1s  tx       250088 pps   forwarded (rx on port 1)       248448 pps
 *   sent 1380480, forwarded 1372192, lost 8288 (0.600%)
 *   mean over 4s: tx 250088 pps, forwarded 248448 pps (0.25 Mpps)
 */

export interface PktgenSecond {
  second: number;
  txPps: number;
  rxPps: number;
}

export interface PktgenSummary {
  mode: string;
  ratePercent: number;
  seconds: number;
  perSecond: PktgenSecond[];
  /** Port 0's packets sent and port 1's received, over the whole run (ramp-up included). */
  sent: number;
  forwarded: number;
  lost: number;
  /** The means over the seconds after the warm-up (`meanSeconds` of them). */
  meanSeconds: number;
  meanTxPps: number;
  meanRxPps: number;
}

/** Removes ANSI escape sequences (CSI and the two-byte ones) and carriage returns. */
export function stripAnsi(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/\x1b\[[0-9;?]*[ -/]*[@-~]/g, '').replace(/\x1b[@-Z\\-_78]/g, '').replace(/\r/g, '\n');
}

/**
 * The script's figures from Pktgen's output. Throws, naming what is missing,
 * when the script did not run to its summary (Pktgen failed, or quit early).
 */
export function parsePktgenOutput(output: string): PktgenSummary {
  const text = stripAnsi(output);
  const head = /fastpath ipv6-flows: mode=(\S+) rate=(\d+)% for (\d+)s/.exec(text);
  if (!head) throw new Error('pktgen output: no "fastpath ipv6-flows:" line (the Lua script did not start)');
  const perSecond: PktgenSecond[] = [];
  for (const m of text.matchAll(/(\d+)s\s+tx\s+(\d+) pps\s+forwarded \(rx on port \d+\)\s+(\d+) pps/g)) {
    perSecond.push({ second: Number(m[1]), txPps: Number(m[2]), rxPps: Number(m[3]) });
  }
  const totals = /sent (\d+), forwarded (\d+), lost (-?\d+)/.exec(text);
  if (!totals) throw new Error(`pktgen output: no "sent N, forwarded N, lost N" line (the script stopped after ${perSecond.length} s)`);
  const mean = /mean over (\d+)s: tx (\d+) pps, forwarded (\d+) pps/.exec(text);
  if (!mean) throw new Error('pktgen output: no "mean over" line (the run was shorter than its warm-up)');
  return {
    mode: head[1],
    ratePercent: Number(head[2]),
    seconds: Number(head[3]),
    perSecond,
    sent: Number(totals[1]),
    forwarded: Number(totals[2]),
    lost: Number(totals[3]),
    meanSeconds: Number(mean[1]),
    meanTxPps: Number(mean[2]),
    meanRxPps: Number(mean[3]),
  };
}
