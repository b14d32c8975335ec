/*
 * tcpstat_test.c — unit tests of the SIFTR connection inference
 * (native/datapath/tcpstat.c) and the SIFTR log text (native/control/siftr.c),
 * neither of which depends on DPDK. Built and run by
 * test/unit/tcpstat.test.ts: prints one line per group and
 * "all N checks passed"; "FAIL ..." and exit 1 on the first failure.
 *
 * With the argument --log it prints instead a whole SIFTR log (header,
 * records of a synthetic connection, footer) for test/unit/siftr-log.test.ts.
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../control/siftr.h"
#include "../datapath/tcpstat.h"

#include "check.h"

/* Compare two strings; on a difference print both. */
#define CHECK_STR(got, want)                                                   \
	do {                                                                   \
		checks++;                                                      \
		if (strcmp((got), (want)) != 0) {                              \
			printf("FAIL %s:%d: got\n  %s\nwant\n  %s\n", __FILE__,   \
			       __LINE__, (got), (want));                       \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define T0 1700000000000000ull /* 2023-11-14T22:13:20Z, in us */

/* Test hosts: A (initiator) and B (responder), C for a second client. */
static const uint8_t addr_a[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x10 };
static const uint8_t addr_b[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 2, [15] = 0x20 };
static const uint8_t addr_c[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 1, [15] = 0x11 };

/* A zeroed table of capacity entries with cfg. */
static struct fp_tcpstat *
make(uint32_t capacity, const struct fp_tcpstat_config *cfg)
{
	size_t size = (fp_tcpstat_memsize(capacity) + 64) & ~(size_t)63;
	void *mem = aligned_alloc(64, size);
	struct fp_tcpstat *t;

	memset(mem, 0, size);
	t = fp_tcpstat_init(mem, capacity, cfg);
	if (t == NULL)
		free(mem);
	return t;
}

/* Free a table made by make(). */
static void
unmake(struct fp_tcpstat *t)
{
	free(t);
}

/* Option builders: append one option at p, return its length. */
static size_t
opt_mss(uint8_t *p, uint16_t mss)
{
	p[0] = FP_TCPOPT_MAXSEG, p[1] = 4, p[2] = mss >> 8, p[3] = mss & 0xff;
	return 4;
}

static size_t
opt_ws(uint8_t *p, uint8_t shift)
{
	p[0] = FP_TCPOPT_NOP, p[1] = FP_TCPOPT_WINDOW, p[2] = 3, p[3] = shift;
	return 4;
}

static size_t
opt_sackok(uint8_t *p)
{
	p[0] = FP_TCPOPT_NOP, p[1] = FP_TCPOPT_NOP;
	p[2] = FP_TCPOPT_SACK_PERMITTED, p[3] = 2;
	return 4;
}

static size_t
opt_ts(uint8_t *p, uint32_t val, uint32_t ecr)
{
	int i;

	p[0] = FP_TCPOPT_NOP, p[1] = FP_TCPOPT_NOP;
	p[2] = FP_TCPOPT_TIMESTAMP, p[3] = 10;
	for (i = 0; i < 4; i++) {
		p[4 + i] = (uint8_t)(val >> (24 - 8 * i));
		p[8 + i] = (uint8_t)(ecr >> (24 - 8 * i));
	}
	return 12;
}

/* One step of a synthetic exchange. */
struct step {
	int from_init;    /* 1: initiator -> responder */
	uint64_t t;       /* us after T0 */
	uint32_t seq, ack;
	uint8_t flags;
	uint16_t win;
	uint32_t len;     /* payload */
	int mss, ws;      /* -1: option absent */
	int sackok;
	int ts;           /* 1: timestamps tsval/tsecr */
	uint32_t tsval, tsecr;
};

/* Build the raw TCP header of a step and parse it back into a segment
 * with fp_tcp_header_parse, as the worker does. */
static struct fp_tcp_segment
seg_of(const struct step *s, const uint8_t *ia, uint16_t ip, const uint8_t *ra,
       uint16_t rp)
{
	uint8_t th[60];
	size_t o = 20, hlen;
	struct fp_tcp_segment seg;
	uint16_t sport = s->from_init ? ip : rp, dport = s->from_init ? rp : ip;
	int rc;

	memset(th, 0, sizeof(th));
	memset(&seg, 0, sizeof(seg));
	if (s->mss >= 0)
		o += opt_mss(th + o, (uint16_t)s->mss);
	if (s->ws >= 0)
		o += opt_ws(th + o, (uint8_t)s->ws);
	if (s->sackok)
		o += opt_sackok(th + o);
	if (s->ts)
		o += opt_ts(th + o, s->tsval, s->tsecr);
	hlen = o;
	th[0] = sport >> 8, th[1] = sport & 0xff;
	th[2] = dport >> 8, th[3] = dport & 0xff;
	th[4] = s->seq >> 24, th[5] = (s->seq >> 16) & 0xff;
	th[6] = (s->seq >> 8) & 0xff, th[7] = s->seq & 0xff;
	th[8] = s->ack >> 24, th[9] = (s->ack >> 16) & 0xff;
	th[10] = (s->ack >> 8) & 0xff, th[11] = s->ack & 0xff;
	th[12] = (uint8_t)((hlen / 4) << 4);
	th[13] = s->flags;
	th[14] = s->win >> 8, th[15] = s->win & 0xff;
	rc = fp_tcp_header_parse(th, hlen, (uint32_t)hlen + s->len, &seg);
	CHECK(rc == 0);
	memcpy(seg.src, s->from_init ? ia : ra, 16);
	memcpy(seg.dst, s->from_init ? ra : ia, 16);
	return seg;
}

#define SYN FP_TH_SYN
#define ACK FP_TH_ACK
#define FIN FP_TH_FIN
#define RST FP_TH_RST
#define PSH FP_TH_PUSH
#define ECE FP_TH_ECE
#define CWR FP_TH_CWR
#define NOOPT -1, -1, 0, 0, 0, 0

/* The main exchange: handshake with every option and ECN, data, a
 * retransmission, FIN both ways; timestamps on. A = 2001:db8:1::10 port
 * 40000, B = 2001:db8:2::20 port 80. */
static const struct step script[] = {
	/* 0 */ { 1, 0, 1000, 0, SYN | ECE | CWR, 64800, 0, 1440, 7, 1, 1, 100, 0 },
	/* 1 */ { 0, 10000, 5000, 1001, SYN | ACK | ECE, 65535, 0, 1400, 9, 1, 1, 7000, 100 },
	/* 2 */ { 1, 40000, 1001, 5001, ACK, 502, 0, -1, -1, 0, 1, 130, 7000 },
	/* 3 */ { 1, 41000, 1001, 5001, ACK | PSH, 502, 1000, -1, -1, 0, 1, 131, 7000 },
	/* 4 */ { 1, 42000, 2001, 5001, ACK | PSH, 502, 1000, -1, -1, 0, 1, 132, 7000 },
	/* 5 */ { 0, 52000, 5001, 2001, ACK, 128, 0, -1, -1, 0, 1, 7010, 131 },
	/* 6 */ { 1, 60000, 2001, 5001, ACK | PSH, 502, 1000, -1, -1, 0, 1, 140, 7010 },
	/* 7 */ { 0, 70000, 5001, 3001, ACK, 128, 0, -1, -1, 0, 1, 7020, 140 },
	/* 8 */ { 1, 80000, 3001, 5001, FIN | ACK, 502, 0, -1, -1, 0, 1, 150, 7020 },
	/* 9 */ { 0, 90000, 5001, 3002, ACK, 128, 0, -1, -1, 0, 1, 7030, 150 },
	/* 10 */ { 0, 95000, 5001, 3002, FIN | ACK, 128, 0, -1, -1, 0, 1, 7035, 150 },
	/* 11 */ { 1, 125000, 3002, 5002, ACK, 502, 0, -1, -1, 0, 1, 160, 7035 },
};
#define NSCRIPT (sizeof(script) / sizeof(script[0]))

/* Feed script step i to t; return what update returned. */
static uint32_t
play(struct fp_tcpstat *t, const struct step *s, const uint8_t *ia,
     uint16_t ip, const uint8_t *ra, uint16_t rp,
     struct fp_tcpstat_record *rec)
{
	struct fp_tcp_segment seg = seg_of(s, ia, ip, ra, rp);

	return fp_tcpstat_update(t, &seg, T0 + s->t, rec);
}

static void
test_options(void)
{
	uint8_t buf[40];
	struct fp_tcp_opts o;
	size_t n = 0;

	/* A full SYN option set, NOP-padded, EOL-terminated. */
	n += opt_mss(buf + n, 1460);
	n += opt_ws(buf + n, 8);
	n += opt_sackok(buf + n);
	n += opt_ts(buf + n, 0x01020304, 0xa0b0c0d0);
	buf[n++] = FP_TCPOPT_EOL;
	buf[n++] = 0x42; /* after EOL: never read as an option */
	CHECK(fp_tcp_options_parse(buf, n, &o) == 0);
	CHECK(o.present == (FP_TCPO_MSS | FP_TCPO_WSCALE | FP_TCPO_SACKOK | FP_TCPO_TS));
	CHECK(o.mss == 1460 && o.wscale == 8);
	CHECK(o.tsval == 0x01020304 && o.tsecr == 0xa0b0c0d0);

	/* SACK blocks: 2 + 8n bytes. */
	{
		const uint8_t sack[] = { 1, 1, 5, 18, 0, 0, 0, 1, 0, 0, 0, 2,
					 0, 0, 0, 3, 0, 0, 0, 4 };
		CHECK(fp_tcp_options_parse(sack, sizeof(sack), &o) == 0);
		CHECK(o.present == FP_TCPO_SACK);
	}
	/* Truncated: a kind with no room for its length byte. */
	{
		const uint8_t trunc[] = { 1, 1, FP_TCPOPT_MAXSEG };
		CHECK(fp_tcp_options_parse(trunc, sizeof(trunc), &o) == -1);
		CHECK(o.present == FP_TCPO_BAD);
	}
	/* Zero and one length: would loop forever or step back. */
	{
		const uint8_t zero[] = { FP_TCPOPT_TIMESTAMP, 0, 1, 2 };
		const uint8_t one[] = { FP_TCPOPT_WINDOW, 1, 7, 0 };
		CHECK(fp_tcp_options_parse(zero, sizeof(zero), &o) == -1);
		CHECK(o.present == FP_TCPO_BAD);
		CHECK(fp_tcp_options_parse(one, sizeof(one), &o) == -1);
		CHECK(o.present == FP_TCPO_BAD);
	}
	/* A length running past the end: nothing past it is read. */
	{
		const uint8_t over[] = { 4, 2, FP_TCPOPT_TIMESTAMP, 10, 0, 0, 0, 1 };
		CHECK(fp_tcp_options_parse(over, sizeof(over), &o) == -1);
		CHECK(o.present == (FP_TCPO_SACKOK | FP_TCPO_BAD));
	}
	/* A known option with a wrong length is skipped, the walk goes on. */
	{
		const uint8_t wrong[] = { FP_TCPOPT_MAXSEG, 3, 5, 1, 3, 3, 6, 0 };
		CHECK(fp_tcp_options_parse(wrong, sizeof(wrong), &o) == -1);
		CHECK(o.present == (FP_TCPO_WSCALE | FP_TCPO_BAD) && o.wscale == 6);
		CHECK(o.mss == 0);
	}
	/* Unknown kinds are stepped over by their length. */
	{
		const uint8_t unk[] = { 30, 4, 0xff, 0xff, 2, 4, 0x05, 0xb4 };
		CHECK(fp_tcp_options_parse(unk, sizeof(unk), &o) == 0);
		CHECK(o.present == FP_TCPO_MSS && o.mss == 1460);
	}
	/* Empty span. */
	CHECK(fp_tcp_options_parse(buf, 0, &o) == 0 && o.present == 0);

	/* Random spans in exactly-sized heap blocks never read outside them
	 * (run under -fsanitize=address to see it) and never hang. */
	{
		uint32_t x = 12345, i, bad = 0;
		for (i = 0; i < 200000; i++) {
			size_t len = (x = x * 1103515245 + 12345) >> 16 & 31, k;
			uint8_t *p = malloc(len ? len : 1);
			for (k = 0; k < len; k++) {
				x = x * 1103515245 + 12345;
				p[k] = (uint8_t)(x >> 16) & 15; /* small kinds/lengths */
			}
			if (fp_tcp_options_parse(p, len, &o) < 0)
				bad++;
			CHECK(fp_tcp_options_parse(p, len, &o) == ((o.present & FP_TCPO_BAD) ? -1 : 0));
			checks--; /* one check for the loop, below */
			free(p);
		}
		CHECK(bad > 0 && bad < 200000);
	}
	printf("ok options: full set, SACK, truncated, zero/short length, overrun, wrong length, fuzz\n");
}

static void
test_header_parse(void)
{
	uint8_t th[24] = { 0x9c, 0x40, 0x00, 0x50, 0, 0, 0x03, 0xe8, 0, 0, 0, 0,
			   0x60, SYN, 0xfd, 0x20, 0, 0, 0, 0, 2, 4, 0x05, 0xa0 };
	struct fp_tcp_segment seg;

	memset(&seg, 0, sizeof(seg));
	CHECK(fp_tcp_header_parse(th, sizeof(th), 24, &seg) == 0);
	CHECK(seg.sport == 40000 && seg.dport == 80 && seg.seq == 1000);
	CHECK(seg.flags == SYN && seg.window == 64800 && seg.payload_len == 0);
	CHECK(seg.opts.present == FP_TCPO_MSS && seg.opts.mss == 1440);
	CHECK(fp_tcp_header_parse(th, sizeof(th), 124, &seg) == 0 && seg.payload_len == 100);
	CHECK(fp_tcp_header_parse(th, 19, 24, &seg) == -1);  /* short */
	CHECK(fp_tcp_header_parse(th, 20, 24, &seg) == -1);  /* options cut off */
	CHECK(fp_tcp_header_parse(th, 24, 22, &seg) == -1);  /* segment shorter */
	th[12] = 0x40; /* data offset 4 */
	CHECK(fp_tcp_header_parse(th, 24, 24, &seg) == -1);
	th[12] = 0x60;
	th[22] = 9; /* MSS option with length 9: overruns the header */
	th[21] = 9;
	CHECK(fp_tcp_header_parse(th, 24, 24, &seg) == 0);
	CHECK(seg.opts.present & FP_TCPO_BAD);
	printf("ok header: ports, seq, flags, window, payload length, bad offsets refused\n");
}

/* Records of the main script, from the initiator's side (the default). */
static struct fp_tcpstat_record recs[NSCRIPT];

static void
test_connection(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .idle_us = 60000000, .close_grace_us = 5000000 };
	struct fp_tcpstat *t = make(16, &cfg);
	static const uint8_t states[NSCRIPT] = {
		FP_TCPS_SYN_SENT, FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED,
		FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED,
		FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED, FP_TCPS_FIN_WAIT_1,
		FP_TCPS_FIN_WAIT_2, FP_TCPS_TIME_WAIT, FP_TCPS_TIME_WAIT,
	};
	static const uint32_t inflight[NSCRIPT] = { 1, 0, 0, 1000, 2000, 1000,
						    1000, 0, 1, 0, 0, 0 };
	static const uint32_t srtt[NSCRIPT] = { 0, 10000, 40000, 40000, 40000, 40125,
						40125, 40110, 40110, 40097, 40097, 40097 };
	struct fp_tcpstat_entry *e;
	size_t i;

	CHECK(t != NULL);
	for (i = 0; i < NSCRIPT; i++) {
		uint32_t what = play(t, &script[i], addr_a, 40000, addr_b, 80, &recs[i]);
		CHECK(what == (i == 0 ? (FP_TCPSTAT_LOG | FP_TCPSTAT_NEW_FLOW) : FP_TCPSTAT_LOG));
		CHECK(recs[i].direction == (script[i].from_init ? FP_TCPSTAT_DIR_OUT : FP_TCPSTAT_DIR_IN));
		CHECK(recs[i].conn_state == states[i]);
		CHECK(recs[i].sent_inflight_bytes == inflight[i]);
		CHECK(recs[i].srtt == srtt[i]);
		CHECK(memcmp(recs[i].laddr, addr_a, 16) == 0 && recs[i].lport == 40000);
		CHECK(memcmp(recs[i].faddr, addr_b, 16) == 0 && recs[i].fport == 80);
		CHECK(recs[i].flowid == recs[0].flowid && recs[i].flowid != 0);
		CHECK(recs[i].flowtype == 191);
		CHECK(recs[i].time_us == T0 + script[i].t);
	}
	/* SYN: only the initiator's offers are known. */
	CHECK(recs[0].max_seg_size == 1440 && recs[0].rcv_wnd == 64800);
	CHECK(recs[0].snd_scale == 0 && recs[0].rcv_scale == 0 && recs[0].sack_enabled == 0);
	CHECK(recs[0].flags == (FP_TF_SENTSYN | FP_TF_REQ_SCALE | FP_TF_REQ_TSTMP));
	CHECK(recs[0].t_flags2 == 0);
	/* SYN/ACK: MSS, window scale, SACK, timestamps, ECN settled; the
	 * SYN/ACK's own window is not scaled; RTT of the responder leg. */
	CHECK(recs[1].max_seg_size == 1400);
	CHECK(recs[1].snd_scale == 9 && recs[1].rcv_scale == 7 && recs[1].sack_enabled == 1);
	CHECK(recs[1].snd_wnd == 65535);
	CHECK(recs[1].flags == (FP_TF_SENTSYN | FP_TF_REQ_SCALE | FP_TF_RCVD_SCALE |
				FP_TF_REQ_TSTMP | FP_TF_RCVD_TSTMP | FP_TF_SACK_PERMIT));
	CHECK(recs[1].t_flags2 == FP_TF2_ECN_PERMIT);
	CHECK(recs[1].rtt_remote_us == 10000 && recs[1].rtt_local_us == 0);
	/* Third ACK: initiator leg = SYN/ACK -> ACK; windows scaled now. */
	CHECK(recs[2].rtt_local_us == 30000);
	CHECK(recs[2].rcv_wnd == 502u << 7 && recs[2].snd_wnd == 65535);
	/* TSval 131 echoed in an advancing ACK: 11 ms, smoothed 1/8. */
	CHECK(recs[5].rtt_remote_us == 10125 && recs[5].snd_wnd == 128u << 9);
	/* Retransmission: counted, later segments keep the count. */
	CHECK(recs[5].rexmit_local == 0 && recs[6].rexmit_local == 1);
	CHECK(recs[11].rexmit_local == 1 && recs[11].rexmit_remote == 0);
	/* TSval 140 (the retransmission) echoed: 10 ms. */
	CHECK(recs[7].rtt_remote_us == 10110);
	/* FIN: TF_SENTFIN; the responder's FIN timed by its TSval, echoed
	 * by the last ACK: initiator leg 30 ms again. */
	CHECK(recs[8].flags & FP_TF_SENTFIN);
	CHECK(!(recs[7].flags & FP_TF_SENTFIN));
	CHECK(recs[11].rtt_local_us == 30000 && recs[11].srtt == 40097);
	CHECK(t->ctr.rtt_samples == 6);
	CHECK(t->ctr.rexmits == 1);
	CHECK(t->ctr.n_out == 7 && t->ctr.n_in == 5 && t->ctr.records == 12);
	CHECK(t->ctr.created == 1 && t->inuse == 1);

	/* Both sides closed: the entry goes close_grace_us later. */
	e = fp_tcpstat_lookup(t, addr_b, 80, addr_a, 40000);
	CHECK(e != NULL && e->ep[0].state == FP_TCPS_TIME_WAIT && e->ep[1].state == FP_TCPS_CLOSED);
	CHECK(fp_tcpstat_expire(t, T0 + 125000 + 4999999, 16) == 0);
	CHECK(fp_tcpstat_expire(t, T0 + 125000 + 5000000, 16) == 1);
	CHECK(t->inuse == 0 && t->ctr.expired == 1);
	CHECK(fp_tcpstat_lookup(t, addr_a, 40000, addr_b, 80) == NULL);
	unmake(t);
	printf("ok connection: options, windows, RTT legs, in-flight, retransmission, states\n");
}

static void
test_responder_view(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .local_is_responder = true };
	struct fp_tcpstat *t = make(16, &cfg);
	static const uint8_t states[NSCRIPT] = {
		FP_TCPS_SYN_RECEIVED, FP_TCPS_SYN_RECEIVED, FP_TCPS_ESTABLISHED,
		FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED,
		FP_TCPS_ESTABLISHED, FP_TCPS_ESTABLISHED, FP_TCPS_CLOSE_WAIT,
		FP_TCPS_CLOSE_WAIT, FP_TCPS_LAST_ACK, FP_TCPS_CLOSED,
	};
	struct fp_tcpstat_record rec;
	size_t i;

	for (i = 0; i < NSCRIPT; i++) {
		CHECK(play(t, &script[i], addr_a, 40000, addr_b, 80, &rec) & FP_TCPSTAT_LOG);
		CHECK(rec.conn_state == states[i]);
		CHECK(rec.direction == (script[i].from_init ? FP_TCPSTAT_DIR_IN : FP_TCPSTAT_DIR_OUT));
		CHECK(memcmp(rec.laddr, addr_b, 16) == 0 && rec.lport == 80 && rec.fport == 40000);
		if (i == 1) {
			CHECK(rec.snd_scale == 7 && rec.rcv_scale == 9);
			CHECK(rec.snd_wnd == 64800 && rec.rcv_wnd == 65535);
			CHECK(rec.sent_inflight_bytes == 1); /* its SYN */
		}
		if (i == 10)
			CHECK(rec.sent_inflight_bytes == 1 && (rec.flags & FP_TF_SENTFIN));
	}
	CHECK(t->ctr.n_in == 7 && t->ctr.n_out == 5);
	unmake(t);
	printf("ok responder view: local_is_responder swaps sides and directions\n");
}

