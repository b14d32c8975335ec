/*
 * control/siftr_writer.c — see siftr_writer.h.
 *
 * Enable (the seed's siftr_manage_ops(SIFTR_ENABLE)): everything that can
 * fail is prepared first — the log opened, tables and rings allocated —
 * then the header is written, the writer started, and only then do the
 * workers get their tables, so a failure changes nothing. Disable: the
 * workers give their tables back (a command each, so none is mid-vector),
 * the writer drains the rings to the last record and exits, the counters
 * are summed over the tables and the footer written. The record order in
 * the log is per worker; with several workers, lines of different workers
 * interleave in batches (the seed's queue is per host, ordered).
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_cycles.h>
#include <rte_errno.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_ring.h>
#include <rte_ring_elem.h>

#include "../core/proto.h"
#include "../core/router.h"
#include "siftr_writer.h"

#define FP_SIFTR_LOG_FILE_MODE 0644 /* the seed's SIFTR_LOG_FILE_MODE */
#define FP_SIFTR_FILE_BUF (1 << 16)
#define FP_SIFTR_BATCH 64
#define FP_SIFTR_IDLE_SLEEP_NS 1000000 /* writer: 1 ms between empty passes */

static struct {
	pthread_mutex_t lock; /* the API calls */
	bool enabled;
	struct fp_siftr_params params;
	uint64_t enable_time_us;
	uint32_t nworkers;
	uint32_t ring_size;
	struct fp_siftr_lcore lcores[FP_MAX_WORKERS]; /* what each worker got */
	/* writer thread */
	pthread_t thread;
	int stop;
	pthread_mutex_t file_lock; /* writer's batches vs configure's swap */
	FILE *file;
	uint32_t files;
	struct fp_siftr_flowlist flows;
	void *flows_mem;
	uint64_t logged, write_errors, bytes; /* written by the writer */
} siftr = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.file_lock = PTHREAD_MUTEX_INITIALIZER,
};

static uint64_t
realtime_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* Open a log as the seed's alq_open does: created if missing, appended to,
 * never a symlink. */
static FILE *
log_open(const char *path, struct fp_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_NOFOLLOW | O_CLOEXEC,
		      FP_SIFTR_LOG_FILE_MODE);
	FILE *f;

	if (fd < 0) {
		fp_err_set(err, errno, "logfile: cannot open %s: %s", path,
			   strerror(errno));
		return NULL;
	}
	f = fdopen(fd, "a");
	if (f == NULL) {
		fp_err_set(err, errno, "logfile: cannot open %s: %s", path,
			   strerror(errno));
		close(fd);
		return NULL;
	}
	setvbuf(f, NULL, _IOFBF, FP_SIFTR_FILE_BUF);
	return f;
}

/* Writer thread (or disable, once it has exited), file_lock held: false
 * when the write failed (counted). */
static bool
write_text(const char *text, size_t len)
{
	if (fwrite(text, 1, len, siftr.file) == len) {
		siftr.bytes += len;
		return true;
	}
	siftr.write_errors++;
	clearerr(siftr.file);
	return false;
}

static void
write_record(const struct fp_tcpstat_record *rec)
{
	char line[FP_SIFTR_LINE_MAX];
	int len;

	if (rec->what & FP_TCPSTAT_NEW_FLOW)
		fp_siftr_flowlist_add(&siftr.flows, rec);
	if (!(rec->what & FP_TCPSTAT_LOG))
		return;
	len = fp_siftr_format_record(rec, line, sizeof(line));
	if (len <= 0 || (size_t)len >= sizeof(line)) {
		siftr.write_errors++;
		return;
	}
	if (write_text(line, (size_t)len))
		siftr.logged++;
}

/* One pass over every worker's ring, at most one ring's worth from each
 * (a worker that keeps its ring full cannot hold the writer on it); returns
 * the records taken. file_lock is held per batch only, so status() and a
 * logfile swap wait for at most one batch. */
static unsigned
writer_pass(void)
{
	struct fp_tcpstat_record recs[FP_SIFTR_BATCH];
	unsigned total = 0, n, i, taken;
	uint32_t w;

	for (w = 0; w < siftr.nworkers; w++) {
		taken = 0;
		do {
			n = rte_ring_sc_dequeue_burst_elem(siftr.lcores[w].ring, recs,
							   sizeof(recs[0]),
							   FP_SIFTR_BATCH, NULL);
			if (n == 0)
				break;
			pthread_mutex_lock(&siftr.file_lock);
			for (i = 0; i < n; i++)
				write_record(&recs[i]);
			pthread_mutex_unlock(&siftr.file_lock);
			taken += n;
		} while (n == FP_SIFTR_BATCH && taken < siftr.ring_size);
		total += taken;
	}
	return total;
}

