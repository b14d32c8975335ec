// neighbours.cc — binds the neighbour table (core/neigh.h through
// core/router.h) and Neighbor Discovery (control/nd.h): neighbourAdd,
// neighbourDelete, neighbourFlush, neighbourList (with ND's incomplete
// entries and NUD states) and ndReachableMs.

#include "args.h"

#include <cerrno>
#include <vector>

extern "C" {
#include "../control/nd.h"
#include "../core/router.h"
}

namespace fastpath {
namespace {

// ---- neighbours ----------------------------------------------------------------

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

}  // namespace

void InitNeighbours(Napi::Env env, Napi::Object exports) {
  exports.Set("neighbourAdd", Napi::Function::New(env, NeighbourAdd));
  exports.Set("neighbourDelete", Napi::Function::New(env, NeighbourDelete));
  exports.Set("neighbourList", Napi::Function::New(env, NeighbourList));
  exports.Set("neighbourFlush", Napi::Function::New(env, NeighbourFlush));
  exports.Set("ndReachableMs", Napi::Function::New(env, NdReachableMs));
}

}  // namespace fastpath
