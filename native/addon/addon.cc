// addon.cc — node-addon-api bindings for the fastpath data plane.
//
// This layer only converts and checks arguments, calls native/core and native/control and
// turns fp_err into JS errors carrying an errno-style `code`; the API is
// shaped in lib/ (TypeScript). It never touches packets.
//
// One Node environment only: EAL is a process singleton, so a second
// environment (a worker thread) gets a clear error instead of shared state.

#include <napi.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <rte_cycles.h>
#include <rte_ethdev.h>

#include "../core/counters.h"
#include "../core/event.h"
#include "../control/mld.h"
#include "../control/nd.h"
#include "../core/router.h"
}

namespace {

napi_env g_owner_env = nullptr;

const char *ErrnoName(int code) {
  switch (code) {
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EBUSY: return "EBUSY";
    case EALREADY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case ENOTSUP: return "ENOTSUP";
    case ENOMEM: return "ENOMEM";
    case ENXIO: return "ENXIO";
    default: return "EIO";
  }
}

Napi::Error MakeError(Napi::Env env, int code, const std::string &msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(code)));
  return e;
}

[[noreturn]] void Throw(Napi::Env env, int code, const std::string &msg) {
  throw MakeError(env, code, msg);
}

[[noreturn]] void ThrowErr(Napi::Env env, const fp_err &err) {
  Throw(env, err.code ? err.code : EIO, err.msg);
}

void CheckEnv(Napi::Env env) {
  if (g_owner_env != env)
    Throw(env, EBUSY,
          "fastpath's native router belongs to the main Node environment of "
          "this process; it cannot be used from worker threads");
}

// ---- argument checks ----------------------------------------------------

uint32_t U32(const Napi::Value &v, const char *what, uint32_t min, uint32_t max) {
  if (!v.IsNumber()) Throw(v.Env(), EINVAL, std::string(what) + ": expected a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<uint32_t>(d) || d < min || d > max)
    Throw(v.Env(), EINVAL,
          std::string(what) + ": expected an integer " + std::to_string(min) +
              ".." + std::to_string(max) + ", got " + std::to_string(d));
  return static_cast<uint32_t>(d);
}

void Bytes(const Napi::Value &v, const char *what, uint8_t *out, size_t len) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    Throw(v.Env(), EINVAL, std::string(what) + ": expected a Uint8Array");
  auto a = v.As<Napi::Uint8Array>();
  if (a.ElementLength() != len)
    Throw(v.Env(), EINVAL,
          std::string(what) + ": expected " + std::to_string(len) + " bytes");
  std::memcpy(out, a.Data(), len);
}