/* The seed's siftr_pkt_manager_thread: sleeps while the rings are empty
 * (flushing what it wrote, so a `tail -f` sees the lines), exits after the
 * pass that follows the stop request finds them empty — the workers were
 * detached before stop was set, so that pass takes the last record. */
static void *
writer_main(void *arg)
{
	const struct timespec idle = { 0, FP_SIFTR_IDLE_SLEEP_NS };
	bool dirty = false;

	(void)arg;
	for (;;) {
		int stop = __atomic_load_n(&siftr.stop, __ATOMIC_ACQUIRE);

		if (writer_pass() > 0) {
			dirty = true;
			continue;
		}
		if (stop)
			break;
		if (dirty) {
			pthread_mutex_lock(&siftr.file_lock);
			fflush(siftr.file);
			pthread_mutex_unlock(&siftr.file_lock);
			dirty = false;
		}
		nanosleep(&idle, NULL);
	}
	return NULL;
}

static void
free_lcore_state(struct fp_siftr_lcore *s)
{
	rte_free(s->table);
	rte_ring_free(s->ring);
	memset(s, 0, sizeof(*s));
}

static void
tcpstat_config(const struct fp_siftr_params *p, struct fp_tcpstat_config *c)
{
	memset(c, 0, sizeof(*c));
	c->ppl = p->ppl;
	c->port_filter = p->port_filter;
	c->local_is_responder = p->local_is_responder;
	c->pickup_midstream = p->pickup_midstream;
	c->idle_us = (uint64_t)p->idle_ms * 1000;
	c->close_grace_us = (uint64_t)p->close_grace_ms * 1000;
}

static int
check_params(const struct fp_siftr_params *p, struct fp_err *err)
{
	if (p->logfile[0] == '\0')
		return fp_err_set(err, EINVAL, "logfile: a path is required");
	if (p->max_connections == 0 || p->max_connections > FP_TCPSTAT_MAX_ENTRIES)
		return fp_err_set(err, EINVAL,
				  "maxConnections: expected 1..%u, got %u",
				  FP_TCPSTAT_MAX_ENTRIES, p->max_connections);
	if (p->ring_size < 64 || p->ring_size > FP_SIFTR_MAX_RING ||
	    (p->ring_size & (p->ring_size - 1)) != 0)
		return fp_err_set(err, EINVAL,
				  "ringSize: expected a power of two 64..%u, got %u",
				  FP_SIFTR_MAX_RING, p->ring_size);
	if (p->max_flows == 0 || p->max_flows > FP_SIFTR_MAX_FLOWS)
		return fp_err_set(err, EINVAL, "maxFlows: expected 1..%u, got %u",
				  FP_SIFTR_MAX_FLOWS, p->max_flows);
	if (strpbrk(p->sysver, "\t\n,") != NULL)
		return fp_err_set(err, EINVAL, "sysver: no tab, newline or comma");
	return 0;
}

/* Tables and rings for every worker into states[]. */
static int
alloc_lcore_states(const struct fp_siftr_params *p, uint64_t base_tsc,
		   uint64_t base_us, struct fp_siftr_lcore *states,
		   struct fp_err *err)
{
	static unsigned instance;
	struct fp_tcpstat_config cfg;
	uint32_t w;

	tcpstat_config(p, &cfg);
	instance++;
	for (w = 0; w < fp_router.nworkers; w++) {
		unsigned lcore_id = fp_router.lcores[w]->lcore_id;
		int socket = (int)rte_lcore_to_socket_id(lcore_id);
		char name[RTE_RING_NAMESIZE];
		void *mem;

		mem = rte_zmalloc_socket("fp_siftr_table",
					 fp_tcpstat_memsize(p->max_connections),
					 RTE_CACHE_LINE_SIZE, socket);
		if (mem == NULL)
			return fp_err_set(err, ENOMEM,
					  "maxConnections: no memory for %u connections "
					  "(%zu bytes) on worker %u",
					  p->max_connections,
					  fp_tcpstat_memsize(p->max_connections), w);
		states[w].table = fp_tcpstat_init(mem, p->max_connections, &cfg);
		snprintf(name, sizeof(name), "fp_siftr_%u_%u", instance, w);
		states[w].ring = rte_ring_create_elem(name,
						      sizeof(struct fp_tcpstat_record),
						      p->ring_size, socket,
						      RING_F_SP_ENQ | RING_F_SC_DEQ |
						      RING_F_EXACT_SZ);
		if (states[w].ring == NULL)
			return fp_err_set(err, ENOMEM,
					  "ringSize: cannot create a ring of %u records "
					  "for worker %u: %s",
					  p->ring_size, w, rte_strerror(rte_errno));
		states[w].base_tsc = base_tsc;
		states[w].base_us = base_us;
	}
	return 0;
}

