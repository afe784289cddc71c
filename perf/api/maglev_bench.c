/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * maglev_bench: time of one Maglev table build (maglev_build(), Eisenbud et
 * al., NSDI 2016, section 3.4), the largest single cost of a control-plane
 * change that gives a Service new endpoints.
 *
 *   maglev_bench [BUILDS]      (default 200 builds per row)
 *
 * For each row (backends N, minimum table size) it builds BUILDS tables,
 * each over a different set of N IPv4 backends (as distinct Services have
 * distinct pods), and prints the median and the fastest build and what
 * 10,000 such builds cost at the median. Plain C, no EAL; one thread.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "edgelb/maglev.h"
#include "edgelb/types.h"

static double
mb_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
mb_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int
main(int argc, char **argv)
{
	static const struct {
		uint32_t n, min_size;
	} rows[] = {{1, MAGLEV_DEFAULT_SIZE},	 {3, MAGLEV_DEFAULT_SIZE},
		    {10, MAGLEV_DEFAULT_SIZE},	 {100, MAGLEV_DEFAULT_SIZE},
		    {1000, MAGLEV_DEFAULT_SIZE}, {10, 1009}};
	long builds = argc > 1 ? strtol(argv[1], NULL, 10) : 200;

	if (argc > 2 || builds < 1) {
		fprintf(stderr, "usage: maglev_bench [BUILDS]\n");
		return 2;
	}
	printf("%10s %10s %12s %12s %18s\n", "backends", "M", "median us", "fastest us",
	       "10,000 builds s");
	for (unsigned r = 0; r < sizeof(rows) / sizeof(rows[0]); r++) {
		uint32_t n = rows[r].n, m = maglev_table_size(n, rows[r].min_size);
		struct el_snap_backend *be = calloc(n, sizeof(*be));
		uint16_t *t = malloc(sizeof(*t) * m);
		double *secs = malloc(sizeof(*secs) * (size_t)builds);

		if (be == NULL || t == NULL || secs == NULL) {
			fprintf(stderr, "maglev_bench: out of memory\n");
			return 1;
		}
		for (long b = 0; b < builds; b++) {
			double t0;

			/* backend j of build b: 198.19.0.0/16 + (b * n + j) */
			for (uint32_t j = 0; j < n; j++) {
				be[j].ip.family = EL_AF_INET;
				be[j].ip.v4 = htonl(0xc6130000u + (uint32_t)((b * n + j) % 65536));
				be[j].port = htons(8080);
			}
			t0 = mb_now();
			if (maglev_build(be, n, t, m) != 0) {
				fprintf(stderr, "maglev_bench: build failed\n");
				return 1;
			}
			secs[b] = mb_now() - t0;
		}
		qsort(secs, (size_t)builds, sizeof(*secs), mb_cmp);
		printf("%10u %10u %12.1f %12.1f %18.2f\n", n, m, secs[builds / 2] * 1e6,
		       secs[0] * 1e6, secs[builds / 2] * 1e4);
		free(be);
		free(t);
		free(secs);
	}
	return 0;
}
