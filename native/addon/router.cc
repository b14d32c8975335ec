// router.cc — binds the router's lifecycle: EAL (ealInit, ealReady), start,
// launch, stop, running; and the module itself: the init that claims the
// owning environment, registers the teardown hook and calls each area's Init
// (args.h lists the areas).
//
// One Node environment only: EAL is a process singleton, so a second
// environment (a worker thread) gets a clear error instead of shared state.

#include "args.h"

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

extern "C" {
#include "../core/router.h"
}

namespace fastpath {
namespace {

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
  c->flow_admission = fc.Get("floodAdmission").ToBoolean();
  c->flow_select_auto = fc.Get("mode").ToString().Utf8Value() == "auto";
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

}  // namespace

void InitRouter(Napi::Env env, Napi::Object exports) {
  exports.Set("ealInit", Napi::Function::New(env, EalInit));
  exports.Set("ealReady", Napi::Function::New(env, EalReady));
  exports.Set("start", Napi::Function::New(env, Start));
  exports.Set("launch", Napi::Function::New(env, Launch));
  exports.Set("stop", Napi::Function::New(env, Stop));
  exports.Set("running", Napi::Function::New(env, Running));
}

}  // namespace fastpath

// ---- the module: teardown hook and init -------------------------------------

namespace {

void Cleanup(void *) {
  // Process exit: stop lcores if a router still runs, release EAL and its
  // runtime directory (DPDK leaves /var/run/dpdk/<prefix> otherwise). The
  // event hook goes after every native thread is joined.
  fp_eal_cleanup();
  fastpath::EventsTeardown();
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  using namespace fastpath;
  if (g_owner_env == nullptr) {
    g_owner_env = env;
    napi_add_env_cleanup_hook(env, Cleanup, nullptr);
  }
  InitRouter(env, exports);
  InitInterfaces(env, exports);
  InitMld(env, exports);
  InitRoutes(env, exports);
  InitRoutesBatch(env, exports);
  InitRoutesQuery(env, exports);
  InitNeighbours(env, exports);
  InitStats(env, exports);
  InitFlowCache(env, exports);
  InitEvents(env, exports);
  InitSockets(env, exports);
  InitSiftr(env, exports);
  InitLinux(env, exports);
  InitCapture(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(fastpath, Init)
