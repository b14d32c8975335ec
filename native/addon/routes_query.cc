// routes_query.cc — binds reading the routing table at scale
// (core/routes_query.c): routeCount, routePage (routes in key order after a
// cursor key, inside a covering prefix), routeLookup (the route forwarding
// would choose). Cursors and prefixes are parsed and checked in lib/routes.ts;
// this layer checks only what it is handed.

#include "args.h"

#include <cerrno>
#include <cstring>
#include <memory>

extern "C" {
#include "../core/router.h"
}

namespace fastpath {
namespace {

// A key argument: null (none) or (16 bytes, length 0..128).
bool KeyArg(const Napi::Value &bytes, const Napi::Value &len, const char *what,
            fp_route_key *out) {
  if (bytes.IsNull() || bytes.IsUndefined()) return false;
  Bytes(bytes, what, out->prefix, 16);
  out->plen = static_cast<uint8_t>(U32(len, what, 0, 128));
  return true;
}

Napi::Value RouteCount(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  return Napi::Number::New(env, fp_route_count());
}

// routePage(after|null, afterLength, within|null, withinLength, max)
//   → { routes: NativeRoute[], more: boolean }
Napi::Value RoutePage(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_route_key after{}, within{};
  bool has_after = KeyArg(info[0], info[1], "cursor", &after);
  bool has_within = KeyArg(info[2], info[3], "prefix", &within);
  uint32_t max = U32(info[4], "limit", 1, UINT32_MAX);
  fp_route_page page{};
  fp_err err{};
  if (fp_route_list_page(has_after ? &after : nullptr, has_within ? &within : nullptr, max,
                         &page, &err) < 0)
    ThrowErr(env, err);
  // Freed however this returns: a JS conversion may throw.
  std::unique_ptr<fp_route_page, void (*)(fp_route_page *)> owned(&page, fp_route_page_free);
  auto arr = Napi::Array::New(env, page.n);
  const fp_nhg_member *m = page.members;
  for (uint32_t i = 0; i < page.n; i++) {
    arr.Set(i, RouteToJs(env, page.routes[i], m));
    m += page.routes[i].nh_count;
  }
  auto o = Napi::Object::New(env);
  o.Set("routes", arr);
  o.Set("more", page.more);
  return o;
}

// routeLookup(address) → NativeRoute | undefined
Napi::Value RouteLookup(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint8_t addr[16];
  Bytes(info[0], "address", addr, 16);
  fp_route r{};
  fp_nhg_member members[FP_NHG_MEMBERS];
  fp_err err{};
  int rc = fp_route_lookup(addr, &r, members, &err);
  if (rc < 0) ThrowErr(env, err);
  return rc == 0 ? env.Undefined() : RouteToJs(env, r, members);
}

}  // namespace

void InitRoutesQuery(Napi::Env env, Napi::Object exports) {
  exports.Set("routeCount", Napi::Function::New(env, RouteCount));
  exports.Set("routePage", Napi::Function::New(env, RoutePage));
  exports.Set("routeLookup", Napi::Function::New(env, RouteLookup));
}

}  // namespace fastpath