static void
test_data_rtt_and_karn(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1 };
	struct fp_tcpstat *t = make(8, &cfg);
	const uint32_t isn = 0xfffffe00u; /* data crosses the sequence wrap */
	const struct step s[] = {
		{ 1, 0, isn, 0, SYN, 65535, 0, 1300, -1, 0, 0, 0, 0 },
		{ 0, 5000, 77, isn + 1, SYN | ACK, 28800, 0, -1, -1, 0, 0, 0, 0 },
		{ 1, 7000, isn + 1, 78, ACK, 65535, 0, NOOPT },
		{ 1, 10000, isn + 1, 78, ACK, 65535, 1000, NOOPT },
		{ 1, 10100, isn + 1001, 78, ACK, 65535, 1000, NOOPT },
		{ 0, 18000, 78, isn + 1001, ACK, 28800, 0, NOOPT },
		{ 1, 20000, isn + 2001, 78, ACK, 65535, 1000, NOOPT },
		{ 1, 25000, isn + 2001, 78, ACK, 65535, 1000, NOOPT }, /* again */
		{ 0, 27000, 78, isn + 3001, ACK, 28800, 0, NOOPT },
	};
	struct fp_tcpstat_record rec;
	size_t i;

	for (i = 0; i < sizeof(s) / sizeof(s[0]); i++) {
		CHECK(play(t, &s[i], addr_c, 40001, addr_b, 443, &rec) & FP_TCPSTAT_LOG);
		if (i == 1)
			CHECK(rec.rtt_remote_us == 5000 && rec.max_seg_size == 1220);
		if (i == 2)
			CHECK(rec.rtt_local_us == 2000 && rec.snd_scale == 0 && rec.rcv_wnd == 65535);
		if (i == 4)
			CHECK(rec.sent_inflight_bytes == 2000);
		if (i == 5) /* new data -> covering ACK: 8 ms, smoothed */
			CHECK(rec.rtt_remote_us == 5000 + (8000 - 5000) / 8 &&
			      rec.sent_inflight_bytes == 1000);
		if (i == 7)
			CHECK(rec.rexmit_local == 1);
	}
	/* Karn: the ACK of retransmitted data gives no sample. */
	CHECK(rec.rtt_remote_us == 5375 && rec.sent_inflight_bytes == 0);
	CHECK(t->ctr.rtt_samples == 3);
	CHECK(rec.flags == FP_TF_SENTSYN && rec.sack_enabled == 0 && rec.t_flags2 == 0);
	unmake(t);
	printf("ok data RTT: new data -> covering ACK across the wrap, Karn on retransmission\n");
}

