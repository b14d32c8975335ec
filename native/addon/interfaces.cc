// interfaces.cc — binds the interface table (core/router.h): ports (listing
// with link state, addresses and DAD state), portSetUp, ifaceClone and
// ifaceDestroy (VLAN and loopback clones), ifaceSetMtu, ifaceSetFlag
// (promisc / allmulti reference counts).

#include "args.h"

#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

extern "C" {
#include <rte_ethdev.h>

#include "../core/router.h"
}

namespace fastpath {
namespace {

const char *AddrStateName(uint8_t s) {
  switch (s) {
    case FP_ADDR_TENTATIVE: return "tentative";
    case FP_ADDR_PREFERRED: return "preferred";
    case FP_ADDR_DUPLICATED: return "duplicated";
    default: return "none";
  }
}

Napi::Value Ports(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  auto arr = Napi::Array::New(env);
  if (!fp_router.running) return arr;
  uint32_t out = 0;
  for (uint32_t i = 0; i < fp_router.nports; i++) {
    const fp_port &p = fp_router.ports[i];
    if (!p.in_use) continue;
    auto o = Napi::Object::New(env);
    static const char *kinds[] = {"port", "vlan", "loop"};
    o.Set("name", p.name);
    o.Set("slot", i);
    o.Set("kind", kinds[p.kind <= 2 ? p.kind : 0]);
    o.Set("parentIndex", p.kind == FP_IF_VLAN ? Napi::Value(Napi::Number::New(env, p.parent)) : env.Null());
    o.Set("vlanId", p.vlan_id);
    o.Set("allmulti", p.amcount > 0);
    o.Set("promiscRefs", p.pcount);
    o.Set("allmultiRefs", p.amcount);
    o.Set("index", p.ifindex);
    o.Set("portId", p.port_id);
    o.Set("device", p.device);
    o.Set("mac", MacString(p.mac.addr_bytes));
    o.Set("mtu", p.mtu);
    o.Set("up", p.up);
    o.Set("promiscuous", p.promiscuous);
    o.Set("rxQueues", p.nb_rxq);
    o.Set("txQueues", p.nb_txq);
    o.Set("controlTxQueue", p.ctl_txq);
    rte_eth_dev_info dinfo;
    if (p.kind == FP_IF_LOOP)
      o.Set("driver", "loopback");
    else if (rte_eth_dev_info_get(p.port_id, &dinfo) == 0)
      o.Set("driver", p.kind == FP_IF_VLAN ? std::string("vlan/") + dinfo.driver_name : std::string(dinfo.driver_name));
    rte_eth_link link;
    std::memset(&link, 0, sizeof(link));
    if (p.kind == FP_IF_PORT) rte_eth_link_get_nowait(p.port_id, &link);
    static const char *link_states[] = {"unknown", "down", "up"};
    static const char *link_sources[] = {"poll", "lsc", "netlink"};
    o.Set("linkState", link_states[p.link_state <= 2 ? p.link_state : 0]);
    o.Set("linkSource", link_sources[p.link_source <= 2 ? p.link_source : 0]);
    o.Set("linkSpeedMbps", link.link_speed);
    auto addrs = Napi::Array::New(env);
    for (uint32_t a = 0; a < p.naddrs; a++) {
      auto ao = Napi::Object::New(env);
      ao.Set("address", ToBytes(env, p.addrs[a].addr, 16));
      ao.Set("length", p.addrs[a].plen);
      ao.Set("state", AddrStateName(p.addr_state[a]));
      addrs.Set(a, ao);
    }
    o.Set("addresses", addrs);
    arr.Set(out++, o);
  }
  return arr;
}

Napi::Value IfaceClone(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  std::string kind = Str(info[0], "kind", 16);
  std::string name = Str(info[1], "name", FP_NAME_MAX);
  uint8_t k = kind == "vlan" ? FP_IF_VLAN : kind == "loop" ? FP_IF_LOOP : 255;
  uint32_t parent = k == FP_IF_VLAN ? U32(info[2], "parent index", 0, FP_MAX_IFACES - 1) : 0;
  uint32_t vid = k == FP_IF_VLAN ? U32(info[3], "vlan", 0, 65535) : 0;
  if (!info[4].IsArray()) Throw(env, EINVAL, "addresses: expected an array");
  auto aa = info[4].As<Napi::Array>();
  if (aa.Length() > FP_MAX_ADDRS)
    Throw(env, EINVAL, "addresses: at most " + std::to_string(FP_MAX_ADDRS));
  std::vector<fp_addr> addrs(aa.Length() ? aa.Length() : 1);
  for (uint32_t a = 0; a < aa.Length(); a++) {
    auto ao = aa.Get(a).As<Napi::Object>();
    std::memset(&addrs[a], 0, sizeof(addrs[a]));
    Bytes(ao.Get("address"), "addresses[].address", addrs[a].addr, 16);
    addrs[a].plen = static_cast<uint8_t>(U32(ao.Get("length"), "addresses[].length", 1, 128));
  }
  fp_err err{};
  int rc = fp_iface_clone(k, name.c_str(), static_cast<uint16_t>(parent),
                          static_cast<uint16_t>(vid), addrs.data(), aa.Length(), &err);
  if (rc < 0) ThrowErr(env, err);
  return Napi::Number::New(env, rc);
}

Napi::Value IfaceDestroy(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  fp_err err{};
  if (fp_iface_destroy(static_cast<uint16_t>(idx), &err) < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value IfaceSetMtu(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  uint32_t mtu = U32(info[1], "mtu", 0, 65535);
  fp_err err{};
  if (fp_iface_set_mtu(static_cast<uint16_t>(idx), static_cast<uint16_t>(mtu), &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value IfaceSetFlag(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "interface index", 0, FP_MAX_IFACES - 1);
  std::string flag = Str(info[1], "flag", 16);
  bool on = info[2].ToBoolean();
  fp_err err{};
  int rc;
  if (flag == "promisc")
    rc = fp_iface_set_promisc(static_cast<uint16_t>(idx), on, &err);
  else if (flag == "allmulti")
    rc = fp_iface_set_allmulti(static_cast<uint16_t>(idx), on, &err);
  else
    Throw(env, EINVAL, "flag: expected promisc or allmulti");
  if (rc < 0) ThrowErr(env, err);
  return env.Undefined();
}

Napi::Value PortSetUp(const Napi::CallbackInfo &info) {
  Napi::Env env = info.Env();
  CheckEnv(env);
  uint32_t idx = U32(info[0], "port index", 0, FP_MAX_IFACES - 1);
  fp_err err{};
  if (fp_port_set_up(static_cast<uint16_t>(idx), info[1].ToBoolean(), &err) < 0)
    ThrowErr(env, err);
  return env.Undefined();
}

}  // namespace

void InitInterfaces(Napi::Env env, Napi::Object exports) {
  exports.Set("ports", Napi::Function::New(env, Ports));
  exports.Set("portSetUp", Napi::Function::New(env, PortSetUp));
  exports.Set("ifaceClone", Napi::Function::New(env, IfaceClone));
  exports.Set("ifaceDestroy", Napi::Function::New(env, IfaceDestroy));
  exports.Set("ifaceSetMtu", Napi::Function::New(env, IfaceSetMtu));
  exports.Set("ifaceSetFlag", Napi::Function::New(env, IfaceSetFlag));
}

}  // namespace fastpath
