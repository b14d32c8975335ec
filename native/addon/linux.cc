// linux.cc — binds Linux mirrors and route import (control/linux.h):
// linuxEnable({ mirrors: [{ portIndex, name }], importRoutes, importTable,
// importProtocols: number[] }) and linuxStatus(). lib/router.ts calls
// linuxEnable once the router has launched, from the config's `linux`
// section (lib/config/linux.ts checks names and ranges first).

#include "args.h"

#include <string>

extern "C" {
#include "../core/router.h"
#include "../control/linux.h"
}

namespace fastpath {
namespace {

Napi::Value LinuxEnable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto o = Obj(info[0], "linuxEnable", "an options object");
  fp_linux_config cfg{};
  auto mirrors = Arr(o.Get("mirrors"), "linuxEnable: mirrors", "mirrors", 0, FP_LINUX_MAX_MIRRORS);
  cfg.nmirrors = mirrors.Length();
  for (uint32_t i = 0; i < cfg.nmirrors; i++) {
    auto m = Obj(mirrors.Get(i), "linuxEnable: mirrors[" + std::to_string(i) + "]");
    cfg.mirrors[i].port_idx = static_cast<uint16_t>(U32(m.Get("portIndex"), "mirrors[].portIndex", 0, FP_MAX_IFACES - 1));
    CopyStr(m.Get("name"), "mirrors[].name", cfg.mirrors[i].name, sizeof(cfg.mirrors[i].name));
  }
  cfg.import_routes = o.Get("importRoutes").ToBoolean();
  cfg.import_table = U32(o.Get("importTable"), "importTable", 1, 0xffffffffu);
  auto protos = Arr(o.Get("importProtocols"), "linuxEnable: importProtocols", "protocol numbers", 0, UINT32_MAX);
  for (uint32_t i = 0; i < protos.Length(); i++) {
    uint32_t p = U32(protos.Get(i), "importProtocols[]", 0, 255);
    cfg.import_protos[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  }
  fp_err err{};
  if (fp_linux_enable(&cfg, &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value LinuxStatus(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  struct fp_linux_status st{};
  fp_linux_get_status(&st);
  fp_linux_mirror_info mirrors[FP_LINUX_MAX_MIRRORS];
  uint32_t n = fp_linux_mirrors(mirrors, FP_LINUX_MAX_MIRRORS);
  auto o = Napi::Object::New(env);
  o.Set("enabled", st.enabled);
  o.Set("importing", st.importing);
  o.Set("imported", st.imported);
  o.Set("shadowed", st.shadowed);
  o.Set("dumpDone", st.dump_done);
  auto arr = Napi::Array::New(env, n);
  for (uint32_t i = 0; i < n; i++) {
    auto m = Napi::Object::New(env);
    m.Set("portIndex", mirrors[i].port_idx);
    m.Set("name", mirrors[i].name);
    m.Set("ifindex", mirrors[i].ifindex);
    m.Set("toKernel", Napi::BigInt::New(env, mirrors[i].to_kernel));
    m.Set("fromKernel", Napi::BigInt::New(env, mirrors[i].from_kernel));
    arr.Set(i, m);
  }
  o.Set("mirrors", arr);
  return o;
}

}  // namespace

void InitLinux(Napi::Env env, Napi::Object exports) {
  exports.Set("linuxEnable", Napi::Function::New(env, LinuxEnable));
  exports.Set("linuxStatus", Napi::Function::New(env, LinuxStatus));
}

}  // namespace fastpath