static void
test_syn_retransmit_and_reuse(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .close_grace_us = 1000000 };
	struct fp_tcpstat *t = make(8, &cfg);
	const struct step s[] = {
		{ 1, 0, 100, 0, SYN, 65535, 0, 1440, -1, 0, 0, 0, 0 },
		{ 1, 1000000, 100, 0, SYN, 65535, 0, 1440, -1, 0, 0, 0, 0 },
		{ 0, 1010000, 900, 101, SYN | ACK, 65535, 0, 1440, -1, 0, 0, 0, 0 },
		{ 1, 1020000, 101, 901, ACK, 65535, 0, NOOPT },
		{ 0, 1030000, 901, 101, RST | ACK, 0, 0, NOOPT },
		{ 1, 1040000, 101, 901, ACK, 65535, 10, NOOPT },       /* after RST */
		{ 1, 1050000, 5000, 0, SYN, 65535, 0, 1440, -1, 0, 0, 0, 0 }, /* new */
	};
	struct fp_tcpstat_record rec;
	uint32_t what;

	CHECK(play(t, &s[0], addr_a, 40002, addr_b, 80, &rec) == (FP_TCPSTAT_LOG | FP_TCPSTAT_NEW_FLOW));
	CHECK(play(t, &s[1], addr_a, 40002, addr_b, 80, &rec) == FP_TCPSTAT_LOG);
	CHECK(rec.rexmit_local == 1 && rec.conn_state == FP_TCPS_SYN_SENT);
	/* Karn: which SYN did the SYN/ACK answer? No responder sample. */
	play(t, &s[2], addr_a, 40002, addr_b, 80, &rec);
	CHECK(rec.rtt_remote_us == 0 && rec.srtt == 0);
	play(t, &s[3], addr_a, 40002, addr_b, 80, &rec);
	CHECK(rec.rtt_local_us == 10000);
	/* RST: logged, both sides CLOSED ... */
	CHECK(play(t, &s[4], addr_a, 40002, addr_b, 80, &rec) == FP_TCPSTAT_LOG);
	CHECK(rec.conn_state == FP_TCPS_CLOSED && rec.direction == FP_TCPSTAT_DIR_IN);
	/* ... then the connection is gone (the seed's tcpcb skip). */
	CHECK(play(t, &s[5], addr_a, 40002, addr_b, 80, &rec) == 0);
	CHECK(t->ctr.nskip_out_tcpcb == 1 && t->ctr.nskip_in_tcpcb == 0);
	/* A new SYN on the same 4-tuple starts a new connection in place. */
	what = play(t, &s[6], addr_a, 40002, addr_b, 80, &rec);
	CHECK(what == (FP_TCPSTAT_LOG | FP_TCPSTAT_NEW_FLOW));
	CHECK(rec.conn_state == FP_TCPS_SYN_SENT && rec.rexmit_local == 0 && rec.srtt == 0);
	CHECK(t->inuse == 1 && t->ctr.created == 2);
	unmake(t);
	printf("ok SYN retransmission (Karn), RST, segments after RST, 4-tuple reuse\n");
}