std::string Str(const Napi::Value &v, const char *what, size_t max) {
  if (!v.IsString()) Throw(v.Env(), EINVAL, std::string(what) + ": expected a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s.size() >= max)
    Throw(v.Env(), EINVAL, std::string(what) + ": expected 1.." +
                               std::to_string(max - 1) + " characters");
  return s;
}

Napi::Uint8Array ToBytes(Napi::Env env, const uint8_t *p, size_t len) {
  auto a = Napi::Uint8Array::New(env, len);
  std::memcpy(a.Data(), p, len);
  return a;
}

Napi::Array Names(Napi::Env env, const char *const *names) {
  auto a = Napi::Array::New(env);
  for (uint32_t i = 0; names[i] != nullptr; i++) a.Set(i, names[i]);
  return a;
}

// ---- EAL and router lifecycle ---------------------------------------------

Napi::Value EalInit(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!info[0].IsArray()) Throw(env, EINVAL, "ealInit: expected an array of strings");
  auto arr = info[0].As<Napi::Array>();
  std::vector<std::string> args;
  for (uint32_t i = 0; i < arr.Length(); i++)
    args.push_back(Str(arr.Get(i), "ealInit argument", 4096));
  std::vector<char *> argv;
  for (auto &s : args) argv.push_back(s.data());
  fp_err err{};
  if (fp_eal_init(static_cast<int>(argv.size()), argv.data(), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value EalReady(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), fp_router.eal_ready);
}

Napi::Value Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!info[0].IsObject()) Throw(env, EINVAL, "start: expected a config object");
  auto cfg = info[0].As<Napi::Object>();
  auto c = std::make_unique<fp_router_config>();
  std::memset(c.get(), 0, sizeof(*c));

  auto workers = cfg.Get("workerLcores");
  if (!workers.IsArray()) Throw(env, EINVAL, "workerLcores: expected an array");
  auto wa = workers.As<Napi::Array>();
  if (wa.Length() == 0 || wa.Length() > FP_MAX_WORKERS)
    Throw(env, EINVAL, "workerLcores: expected 1.." + std::to_string(FP_MAX_WORKERS));
  c->nworkers = wa.Length();
  for (uint32_t i = 0; i < wa.Length(); i++)
    c->worker_lcores[i] = U32(wa.Get(i), "workerLcores[]", 1, RTE_MAX_LCORE - 1);

  auto ports = cfg.Get("ports");
  if (!ports.IsArray()) Throw(env, EINVAL, "ports: expected an array");
  auto pa = ports.As<Napi::Array>();
  if (pa.Length() == 0 || pa.Length() > FP_MAX_PORTS)
    Throw(env, EINVAL, "ports: expected 1.." + std::to_string(FP_MAX_PORTS));
  c->nports = pa.Length();
  for (uint32_t i = 0; i < pa.Length(); i++) {
    auto p = pa.Get(i).As<Napi::Object>();
    fp_port_config &pc = c->ports[i];
    std::string name = Str(p.Get("name"), "ports[].name", FP_NAME_MAX);
    std::string dev = Str(p.Get("device"), "ports[].device", FP_DEVARGS_MAX);
    std::memcpy(pc.name, name.c_str(), name.size() + 1);
    std::memcpy(pc.device, dev.c_str(), dev.size() + 1);
    pc.is_vdev = p.Get("isVdev").ToBoolean();
    if (p.Has("mac") && !p.Get("mac").IsUndefined() && !p.Get("mac").IsNull()) {
      Bytes(p.Get("mac"), "ports[].mac", pc.mac, 6);
      pc.set_mac = true;
    }
    pc.mtu = static_cast<uint16_t>(U32(p.Get("mtu"), "ports[].mtu", 1280, 9600));
    pc.promiscuous = p.Get("promiscuous").ToBoolean();
    pc.router_adverts = p.Get("routerAdvertisements").ToBoolean();
    pc.ra_max_interval_s = static_cast<uint16_t>(U32(p.Get("raMaxIntervalS"), "ports[].raMaxIntervalS", 4, 1800));
    pc.ra_min_interval_s = static_cast<uint16_t>(U32(p.Get("raMinIntervalS"), "ports[].raMinIntervalS", 3, pc.ra_max_interval_s * 3 / 4));
    pc.ra_router_lifetime_s = static_cast<uint16_t>(U32(p.Get("raRouterLifetimeS"), "ports[].raRouterLifetimeS", 0, 9000));
    pc.dad_transmits = static_cast<uint8_t>(U32(p.Get("dadTransmits"), "ports[].dadTransmits", 0, 10));
    pc.mld_version = static_cast<uint8_t>(U32(p.Get("mldVersion"), "ports[].mldVersion", 1, 2));
    pc.rx_desc = static_cast<uint16_t>(U32(p.Get("rxDescriptors"), "ports[].rxDescriptors", 64, 16384));
    pc.tx_desc = static_cast<uint16_t>(U32(p.Get("txDescriptors"), "ports[].txDescriptors", 64, 16384));
    auto addrs = p.Get("addresses");
    if (!addrs.IsArray()) Throw(env, EINVAL, "ports[].addresses: expected an array");
    auto aa = addrs.As<Napi::Array>();
    if (aa.Length() > FP_MAX_ADDRS)
      Throw(env, EINVAL, "ports[].addresses: at most " + std::to_string(FP_MAX_ADDRS));
    pc.naddrs = aa.Length();
    for (uint32_t a = 0; a < aa.Length(); a++) {
      auto ao = aa.Get(a).As<Napi::Object>();
      Bytes(ao.Get("address"), "ports[].addresses[].address", pc.addrs[a].addr, 16);
      pc.addrs[a].plen = static_cast<uint8_t>(U32(ao.Get("length"), "ports[].addresses[].length", 1, 128));
    }
  }
  auto fc = cfg.Get("flowCache").As<Napi::Object>();
  c->flow_maxflows = U32(fc.Get("maxflows"), "flowCache.maxflows", 0, FP_FLOWCACHE_MAX_FLOWS);
  c->flow_hashsize = U32(fc.Get("hashsize"), "flowCache.hashsize", 1, FP_FLOWCACHE_MAX_HASHSIZE);
  c->flow_idle_ms = U32(fc.Get("idleTimeoutMs"), "flowCache.idleTimeoutMs", 1, 3600000);
  auto mp = cfg.Get("mempool").As<Napi::Object>();
  c->mbufs = U32(mp.Get("mbufs"), "mempool.mbufs", 1023, 16777215);
  c->mbuf_cache = U32(mp.Get("cacheSize"), "mempool.cacheSize", 0, 512);
  c->max_routes = U32(cfg.Get("maxRoutes"), "routing.maxRoutes", 16, 1 << 22);
  c->tbl8_groups = U32(cfg.Get("tbl8Groups"), "routing.tbl8Groups", 256, 1 << 22);
  c->max_neighbours = U32(cfg.Get("maxNeighbours"), "maxNeighbours", 16, 1 << 20);
  c->nd_base_reachable_ms = U32(cfg.Get("baseReachableTimeMs"), "baseReachableTimeMs", 1000, 3600000);
  auto ie = cfg.Get("icmpErrors").As<Napi::Object>();
  c->icmp_error_rate = U32(ie.Get("perSecond"), "icmpErrors.perSecond", 0, 1000000);
  c->icmp_error_burst = U32(ie.Get("burst"), "icmpErrors.burst", 1, 1000000);

  fp_err err{};
  if (fp_router_start(c.get(), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value Launch(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_err err{};
  if (fp_router_launch(&err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value Stop(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_err err{};
  if (fp_router_stop(&err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value Running(const Napi::CallbackInfo &info) {
  return Napi::Boolean::New(info.Env(), fp_router.running);
}

std::string MacString(const uint8_t *m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
                m[3], m[4], m[5]);
  return buf;
}

const char *AddrStateName(uint8_t s) {
  switch (s) {
    case FP_ADDR_TENTATIVE: return "tentative";
    case FP_ADDR_PREFERRED: return "preferred";
    case FP_ADDR_DUPLICATED: return "duplicated";
    default: return "none";
  }
}

Napi::Value Ports(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto arr = Napi::Array::New(env);
  if (!fp_router.running) return arr;
  uint32_t out = 0;
  for (uint32_t i = 0; i < fp_router.nports; i++) {
    const fp_port &p = fp_router.ports[i];
    if (!p.in_use) continue;
    auto o = Napi::Object::New(env);
    static const char *kinds[] = {"port", "vlan", "loop"};
    o.Set("name", p.name);
    o.Set("slot", i);
    o.Set("kind", kinds[p.kind <= 2 ? p.kind : 0]);
    o.Set("parentIndex", p.kind == FP_IF_VLAN ? Napi::Value(Napi::Number::New(env, p.parent)) : env.Null());
    o.Set("vlanId", p.vlan_id);
    o.Set("allmulti", p.amcount > 0);
    o.Set("promiscRefs", p.pcount);
    o.Set("allmultiRefs", p.amcount);
    o.Set("index", p.ifindex);
    o.Set("portId", p.port_id);
    o.Set("device", p.device);
    o.Set("mac", MacString(p.mac.addr_bytes));
    o.Set("mtu", p.mtu);
    o.Set("up", p.up);
    o.Set("promiscuous", p.promiscuous);
    o.Set("rxQueues", p.nb_rxq);
    o.Set("txQueues", p.nb_txq);
    o.Set("controlTxQueue", p.ctl_txq);
    rte_eth_dev_info dinfo;
    if (p.kind == FP_IF_LOOP)
      o.Set("driver", "loopback");
    else if (rte_eth_dev_info_get(p.port_id, &dinfo) == 0)
      o.Set("driver", p.kind == FP_IF_VLAN ? std::string("vlan/") + dinfo.driver_name : std::string(dinfo.driver_name));
    rte_eth_link link;
    std::memset(&link, 0, sizeof(link));
    if (p.kind == FP_IF_PORT) rte_eth_link_get_nowait(p.port_id, &link);
    static const char *link_states[] = {"unknown", "down", "up"};
    static const char *link_sources[] = {"poll", "lsc", "netlink"};
    o.Set("linkState", link_states[p.link_state <= 2 ? p.link_state : 0]);
    o.Set("linkSource", link_sources[p.link_source <= 2 ? p.link_source : 0]);
    o.Set("linkSpeedMbps", link.link_speed);
    auto addrs = Napi::Array::New(env);
    for (uint32_t a = 0; a < p.naddrs; a++) {
      auto ao = Napi::Object::New(env);
      ao.Set("address", ToBytes(env, p.addrs[a].addr, 16));
      ao.Set("length", p.addrs[a].plen);
      ao.Set("state", AddrStateName(p.addr_state[a]));
      addrs.Set(a, ao);
    }
    o.Set("addresses", addrs);
    arr.Set(out++, o);
  }
  return arr;
}

Napi::Value IfaceClone(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  std::string kind = Str(info[0], "kind", 16);
  std::string name = Str(info[1], "name", FP_NAME_MAX);
  uint8_t k = kind == "vlan" ? FP_IF_VLAN : kind == "loop" ? FP_IF_LOOP : 255;
  uint32_t parent = k == FP_IF_VLAN ? U32(info[2], "parent index", 0, FP_MAX_IFACES - 1) : 0;
  uint32_t vid = k == FP_IF_VLAN ? U32(info[3], "vlan", 0, 65535) : 0;
  if (!info[4].IsArray()) Throw(env, EINVAL, "addresses: expected an array");
  auto aa = info[4].As<Napi::Array>();
  if (aa.Length() > FP_MAX_ADDRS)
    Throw(env, EINVAL, "addresses: at most " + std::to_string(FP_MAX_ADDRS));
  std::vector<fp_addr> addrs(aa.Length() ? aa.Length() : 1);
  for (uint32_t a = 0; a < aa.Length(); a++) {
    auto ao = aa.Get(a).As<Napi::Object>();
    std::memset(&addrs[a], 0, sizeof(addrs[a]));
    Bytes(ao.Get("address"), "addresses[].address", addrs[a].addr, 16);
    addrs[a].plen = static_cast<uint8_t>(U32(ao.Get("length"), "addresses[].length", 1, 128));
  }
  fp_err err{};
  int rc = fp_iface_clone(k, name.c_str(), static_cast<uint16_t>(parent),
                          static_cast<uint16_t>(vid), addrs.data(), aa.Length(), &err);
  if (rc < 0) ThrowErr(env, err);
  return Napi::Number::New(env, rc);
}

Napi::Value IfaceDestroy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  fp_err err{};
  if (fp_iface_destroy(static_cast<uint16_t>(idx), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value IfaceSetMtu(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  uint32_t mtu = U32(info[1], "mtu", 0, 65535);
  fp_err err{};
  if (fp_iface_set_mtu(static_cast<uint16_t>(idx), static_cast<uint16_t>(mtu), &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value IfaceSetFlag(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  std::string flag = Str(info[1], "flag", 16);
  bool on = info[2].ToBoolean();
  fp_err err{};
  int rc;
  if (flag == "promisc")
    rc = fp_iface_set_promisc(static_cast<uint16_t>(idx), on, &err);
  else if (flag == "allmulti")
    rc = fp_iface_set_allmulti(static_cast<uint16_t>(idx), on, &err);
  else
    Throw(env, EINVAL, "flag: expected promisc or allmulti");
  if (rc < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value MldJoinLeave(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  uint8_t g[16];
  Bytes(info[1], "group", g, 16);
  bool join = info[2].ToBoolean();
  fp_err err{};
  int rc = join ? fp_mld_join(static_cast<uint16_t>(idx), g, &err)
                : fp_mld_leave(static_cast<uint16_t>(idx), g, &err);
  if (rc < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value MldGroups(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  fp_mld_group_info g[FP_MLD_MAX_GROUPS];
  uint32_t n = fp_mld_groups(static_cast<uint16_t>(idx), g, FP_MLD_MAX_GROUPS);
  static const char *states[] = {"non-listener", "delaying", "idle"};
  auto arr = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    auto o = Napi::Object::New(env);
    o.Set("address", ToBytes(env, g[i].addr, 16));
    o.Set("state", states[g[i].state <= 2 ? g[i].state : 0]);
    o.Set("reportedLast", g[i].reported_last);
    o.Set("automatic", g[i].automatic);
    o.Set("refs", g[i].refs);
    o.Set("timerMs", g[i].timer_ms);
    arr.Set(i, o);
  }
  auto r = Napi::Object::New(env);
  r.Set("version", fp_mld_version(static_cast<uint16_t>(idx)));
  r.Set("groups", arr);
  return r;
}

Napi::Value PortSetUp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "port index", 0, FP_MAX_IFACES - 1);
  fp_err err{};
  if (fp_port_set_up(static_cast<uint16_t>(idx), info[1].ToBoolean(), &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

// ---- routes and neighbours ---------------------------------------------------

Napi::Value RouteAdd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint8_t prefix[16], via[16];
  Bytes(info[0], "prefix", prefix, 16);
  uint32_t plen = U32(info[1], "prefix length", 0, 128);
  bool has_via = !info[2].IsNull() && !info[2].IsUndefined();
  if (has_via) Bytes(info[2], "via", via, 16);
  uint32_t port = U32(info[3], "port index", 0, FP_MAX_IFACES - 1);
  fp_err err{};
  if (fp_route_add(prefix, static_cast<uint8_t>(plen), has_via ? via : nullptr,
                   static_cast<uint16_t>(port), &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value RouteDelete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint8_t prefix[16];
  Bytes(info[0], "prefix", prefix, 16);
  uint32_t plen = U32(info[1], "prefix length", 0, 128);
  fp_err err{};
  if (fp_route_delete(prefix, static_cast<uint8_t>(plen), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value RouteList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t max = fp_router.running ? fp_router.fib.max_routes : 0;
  std::vector<fp_route> routes(max ? max : 1);
  uint32_t n = fp_route_list(routes.data(), max);
  static const char *kinds[] = {"static", "connected", "local"};
  auto arr = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    const fp_route &r = routes[i];
    auto o = Napi::Object::New(env);
    o.Set("prefix", ToBytes(env, r.prefix, 16));
    o.Set("length", r.plen);
    o.Set("kind", kinds[r.kind <= 2 ? r.kind : 0]);
    o.Set("portIndex", r.port_idx);
    o.Set("via", r.has_via ? ToBytes(env, r.via, 16) : env.Null());
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value NeighbourAdd(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint8_t addr[16], mac[6];
  Bytes(info[0], "address", addr, 16);
  uint32_t port = U32(info[1], "port index", 0, FP_MAX_IFACES - 1);
  Bytes(info[2], "mac", mac, 6);
  fp_err err{};
  if (fp_neighbour_add(addr, static_cast<uint16_t>(port), mac, &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value NeighbourDelete(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint8_t addr[16];
  Bytes(info[0], "address", addr, 16);
  uint32_t port = U32(info[1], "port index", 0, FP_MAX_IFACES - 1);
  fp_err err{};
  if (fp_neighbour_delete(addr, static_cast<uint16_t>(port), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value NeighbourFlush(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  bool all = info[0].IsUndefined() || info[0].IsNull();
  uint32_t port = all ? 0 : U32(info[0], "port index", 0, FP_MAX_IFACES - 1);
  return Napi::Number::New(env, fp_neighbour_flush(static_cast<uint16_t>(port), all));
}

Napi::Value NeighbourList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t max = fp_router.running ? fp_router.neigh.max + FP_ND_MAX_INCOMPLETE : 0;
  std::vector<fp_neigh_info> v(max ? max : 1);
  uint32_t n = fp_neighbour_list(v.data(), max);
  static const char *states[] = {"none", "incomplete", "reachable", "stale",
                                 "delay", "probe", "permanent"};
  auto arr = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    auto o = Napi::Object::New(env);
    o.Set("address", ToBytes(env, v[i].addr, 16));
    o.Set("mac", v[i].state == FP_NEIGH_NONE || v[i].state == FP_NEIGH_INCOMPLETE
                     ? env.Null()
                                             : Napi::String::New(env, MacString(v[i].mac)));
    o.Set("state", states[v[i].state <= 6 ? v[i].state : 0]);
    o.Set("portIndex", v[i].port_idx);
    o.Set("routeRefs", v[i].route_refs);
    o.Set("ageMs", static_cast<double>(v[i].age_ms));
    arr.Set(i, o);
  }
  return arr;
}

Napi::Value NdReachableMs(const Napi::CallbackInfo &info) {
  return Napi::Number::New(info.Env(), fp_nd_reachable_ms());
}

// ---- stats ---------------------------------------------------------------------

Napi::Value CounterNames(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  auto o = Napi::Object::New(env);
  o.Set("lcore", Names(env, fp_lcore_counter_names));
  o.Set("drop", Names(env, fp_drop_reason_names));
  o.Set("port", Names(env, fp_port_counter_names));
  o.Set("control", Names(env, fp_ctl_counter_names));
  o.Set("lcoreDescriptions", Names(env, fp_lcore_counter_descs));
  o.Set("dropDescriptions", Names(env, fp_drop_reason_descs));
  o.Set("portDescriptions", Names(env, fp_port_counter_descs));
  o.Set("controlDescriptions", Names(env, fp_ctl_counter_descs));
  return o;
}

Napi::Value StatsSize(const Napi::CallbackInfo &info) {
  CheckEnv(info.Env());
  return Napi::Number::New(info.Env(), fp_router.running ? static_cast<double>(fp_stats_size()) : 0);
}

// statsSnapshot(BigUint64Array): fills it, returns the words written (0: stopped
// or too small). The caller keeps one array and reuses it: no allocation per poll.
Napi::Value StatsSnapshot(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!info[0].IsTypedArray() ||
      info[0].As<Napi::TypedArray>().TypedArrayType() != napi_biguint64_array)
    Throw(env, EINVAL, "statsSnapshot: expected a BigUint64Array");
  auto a = info[0].As<Napi::TypedArrayOf<uint64_t>>();
  size_t n = fp_stats_snapshot(a.Data(), a.ElementLength());
  return Napi::Number::New(env, static_cast<double>(n));
}

// ---- flow cache (async: each worker answers through its command ring) ------------

class FlowListWorker : public Napi::AsyncWorker {
 public:
  FlowListWorker(Napi::Env env, Napi::Promise::Deferred d)
      : Napi::AsyncWorker(env), deferred_(d) {}
  ~FlowListWorker() override {
    free(entries_);
    free(workers_);
  }
  void Execute() override {
    hz_ = rte_get_tsc_hz();
    if (fp_flowcache_collect(&entries_, &workers_, &count_, &err_) < 0)
      SetError(err_.msg);
    now_ = rte_rdtsc();
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto arr = Napi::Array::New(env, count_);
    for (uint32_t i = 0; i < count_; i++) {
      const fp_flow_entry &e = entries_[i];
      auto o = Napi::Object::New(env);
      o.Set("worker", workers_[i]);
      o.Set("src", ToBytes(env, e.key.src, 16));
      o.Set("dst", ToBytes(env, e.key.dst, 16));
      o.Set("flowLabel", fp_flow_key_label(&e.key));
      o.Set("inPortIndex", fp_flow_key_port(&e.key));
      o.Set("outPortIndex", e.out_port);
      o.Set("nextHopMac", MacString(e.dst_mac));
      o.Set("generation", e.generation);
      o.Set("uses", Napi::BigInt::New(env, e.uses));
      o.Set("forwarded", Napi::BigInt::New(env, e.uses - e.dropped));
      o.Set("dropped", Napi::BigInt::New(env, e.dropped));
      o.Set("ageMs", static_cast<double>((now_ - e.created) * 1000 / hz_));
      o.Set("idleMs", static_cast<double>((now_ - e.last_used) * 1000 / hz_));
      arr.Set(i, o);
    }
    deferred_.Resolve(arr);
  }
  void OnError(const Napi::Error &) override {
    deferred_.Reject(MakeError(Env(), err_.code, err_.msg).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  fp_err err_{};
  fp_flow_entry *entries_ = nullptr;
  uint32_t *workers_ = nullptr;
  uint32_t count_ = 0;
  uint64_t hz_ = 1, now_ = 0;
};

class FlowConfigureWorker : public Napi::AsyncWorker {
 public:
  FlowConfigureWorker(Napi::Env env, Napi::Promise::Deferred d, bool flush,
                      uint32_t maxflows, uint32_t hashsize)
      : Napi::AsyncWorker(env), deferred_(d), flush_(flush), maxflows_(maxflows),
        hashsize_(hashsize) {}
  void Execute() override {
    int rc = flush_ ? fp_flowcache_flush_all(&err_)
                    : fp_flowcache_configure(maxflows_, hashsize_, &err_);
    if (rc < 0) SetError(err_.msg);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &) override {
    deferred_.Reject(MakeError(Env(), err_.code, err_.msg).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  fp_err err_{};
  bool flush_;
  uint32_t maxflows_, hashsize_;
};

Napi::Value FlowCacheList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto d = Napi::Promise::Deferred::New(env);
  (new FlowListWorker(env, d))->Queue();
  return d.Promise();
}

Napi::Value FlowCacheConfigure(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t maxflows = U32(info[0], "maxflows", 0, FP_FLOWCACHE_MAX_FLOWS);
  uint32_t hashsize = U32(info[1], "hashsize", 1, FP_FLOWCACHE_MAX_HASHSIZE);
  auto d = Napi::Promise::Deferred::New(env);
  (new FlowConfigureWorker(env, d, false, maxflows, hashsize))->Queue();
  return d.Promise();
}

Napi::Value FlowCacheFlush(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto d = Napi::Promise::Deferred::New(env);
  (new FlowConfigureWorker(env, d, true, 0, 1))->Queue();
  return d.Promise();
}

// ---- events (core/event.h) --------------------------------------------------
//
// Native threads post events to a bounded C queue and call EventNotify(),
// which wakes JS through one ThreadSafeFunction. The TSFN queue holds at
// most one wake-up and a pending flag coalesces the rest, so a post never
// blocks and never allocates; JS then drains the C queue in order
// (eventsDrain). The TSFN is unref'ed: events never keep Node alive.

Napi::ThreadSafeFunction g_event_tsfn;
std::atomic<bool> g_event_wake_pending{false};

void EventNotify(void *) {
  if (g_event_wake_pending.exchange(true)) return;
  if (g_event_tsfn.NonBlockingCall() != napi_ok) g_event_wake_pending = false;
}

Napi::Value EventsSubscribe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!info[0].IsFunction()) Throw(env, EINVAL, "eventsSubscribe: expected a function");
  if (g_event_tsfn) Throw(env, EBUSY, "eventsSubscribe: already subscribed");
  g_event_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(),
                                               "fastpath-events", 1, 1);
  g_event_tsfn.Unref(env);
  fp_event_set_notify(EventNotify, nullptr);
  return env.Undefined();
}

Napi::Value EventsDrain(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  // Cleared before draining: a post after this point wakes JS again.
  g_event_wake_pending = false;
  static const char *types[] = {"none", "address", "neighbour", "link", "mld"};
  auto arr = Napi::Array::New(env);
  fp_event buf[64];
  unsigned n, total = 0;
  while ((n = fp_event_drain(buf, 64)) > 0) {
    for (unsigned i = 0; i < n; i++) {
      const fp_event &e = buf[i];
      auto o = Napi::Object::New(env);
      o.Set("type", types[e.type < 5 ? e.type : 0]);
      o.Set("portIndex", e.port_idx);
      o.Set("state", e.state);
      o.Set("previous", e.previous);
      o.Set("address", ToBytes(env, e.addr, 16));
      o.Set("length", e.plen);
      o.Set("at", static_cast<double>(e.at_ms));
      arr.Set(total++, o);
    }
  }
  return arr;
}

void Cleanup(void *) {
  // Process exit: stop lcores if a router still runs, release EAL and its
  // runtime directory (DPDK leaves /var/run/dpdk/<prefix> otherwise). The
  // event hook goes after every native thread is joined.
  fp_eal_cleanup();
  fp_event_set_notify(nullptr, nullptr);
  if (g_event_tsfn) g_event_tsfn.Abort();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  if (g_owner_env == nullptr) {
    g_owner_env = env;
    napi_add_env_cleanup_hook(env, Cleanup, nullptr);
  }
  exports.Set("ealInit", Napi::Function::New(env, EalInit));
  exports.Set("ealReady", Napi::Function::New(env, EalReady));
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("launch", Napi::Function::New(env, Launch));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("running", Napi::Function::New(env, Running));
  exports.Set("ports", Napi::Function::New(env, Ports));
  exports.Set("portSetUp", Napi::Function::New(env, PortSetUp));
  exports.Set("ifaceClone", Napi::Function::New(env, IfaceClone));
  exports.Set("mldJoinLeave", Napi::Function::New(env, MldJoinLeave));
  exports.Set("mldGroups", Napi::Function::New(env, MldGroups));
  exports.Set("ifaceDestroy", Napi::Function::New(env, IfaceDestroy));
  exports.Set("ifaceSetMtu", Napi::Function::New(env, IfaceSetMtu));
  exports.Set("ifaceSetFlag", Napi::Function::New(env, IfaceSetFlag));
  exports.Set("routeAdd", Napi::Function::New(env, RouteAdd));
  exports.Set("routeDelete", Napi::Function::New(env, RouteDelete));
  exports.Set("routeList", Napi::Function::New(env, RouteList));
  exports.Set("neighbourAdd", Napi::Function::New(env, NeighbourAdd));
  exports.Set("neighbourDelete", Napi::Function::New(env, NeighbourDelete));
  exports.Set("neighbourList", Napi::Function::New(env, NeighbourList));
  exports.Set("neighbourFlush", Napi::Function::New(env, NeighbourFlush));
  exports.Set("ndReachableMs", Napi::Function::New(env, NdReachableMs));
  exports.Set("counterNames", Napi::Function::New(env, CounterNames));
  exports.Set("statsSize", Napi::Function::New(env, StatsSize));
  exports.Set("statsSnapshot", Napi::Function::New(env, StatsSnapshot));
  exports.Set("flowCacheList", Napi::Function::New(env, FlowCacheList));
  exports.Set("flowCacheConfigure", Napi::Function::New(env, FlowCacheConfigure));
  exports.Set("flowCacheFlush", Napi::Function::New(env, FlowCacheFlush));
  exports.Set("eventsSubscribe", Napi::Function::New(env, EventsSubscribe));
  exports.Set("eventsDrain", Napi::Function::New(env, EventsDrain));
  return exports;
}

}  // namespace

NODE_API_MODULE(fastpath, Init)
