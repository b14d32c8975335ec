// sockets.cc — binds UDP sockets on the router's addresses and the flow-label
// manager (control/udp.h, control/flowlabel.h): socketOpen, socketClose,
// socketSend, socketRecv, flowLabelGet, flowLabelPut, flowLabelRenew,
// flowLabelList, udpConfigure.

#include "args.h"

#include <vector>

extern "C" {
#include "../control/udp.h"
#include "../core/router.h"
}

namespace fastpath {
namespace {

// socketOpen({ address, port, iface, pid, uid, reflect, rxQueue }) → { slot, gen }
Napi::Value SocketOpen(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto o = Obj(info[0], "socket options");
  fp_udp_open_args a{};
  Bytes(o.Get("address"), "address", a.addr, 16);
  a.port = static_cast<uint16_t>(U32(o.Get("port"), "port", 0, 65535));
  int iface = o.Get("iface").IsNumber() ? o.Get("iface").As<Napi::Number>().Int32Value() : -1;
  a.iface = iface < 0 ? -1 : static_cast<int>(U32(o.Get("iface"), "interface index", 0, FP_MAX_IFACES - 1));
  a.owner.pid = U32(o.Get("pid"), "owner.pid", 0, 0xffffffffu);
  a.owner.uid = U32(o.Get("uid"), "owner.uid", 0, 0xffffffffu);
  a.reflect = o.Get("reflect").ToBoolean();
  a.rx_queue = U32(o.Get("rxQueue"), "rxQueue", 2, 65536);
  uint16_t gen = 0;
  fp_err err{};
  int slot = fp_udp_open(&a, &gen, &err);
  if (slot < 0) ThrowErr(env, err);
  uint8_t addr[16];
  uint16_t port = 0;
  if (fp_udp_local(slot, addr, &port, &err) < 0) ThrowErr(env, err);
  auto r = Napi::Object::New(env);
  r.Set("slot", slot);
  r.Set("gen", gen);
  r.Set("port", port);
  return r;
}

Napi::Value SocketClose(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  fp_err err{};
  if (fp_udp_close(static_cast<int>(U32(info[0], "socket", 0, FP_UDP_MAX_SOCKETS - 1)), &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

// socketSend(slot, address, port, data, flowLabel) → sequence number
Napi::Value SocketSend(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  int slot = static_cast<int>(U32(info[0], "socket", 0, FP_UDP_MAX_SOCKETS - 1));
  uint8_t dst[16];
  Bytes(info[1], "address", dst, 16);
  uint16_t port = static_cast<uint16_t>(U32(info[2], "port", 1, 65535));
  auto data = U8Array(info[3], "data", "a Uint8Array or Buffer");
  uint32_t label = U32(info[4], "flowLabel", 0, 0xffffffffu);
  uint32_t seq = 0;
  fp_err err{};
  if (fp_udp_send(slot, dst, port, data.Data(), static_cast<uint32_t>(data.ByteLength()), label,
                  &seq, &err) < 0)
    ThrowErr(env, err);
  return Napi::Number::New(env, seq);
}

// socketRecv(slot, max) → [{ data, address, port, flowLabel, iface, hopLimit }]
Napi::Value SocketRecv(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  int slot = static_cast<int>(U32(info[0], "socket", 0, FP_UDP_MAX_SOCKETS - 1));
  unsigned max = U32(info[1], "max", 1, 1024);
  std::vector<rte_mbuf *> mbufs(max);
  unsigned n = fp_udp_recv(slot, mbufs.data(), max);
  auto arr = Napi::Array::New(env, n);
  for (unsigned i = 0; i < n; i++) {
    fp_udp_datagram d;
    fp_udp_datagram_read(mbufs[i], &d);
    auto o = Napi::Object::New(env);
    o.Set("data", Napi::Buffer<uint8_t>::Copy(env, d.payload, d.len));
    o.Set("address", ToBytes(env, d.src, 16));
    o.Set("port", d.src_port);
    o.Set("flowLabel", d.flow_label);
    o.Set("iface", d.iface);
    o.Set("hopLimit", d.hop_limit);
    arr.Set(i, o);
    rte_pktmbuf_free(mbufs[i]);
  }
  return arr;
}

// flowLabelGet(slot, { destination, label, share, flags, linger, expires }) → label
Napi::Value FlowLabelGet(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  int slot = static_cast<int>(U32(info[0], "socket", 0, FP_UDP_MAX_SOCKETS - 1));
  auto o = Obj(info[1], "getLabel");
  fp_flowlabel_req req{};
  Bytes(o.Get("destination"), "destination", req.dst, 16);
  req.label = U32(o.Get("label"), "label", 0, 0xffffffffu);
  req.share = static_cast<uint8_t>(U32(o.Get("share"), "share", 0, 255));
  req.flags = static_cast<uint16_t>(U32(o.Get("flags"), "flags", 0, 0xf));
  req.linger_s = U32(o.Get("linger"), "linger", 0, 0xffffffffu);
  req.expires_s = U32(o.Get("expires"), "expires", 0, 0xffffffffu);
  fp_err err{};
  int rc = fp_udp_label_get(slot, &req, &err);
  if (rc < 0) ThrowErr(env, err);
  return Napi::Number::New(env, rc);
}

Napi::Value FlowLabelPut(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  int slot = static_cast<int>(U32(info[0], "socket", 0, FP_UDP_MAX_SOCKETS - 1));
  fp_err err{};
  if (fp_udp_label_put(slot, U32(info[1], "label", 0, 0xffffffffu), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

// flowLabelRenew(slot, label, share, linger, expires)
Napi::Value FlowLabelRenew(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  int slot = static_cast<int>(U32(info[0], "socket", 0, FP_UDP_MAX_SOCKETS - 1));
  fp_err err{};
  if (fp_udp_label_renew(slot, U32(info[1], "label", 0, 0xffffffffu),
                         static_cast<uint8_t>(U32(info[2], "share", 0, 255)),
                         U32(info[3], "linger", 0, 0xffffffffu), U32(info[4], "expires", 0, 0xffffffffu),
                         &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value FlowLabelList(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  std::vector<fp_flowlabel_info> rows(FP_FLOWLABEL_MAX_SIZE);
  size_t total = fp_udp_label_list(rows.data(), rows.size());
  size_t n = total < rows.size() ? total : rows.size();
  auto arr = Napi::Array::New(env, n);
  for (size_t i = 0; i < n; i++) {
    const fp_flowlabel_info &r = rows[i];
    auto o = Napi::Object::New(env);
    o.Set("label", r.label);
    o.Set("share", r.share);
    o.Set("ownerPid", r.owner_pid);
    o.Set("ownerUid", r.owner_uid);
    o.Set("users", r.users);
    o.Set("lingerS", r.linger_s);
    o.Set("expiresInS", static_cast<double>(r.expires_in_s));
    o.Set("destination", ToBytes(env, r.dst, 16));
    arr.Set(static_cast<uint32_t>(i), o);
  }
  return arr;
}

// udpConfigure({ autoLabels, stateRanges }): router-wide, before launch.
Napi::Value UdpConfigure(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto o = Obj(info[0], "flowLabels");
  fp_udp_config c{};
  c.auto_labels = o.Get("autoLabels").ToBoolean();
  c.state_ranges = o.Get("stateRanges").ToBoolean();
  fp_udp_configure(&c);
  return env.Undefined();
}

}  // namespace

void InitSockets(Napi::Env env, Napi::Object exports) {
  exports.Set("socketOpen", Napi::Function::New(env, SocketOpen));
  exports.Set("socketClose", Napi::Function::New(env, SocketClose));
  exports.Set("socketSend", Napi::Function::New(env, SocketSend));
  exports.Set("socketRecv", Napi::Function::New(env, SocketRecv));
  exports.Set("flowLabelGet", Napi::Function::New(env, FlowLabelGet));
  exports.Set("flowLabelPut", Napi::Function::New(env, FlowLabelPut));
  exports.Set("flowLabelRenew", Napi::Function::New(env, FlowLabelRenew));
  exports.Set("flowLabelList", Napi::Function::New(env, FlowLabelList));
  exports.Set("udpConfigure", Napi::Function::New(env, UdpConfigure));
}

}  // namespace fastpath
