// args.cc — the helpers every binding area shares (declared in args.h):
// errno → JS error mapping, the one-environment check, argument checks and
// conversions to JS values. Binds no JS name itself.

#include "args.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

extern "C" {
#include "../core/router.h"
}

namespace fastpath {

napi_env g_owner_env = nullptr;

namespace {

const char *ErrnoName(int code) {
  switch (code) {
    case EINVAL: return "EINVAL";
    case EEXIST: return "EEXIST";
    case ENOENT: return "ENOENT";
    case EPERM: return "EPERM";
    case ENOSPC: return "ENOSPC";
    case EBUSY: return "EBUSY";
    case EALREADY: return "EBUSY";
    case ENODEV: return "ENODEV";
    case ENOTSUP: return "ENOTSUP";
    case ENOMEM: return "ENOMEM";
    case ENXIO: return "ENXIO";
    case EADDRINUSE: return "EADDRINUSE";
    case EADDRNOTAVAIL: return "EADDRNOTAVAIL";
    case EBADF: return "EBADF";
    case EMSGSIZE: return "EMSGSIZE";
    case ENOBUFS: return "ENOBUFS";
    case EMFILE: return "EMFILE";
    case ERANGE: return "ERANGE";
    case ENOPROTOOPT: return "ENOPROTOOPT";
    case EACCES: return "EACCES";
    case EISDIR: return "EISDIR";
    case ELOOP: return "ELOOP";
    case ENOTDIR: return "ENOTDIR";
    case EROFS: return "EROFS";
    default: return "EIO";
  }
}

}  // namespace

Napi::Error MakeError(Napi::Env env, int code, const std::string &msg) {
  Napi::Error e = Napi::Error::New(env, msg);
  e.Set("code", Napi::String::New(env, ErrnoName(code)));
  return e;
}

[[noreturn]] void Throw(Napi::Env env, int code, const std::string &msg) {
  throw MakeError(env, code, msg);
}

[[noreturn]] void ThrowErr(Napi::Env env, const fp_err &err) {
  Throw(env, err.code ? err.code : EIO, err.msg);
}

void CheckEnv(Napi::Env env) {
  if (g_owner_env != env)
    Throw(env, EBUSY,
          "fastpath's native router belongs to the main Node environment of "
          "this process; it cannot be used from worker threads");
}

// ---- argument checks ----------------------------------------------------

uint32_t U32(const Napi::Value &v, const char *what, uint32_t min, uint32_t max) {
  if (!v.IsNumber()) Throw(v.Env(), EINVAL, std::string(what) + ": expected a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (d != static_cast<uint32_t>(d) || d < min || d > max)
    Throw(v.Env(), EINVAL,
          std::string(what) + ": expected an integer " + std::to_string(min) +
              ".." + std::to_string(max) + ", got " + std::to_string(d));
  return static_cast<uint32_t>(d);
}

void Bytes(const Napi::Value &v, const char *what, uint8_t *out, size_t len) {
  auto a = U8Array(v, what);
  if (a.ElementLength() != len)
    Throw(v.Env(), EINVAL,
          std::string(what) + ": expected " + std::to_string(len) + " bytes");
  std::memcpy(out, a.Data(), len);
}

std::string Str(const Napi::Value &v, const char *what, size_t max) {
  if (!v.IsString()) Throw(v.Env(), EINVAL, std::string(what) + ": expected a string");
  std::string s = v.As<Napi::String>().Utf8Value();
  if (s.empty() || s.size() >= max)
    Throw(v.Env(), EINVAL, std::string(what) + ": expected 1.." +
                               std::to_string(max - 1) + " characters");
  return s;
}

void CopyStr(const Napi::Value &v, const char *what, char *out, size_t max) {
  std::string s = Str(v, what, max);
  std::memcpy(out, s.c_str(), s.size() + 1);
}

Napi::Uint8Array U8Array(const Napi::Value &v, const std::string &what, const char *expected) {
  if (!v.IsTypedArray() || v.As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    Throw(v.Env(), EINVAL, what + ": expected " + expected);
  return v.As<Napi::Uint8Array>();
}

Napi::Object Obj(const Napi::Value &v, const std::string &what, const char *expected) {
  if (!v.IsObject()) Throw(v.Env(), EINVAL, what + ": expected " + expected);
  return v.As<Napi::Object>();
}

Napi::Array Arr(const Napi::Value &v, const std::string &what, const char *entries,
                uint32_t min, uint32_t max) {
  // "1..32 interface indexes", "at most 32 mirrors", "at least 1 route" or
  // just "protocol numbers".
  std::string count = entries;
  if (min > 0 && max != UINT32_MAX)
    count = std::to_string(min) + ".." + std::to_string(max) + " " + count;
  else if (min > 0)
    count = "at least " + std::to_string(min) + " " + count;
  else if (max != UINT32_MAX)
    count = "at most " + std::to_string(max) + " " + count;
  if (!v.IsArray()) Throw(v.Env(), EINVAL, what + ": expected an array of " + count);
  auto a = v.As<Napi::Array>();
  if (a.Length() < min || a.Length() > max)
    Throw(v.Env(), EINVAL, what + ": expected " + count + ", got " + std::to_string(a.Length()));
  return a;
}

// ---- conversions to JS ----------------------------------------------------

Napi::Uint8Array ToBytes(Napi::Env env, const uint8_t *p, size_t len) {
  auto a = Napi::Uint8Array::New(env, len);
  std::memcpy(a.Data(), p, len);
  return a;
}

std::string MacString(const uint8_t *m) {
  char buf[18];
  std::snprintf(buf, sizeof(buf), "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2],
                m[3], m[4], m[5]);
  return buf;
}

Napi::Object RouteToJs(Napi::Env env, const fp_route &r, const fp_nhg_member *members) {
  static const char *kinds[] = {"static", "connected", "local", "kernel"};
  auto o = Napi::Object::New(env);
  o.Set("prefix", ToBytes(env, r.prefix, 16));
  o.Set("length", r.plen);
  o.Set("kind", kinds[r.kind <= FP_ROUTE_KERNEL ? r.kind : 0]);
  if (r.kind == FP_ROUTE_KERNEL) o.Set("protocol", r.proto);
  o.Set("portIndex", r.port_idx);
  o.Set("via", r.has_via ? ToBytes(env, r.via, 16) : env.Null());
  o.Set("state", r.state == FP_ROUTE_DOWN ? "down" : "up");
  if (r.nh_count > 0) {
    auto nhs = Napi::Array::New(env, r.nh_count);
    for (uint32_t j = 0; j < r.nh_count; j++) {
      const fp_nhg_member &m = members[j];
      auto h = Napi::Object::New(env);
      h.Set("via", m.has_via ? ToBytes(env, m.via, 16) : env.Null());
      h.Set("portIndex", m.port_idx);
      h.Set("weight", m.weight);
      h.Set("state", m.state == FP_ROUTE_DOWN ? "down" : "up");
      nhs.Set(j, h);
    }
    o.Set("nexthops", nhs);
  }
  return o;
}

}  // namespace fastpath