static void
test_ppl(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 3 };
	struct fp_tcpstat *t = make(8, &cfg);
	struct fp_tcpstat_record rec;
	uint32_t got[8];
	size_t i;

	for (i = 0; i < 8; i++) {
		struct step s = { 1, i * 10, 1000 + (uint32_t)i, 0, i ? ACK : SYN, 100, 0, NOOPT };
		if (i == 0)
			s.seq = 999;
		got[i] = play(t, &s, addr_a, 40003, addr_b, 80, &rec);
	}
	/* The first segment only opens the flow; every 3rd is logged. */
	CHECK(got[0] == FP_TCPSTAT_NEW_FLOW);
	CHECK(got[1] == 0 && got[2] == FP_TCPSTAT_LOG && got[3] == 0 && got[4] == 0);
	CHECK(got[5] == FP_TCPSTAT_LOG && got[6] == 0 && got[7] == 0);
	CHECK(t->ctr.records == 2 && t->ctr.n_out == 8);
	unmake(t);
	printf("ok ppl: every 3rd segment of a connection is logged\n");
}

static void
test_port_filter(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .port_filter = 80 };
	struct fp_tcpstat *t = make(8, &cfg);
	struct fp_tcpstat_record rec;
	struct step syn = { 1, 0, 1, 0, SYN, 100, 0, NOOPT };
	struct step ack = { 0, 5, 1, 2, SYN | ACK, 100, 0, NOOPT };

	CHECK(play(t, &syn, addr_a, 40004, addr_b, 80, &rec) & FP_TCPSTAT_LOG);
	CHECK(play(t, &ack, addr_a, 40004, addr_b, 80, &rec) & FP_TCPSTAT_LOG);
	CHECK(play(t, &syn, addr_a, 40005, addr_b, 443, &rec) == 0);
	CHECK(play(t, &syn, addr_a, 80, addr_b, 443, &rec) & FP_TCPSTAT_LOG); /* source port */
	CHECK(t->ctr.filtered == 1 && t->ctr.n_out == 2 && t->ctr.n_in == 1);
	CHECK(t->inuse == 2);
	cfg.port_filter = 0;
	fp_tcpstat_set_config(t, &cfg);
	CHECK(play(t, &syn, addr_a, 40005, addr_b, 443, &rec) & FP_TCPSTAT_LOG);
	unmake(t);
	printf("ok port filter: either port matches, others not counted; 0 = all\n");
}

