/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL for the unit tests of dataplane tables: memory without hugepages, no
 * ports, one lcore, errors only in the log.
 */
#ifndef EDGELB_TESTS_EAL_UNIT_H
#define EDGELB_TESTS_EAL_UNIT_H

#include <stdio.h>

#include <rte_common.h>
#include <rte_eal.h>

/** Start EAL for a test program. @return 0, or -1 after a message. */
static inline int
eal_unit_init(char *argv0)
{
	char *eal[] = {argv0,	   "--no-huge", "-m", "512",	     "--no-shconf",
		       "--no-pci", "-l",	"0",  "--log-level", "lib.eal:error"};
	if (rte_eal_init((int)RTE_DIM(eal), eal) < 0) {
		fprintf(stderr, "EAL init failed\n");
		return -1;
	}
	return 0;
}

#endif
