/*
 * eal_test.h — EAL for the C unit tests that need DPDK memory: started
 * without hugepages, PCI or shared config under a per-process file prefix,
 * and stopped with its runtime folder removed (EAL leaves it behind:
 * DPDK-NOTES), so that test runs leave nothing in /var/run/dpdk.
 */
#ifndef FP_TEST_EAL_H
#define FP_TEST_EAL_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <rte_eal.h>
#include <rte_errno.h>

/* EAL with `memory_mb` of heap and the file prefix fp-<tag>-<pid>. 0 or -1
 * (having printed why). */
static inline int
fp_test_eal_start(const char *tag, const char *memory_mb)
{
	char prefix[64];
	char *argv[] = { (char *)tag, "--no-huge", "-m", (char *)memory_mb, "--no-pci",
			 "--no-shconf", prefix, "--log-level=error", NULL };

	snprintf(prefix, sizeof(prefix), "--file-prefix=fp-%s-%d", tag, (int)getpid());
	if (rte_eal_init(8, argv) < 0) {
		printf("FAIL: rte_eal_init: %s\n", rte_strerror(rte_errno));
		return -1;
	}
	return 0;
}

/* rte_eal_cleanup(), then remove the runtime folder fp_test_eal_start made. */
static inline void
fp_test_eal_stop(const char *tag)
{
	char dir[PATH_MAX], mark[64], cmd[PATH_MAX + 16];

	snprintf(dir, sizeof(dir), "%s", rte_eal_get_runtime_dir());
	snprintf(mark, sizeof(mark), "/fp-%s-", tag);
	rte_eal_cleanup();
	if (strstr(dir, mark) != NULL && strchr(dir, '\'') == NULL) {
		snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
		if (system(cmd) != 0)
			printf("note: could not remove %s\n", dir);
	}
}

#endif
