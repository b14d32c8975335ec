// linux.cc — binds Linux mirrors and route import (control/linux.h):
// linuxEnable({ mirrors: [{ portIndex, name }], importRoutes, importTable,
// importProtocols: number[] }) and linuxStatus(). lib/router.ts calls
// linuxEnable once the router has launched, from the config's `linux`
// section (lib/config/linux.ts checks names and ranges first).

#include "args.h"

#include <cstring>

extern "C" {
#include "../core/router.h"
#include "../control/linux.h"
}

namespace fastpath {
namespace {

Napi::Value LinuxEnable(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!info[0].IsObject()) Throw(env, EINVAL, "linuxEnable: expected an options object");
  auto o = info[0].As<Napi::Object>();
  fp_linux_config cfg{};
  auto mirrors = o.Get("mirrors");
  if (!mirrors.IsArray()) Throw(env, EINVAL, "linuxEnable: mirrors: expected an array");
  auto arr = mirrors.As<Napi::Array>();
  if (arr.Length() > 32) Throw(env, EINVAL, "linuxEnable: mirrors: at most 32");
  cfg.nmirrors = arr.Length();
  for (uint32_t i = 0; i < arr.Length(); i++) {
    if (!arr.Get(i).IsObject()) Throw(env, EINVAL, "linuxEnable: mirrors[]: expected objects");
    auto m = arr.Get(i).As<Napi::Object>();
    cfg.mirrors[i].port_idx = static_cast<uint16_t>(U32(m.Get("portIndex"), "mirrors[].portIndex", 0, FP_MAX_IFACES - 1));
    std::string name = Str(m.Get("name"), "mirrors[].name", FP_LINUX_IFNAMSIZ);
    std::strncpy(cfg.mirrors[i].name, name.c_str(), FP_LINUX_IFNAMSIZ - 1);
  }
  cfg.import_routes = o.Get("importRoutes").ToBoolean();
  cfg.import_table = U32(o.Get("importTable"), "importTable", 1, 0xffffffffu);
  auto protos = o.Get("importProtocols");
  if (!protos.IsArray()) Throw(env, EINVAL, "linuxEnable: importProtocols: expected an array");
  auto parr = protos.As<Napi::Array>();
  for (uint32_t i = 0; i < parr.Length(); i++) {
    uint32_t p = U32(parr.Get(i), "importProtocols[]", 0, 255);
    cfg.import_protos[p / 8] |= static_cast<uint8_t>(1u << (p % 8));
  }
  fp_err err{};
  if (fp_linux_enable(&cfg, &err) < 0) Throw(env, err.code, err.msg);
  return env.Undefined();
}

Napi::Value LinuxStatus(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  struct fp_linux_status st{};
  fp_linux_get_status(&st);
  fp_linux_mirror_info mirrors[32];
  uint32_t n = fp_linux_mirrors(mirrors, 32);
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
