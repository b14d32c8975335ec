// flowcache.cc — binds the per-worker flow caches (core/flowcache.h):
// flowCacheList, flowCacheConfigure, flowCacheFlush. Each returns a Promise:
// an AsyncWorker waits off the JS thread while every worker answers through
// its command ring.

#include "args.h"

#include <algorithm>
#include <cstdlib>
#include <vector>

extern "C" {
#include <rte_cycles.h>

#include "../core/router.h"
}

namespace fastpath {
namespace {

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
    if (fp_flowcache_collect(&entries_, &workers_, &count_, &err_) < 0) {
      SetError(err_.msg);
      return;
    }
    // Workers list in table order; callers get each worker's oldest first.
    order_.resize(count_);
    for (uint32_t i = 0; i < count_; i++) order_[i] = i;
    std::stable_sort(order_.begin(), order_.end(), [this](uint32_t a, uint32_t b) {
      if (workers_[a] != workers_[b]) return workers_[a] < workers_[b];
      return entries_[a].age_cycles > entries_[b].age_cycles;
    });
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto arr = Napi::Array::New(env, count_);
    for (uint32_t i = 0; i < count_; i++) {
      const fp_flow_info &e = entries_[order_[i]];
      auto o = Napi::Object::New(env);
      o.Set("worker", workers_[order_[i]]);
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
      o.Set("ageMs", static_cast<double>(e.age_cycles * 1000 / hz_));
      o.Set("idleMs", static_cast<double>(e.idle_cycles * 1000 / hz_));
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
  fp_flow_info *entries_ = nullptr;
  uint32_t *workers_ = nullptr;
  std::vector<uint32_t> order_;
  uint32_t count_ = 0;
  uint64_t hz_ = 1;
};

class FlowConfigureWorker : public Napi::AsyncWorker {
 public:
  enum class Op { Flush, Geometry, Mode };
  FlowConfigureWorker(Napi::Env env, Napi::Promise::Deferred d, Op op,
                      uint32_t maxflows, uint32_t hashsize, bool select_auto = false)
      : Napi::AsyncWorker(env), deferred_(d), op_(op), maxflows_(maxflows),
        hashsize_(hashsize), select_auto_(select_auto) {}
  void Execute() override {
    int rc = op_ == Op::Flush      ? fp_flowcache_flush_all(&err_)
             : op_ == Op::Geometry ? fp_flowcache_configure(maxflows_, hashsize_, &err_)
                                   : fp_flowcache_set_mode(select_auto_, &err_);
    if (rc < 0) SetError(err_.msg);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &) override {
    deferred_.Reject(MakeError(Env(), err_.code, err_.msg).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  fp_err err_{};
  Op op_;
  uint32_t maxflows_, hashsize_;
  bool select_auto_;
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
  (new FlowConfigureWorker(env, d, FlowConfigureWorker::Op::Geometry, maxflows, hashsize))->Queue();
  return d.Promise();
}

// flowCacheSetMode('cache' | 'auto'): lib/flowcache.ts validates it first.
Napi::Value FlowCacheSetMode(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  std::string mode = info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
  if (mode != "cache" && mode != "auto")
    Throw(env, EINVAL, "mode: expected 'cache' or 'auto'");
  auto d = Napi::Promise::Deferred::New(env);
  (new FlowConfigureWorker(env, d, FlowConfigureWorker::Op::Mode, 0, 1, mode == "auto"))->Queue();
  return d.Promise();
}

Napi::Value FlowCacheFlush(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto d = Napi::Promise::Deferred::New(env);
  (new FlowConfigureWorker(env, d, FlowConfigureWorker::Op::Flush, 0, 1))->Queue();
  return d.Promise();
}

// flowCacheMemsize(maxflows, hashsize, neighbours): bytes one worker's cache
// takes (core/flowcache.c's layout); needs no running router.
Napi::Value FlowCacheMemsize(const Napi::CallbackInfo &info) {
  uint32_t maxflows = U32(info[0], "maxflows", 0, FP_FLOWCACHE_MAX_FLOWS);
  uint32_t hashsize = U32(info[1], "hashsize", 1, FP_FLOWCACHE_MAX_HASHSIZE);
  uint32_t nadj = U32(info[2], "neighbours", 0, FP_FLOW_MAX_NEIGH);
  return Napi::Number::New(info.Env(), static_cast<double>(fp_flowcache_memsize(maxflows, hashsize, nadj)));
}

}  // namespace

void InitFlowCache(Napi::Env env, Napi::Object exports) {
  exports.Set("flowCacheMemsize", Napi::Function::New(env, FlowCacheMemsize));
  exports.Set("flowCacheList", Napi::Function::New(env, FlowCacheList));
  exports.Set("flowCacheConfigure", Napi::Function::New(env, FlowCacheConfigure));
  exports.Set("flowCacheFlush", Napi::Function::New(env, FlowCacheFlush));
  exports.Set("flowCacheSetMode", Napi::Function::New(env, FlowCacheSetMode));
}

}  // namespace fastpath
