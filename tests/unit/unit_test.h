/* Minimal unit-test harness: CHECK records a failure with file:line and goes on;
 * RUN_TEST runs one test function; unit_test_summary prints "N passed, N failed"
 * and gives the exit status. A test program in several files (test_parse) defines
 * UNIT_TEST_PART before this in each file but main's: their CHECKs count in main's
 * RUN_TEST. */
#ifndef UNIT_TEST_H
#define UNIT_TEST_H

#include <stdio.h>

#ifdef UNIT_TEST_PART
extern int unit_checks_failed_in_test;
#else
int unit_checks_failed_in_test;
static int unit_tests_passed;
static int unit_tests_failed;
#endif

#define CHECK(cond) do { \
	if (!(cond)) { \
		fprintf(stderr, "  %s:%d: check failed: %s\n", __FILE__, __LINE__, #cond); \
		unit_checks_failed_in_test++; \
	} \
} while (0)

#define CHECK_EQ_U64(a, b) do { \
	unsigned long long a_ = (unsigned long long)(a), b_ = (unsigned long long)(b); \
	if (a_ != b_) { \
		fprintf(stderr, "  %s:%d: %s == %s failed: %llu != %llu\n", __FILE__, __LINE__, \
				#a, #b, a_, b_); \
		unit_checks_failed_in_test++; \
	} \
} while (0)

#define RUN_TEST(fn) do { \
	unit_checks_failed_in_test = 0; \
	fn(); \
	if (unit_checks_failed_in_test == 0) { \
		unit_tests_passed++; \
		printf("ok   %s\n", #fn); \
	} else { \
		unit_tests_failed++; \
		printf("FAIL %s\n", #fn); \
	} \
} while (0)

#ifndef UNIT_TEST_PART
static inline int
unit_test_summary(void)
{
	printf("%d passed, %d failed\n", unit_tests_passed, unit_tests_failed);
	return unit_tests_failed == 0 ? 0 : 1;
}
#endif

#endif