/*
 * Sets every lcore's SIFTR state (NULL: off) when the router is started but
 * not launched, and says whether it did. This cannot go through
 * fp_router_cmd_all, the path used once launched: before launch no worker
 * drains its command ring, so that path refuses ("no router is running"),
 * and a command queued anyway would be run at launch, after its caller's
 * stack frame is gone. Nor can the workers' command switch be run from here
 * for them (it is lcore_run_commands, private to the worker loop). So the
 * state is written directly, under ctl_lock so that launch waits.
 */
static bool
set_lcores_before_launch(const struct fp_siftr_lcore *states)
{
	bool before_launch;
	uint32_t w;

	pthread_mutex_lock(&fp_router.ctl_lock);
	before_launch = fp_router.running && !fp_router.launched;
	for (w = 0; before_launch && w < siftr.nworkers; w++) {
		if (states != NULL)
			fp_router.lcores[w]->siftr = states[w];
		else
			memset(&fp_router.lcores[w]->siftr, 0,
			       sizeof(fp_router.lcores[w]->siftr));
	}
	pthread_mutex_unlock(&fp_router.ctl_lock);
	return before_launch;
}

int
fp_siftr_enable(const struct fp_siftr_params *p, struct fp_err *err)
{
	struct fp_siftr_lcore states[FP_MAX_WORKERS];
	struct fp_cmd cmds[FP_MAX_WORKERS];
	char header[256];
	uint64_t base_tsc, base_us;
	FILE *file = NULL;
	void *flows_mem = NULL;
	uint32_t w;
	int rc, len;

	memset(states, 0, sizeof(states));
	pthread_mutex_lock(&siftr.lock);
	if (siftr.enabled) {
		rc = fp_err_set(err, EALREADY,
				"SIFTR is already enabled (logging to %s)",
				siftr.params.logfile);
		goto out;
	}
	if (!fp_router.running) {
		rc = fp_err_set(err, EINVAL, "no router is running");
		goto out;
	}
	rc = check_params(p, err);
	if (rc < 0)
		goto out;
	file = log_open(p->logfile, err);
	if (file == NULL) {
		rc = -1;
		goto out;
	}
	flows_mem = malloc(fp_siftr_flowlist_memsize(p->max_flows));
	if (flows_mem == NULL ||
	    fp_siftr_flowlist_init(&siftr.flows, flows_mem, p->max_flows) < 0) {
		rc = fp_err_set(err, ENOMEM, "maxFlows: no memory for %u flows",
				p->max_flows);
		goto fail;
	}
	base_us = realtime_us();
	base_tsc = rte_rdtsc();
	rc = alloc_lcore_states(p, base_tsc, base_us, states, err);
	if (rc < 0)
		goto fail;

	len = fp_siftr_format_header(header, sizeof(header), base_us, p->sysver);
	if (len < 0 || (size_t)len >= sizeof(header) ||
	    fwrite(header, 1, (size_t)len, file) != (size_t)len ||
	    fflush(file) != 0) {
		rc = fp_err_set(err, EIO, "logfile: cannot write the header to %s",
				p->logfile);
		goto fail;
	}
	siftr.params = *p;
	siftr.enable_time_us = base_us;
	siftr.nworkers = fp_router.nworkers;
	siftr.ring_size = p->ring_size;
	memcpy(siftr.lcores, states, sizeof(states));
	siftr.file = file;
	siftr.files = 1;
	siftr.flows_mem = flows_mem;
	siftr.logged = siftr.write_errors = 0;
	siftr.bytes = (uint64_t)len;
	siftr.stop = 0;
	/* An EAL control thread: it runs on the CPUs no worker lcore uses (a
	 * plain pthread inherits the caller's affinity, which may include a
	 * worker's CPU, and would then take its cycles). */
	rc = rte_ctrl_thread_create(&siftr.thread, "fp-siftr", NULL, writer_main,
				    NULL);
	if (rc != 0) {
		rc = fp_err_set(err, rc < 0 ? -rc : rc,
				"cannot start the SIFTR writer thread");
		goto fail;
	}

	/* Before launch (the config's siftr.enabled): set directly, so the
	 * first packet counts. */
	if (set_lcores_before_launch(states)) {
		siftr.enabled = true;
		rc = 0;
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < siftr.nworkers; w++) {
		cmds[w].type = FP_CMD_SIFTR_SET;
		cmds[w].siftr = states[w];
	}
	rc = fp_router_cmd_all(cmds, err);
	if (rc < 0) {
		/* A worker that did not answer may still take its table:
		 * leave everything to it and the writer (a stuck worker is
		 * a broken router; disable() will report the same). */
		siftr.enabled = true;
		goto out;
	}
	siftr.enabled = true;
	goto out;
fail:
	for (w = 0; w < FP_MAX_WORKERS; w++)
		free_lcore_state(&states[w]);
	free(flows_mem);
	if (file != NULL)
		fclose(file);
out:
	pthread_mutex_unlock(&siftr.lock);
	return rc;
}

