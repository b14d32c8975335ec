/*
 * siftr.c — SIFTR 1.3 log text: header, record lines, footer and the
 * writer's flow list; see siftr.h for the formats and the field mapping.
 *
 * Thread rules: runs on the SIFTR writer thread only (the seed's
 * siftr_pkt_manager_thread formats and writes; siftr_manage_ops writes the
 * header and footer). Nothing here allocates, locks or touches DPDK.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "siftr.h"

/* Where formatted text goes: a caller buffer and how much was wanted. */
struct text_out {
	char *buf;
	size_t len;
	size_t used; /* bytes wanted so far (may exceed len) */
};

/* Append printf-formatted text, truncating at the buffer's end but
 * counting everything (so the caller learns the size it needs). */
static void __attribute__((format(printf, 2, 3)))
out_printf(struct text_out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	if (o->used < o->len)
		n = vsnprintf(o->buf + o->used, o->len - o->used, fmt, ap);
	else
		n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n > 0)
		o->used += (size_t)n;
}

size_t
fp_siftr_format_addr(const uint8_t a[16], char *out)
{
	static const char hex[] = "0123456789abcdef";
	uint16_t g[8];
	int best = -1, best_len = 0, run = -1, i;
	char *p = out;

	for (i = 0; i < 8; i++)
		g[i] = (uint16_t)((a[2 * i] << 8) | a[2 * i + 1]);
	/* RFC 5952 section 5: ::ffff:0:0/96 ends in a dotted quad. */
	if (!g[0] && !g[1] && !g[2] && !g[3] && !g[4] && g[5] == 0xffff)
		return (size_t)sprintf(out, "::ffff:%u.%u.%u.%u", a[12], a[13],
				       a[14], a[15]);
	/* The longest run of two or more zero groups, the first on ties. */
	for (i = 0; i <= 8; i++) {
		if (i < 8 && g[i] == 0) {
			if (run < 0)
				run = i;
		} else if (run >= 0) {
			if (i - run > best_len && i - run >= 2) {
				best = run;
				best_len = i - run;
			}
			run = -1;
		}
	}
	for (i = 0; i < 8; i++) {
		int shift, started = 0;
		if (i == best) {
			*p++ = ':';
			*p++ = ':';
			i += best_len - 1;
			continue;
		}
		if (i > 0 && p[-1] != ':')
			*p++ = ':';
		for (shift = 12; shift >= 0; shift -= 4) {
			unsigned d = (g[i] >> shift) & 0xf;
			if (d || started || shift == 0) {
				*p++ = hex[d];
				started = 1;
			}
		}
	}
	*p = '\0';
	return (size_t)(p - out);
}

/* True when s may stand as a header value (no separator characters). */
static int
plain_value(const char *s)
{
	return s != NULL && strpbrk(s, "\t\n\r,") == NULL;
}

int
fp_siftr_format_header(char *buf, size_t len, uint64_t enable_time_us,
		       const char *sysver)
{
	if (!plain_value(sysver))
		return -1;
	return snprintf(buf, len,
			"enable_time_secs=%" PRIu64 "\tenable_time_usecs=%06u\t"
			"siftrver=%s\tsysname=%s\tsysver=%s\tipmode=%u\n",
			enable_time_us / 1000000,
			(unsigned)(enable_time_us % 1000000), FP_SIFTR_VERSION,
			FP_SIFTR_SYSNAME, sysver, FP_SIFTR_IPMODE);
}

int
fp_siftr_format_record(const struct fp_tcpstat_record *r, char *buf,
		       size_t len)
{
	char laddr[FP_SIFTR_ADDRSTRLEN], faddr[FP_SIFTR_ADDRSTRLEN];

	fp_siftr_format_addr(r->laddr, laddr);
	fp_siftr_format_addr(r->faddr, faddr);
	/* Field order of siftr_process_pkt; 0 where the router cannot see. */
	return snprintf(buf, len,
			"%c,%" PRIu64 ".%06u,%s,%u,%s,%u,"
			"%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,%u,"
			"%u,%u,%u,%u,%u,%u,%u,%u\n",
			r->direction == FP_TCPSTAT_DIR_OUT ? 'o' : 'i',
			r->time_us / 1000000, (unsigned)(r->time_us % 1000000),
			laddr, r->lport, faddr, r->fport,
			0u,                  /* snd_ssthresh */
			0u,                  /* snd_cwnd */
			r->t_flags2,
			r->snd_wnd,
			r->rcv_wnd,
			r->snd_scale,
			r->rcv_scale,
			r->conn_state,
			r->max_seg_size,
			r->srtt,
			r->sack_enabled,
			r->flags,
			0u,                  /* rto */
			0u,                  /* snd_buf_hiwater */
			0u,                  /* snd_buf_cc */
			0u,                  /* rcv_buf_hiwater */
			0u,                  /* rcv_buf_cc */
			r->sent_inflight_bytes,
			0u,                  /* t_segqlen */
			r->flowid,
			r->flowtype);
}

