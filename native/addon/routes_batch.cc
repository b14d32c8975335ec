// routes_batch.cc — binds the batch route calls (core/routes_batch.c):
// routeAddMany, routeDeleteMany, routeReplace. A batch crosses from JS as
// one packed buffer (lib/routes.ts packs it), not an array of objects: a
// full table is hundreds of thousands of entries, and reading that many JS
// objects here would cost more than the FIB update. The batch calls run off
// the JS thread (AsyncWorker) and resolve a Promise; a refusal rejects with
// an Error carrying `code` and `index` (the entry refused).

#include "args.h"

#include <cstddef>
#include <cstring>
#include <vector>

extern "C" {
#include "../core/router.h"
}

namespace fastpath {
namespace {

// The packed record lib/routes.ts writes: struct fp_route_spec exactly.
static_assert(sizeof(fp_route_spec) == 36, "lib/routes.ts packs 36-byte records");
static_assert(offsetof(fp_route_spec, plen) == 16 && offsetof(fp_route_spec, has_via) == 17 &&
                  offsetof(fp_route_spec, port_idx) == 18 && offsetof(fp_route_spec, via) == 20,
              "lib/routes.ts packs this layout");

// The bytes of a Uint8Array argument.
std::vector<uint8_t> Buffer(const Napi::Value &v, const char *what, size_t unit) {
  auto a = U8Array(v, what);
  if (a.ByteLength() % unit != 0)
    Throw(v.Env(), EINVAL, std::string(what) + ": length is not a multiple of " + std::to_string(unit));
  return std::vector<uint8_t>(a.Data(), a.Data() + a.ByteLength());
}

class BatchWorker : public Napi::AsyncWorker {
 public:
  BatchWorker(Napi::Env env, Napi::Promise::Deferred d, bool add, std::vector<uint8_t> a,
              std::vector<uint8_t> b)
      : Napi::AsyncWorker(env), deferred_(d), add_(add), a_(std::move(a)), b_(std::move(b)) {}
  void Execute() override {
    int rc;
    if (add_) {
      uint32_t n = static_cast<uint32_t>(a_.size() / sizeof(fp_route_spec));
      rc = fp_route_add_many(reinterpret_cast<const fp_route_spec *>(a_.data()), n, &bad_, &err_);
    } else {
      uint32_t n = static_cast<uint32_t>(b_.size());
      rc = fp_route_delete_many(reinterpret_cast<const uint8_t(*)[16]>(a_.data()), b_.data(), n,
                                &bad_, &err_);
    }
    if (rc < 0) SetError(err_.msg);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &) override {
    Napi::Error e = MakeError(Env(), err_.code, err_.msg);
    e.Value().Set("index", bad_);
    deferred_.Reject(e.Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  bool add_;
  std::vector<uint8_t> a_, b_;
  fp_err err_{};
  uint32_t bad_ = 0;
};

// routeAddMany(specs: Uint8Array of 36-byte fp_route_spec records) → Promise
Napi::Value RouteAddMany(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto specs = Buffer(info[0], "routes", sizeof(fp_route_spec));
  auto d = Napi::Promise::Deferred::New(env);
  (new BatchWorker(env, d, true, std::move(specs), {}))->Queue();
  return d.Promise();
}

// routeDeleteMany(prefixes: Uint8Array of n x 16, lengths: Uint8Array of n) → Promise
Napi::Value RouteDeleteMany(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto prefixes = Buffer(info[0], "prefixes", 16);
  auto plens = Buffer(info[1], "prefix lengths", 1);
  if (prefixes.size() / 16 != plens.size())
    Throw(env, EINVAL, "prefixes and prefix lengths differ in count");
  auto d = Napi::Promise::Deferred::New(env);
  (new BatchWorker(env, d, false, std::move(prefixes), std::move(plens)))->Queue();
  return d.Promise();
}

// routeReplace(prefix, plen, via|null, port)
Napi::Value RouteReplace(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_route_spec s;
  memset(&s, 0, sizeof(s));
  Bytes(info[0], "prefix", s.prefix, 16);
  s.plen = static_cast<uint8_t>(U32(info[1], "prefix length", 0, 128));
  s.has_via = !info[2].IsNull() && !info[2].IsUndefined();
  if (s.has_via) Bytes(info[2], "via", s.via, 16);
  s.port_idx = static_cast<uint16_t>(U32(info[3], "port index", 0, FP_MAX_IFACES - 1));
  fp_err err{};
  if (fp_route_replace(&s, &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

}  // namespace

void InitRoutesBatch(Napi::Env env, Napi::Object exports) {
  exports.Set("routeAddMany", Napi::Function::New(env, RouteAddMany));
  exports.Set("routeDeleteMany", Napi::Function::New(env, RouteDeleteMany));
  exports.Set("routeReplace", Napi::Function::New(env, RouteReplace));
}

}  // namespace fastpath