static void
test_table_full_and_expiry(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .idle_us = 1000, .close_grace_us = 100 };
	struct fp_tcpstat *t = make(2, &cfg);
	struct fp_tcpstat_record rec;
	struct step syn = { 1, 0, 1, 0, SYN, 100, 0, NOOPT };
	struct step synack = { 0, 0, 1, 2, SYN | ACK, 100, 0, NOOPT };
	struct step data = { 1, 0, 2, 2, ACK, 100, 10, NOOPT };
	struct step rst = { 1, 0, 2, 0, RST, 0, 0, NOOPT };

	CHECK(make(0, &cfg) == NULL);
	CHECK(fp_tcpstat_memsize(0) == 0 && fp_tcpstat_memsize(FP_TCPSTAT_MAX_ENTRIES + 1) == 0);
	CHECK(fp_tcpstat_memsize(3) > 3 * sizeof(struct fp_tcpstat_entry));
	CHECK(play(t, &syn, addr_a, 1, addr_b, 80, &rec) != 0);
	syn.t = 500;
	CHECK(play(t, &syn, addr_a, 2, addr_b, 80, &rec) != 0);
	/* Full, nothing expired: the third is skipped (seed: malloc). */
	syn.t = 600;
	CHECK(play(t, &syn, addr_a, 3, addr_b, 80, &rec) == 0);
	CHECK(t->ctr.table_full == 1 && t->ctr.nskip_out_malloc == 1);
	/* Unknown connection, no SYN: the seed's inpcb skip, both ways. */
	CHECK(play(t, &data, addr_a, 9, addr_b, 80, &rec) == 0);
	CHECK(play(t, &synack, addr_a, 9, addr_b, 80, &rec) == 0);
	CHECK(t->ctr.nskip_out_inpcb == 1 && t->ctr.nskip_in_inpcb == 1);
	/* At 1000 us the first is idle: reused for the new connection. */
	syn.t = 1000;
	CHECK(play(t, &syn, addr_a, 3, addr_b, 80, &rec) == (FP_TCPSTAT_LOG | FP_TCPSTAT_NEW_FLOW));
	CHECK(t->ctr.reused == 1 && t->inuse == 2);
	CHECK(fp_tcpstat_lookup(t, addr_a, 1, addr_b, 80) == NULL);
	/* A reset connection is reusable close_grace_us later. */
	rst.t = 1100;
	CHECK(play(t, &rst, addr_a, 2, addr_b, 80, &rec) == FP_TCPSTAT_LOG);
	syn.t = 1150;
	CHECK(play(t, &syn, addr_a, 4, addr_b, 80, &rec) == 0);
	syn.t = 1200;
	CHECK(play(t, &syn, addr_a, 4, addr_b, 80, &rec) != 0);
	CHECK(t->ctr.reused == 2 && t->ctr.table_full == 2);
	/* The periodic expiry: port 3 (last seen 1000) idles out at 2000. */
	CHECK(fp_tcpstat_expire(t, T0 + 1999, 2) == 0);
	CHECK(fp_tcpstat_expire(t, T0 + 2000, 1) + fp_tcpstat_expire(t, T0 + 2000, 1) == 1);
	CHECK(t->inuse == 1 && t->ctr.expired == 1);
	/* An entry idle past its time is gone for a lookup by a segment too. */
	data.t = 5000;
	CHECK(play(t, &data, addr_a, 4, addr_b, 80, &rec) == 0);
	CHECK(t->inuse == 0 && t->ctr.expired == 2 && t->ctr.nskip_out_inpcb == 2);
	/* Ring full is the caller's: counted as the seed's pkt_node malloc. */
	rec.direction = FP_TCPSTAT_DIR_IN;
	fp_tcpstat_note_ring_full(t, &rec);
	CHECK(t->ctr.ring_full == 1 && t->ctr.nskip_in_malloc == 1);
	fp_tcpstat_flush(t);
	CHECK(t->ctr.n_out == 0 && t->inuse == 0 && t->free_head == 0);
	unmake(t);
	printf("ok table: full -> malloc skip, expired entry reused, idle/close expiry, flush\n");
}