size_t
fp_siftr_format_footer(char *buf, size_t len, const struct fp_siftr_footer *f,
		       const struct fp_siftr_flow *flows, size_t nflows)
{
	struct text_out o = { buf, len, 0 };
	char laddr[FP_SIFTR_ADDRSTRLEN], faddr[FP_SIFTR_ADDRSTRLEN];
	uint64_t skipped = f->nskip_in_malloc + f->nskip_out_malloc +
			   f->nskip_in_tcpcb + f->nskip_out_tcpcb +
			   f->nskip_in_inpcb + f->nskip_out_inpcb;
	size_t i;

	if (len > 0)
		buf[0] = '\0';
	out_printf(&o,
		   "disable_time_secs=%" PRIu64 "\tdisable_time_usecs=%06u\t"
		   "num_inbound_tcp_pkts=%" PRIu64 "\t"
		   "num_outbound_tcp_pkts=%" PRIu64 "\t"
		   "total_tcp_pkts=%" PRIu64 "\t"
		   "num_inbound_skipped_pkts_malloc=%" PRIu64 "\t"
		   "num_outbound_skipped_pkts_malloc=%" PRIu64 "\t"
		   "num_inbound_skipped_pkts_tcpcb=%" PRIu64 "\t"
		   "num_outbound_skipped_pkts_tcpcb=%" PRIu64 "\t"
		   "num_inbound_skipped_pkts_inpcb=%" PRIu64 "\t"
		   "num_outbound_skipped_pkts_inpcb=%" PRIu64 "\t"
		   "total_skipped_tcp_pkts=%" PRIu64 "\tflow_list=",
		   f->disable_time_us / 1000000,
		   (unsigned)(f->disable_time_us % 1000000), f->n_in, f->n_out,
		   f->n_in + f->n_out, f->nskip_in_malloc, f->nskip_out_malloc,
		   f->nskip_in_tcpcb, f->nskip_out_tcpcb, f->nskip_in_inpcb,
		   f->nskip_out_inpcb, skipped);
	for (i = 0; i < nflows; i++) {
		fp_siftr_format_addr(flows[i].laddr, laddr);
		fp_siftr_format_addr(flows[i].faddr, faddr);
		out_printf(&o, "%s;%u-%s;%u,", laddr, flows[i].lport, faddr,
			   flows[i].fport);
	}
	out_printf(&o, "\n");
	return o.used;
}

void
fp_siftr_footer_add(struct fp_siftr_footer *f,
		    const struct fp_tcpstat_counters *c)
{
	f->n_in += c->n_in;
	f->n_out += c->n_out;
	f->nskip_in_malloc += c->nskip_in_malloc;
	f->nskip_out_malloc += c->nskip_out_malloc;
	f->nskip_in_tcpcb += c->nskip_in_tcpcb;
	f->nskip_out_tcpcb += c->nskip_out_tcpcb;
	f->nskip_in_inpcb += c->nskip_in_inpcb;
	f->nskip_out_inpcb += c->nskip_out_inpcb;
}

/* Index slots for a list of capacity flows: a power of two, at least twice
 * the capacity, so probing stays short. */
static uint32_t
flowlist_nslots(uint32_t capacity)
{
	uint32_t n = 2;

	while (n < 2 * (uint64_t)capacity)
		n <<= 1;
	return n;
}

size_t
fp_siftr_flowlist_memsize(uint32_t capacity)
{
	size_t flows = ((size_t)capacity * sizeof(struct fp_siftr_flow) + 7) & ~(size_t)7;

	return flows + (size_t)flowlist_nslots(capacity) * sizeof(uint32_t);
}

int
fp_siftr_flowlist_init(struct fp_siftr_flowlist *fl, void *mem,
		       uint32_t capacity)
{
	size_t flows = ((size_t)capacity * sizeof(struct fp_siftr_flow) + 7) & ~(size_t)7;

	if (capacity == 0 || capacity > (1u << 30))
		return -1;
	fl->flows = mem;
	fl->index = (uint32_t *)((uint8_t *)mem + flows);
	fl->capacity = capacity;
	fl->nslots = flowlist_nslots(capacity);
	fp_siftr_flowlist_clear(fl);
	return 0;
}

void
fp_siftr_flowlist_clear(struct fp_siftr_flowlist *fl)
{
	memset(fl->index, 0, (size_t)fl->nslots * sizeof(uint32_t));
	fl->count = 0;
	fl->dropped = 0;
}

/* Hash of a flow's addresses and ports (FNV-1a). */
static uint32_t
flow_hash(const struct fp_siftr_flow *f)
{
	const uint8_t *p = (const uint8_t *)f;
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < offsetof(struct fp_siftr_flow, lport); i++)
		h = (h ^ p[i]) * 16777619u;
	h = (h ^ f->lport) * 16777619u;
	h = (h ^ f->fport) * 16777619u;
	return h;
}

int
fp_siftr_flowlist_add(struct fp_siftr_flowlist *fl,
		      const struct fp_tcpstat_record *rec)
{
	struct fp_siftr_flow f;
	uint32_t mask = fl->nslots - 1, i;

	memset(&f, 0, sizeof(f));
	memcpy(f.laddr, rec->laddr, 16);
	memcpy(f.faddr, rec->faddr, 16);
	f.lport = rec->lport;
	f.fport = rec->fport;
	for (i = flow_hash(&f) & mask;; i = (i + 1) & mask) {
		uint32_t slot = fl->index[i];
		if (slot == 0)
			break;
		if (memcmp(&fl->flows[slot - 1], &f, sizeof(f)) == 0)
			return 0;
	}
	if (fl->count == fl->capacity) {
		fl->dropped++;
		return -1;
	}
	fl->flows[fl->count] = f;
	fl->index[i] = ++fl->count;
	return 1;
}
