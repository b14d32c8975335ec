// siftr.cc — binds SIFTR (control/siftr_writer.h): siftrEnable,
// siftrConfigure, siftrDisable (Promises: the workers answer through their
// command rings, and disable joins the writer thread) and siftrStatus.
// Arguments are checked here for type and range; lib/siftr.ts shapes the API.

#include "args.h"

#include <cstdlib>

extern "C" {
#include "../control/siftr_writer.h"
#include "../core/router.h"
}

namespace fastpath {
namespace {

Napi::Object StatusObject(Napi::Env env, const fp_siftr_status &st) {
  auto o = Napi::Object::New(env);
  const fp_tcpstat_counters &c = st.ctr;
  auto n = [](uint64_t v) { return static_cast<double>(v); };
  o.Set("enabled", st.enabled);
  if (!st.enabled && st.disable_time_us == 0) return o;
  o.Set("logfile", st.params.logfile);
  o.Set("ppl", st.params.ppl);
  o.Set("portFilter", st.params.port_filter);
  o.Set("enableTimeUs", n(st.enable_time_us));
  if (st.disable_time_us != 0) o.Set("disableTimeUs", n(st.disable_time_us));
  o.Set("inbound", n(c.n_in));
  o.Set("outbound", n(c.n_out));
  auto skipped = Napi::Object::New(env);
  skipped.Set("inMalloc", n(c.nskip_in_malloc));
  skipped.Set("outMalloc", n(c.nskip_out_malloc));
  skipped.Set("inTcpcb", n(c.nskip_in_tcpcb));
  skipped.Set("outTcpcb", n(c.nskip_out_tcpcb));
  skipped.Set("inInpcb", n(c.nskip_in_inpcb));
  skipped.Set("outInpcb", n(c.nskip_out_inpcb));
  o.Set("skipped", skipped);
  o.Set("tableFull", n(c.table_full));
  o.Set("ringFull", n(c.ring_full));
  o.Set("filtered", n(c.filtered));
  o.Set("badOptions", n(c.bad_options));
  o.Set("connectionsCreated", n(c.created));
  o.Set("connectionsReused", n(c.reused));
  o.Set("connectionsExpired", n(c.expired));
  o.Set("records", n(c.records));
  o.Set("retransmissions", n(c.rexmits));
  o.Set("rttSamples", n(c.rtt_samples));
  o.Set("logged", n(st.logged));
  o.Set("writeErrors", n(st.write_errors));
  o.Set("bytes", n(st.bytes));
  o.Set("connections", st.connections);
  o.Set("flowCount", st.flows);
  o.Set("flowsDropped", st.flows_dropped);
  o.Set("files", st.files);
  return o;
}

class EnableWorker : public Napi::AsyncWorker {
 public:
  EnableWorker(Napi::Env env, Napi::Promise::Deferred d, const fp_siftr_params &p)
      : Napi::AsyncWorker(env), deferred_(d), params_(p) {}
  void Execute() override {
    if (fp_siftr_enable(&params_, &err_) < 0) SetError(err_.msg);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &) override {
    deferred_.Reject(MakeError(Env(), err_.code, err_.msg).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  fp_siftr_params params_;
  fp_err err_{};
};

class ConfigureWorker : public Napi::AsyncWorker {
 public:
  ConfigureWorker(Napi::Env env, Napi::Promise::Deferred d)
      : Napi::AsyncWorker(env), deferred_(d) {}
  void Execute() override {
    if (fp_siftr_configure(has_logfile_ ? logfile_ : nullptr, has_ppl_ ? &ppl_ : nullptr,
                           has_port_ ? &port_ : nullptr, &err_) < 0)
      SetError(err_.msg);
  }
  void OnOK() override { deferred_.Resolve(Env().Undefined()); }
  void OnError(const Napi::Error &) override {
    deferred_.Reject(MakeError(Env(), err_.code, err_.msg).Value());
  }
  bool has_logfile_ = false, has_ppl_ = false, has_port_ = false;
  char logfile_[PATH_MAX] = {0};
  uint32_t ppl_ = 0;
  uint16_t port_ = 0;

 private:
  Napi::Promise::Deferred deferred_;
  fp_err err_{};
};

class DisableWorker : public Napi::AsyncWorker {
 public:
  DisableWorker(Napi::Env env, Napi::Promise::Deferred d)
      : Napi::AsyncWorker(env), deferred_(d) {}
  ~DisableWorker() override { free(flows_); }
  void Execute() override {
    if (fp_siftr_disable(&status_, &flows_, &nflows_, &err_) < 0) SetError(err_.msg);
  }
  void OnOK() override {
    Napi::Env env = Env();
    auto o = StatusObject(env, status_);
    auto arr = Napi::Array::New(env, nflows_);
    char a[FP_SIFTR_ADDRSTRLEN];
    for (uint32_t i = 0; i < nflows_; i++) {
      auto f = Napi::Object::New(env);
      fp_siftr_format_addr(flows_[i].laddr, a);
      f.Set("laddr", a);
      f.Set("lport", flows_[i].lport);
      fp_siftr_format_addr(flows_[i].faddr, a);
      f.Set("faddr", a);
      f.Set("fport", flows_[i].fport);
      arr.Set(i, f);
    }
    o.Set("flows", arr);
    deferred_.Resolve(o);
  }
  void OnError(const Napi::Error &) override {
    deferred_.Reject(MakeError(Env(), err_.code, err_.msg).Value());
  }

 private:
  Napi::Promise::Deferred deferred_;
  fp_err err_{};
  fp_siftr_status status_{};
  fp_siftr_flow *flows_ = nullptr;
  uint32_t nflows_ = 0;
};

// siftrEnable({ logfile, sysver, ppl, portFilter, localIsResponder,
//   pickupMidstream, maxConnections, ringSize, maxFlows, idleMs, closeGraceMs })
Napi::Value SiftrEnable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto o = Obj(info[0], "siftrEnable", "an options object");
  fp_siftr_params p{};
  CopyStr(o.Get("logfile"), "logfile", p.logfile, sizeof(p.logfile));
  CopyStr(o.Get("sysver"), "sysver", p.sysver, sizeof(p.sysver));
  p.ppl = U32(o.Get("ppl"), "ppl", 0, 0xffffffffu);
  p.port_filter = static_cast<uint16_t>(U32(o.Get("portFilter"), "portFilter", 0, 65535));
  p.local_is_responder = o.Get("localIsResponder").ToBoolean();
  p.pickup_midstream = o.Get("pickupMidstream").ToBoolean();
  p.max_connections = U32(o.Get("maxConnections"), "maxConnections", 1, FP_TCPSTAT_MAX_ENTRIES);
  p.ring_size = U32(o.Get("ringSize"), "ringSize", 64, FP_SIFTR_MAX_RING);
  p.max_flows = U32(o.Get("maxFlows"), "maxFlows", 1, FP_SIFTR_MAX_FLOWS);
  p.idle_ms = U32(o.Get("idleMs"), "idleMs", 1, 0xffffffffu);
  p.close_grace_ms = U32(o.Get("closeGraceMs"), "closeGraceMs", 0, 0xffffffffu);
  auto d = Napi::Promise::Deferred::New(env);
  (new EnableWorker(env, d, p))->Queue();
  return d.Promise();
}

// siftrConfigure({ logfile?, ppl?, portFilter? })
Napi::Value SiftrConfigure(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto o = Obj(info[0], "siftrConfigure", "an options object");
  auto d = Napi::Promise::Deferred::New(env);
  auto *w = new ConfigureWorker(env, d);
  try {
    if (!o.Get("logfile").IsUndefined()) {
      CopyStr(o.Get("logfile"), "logfile", w->logfile_, sizeof(w->logfile_));
      w->has_logfile_ = true;
    }
    if (!o.Get("ppl").IsUndefined()) {
      w->ppl_ = U32(o.Get("ppl"), "ppl", 0, 0xffffffffu);
      w->has_ppl_ = true;
    }
    if (!o.Get("portFilter").IsUndefined()) {
      w->port_ = static_cast<uint16_t>(U32(o.Get("portFilter"), "portFilter", 0, 65535));
      w->has_port_ = true;
    }
  } catch (...) {
    delete w;
    throw;
  }
  w->Queue();
  return d.Promise();
}

Napi::Value SiftrDisable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto d = Napi::Promise::Deferred::New(env);
  (new DisableWorker(env, d))->Queue();
  return d.Promise();
}

Napi::Value SiftrStatus(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_siftr_status st;
  fp_siftr_get_status(&st);
  return StatusObject(env, st);
}

}  // namespace

void InitSiftr(Napi::Env env, Napi::Object exports) {
  exports.Set("siftrEnable", Napi::Function::New(env, SiftrEnable));
  exports.Set("siftrConfigure", Napi::Function::New(env, SiftrConfigure));
  exports.Set("siftrDisable", Napi::Function::New(env, SiftrDisable));
  exports.Set("siftrStatus", Napi::Function::New(env, SiftrStatus));
}

}  // namespace fastpath
