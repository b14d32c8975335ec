/*
 * core/internal.h — functions shared between core's own files (ports.c,
 * lifecycle.c, iface.c); not for datapath, control or the bindings. Callers
 * hold fp_router.ctl_lock.
 */
#ifndef FP_CORE_INTERNAL_H
#define FP_CORE_INTERNAL_H

#include <stdint.h>

struct fp_err;
struct fp_port;
struct fp_port_config;

/* Configure port idx's device from its config (queues, MTU, MAC). */
int fp_port_setup(uint16_t idx, const struct fp_port_config *pc, struct fp_err *err);
int fp_port_start(uint16_t idx, struct fp_err *err);
void fp_port_release(uint16_t idx);
/* Give a port its EUI-64 link-local address unless it has one. */
void fp_port_add_link_local(struct fp_port *port);
/* Routes for an interface's addresses: connected prefix and local /128. */
int fp_port_address_routes(uint16_t idx, struct fp_err *err);

#endif