static void
test_midstream_and_bad_options(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .pickup_midstream = true };
	struct fp_tcpstat *t = make(4, &cfg);
	struct fp_tcpstat_record rec;
	struct step data = { 1, 0, 7000, 300, ACK, 1000, 100, NOOPT };
	struct step back = { 0, 10, 300, 7100, ACK, 2000, 0, NOOPT };
	struct fp_tcp_segment seg;

	CHECK(play(t, &data, addr_c, 5000, addr_b, 22, &rec) == (FP_TCPSTAT_LOG | FP_TCPSTAT_NEW_FLOW));
	CHECK(rec.conn_state == FP_TCPS_ESTABLISHED && rec.direction == FP_TCPSTAT_DIR_OUT);
	CHECK(rec.max_seg_size == 0 && rec.rcv_wnd == 1000 && rec.sent_inflight_bytes == 0);
	CHECK(play(t, &back, addr_c, 5000, addr_b, 22, &rec) == FP_TCPSTAT_LOG);
	CHECK(rec.snd_wnd == 2000 && rec.direction == FP_TCPSTAT_DIR_IN);
	/* A segment with malformed options is tracked and counted. */
	seg = seg_of(&data, addr_c, 5000, addr_b, 22);
	seg.opts.present |= FP_TCPO_BAD;
	CHECK(fp_tcpstat_update(t, &seg, T0 + 20, &rec) == FP_TCPSTAT_LOG);
	CHECK(t->ctr.bad_options == 1);
	unmake(t);
	printf("ok mid-stream pickup, malformed options counted\n");
}