int
fp_siftr_configure(const char *logfile, const uint32_t *ppl,
		   const uint16_t *port_filter, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	struct fp_siftr_params next;
	FILE *file = NULL, *old;
	uint32_t w;
	int rc = 0;

	pthread_mutex_lock(&siftr.lock);
	if (!siftr.enabled) {
		rc = fp_err_set(err, EINVAL, "SIFTR is not enabled");
		goto out;
	}
	next = siftr.params;
	if (logfile != NULL) {
		if (logfile[0] == '\0' || strlen(logfile) >= sizeof(next.logfile)) {
			rc = fp_err_set(err, EINVAL, "logfile: expected a path");
			goto out;
		}
		/* The seed compares names: the same name keeps the file. */
		if (strcmp(logfile, siftr.params.logfile) != 0) {
			file = log_open(logfile, err);
			if (file == NULL) {
				rc = -1;
				goto out;
			}
			snprintf(next.logfile, sizeof(next.logfile), "%s", logfile);
		}
	}
	if (ppl != NULL)
		next.ppl = *ppl;
	if (port_filter != NULL)
		next.port_filter = *port_filter;
	if (ppl != NULL || port_filter != NULL) {
		memset(cmds, 0, sizeof(cmds));
		for (w = 0; w < siftr.nworkers; w++) {
			cmds[w].type = FP_CMD_SIFTR_CONFIG;
			tcpstat_config(&next, &cmds[w].tcpstat_cfg);
		}
		rc = fp_router_cmd_all(cmds, err);
		if (rc < 0) {
			if (file != NULL)
				fclose(file);
			goto out;
		}
	}
	if (file != NULL) {
		/* Lines queued before the swap go to the old file, after it to
		 * the new one: nothing is lost between them. */
		pthread_mutex_lock(&siftr.file_lock);
		old = siftr.file;
		siftr.file = file;
		siftr.files++;
		pthread_mutex_unlock(&siftr.file_lock);
		if (fclose(old) != 0)
			siftr.write_errors++;
	}
	siftr.params = next;
out:
	pthread_mutex_unlock(&siftr.lock);
	return rc;
}

/* Counters and connections of the tables, summed. */
static void
sum_tables(struct fp_siftr_status *st)
{
	uint32_t w;

	memset(&st->ctr, 0, sizeof(st->ctr));
	st->connections = 0;
	for (w = 0; w < siftr.nworkers; w++) {
		const struct fp_tcpstat *t = siftr.lcores[w].table;
		const uint64_t *src;
		uint64_t *dst = (uint64_t *)&st->ctr;
		size_t i;

		if (t == NULL)
			continue;
		src = (const uint64_t *)&t->ctr;
		for (i = 0; i < sizeof(st->ctr) / sizeof(uint64_t); i++)
			dst[i] += __atomic_load_n(&src[i], __ATOMIC_RELAXED);
		st->connections += __atomic_load_n(&t->inuse, __ATOMIC_RELAXED);
	}
}

static void
status_locked(struct fp_siftr_status *st)
{
	memset(st, 0, sizeof(*st));
	st->enabled = siftr.enabled;
	if (!siftr.enabled)
		return;
	st->params = siftr.params;
	st->enable_time_us = siftr.enable_time_us;
	/* What the writer wrote first, then what the workers counted: a
	 * snapshot under traffic never shows more lines than segments. */
	pthread_mutex_lock(&siftr.file_lock);
	st->logged = siftr.logged;
	st->write_errors = siftr.write_errors;
	st->bytes = siftr.bytes;
	st->flows = siftr.flows.count;
	st->flows_dropped = siftr.flows.dropped;
	st->files = siftr.files;
	pthread_mutex_unlock(&siftr.file_lock);
	sum_tables(st);
}

