// routes.cc — binds the routing table (the FIB, core/fib.h through
// core/router.h): routeAdd, routeDelete, routeList.

#include "args.h"

#include <cerrno>
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
    o.Set("state", r.state == FP_ROUTE_DOWN ? "down" : "up");
    arr.Set(i, o);
  }
  return arr;
}

}  // namespace

void InitRoutes(Napi::Env env, Napi::Object exports) {
  exports.Set("routeAdd", Napi::Function::New(env, RouteAdd));
  exports.Set("routeDelete", Napi::Function::New(env, RouteDelete));
  exports.Set("routeList", Napi::Function::New(env, RouteList));
}

}  // namespace fastpath