static void
test_format(void)
{
	static const struct {
		uint8_t a[16];
		const char *text;
	} addrs[] = {
		{ { 0 }, "::" },
		{ { [15] = 1 }, "::1" },
		{ { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 }, "2001:db8::1" },
		{ { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 }, "2001:db8:0:1:1:1:1:1" },
		{ { 0x20, 0x01, 0, 0, 0, 0, 0, 1, [15] = 1 }, "2001:0:0:1::1" },
		{ { 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 3, 0, 4 }, "1::2:0:0:3:4" },
		{ { 0xfe, 0x80 }, "fe80::" },
		{ { [10] = 0xff, [11] = 0xff, 192, 0, 2, 1 }, "::ffff:192.0.2.1" },
		{ { 0x20, 0x01, 0x0d, 0xb8, 0x85, 0xa3, 0, 0, 0, 0, 0x8a, 0x2e, 0x03, 0x70, 0x73, 0x34 },
		  "2001:db8:85a3::8a2e:370:7334" },
		{ { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff },
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
	};
	struct fp_tcpstat_record r;
	struct fp_siftr_footer f;
	struct fp_siftr_flow flows[2];
	char buf[1024], small[40], addr[FP_SIFTR_ADDRSTRLEN];
	size_t i, n;

	for (i = 0; i < sizeof(addrs) / sizeof(addrs[0]); i++) {
		n = fp_siftr_format_addr(addrs[i].a, addr);
		CHECK_STR(addr, addrs[i].text);
		CHECK(n == strlen(addrs[i].text));
	}

	CHECK(fp_siftr_format_header(buf, sizeof(buf), T0 + 123, "0.1.0") > 0);
	CHECK_STR(buf, "enable_time_secs=1700000000\tenable_time_usecs=000123\t"
		       "siftrver=1.3.0\tsysname=fastpath\tsysver=0.1.0\tipmode=6\n");
	CHECK(fp_siftr_format_header(buf, sizeof(buf), T0, "a\tb") == -1);
	CHECK(fp_siftr_format_header(buf, sizeof(buf), T0, NULL) == -1);

	memset(&r, 0, sizeof(r));
	r.time_us = 1234567890000042ull;
	memcpy(r.laddr, addrs[2].a, 16);
	memcpy(r.faddr, addrs[8].a, 16);
	r.lport = 40000;
	r.fport = 443;
	r.direction = FP_TCPSTAT_DIR_OUT;
	r.t_flags2 = FP_TF2_ECN_PERMIT;
	r.snd_wnd = 4194304;
	r.rcv_wnd = 64256;
	r.snd_scale = 9;
	r.rcv_scale = 7;
	r.conn_state = FP_TCPS_ESTABLISHED;
	r.max_seg_size = 1400;
	r.srtt = 40125;
	r.sack_enabled = 1;
	r.flags = FP_TF_SENTSYN | FP_TF_SACK_PERMIT;
	r.sent_inflight_bytes = 2000;
	r.flowid = 3735928559u;
	r.flowtype = FP_TCPSTAT_FLOWTYPE;
	n = (size_t)fp_siftr_format_record(&r, buf, sizeof(buf));
	CHECK_STR(buf, "o,1234567890.000042,2001:db8::1,40000,2001:db8:85a3::8a2e:370:7334,443,"
		       "0,0,32,4194304,64256,9,7,4,1400,40125,1,134218240,0,0,0,0,0,2000,0,"
		       "3735928559,191\n");
	CHECK(n == strlen(buf));
	r.direction = FP_TCPSTAT_DIR_IN;
	fp_siftr_format_record(&r, buf, sizeof(buf));
	CHECK(buf[0] == 'i' && buf[1] == ',');
	/* The longest possible line fits FP_SIFTR_LINE_MAX. */
	memset(r.laddr, 0xff, 16);
	memset(r.faddr, 0xff, 16);
	r.time_us = UINT64_MAX;
	r.lport = r.fport = 65535;
	r.t_flags2 = r.snd_wnd = r.rcv_wnd = r.max_seg_size = r.srtt = r.flags = UINT32_MAX;
	r.sent_inflight_bytes = r.flowid = r.flowtype = UINT32_MAX;
	r.snd_scale = r.rcv_scale = r.conn_state = r.sack_enabled = 255;
	CHECK(fp_siftr_format_record(&r, buf, sizeof(buf)) < FP_SIFTR_LINE_MAX);
	/* Script record 5 as a line (flowid varies with the hash). */
	{
		char want[FP_SIFTR_LINE_MAX];
		snprintf(want, sizeof(want),
			 "i,1700000000.052000,2001:db8:1::10,40000,2001:db8:2::20,80,"
			 "0,0,32,65536,64256,9,7,4,1400,40125,1,134218720,0,0,0,0,0,1000,0,%u,191\n",
			 recs[5].flowid);
		fp_siftr_format_record(&recs[5], buf, sizeof(buf));
		CHECK_STR(buf, want);
		snprintf(want, sizeof(want),
			 "o,1700000000.000000,2001:db8:1::10,40000,2001:db8:2::20,80,"
			 "0,0,0,0,64800,0,0,2,1440,0,0,134217888,0,0,0,0,0,1,0,%u,191\n",
			 recs[0].flowid);
		fp_siftr_format_record(&recs[0], buf, sizeof(buf));
		CHECK_STR(buf, want);
	}

	memset(&f, 0, sizeof(f));
	f.disable_time_us = T0 + 999999;
	f.n_in = 5;
	f.n_out = 7;
	f.nskip_in_malloc = 1;
	f.nskip_out_malloc = 2;
	f.nskip_in_tcpcb = 3;
	f.nskip_out_tcpcb = 4;
	f.nskip_in_inpcb = 5;
	f.nskip_out_inpcb = 6;
	memset(flows, 0, sizeof(flows));
	memcpy(flows[0].laddr, addr_a, 16);
	memcpy(flows[0].faddr, addr_b, 16);
	flows[0].lport = 40000;
	flows[0].fport = 80;
	memcpy(flows[1].laddr, addrs[7].a, 16);
	memcpy(flows[1].faddr, addrs[1].a, 16);
	flows[1].lport = 1;
	flows[1].fport = 2;
	n = fp_siftr_format_footer(buf, sizeof(buf), &f, flows, 2);
	CHECK_STR(buf, "disable_time_secs=1700000000\tdisable_time_usecs=999999\t"
		       "num_inbound_tcp_pkts=5\tnum_outbound_tcp_pkts=7\ttotal_tcp_pkts=12\t"
		       "num_inbound_skipped_pkts_malloc=1\tnum_outbound_skipped_pkts_malloc=2\t"
		       "num_inbound_skipped_pkts_tcpcb=3\tnum_outbound_skipped_pkts_tcpcb=4\t"
		       "num_inbound_skipped_pkts_inpcb=5\tnum_outbound_skipped_pkts_inpcb=6\t"
		       "total_skipped_tcp_pkts=21\tflow_list="
		       "2001:db8:1::10;40000-2001:db8:2::20;80,::ffff:192.0.2.1;1-::1;2,\n");
	CHECK(n == strlen(buf));
	/* Too small a buffer: truncated, terminated, the size needed said. */
	CHECK(fp_siftr_format_footer(small, sizeof(small), &f, flows, 2) == n);
	CHECK(strlen(small) == sizeof(small) - 1 && strncmp(small, buf, sizeof(small) - 1) == 0);
	CHECK(fp_siftr_format_footer(NULL, 0, &f, flows, 2) == n);
	/* No flows: the seed's "flow_list=" then the newline. */
	fp_siftr_format_footer(buf, sizeof(buf), &f, flows, 0);
	CHECK(strstr(buf, "\ttotal_skipped_tcp_pkts=21\tflow_list=\n") != NULL);
	printf("ok format: addresses, header, record lines, footer, truncation\n");
}

static void
test_flowlist(void)
{
	struct fp_siftr_flowlist fl;
	struct fp_tcpstat_counters c;
	struct fp_siftr_footer f;
	struct fp_tcpstat_record r;
	void *mem = malloc(fp_siftr_flowlist_memsize(2));

	CHECK(fp_siftr_flowlist_init(&fl, mem, 0) == -1);
	CHECK(fp_siftr_flowlist_init(&fl, mem, 2) == 0);
	memset(&r, 0, sizeof(r));
	memcpy(r.laddr, addr_a, 16);
	memcpy(r.faddr, addr_b, 16);
	r.lport = 1;
	r.fport = 80;
	CHECK(fp_siftr_flowlist_add(&fl, &r) == 1);
	CHECK(fp_siftr_flowlist_add(&fl, &r) == 0);
	r.lport = 2;
	CHECK(fp_siftr_flowlist_add(&fl, &r) == 1);
	r.lport = 3;
	CHECK(fp_siftr_flowlist_add(&fl, &r) == -1);
	CHECK(fl.count == 2 && fl.dropped == 1 && fl.flows[1].lport == 2);
	fp_siftr_flowlist_clear(&fl);
	CHECK(fl.count == 0 && fp_siftr_flowlist_add(&fl, &r) == 1);
	free(mem);

	memset(&c, 0, sizeof(c));
	memset(&f, 0, sizeof(f));
	c.n_in = 2, c.n_out = 3, c.nskip_in_inpcb = 1, c.nskip_out_malloc = 4;
	fp_siftr_footer_add(&f, &c);
	fp_siftr_footer_add(&f, &c);
	CHECK(f.n_in == 4 && f.n_out == 6 && f.nskip_in_inpcb == 2 && f.nskip_out_malloc == 8);
	printf("ok flow list: dedup, full, clear; footer sums lcores\n");
}

/* Print a whole log: the main script, a second connection, skipped
 * segments; header, records and footer as the writer would. */
static int
emit_log(void)
{
	struct fp_tcpstat_config cfg = { .ppl = 1, .idle_us = 60000000, .close_grace_us = 5000000 };
	struct fp_tcpstat *t = make(16, &cfg);
	struct fp_siftr_flowlist fl;
	struct fp_siftr_footer f;
	struct fp_tcpstat_record rec;
	void *mem = malloc(fp_siftr_flowlist_memsize(16));
	char line[FP_SIFTR_LINE_MAX], *foot;
	const struct step stray = { 1, 130000, 42, 42, ACK, 10, 10, NOOPT };
	const struct step extra[] = {
		{ 1, 140000, 0xfffffe00u, 0, SYN, 65535, 0, 1300, -1, 0, 0, 0, 0 },
		{ 0, 145000, 77, 0xfffffe01u, SYN | ACK, 28800, 0, -1, -1, 0, 0, 0, 0 },
		{ 1, 147000, 0xfffffe01u, 78, RST, 0, 0, NOOPT },
		{ 0, 148000, 78, 0xfffffe01u, ACK, 28800, 0, NOOPT },
	};
	size_t i, n;

	fp_siftr_flowlist_init(&fl, mem, 16);
	fp_siftr_format_header(line, sizeof(line), T0, "0.1.0");
	fputs(line, stdout);
	for (i = 0; i < NSCRIPT + 1 + 4; i++) {
		const struct step *s = i < NSCRIPT ? &script[i] : i == NSCRIPT ? &stray : &extra[i - NSCRIPT - 1];
		const uint8_t *ia = i < NSCRIPT ? addr_a : addr_c;
		uint16_t ip = i < NSCRIPT ? 40000 : 40001, rp = i < NSCRIPT ? 80 : 443;
		uint32_t what = play(t, s, ia, ip, addr_b, rp, &rec);
		if (what & FP_TCPSTAT_NEW_FLOW)
			fp_siftr_flowlist_add(&fl, &rec);
		if (what & FP_TCPSTAT_LOG) {
			fp_siftr_format_record(&rec, line, sizeof(line));
			fputs(line, stdout);
		}
	}
	memset(&f, 0, sizeof(f));
	f.disable_time_us = T0 + 200000;
	fp_siftr_footer_add(&f, &t->ctr);
	n = fp_siftr_format_footer(NULL, 0, &f, fl.flows, fl.count);
	foot = malloc(n + 1);
	fp_siftr_format_footer(foot, n + 1, &f, fl.flows, fl.count);
	fputs(foot, stdout);
	free(foot);
	free(mem);
	unmake(t);
	return 0;
}

int
main(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--log") == 0)
		return emit_log();
	test_options();
	test_header_parse();
	test_connection();
	test_responder_view();
	test_data_rtt_and_karn();
	test_syn_retransmit_and_reuse();
	test_ppl();
	test_port_filter();
	test_table_full_and_expiry();
	test_midstream_and_bad_options();
	test_format();
	test_flowlist();
	return checks_done();
}