void
fp_siftr_get_status(struct fp_siftr_status *out)
{
	pthread_mutex_lock(&siftr.lock);
	status_locked(out);
	pthread_mutex_unlock(&siftr.lock);
}

/* The seed's siftr_manage_ops(SIFTR_DISABLE), once no worker holds a table:
 * drain, footer, close, free. */
static int
finish_locked(struct fp_siftr_status *out, struct fp_siftr_flow **flows,
	      uint32_t *nflows)
{
	struct fp_siftr_footer footer;
	struct fp_siftr_status st;
	char *text;
	size_t need;
	uint32_t w;

	__atomic_store_n(&siftr.stop, 1, __ATOMIC_RELEASE);
	pthread_join(siftr.thread, NULL);

	status_locked(&st);
	st.disable_time_us = realtime_us();
	memset(&footer, 0, sizeof(footer));
	footer.disable_time_us = st.disable_time_us;
	fp_siftr_footer_add(&footer, &st.ctr);
	need = fp_siftr_format_footer(NULL, 0, &footer, siftr.flows.flows,
				      siftr.flows.count);
	text = malloc(need + 1);
	if (text != NULL) {
		fp_siftr_format_footer(text, need + 1, &footer, siftr.flows.flows,
				       siftr.flows.count);
		write_text(text, need);
		free(text);
	} else {
		siftr.write_errors++;
	}
	if (fclose(siftr.file) != 0)
		siftr.write_errors++;
	siftr.file = NULL;
	st.write_errors = siftr.write_errors; /* the footer's included */
	st.bytes = siftr.bytes;

	if (flows != NULL) {
		*nflows = siftr.flows.count;
		*flows = malloc(sizeof(**flows) * (siftr.flows.count ? siftr.flows.count : 1));
		if (*flows != NULL)
			memcpy(*flows, siftr.flows.flows,
			       sizeof(**flows) * siftr.flows.count);
		else
			*nflows = 0;
	}
	for (w = 0; w < siftr.nworkers; w++)
		free_lcore_state(&siftr.lcores[w]);
	free(siftr.flows_mem);
	siftr.flows_mem = NULL;
	siftr.enabled = false;
	if (out != NULL)
		*out = st;
	return 0;
}

int
fp_siftr_disable(struct fp_siftr_status *out, struct fp_siftr_flow **flows,
		 uint32_t *nflows, struct fp_err *err)
{
	struct fp_cmd cmds[FP_MAX_WORKERS];
	uint32_t w;
	int rc;

	pthread_mutex_lock(&siftr.lock);
	if (!siftr.enabled) {
		rc = fp_err_set(err, EINVAL, "SIFTR is not enabled");
		goto out;
	}
	if (set_lcores_before_launch(NULL)) {
		/* No worker ran, so none may keep a table. */
		rc = finish_locked(out, flows, nflows);
		goto out;
	}
	memset(cmds, 0, sizeof(cmds));
	for (w = 0; w < siftr.nworkers; w++)
		cmds[w].type = FP_CMD_SIFTR_SET; /* an empty state: off */
	rc = fp_router_cmd_all(cmds, err);
	/* "No router is running": the router stopped (its workers with it)
	 * between enable and now, and its stop hook found us; anything else
	 * is a worker that did not answer and may still use its table. */
	if (rc < 0 && fp_router.launched)
		goto out;
	rc = finish_locked(out, flows, nflows);
out:
	pthread_mutex_unlock(&siftr.lock);
	return rc;
}

/* The router is stopping with SIFTR on: the workers have stopped, so the
 * footer is written without asking them (the seed's module unload runs
 * siftr_manage_ops(SIFTR_DISABLE) the same way). */
static void
siftr_stop(void)
{
	uint32_t w;

	pthread_mutex_lock(&siftr.lock);
	if (siftr.enabled) {
		for (w = 0; w < siftr.nworkers && w < fp_router.nworkers; w++)
			memset(&fp_router.lcores[w]->siftr, 0,
			       sizeof(fp_router.lcores[w]->siftr));
		finish_locked(NULL, NULL, NULL);
	}
	pthread_mutex_unlock(&siftr.lock);
}

static struct fp_proto siftr_proto = {
	.name = "siftr",
	.order = FP_PROTO_ORDER_SIFTR,
	.stop = siftr_stop,
};
FP_PROTO_REGISTER(siftr_proto)
