/*
 * core/eal.c — hosting DPDK's EAL inside Node: init with signals blocked and
 * Node's threads kept off the workers' CPUs, cleanup and its runtime folder.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dirent.h>
#include <ftw.h>
#include <signal.h>

#include <rte_ethdev.h>

#include "router.h"

/*
 * Keep the process's own threads (Node's main thread, V8's platform threads,
 * libuv's pool once it starts) off the CPUs worker lcores busy-poll: every
 * thread still allowed the original CPU set is moved to that set minus the
 * workers' CPUs. Worker and EAL control threads already have narrower
 * masks and are left alone. With no CPU to spare, nothing changes.
 */
static void
keep_node_off_workers(const cpu_set_t *original)
{
	cpu_set_t spare = *original, mask;
	unsigned lcore;
	DIR *dir;
	struct dirent *de;

	RTE_LCORE_FOREACH_WORKER(lcore) {
		rte_cpuset_t cs = rte_lcore_cpuset(lcore);
		for (int cpu = 0; cpu < CPU_SETSIZE; cpu++)
			if (CPU_ISSET(cpu, &cs))
				CPU_CLR(cpu, &spare);
	}
	if (CPU_COUNT(&spare) == 0 || CPU_EQUAL(&spare, original))
		return;
	dir = opendir("/proc/self/task");
	if (dir == NULL)
		return;
	while ((de = readdir(dir)) != NULL) {
		pid_t tid = (pid_t)atoi(de->d_name);
		if (tid <= 0 || sched_getaffinity(tid, sizeof(mask), &mask) != 0)
			continue;
		if (CPU_EQUAL(&mask, original))
			sched_setaffinity(tid, sizeof(spare), &spare);
	}
	closedir(dir);
}

int
fp_eal_init(int argc, char **argv, struct fp_err *err)
{
	static bool attempted;
	sigset_t all, saved;
	cpu_set_t affinity;
	char **copy;
	int rc, i, saved_errno;

	if (fp_router.eal_ready)
		return 0;
	if (attempted)
		return fp_err_set(err, EALREADY,
				  "EAL initialisation already failed in this process; "
				  "DPDK cannot retry it: restart the process");
	attempted = true;

	copy = calloc((size_t)argc + 1, sizeof(char *));
	if (copy == NULL)
		return fp_err_set(err, ENOMEM, "no memory for EAL arguments");
	for (i = 0; i < argc; i++)
		copy[i] = strdup(argv[i]);

	/* EAL's own threads must never take the process's signals (Node's
	 * SIGINT handling), and EAL must not leave the Node thread pinned to
	 * the main lcore's CPU: save both, restore both; then keep Node's
	 * threads off the workers' CPUs. */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &saved);
	sched_getaffinity(0, sizeof(affinity), &affinity);
	rc = rte_eal_init(argc, copy);
	saved_errno = rte_errno;
	sched_setaffinity(0, sizeof(affinity), &affinity);
	if (rc >= 0)
		keep_node_off_workers(&affinity);
	pthread_sigmask(SIG_SETMASK, &saved, NULL);
	/* copy[] is kept: EAL may hold pointers into it. */
	if (rc >= 0)
		/* process.exit() skips Node's environment cleanup hooks; exit()
		 * still runs this, so workers stop and the runtime dir goes. */
		atexit(fp_eal_cleanup);
	if (rc < 0)
		return fp_err_set(err, saved_errno ? saved_errno : EINVAL,
				  "rte_eal_init failed: %s (arguments were checked; "
				  "see DPDK's log above)",
				  rte_strerror(saved_errno));
	fp_router.eal_ready = true;
	return 0;
}

static int
rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void
fp_eal_cleanup(void)
{
	char dir[PATH_MAX];

	if (!fp_router.eal_ready)
		return;
	if (fp_router.running)
		fp_router_stop(NULL);
	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	rte_eal_cleanup();
	fp_router.eal_ready = false;
	/* EAL leaves an empty runtime directory behind; remove it. */
	if (dir[0] != '\0')
		nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
}
