// stats.cc — binds the counters (core/counters.h): counterNames (the names
// and descriptions generated from the counter lists), statsSize and
// statsSnapshot.

#include "args.h"

#include <cerrno>

extern "C" {
#include "../core/counters.h"
#include "../core/router.h"
}

namespace fastpath {
namespace {

// ---- stats ---------------------------------------------------------------------

Napi::Array Names(Napi::Env env, const char *const *names) {
  auto a = Napi::Array::New(env);
  for (uint32_t i = 0; names[i] != nullptr; i++) a.Set(i, names[i]);
  return a;
}

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

}  // namespace

void InitStats(Napi::Env env, Napi::Object exports) {
  exports.Set("counterNames", Napi::Function::New(env, CounterNames));
  exports.Set("statsSize", Napi::Function::New(env, StatsSize));
  exports.Set("statsSnapshot", Napi::Function::New(env, StatsSnapshot));
}

}  // namespace fastpath
