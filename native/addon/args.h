// args.h — what every binding area of the fastpath addon shares: argument
// checks, the fp_err → JS error mapping, the one-environment check, and the
// Init function of each area (called by the module init in router.cc).
//
// This layer only converts and checks arguments, calls native/core and
// native/control and turns fp_err into JS errors carrying an errno-style
// `code`; the API is shaped in lib/ (TypeScript). It never touches packets.
//
// One file per API area, after zeromq.js (src/*.cc, src/util/arguments.h,
// src/util/error.h):
//   router.cc      EAL, start/launch/stop, lifecycle, module init, teardown
//   interfaces.cc  ports, clones, up/down, MTU, promisc/allmulti flags
//   mld.cc         MLD listener groups (control/mld.h)
//   routes.cc      the FIB: add, delete, list
//   routes_batch.cc  batches: addMany, deleteMany (packed buffers), replace
//   routes_query.cc  the FIB at scale: count, pages in key order, lookup
//   neighbours.cc  the neighbour table and ND's ReachableTime
//   stats.cc       counter names and the stats snapshot
//   flowcache.cc   the per-worker flow caches (async, through command rings)
//   events.cc      event delivery to JS through one ThreadSafeFunction
//   sockets.cc     UDP sockets on the router's addresses, flow-label leases
//   siftr.cc       SIFTR for forwarded TCP: enable, configure, disable, status
//   capture.cc     packet capture on ports (start, read, stats, stop, release)

#ifndef FP_ADDON_ARGS_H
#define FP_ADDON_ARGS_H

#include <napi.h>

#include <cstddef>
#include <cstdint>
#include <string>

struct fp_err;  // ../core/router.h
struct fp_route;
struct fp_nhg_member;

namespace fastpath {

// ---- errors ------------------------------------------------------------------

// A JS Error whose `code` is the errno name of `code` (EIO when unknown).
Napi::Error MakeError(Napi::Env env, int code, const std::string &msg);

// Throw MakeError(env, code, msg).
[[noreturn]] void Throw(Napi::Env env, int code, const std::string &msg);

// Throw a native failure; a zero code becomes EIO.
[[noreturn]] void ThrowErr(Napi::Env env, const fp_err &err);

// ---- the owning environment --------------------------------------------------
//
// One Node environment only: EAL is a process singleton, so a second
// environment (a worker thread) gets a clear error instead of shared state.

// The first environment that loaded the addon (set by the module init).
extern napi_env g_owner_env;

// Throws EBUSY unless env is the owning environment.
void CheckEnv(Napi::Env env);

// ---- argument checks (throw EINVAL naming `what`) ----------------------------

// An integer number in min..max.
uint32_t U32(const Napi::Value &v, const char *what, uint32_t min, uint32_t max);

// A Uint8Array of exactly len bytes, copied to out.
void Bytes(const Napi::Value &v, const char *what, uint8_t *out, size_t len);

// A string of 1..max-1 characters (it must fit a C buffer of max bytes).
std::string Str(const Napi::Value &v, const char *what, size_t max);

// Str(v, what, max) copied with its NUL into out[max].
void CopyStr(const Napi::Value &v, const char *what, char *out, size_t max);

// A Uint8Array (a Buffer is one); `expected` says what was wanted:
// "data: expected a Uint8Array or Buffer".
Napi::Uint8Array U8Array(const Napi::Value &v, const std::string &what,
                         const char *expected = "a Uint8Array");

// An object (an array is one too, as in JS); `expected` says what was
// wanted: Obj(info[0], "captureStart", "an options object") throws
// "captureStart: expected an options object".
Napi::Object Obj(const Napi::Value &v, const std::string &what,
                 const char *expected = "an object");

// An array of min..max entries (max UINT32_MAX: no upper bound); `entries`
// names them: "captureStart: interfaces: expected 1..32 interface indexes, got 0".
Napi::Array Arr(const Napi::Value &v, const std::string &what, const char *entries,
                uint32_t min, uint32_t max);

// ---- conversions to JS -------------------------------------------------------

// A new Uint8Array holding a copy of p[0..len).
Napi::Uint8Array ToBytes(Napi::Env env, const uint8_t *p, size_t len);

// "aa:bb:cc:dd:ee:ff".
std::string MacString(const uint8_t *m);

// A route as lib/native.ts's NativeRoute; `members` holds r.nh_count next
// hops when r is a group route. Shared by the bindings that list routes
// so that every listing has one shape.
Napi::Object RouteToJs(Napi::Env env, const fp_route &r, const fp_nhg_member *members);

// ---- areas: each registers its exports ---------------------------------------

void InitRouter(Napi::Env env, Napi::Object exports);      // router.cc
void InitInterfaces(Napi::Env env, Napi::Object exports);  // interfaces.cc
void InitMld(Napi::Env env, Napi::Object exports);         // mld.cc
void InitRoutes(Napi::Env env, Napi::Object exports);      // routes.cc
void InitRoutesBatch(Napi::Env env, Napi::Object exports); // routes_batch.cc
void InitRoutesQuery(Napi::Env env, Napi::Object exports); // routes_query.cc
void InitNeighbours(Napi::Env env, Napi::Object exports);  // neighbours.cc
void InitStats(Napi::Env env, Napi::Object exports);       // stats.cc
void InitFlowCache(Napi::Env env, Napi::Object exports);   // flowcache.cc
void InitEvents(Napi::Env env, Napi::Object exports);      // events.cc
void InitSockets(Napi::Env env, Napi::Object exports);     // sockets.cc
void InitSiftr(Napi::Env env, Napi::Object exports);       // siftr.cc
void InitLinux(Napi::Env env, Napi::Object exports);       // linux.cc
void InitCapture(Napi::Env env, Napi::Object exports);     // capture.cc

// Drops the native event hook and aborts the ThreadSafeFunction (events.cc).
// Only from the environment cleanup hook, after every native thread is joined.
void EventsTeardown();

}  // namespace fastpath

#endif  // FP_ADDON_ARGS_H
