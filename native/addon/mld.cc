// mld.cc — binds MLD listener state (control/mld.h): mldJoinLeave (join or
// leave a group on an interface) and mldGroups (the interface's MLD version
// and its groups with their RFC 2710 / RFC 3810 listener states and timers).

#include "args.h"

#include <cerrno>

extern "C" {
#include "../control/mld.h"
#include "../core/router.h"
}

namespace fastpath {
namespace {

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

}  // namespace

void InitMld(Napi::Env env, Napi::Object exports) {
  exports.Set("mldJoinLeave", Napi::Function::New(env, MldJoinLeave));
  exports.Set("mldGroups", Napi::Function::New(env, MldGroups));
}

}  // namespace fastpath
