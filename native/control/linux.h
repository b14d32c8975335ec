/*
 * control/linux.h — routing protocols through Linux (docs/linux-integration.md):
 * a TAP mirror per fastpath interface (control/mirror.c) and the import of a
 * Linux routing table over rtnetlink (control/rtimport.c).
 *
 * Threads: fp_linux_enable() and fp_linux_mirrors() run on the JS thread;
 * everything else on the control thread. Enable builds the mirrors and opens
 * the netlink socket, then publishes them (an atomic flag); from then on only
 * the control thread touches their descriptors, until the router stops and
 * the control thread has been joined (FP_PROTO_ORDER_LINUX).
 */
#ifndef FP_LINUX_H
#define FP_LINUX_H

#include <stdbool.h>
#include <stdint.h>

struct fp_err;
struct rte_mbuf;
struct fp_lcore;

#define FP_LINUX_IFNAMSIZ 16
#define FP_LINUX_MAX_MIRRORS 32 /* mirrors in one fp_linux_config */

struct fp_linux_mirror_spec {
	uint16_t port_idx;
	char name[FP_LINUX_IFNAMSIZ];
};

struct fp_linux_config {
	uint32_t nmirrors;
	struct fp_linux_mirror_spec mirrors[FP_LINUX_MAX_MIRRORS];
	bool import_routes;
	uint32_t import_table;
	uint8_t import_protos[32]; /* bit n: import routes of rtm_protocol n */
};

struct fp_linux_mirror_info {
	uint16_t port_idx;
	char name[FP_LINUX_IFNAMSIZ];
	unsigned ifindex; /* the kernel's */
	uint64_t to_kernel, from_kernel;
};

struct fp_linux_status {
	bool enabled;
	bool importing;
	uint32_t imported;   /* routes in the FIB from the kernel now */
	uint32_t shadowed;   /* kept aside: fastpath owns the prefix */
	bool dump_done;      /* the first dump has been applied */
};

/* JS thread: build the mirrors and start the import on a running router.
 * EBUSY when already enabled; nothing is left behind on failure. */
int fp_linux_enable(const struct fp_linux_config *cfg, struct fp_err *err);
uint32_t fp_linux_mirrors(struct fp_linux_mirror_info *out, uint32_t max);
void fp_linux_get_status(struct fp_linux_status *st);

/* Control thread (control/ctl.c): a punted packet for the router that no
 * protocol took: write it to the mirror of m->port. True when taken (m
 * freed). */
bool fp_mirror_input(struct rte_mbuf *m);
/* Control thread: a copy of m to its interface's mirror (m is kept);
 * true when the mirror has it. */
bool fp_mirror_copy(const struct rte_mbuf *m);
/* The fastpath interface a kernel ifindex mirrors, or -1. */
int fp_mirror_port_of(unsigned kernel_ifindex);

/* control/rtimport.c, driven by control/mirror.c's hooks. */
int fp_rtimport_open(uint32_t table, const uint8_t protos[32], struct fp_err *err);
int fp_rtimport_fd(void);      /* notifications */
int fp_rtimport_dump_fd(void); /* dumps */
void fp_rtimport_read(void);   /* control thread: what the sockets hold */
void fp_rtimport_tick(void);   /* control thread, each turn: a quiet burst into the FIB */
void fp_rtimport_timers(void); /* control thread, once a second: shadowed routes */
void fp_rtimport_close(void);
void fp_rtimport_shadowed(const uint8_t prefix[16], uint8_t plen); /* ctl_lock held */
void fp_rtimport_status(struct fp_linux_status *st);

#endif
