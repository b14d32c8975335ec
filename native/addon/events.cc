// events.cc — binds event delivery (core/event.h): eventsSubscribe (one wake
// callback per process, through a ThreadSafeFunction) and eventsDrain; and
// EventsTeardown, which the module's cleanup hook (router.cc) calls at exit.

#include "args.h"

#include <atomic>
#include <cerrno>

extern "C" {
#include "../core/event.h"
}

namespace fastpath {
namespace {

// ---- events (core/event.h) --------------------------------------------------
//
// Native threads post events to a bounded C queue and call EventNotify(),
// which wakes JS through one ThreadSafeFunction. The TSFN queue holds at
// most one wake-up and a pending flag coalesces the rest, so a post never
// blocks and never allocates; JS then drains the C queue in order
// (eventsDrain). The TSFN is unref'ed: events never keep Node alive.

Napi::ThreadSafeFunction g_event_tsfn;
std::atomic<bool> g_event_wake_pending{false};

void EventNotify(void *) {
  if (g_event_wake_pending.exchange(true)) return;
  if (g_event_tsfn.NonBlockingCall() != napi_ok) g_event_wake_pending = false;
}

Napi::Value EventsSubscribe(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!info[0].IsFunction()) Throw(env, EINVAL, "eventsSubscribe: expected a function");
  if (g_event_tsfn) Throw(env, EBUSY, "eventsSubscribe: already subscribed");
  g_event_tsfn = Napi::ThreadSafeFunction::New(env, info[0].As<Napi::Function>(),
                                               "fastpath-events", 1, 1);
  g_event_tsfn.Unref(env);
  fp_event_set_notify(EventNotify, nullptr);
  return env.Undefined();
}

Napi::Value EventsDrain(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  // Cleared before draining: a post after this point wakes JS again.
  g_event_wake_pending = false;
  static const char *types[] = {"none", "address", "neighbour", "link", "mld", "socket"};
  auto arr = Napi::Array::New(env);
  fp_event buf[64];
  unsigned n, total = 0;
  while ((n = fp_event_drain(buf, 64)) > 0) {
    for (unsigned i = 0; i < n; i++) {
      const fp_event &e = buf[i];
      auto o = Napi::Object::New(env);
      o.Set("type", types[e.type < 6 ? e.type : 0]);
      o.Set("portIndex", e.port_idx);
      o.Set("state", e.state);
      o.Set("previous", e.previous);
      o.Set("address", ToBytes(env, e.addr, 16));
      o.Set("length", e.plen);
      o.Set("at", static_cast<double>(e.at_ms));
      arr.Set(total++, o);
    }
  }
  return arr;
}

// eventsRef(true|false): whether the wake-up keeps Node alive. Open router
// sockets hold it, as a bound dgram socket keeps a Node process running.
Napi::Value EventsRef(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  if (!g_event_tsfn) Throw(env, EINVAL, "eventsRef: not subscribed");
  if (info[0].ToBoolean())
    g_event_tsfn.Ref(env);
  else
    g_event_tsfn.Unref(env);
  return env.Undefined();
}

}  // namespace

// Cleanup hook only (router.cc), after fp_eal_cleanup() has joined every
// native thread: no post can race the hook's removal.
void EventsTeardown() {
  fp_event_set_notify(nullptr, nullptr);
  if (g_event_tsfn) g_event_tsfn.Abort();
}

void InitEvents(Napi::Env env, Napi::Object exports) {
  exports.Set("eventsSubscribe", Napi::Function::New(env, EventsSubscribe));
  exports.Set("eventsDrain", Napi::Function::New(env, EventsDrain));
  exports.Set("eventsRef", Napi::Function::New(env, EventsRef));
}

}  // namespace fastpath
