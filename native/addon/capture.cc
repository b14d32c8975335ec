// capture.cc — binds packet capture (control/capture.h): captureStart,
// captureRead (records into a Buffer), captureStats, captureStop and
// captureRelease. lib/capture.ts shapes the API and writes pcapng.

#include "args.h"

#include <cerrno>
#include <cstring>
#include <vector>

extern "C" {
#include "../control/capture.h"
#include "../core/router.h"
}

namespace fastpath {
namespace {

// Capture ids stay far below 2^53: a JS number holds them exactly.
uint64_t Id(const Napi::Value &v, const char *what) {
  if (!v.IsNumber()) Throw(v.Env(), EINVAL, std::string(what) + ": expected a capture id");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d < 1 || d != static_cast<double>(static_cast<uint64_t>(d)))
    Throw(v.Env(), EINVAL, std::string(what) + ": expected a capture id");
  return static_cast<uint64_t>(d);
}

Napi::Object StatsObject(Napi::Env env, const struct fp_capture_stats &st, bool running) {
  auto o = Napi::Object::New(env);
  o.Set("seen", static_cast<double>(st.seen));
  o.Set("matched", static_cast<double>(st.matched));
  o.Set("captured", static_cast<double>(st.captured));
  o.Set("dropped", static_cast<double>(st.dropped));
  o.Set("running", running);
  return o;
}

// captureStart({ interfaces: number[], direction, filter, snaplen, buffer }) → id
Napi::Value Start(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto o = Obj(info[0], "captureStart", "an options object");
  fp_capture_params p{};
  auto ifs = Arr(o.Get("interfaces"), "captureStart: interfaces", "interface indexes", 1, FP_MAX_PORTS);
  p.niface = ifs.Length();
  for (uint32_t i = 0; i < p.niface; i++)
    p.iface[i] = static_cast<uint16_t>(U32(ifs.Get(i), "captureStart: interfaces[]", 0, FP_MAX_IFACES - 1));
  p.direction = static_cast<uint8_t>(U32(o.Get("direction"), "captureStart: direction", 1, 3));
  auto filter = o.Get("filter");
  if (!filter.IsUndefined() && !filter.IsNull()) {
    if (!filter.IsString()) Throw(env, EINVAL, "captureStart: filter: expected a string");
    std::string f = filter.As<Napi::String>().Utf8Value();
    if (f.size() >= FP_CAPTURE_FILTER_MAX)
      Throw(env, EINVAL, "captureStart: filter: longer than " + std::to_string(FP_CAPTURE_FILTER_MAX - 1) + " bytes");
    std::memcpy(p.filter, f.c_str(), f.size() + 1);
  }
  p.snaplen = U32(o.Get("snaplen"), "captureStart: snaplen", 64, FP_CAPTURE_MAX_SNAPLEN);
  p.buffer = U32(o.Get("buffer"), "captureStart: buffer", FP_CAPTURE_MIN_BUFFER, FP_CAPTURE_MAX_BUFFER);
  fp_err err{};
  int64_t id = fp_capture_start(&p, &err);
  if (id < 0) ThrowErr(env, err);
  return Napi::Number::New(env, static_cast<double>(id));
}

// captureRead(id, maxBytes) → { data: Buffer of fp_capture_record + frame, packets }
Napi::Value Read(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint64_t id = Id(info[0], "captureRead");
  // At least one record of the longest frame (snaplen, plus a VLAN tag put
  // back): a smaller buffer could never take it.
  uint32_t max = U32(info[1], "captureRead: maxBytes", sizeof(fp_capture_record) + FP_CAPTURE_MAX_SNAPLEN + 8, 64u << 20);
  // Reused between reads (one environment, the JS thread): a reader polls
  // an empty ring every few ms and should not allocate megabytes each time.
  static std::vector<uint8_t> scratch;
  if (scratch.size() < max) scratch.resize(max);
  uint32_t n = 0;
  fp_err err{};
  int64_t used = fp_capture_read(id, scratch.data(), max, &n, &err);
  if (used < 0) ThrowErr(env, err);
  auto o = Napi::Object::New(env);
  o.Set("data", Napi::Buffer<uint8_t>::Copy(env, scratch.data(), static_cast<size_t>(used)));
  o.Set("packets", n);
  return o;
}

Napi::Value Stats(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint64_t id = Id(info[0], "captureStats");
  struct fp_capture_stats st{};
  bool running = false;
  fp_err err{};
  if (fp_capture_status(id, &st, &running, &err) < 0) ThrowErr(env, err);
  return StatsObject(env, st, running);
}

// Removes the callbacks (a grace period: no worker is still in one); what
// is in the ring stays readable.
Napi::Value Stop(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint64_t id = Id(info[0], "captureStop");
  struct fp_capture_stats st{};
  fp_err err{};
  if (fp_capture_stop(id, &st, &err) < 0) ThrowErr(env, err);
  return StatsObject(env, st, false);
}

Napi::Value Release(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_capture_release(Id(info[0], "captureRelease"));
  return env.Undefined();
}

}  // namespace

void InitCapture(Napi::Env env, Napi::Object exports) {
  exports.Set("captureStart", Napi::Function::New(env, Start));
  exports.Set("captureRead", Napi::Function::New(env, Read));
  exports.Set("captureStats", Napi::Function::New(env, Stats));
  exports.Set("captureStop", Napi::Function::New(env, Stop));
  exports.Set("captureRelease", Napi::Function::New(env, Release));
}

}  // namespace fastpath
