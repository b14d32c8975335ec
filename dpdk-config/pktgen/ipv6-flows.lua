-- Pktgen-DPDK script: IPv6/UDP traffic at a fastpath router running
-- dpdk-config/baremetal.yaml. See README.md next to this file for the
-- cabling and the full command lines.
--
-- Pktgen port 0 sends towards the router's p0; Pktgen port 1 (cabled to the
-- router's p1) receives what the router forwarded.
--
-- Environment (read at start):
--   FP_MODE     "single" (default): 1 flow, built by Pktgen's single-packet page
--               "pcap": N flows, replaying the pcap Pktgen loaded with
--                       `-s 0:<file>` (made by bench/pcapgen: N flows of
--                       66-byte IPv6/UDP frames, see README.md)
--   FP_SECONDS  how long to send (default 30)
--   FP_RATE     percent of line rate (default 100)
--   FP_SIZE     single mode: frame size including the 4-byte FCS (default 70,
--               i.e. the same 66-byte frames the pcap holds)
--   FP_WARMUP   seconds left out of the mean at the start (default 2)
--   FP_QUIT     "1": quit Pktgen after the summary (unattended runs: npm run
--               bench:pktgen sets it); default: stay on Pktgen's console
--   FP_SCREEN   "off": no screen updates while the script runs, only its own
--               lines (unattended runs); default "on"

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local TX = "0"            -- cabled to router p0 (0000:03:00.0 in baremetal.yaml)
local RX = "1"            -- cabled to router p1 (0000:03:00.1)

-- Must match dpdk-config/baremetal.yaml.
local ROUTER_P0_MAC = "02:00:00:00:00:01"    -- ports[0].mac
local SRC_ADDR      = "2001:db8:1::2/64"      -- a host on p0's 2001:db8:1::/64
local DST_ADDR      = "2001:200:0:1::1"       -- inside the routed 2001:200:0:1::/64
local UDP_SPORT     = 10000                   -- same ports as bench/pcapgen
local UDP_DPORT     = 9

local mode    = os.getenv("FP_MODE") or "single"
local seconds = tonumber(os.getenv("FP_SECONDS") or "30")
local rate    = tonumber(os.getenv("FP_RATE") or "100")
local size    = tonumber(os.getenv("FP_SIZE") or "70")
local warmup  = tonumber(os.getenv("FP_WARMUP") or "2")
local quit    = os.getenv("FP_QUIT") == "1"
local screen  = os.getenv("FP_SCREEN") or "on"

if screen == "off" then
  pktgen.screen("off")
end

if mode == "single" then
  pktgen.set_type(TX, "ipv6")
  pktgen.set_proto(TX, "udp")
  pktgen.set_mac(TX, "dst", ROUTER_P0_MAC)
  pktgen.set_ipaddr(TX, "src", SRC_ADDR)
  pktgen.set_ipaddr(TX, "dst", DST_ADDR)
  pktgen.set(TX, "sport", UDP_SPORT)
  pktgen.set(TX, "dport", UDP_DPORT)
  pktgen.set(TX, "ttl", 64)                 -- the IPv6 hop limit
  pktgen.set(TX, "size", size)
  pktgen.set(TX, "count", 0)                -- 0: send until stopped
elseif mode == "pcap" then
  -- Frames come from the file given with `-s 0:<file>`; their destination
  -- MAC was set when the file was made (pcapgen --dst-mac, default
  -- 02:00:00:00:00:01 = ROUTER_P0_MAC).
  pktgen.pcap(TX, "on")
else
  error("FP_MODE must be 'single' or 'pcap', not '" .. mode .. "'")
end
pktgen.set(TX, "rate", rate)

print(string.format("fastpath ipv6-flows: mode=%s rate=%d%% for %ds, tx port %s -> rx port %s",
  mode, rate, seconds, TX, RX))

pktgen.clear("all")
pktgen.start(TX)

local tx_sum, rx_sum, samples = 0, 0, 0
-- Wall-clock seconds (the first one whole or more): pktgen.delay() sleeps in
-- 10 ms steps, and a busy CPU stretches each of them.
local t0 = os.time() + 1                  -- second s ends at t0 + s: after s to s + 1 s
for s = 1, seconds do
  while os.time() < t0 + s do
    pktgen.delay(100)
  end
  local r = pktgen.portStats("all", "rate")
  local tx_pps = r[tonumber(TX)].pkts_tx
  local rx_pps = r[tonumber(RX)].pkts_rx
  print(string.format("%3ds  tx %12d pps   forwarded (rx on port %s) %12d pps", s, tx_pps, RX, rx_pps))
  if s > warmup then                        -- skip the ramp-up seconds
    tx_sum, rx_sum, samples = tx_sum + tx_pps, rx_sum + rx_pps, samples + 1
  end
end

pktgen.stop(TX)
pktgen.delay(500)                           -- let the last packets drain

local p = pktgen.portStats("all", "port")
local sent = p[tonumber(TX)].opackets
local got = p[tonumber(RX)].ipackets
local lost = sent - got
print(string.format("sent %d, forwarded %d, lost %d (%.3f%%)", sent, got, lost,
  sent > 0 and (100.0 * lost / sent) or 0))
if samples > 0 then
  print(string.format("mean over %ds: tx %.0f pps, forwarded %.0f pps (%.2f Mpps)",
    samples, tx_sum / samples, rx_sum / samples, rx_sum / samples / 1e6))
end

if quit then
  pktgen.quit()
end
