// routes.cc — binds the routing table (the FIB, core/fib.h through
// core/router.h): routeAdd, routeDelete, routeList.

#include "args.h"

#include <cerrno>
#include <cstring>
#include <vector>

extern "C" {
#include "../core/router.h"
}

namespace fastpath {
namespace {

// ---- routes ------------------------------------------------------------------

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

// routeAddGroup(prefix, plen, [{ via: Uint8Array|null, port, weight }, ...])
Napi::Value RouteAddGroup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint8_t prefix[16];
  Bytes(info[0], "prefix", prefix, 16);
  uint32_t plen = U32(info[1], "prefix length", 0, 128);
  if (!info[2].IsArray()) {
    Napi::TypeError::New(env, "nexthops: expected an array").ThrowAsJavaScriptException();
    return env.Undefined();
  }
  auto arr = info[2].As<Napi::Array>();
  uint32_t n = arr.Length();
  if (n > FP_NHG_MEMBERS) n = FP_NHG_MEMBERS + 1;  // the core says why
  std::vector<fp_route_nh> nhs(n ? n : 1);
  for (uint32_t i = 0; i < n && i < FP_NHG_MEMBERS; i++) {
    Napi::Value v = arr.Get(i);
    if (!v.IsObject()) {
      Napi::TypeError::New(env, "nexthops: expected objects").ThrowAsJavaScriptException();
      return env.Undefined();
    }
    auto o = v.As<Napi::Object>();
    fp_route_nh &h = nhs[i];
    memset(&h, 0, sizeof(h));
    Napi::Value via = o.Get("via");
    h.has_via = !via.IsNull() && !via.IsUndefined();
    if (h.has_via) Bytes(via, "via", h.via, 16);
    h.port_idx = static_cast<uint16_t>(U32(o.Get("port"), "port index", 0, FP_MAX_IFACES - 1));
    h.weight = static_cast<uint8_t>(U32(o.Get("weight"), "weight", 0, 255));
  }
  fp_err err{};
  if (fp_route_add_group(prefix, static_cast<uint8_t>(plen), nhs.data(), n, &err) < 0)
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
  std::vector<fp_nhg_member[FP_NHG_MEMBERS]> members(max ? max : 1);
  uint32_t n = fp_route_list_members(routes.data(), members.data(), max);
  auto arr = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) arr.Set(i, RouteToJs(env, routes[i], members[i]));
  return arr;
}

}  // namespace

void InitRoutes(Napi::Env env, Napi::Object exports) {
  exports.Set("routeAdd", Napi::Function::New(env, RouteAdd));
  exports.Set("routeAddGroup", Napi::Function::New(env, RouteAddGroup));
  exports.Set("routeDelete", Napi::Function::New(env, RouteDelete));
  exports.Set("routeList", Napi::Function::New(env, RouteList));
}

}  // namespace fastpath
