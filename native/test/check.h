/*
 * check.h — the C unit tests' one assertion kit. Each test prints
 * "all N checks passed" at the end (test/helpers/ctest.ts looks for it) and
 * "FAIL file:line: ..." for a failure.
 *   CHECK(cond)            stop at the first failure (state after it is moot)
 *   EXPECT(cond, fmt, ...) count the failure, say why, and go on
 */
#ifndef FP_TEST_CHECK_H
#define FP_TEST_CHECK_H

#include <stdio.h>
#include <stdlib.h>

/* A test built from several files defines FP_TEST_MULTI_FILE in each and
 * `int checks, failures;` in one, so that all count together. */
#ifdef FP_TEST_MULTI_FILE
extern int checks;
extern int failures;
#else
static int checks;
static int failures;
#endif

#define CHECK(cond)                                                            \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			printf("FAIL %s:%d: %s\n", __FILE__, __LINE__, #cond); \
			exit(1);                                               \
		}                                                              \
	} while (0)

#define EXPECT(cond, ...)                                                      \
	do {                                                                   \
		checks++;                                                      \
		if (!(cond)) {                                                 \
			failures++;                                            \
			printf("FAIL %s:%d: ", __FILE__, __LINE__);            \
			printf(__VA_ARGS__);                                   \
			printf("\n");                                          \
		}                                                              \
	} while (0)

/* The closing line and the exit status. */
static inline int
checks_done(void)
{
	if (failures) {
		printf("%d of %d checks failed\n", failures, checks);
		return 1;
	}
	printf("all %d checks passed\n", checks);
	return 0;
}

#endif
