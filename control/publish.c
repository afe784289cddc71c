/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Snapshot publishing with quiescent-state-based reclamation (rte_rcu_qsbr;
 * the QSBR scheme of McKenney and Slingwine, "Read-Copy Update: Using
 * Execution History to Solve Concurrency Problems", 1998): store the new
 * pointer, wait until every worker has been quiescent once, then reclaim.
 *
 * The wait polls the grace period (rte_rcu_qsbr_start/check) rather than
 * spinning in rte_rcu_qsbr_synchronize(): a polling worker reports within a
 * loop iteration, so a short spin ends most waits; past it the publisher
 * sleeps between checks. A worker that lost its CPU to another thread
 * cannot report until it gets one back, and a publisher spinning on the
 * other CPU meanwhile only takes CPU time from the clients, the API and the
 * worker itself (measured: 29% of the control thread's CPU during a burst
 * of API changes on a 2-CPU host, perf/README.md).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_log.h>
#include <rte_malloc.h>
#include <rte_pause.h>
#include <rte_rcu_qsbr.h>

#include "publish.h"

/* Spin this long for the grace period before sleeping between checks. */
#define PUBLISH_SPIN_NS	 20000
#define PUBLISH_SLEEP_NS 20000

static double
publish_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
publish_init(struct publisher *p, struct compile_state *cs, struct el_worker *const *workers,
	     unsigned n_workers, int socket_id)
{
	size_t sz;
	int rc;

	memset(p, 0, sizeof(*p));
	if (cs == NULL || n_workers == 0 || n_workers > EL_MAX_WORKERS ||
	    (workers == NULL && n_workers > 0))
		return -EINVAL;

	sz = rte_rcu_qsbr_get_memsize(n_workers);
	p->qsbr = rte_zmalloc_socket("el_qsbr", sz, RTE_CACHE_LINE_SIZE, socket_id);
	if (p->qsbr == NULL)
		return -ENOMEM;
	rc = rte_rcu_qsbr_init(p->qsbr, n_workers);
	if (rc != 0) {
		rte_free(p->qsbr);
		p->qsbr = NULL;
		return -EINVAL;
	}
	pthread_mutex_init(&p->lock, NULL);
	p->cs = cs;
	p->workers = workers;
	p->n_workers = n_workers;
	return 0;
}

/* Wait until every online worker has been quiescent since now: spin a
 * little, then sleep between checks. */
static void
publish_wait_grace(struct rte_rcu_qsbr *v)
{
	uint64_t token = rte_rcu_qsbr_start(v);
	double spin_until = publish_now() + PUBLISH_SPIN_NS / 1e9;
	bool spinning = true;
	unsigned i = 0;

	while (rte_rcu_qsbr_check(v, token, false) == 0) {
		/* the clock is read every 64 turns of the spin */
		if (spinning && ((++i & 63) != 0 || publish_now() < spin_until)) {
			rte_pause();
			continue;
		}
		spinning = false;
		nanosleep(&(struct timespec){.tv_sec = 0, .tv_nsec = PUBLISH_SLEEP_NS}, NULL);
	}
}

/* Tell every worker which backends stopped taking flows. */
static int
publish_post_flush(struct publisher *p, const struct el_snapshot *old,
		   const struct el_snapshot *next)
{
	uint32_t *ids = NULL;
	int n, rc = 0;

	n = compile_removed_since(p->cs, old, next, &ids);
	if (n < 0)
		return n;
	for (unsigned i = 0; n > 0 && i < p->n_workers; i++) {
		if (worker_post_flush_backends(p->workers[i], ids, (unsigned)n) < 0) {
			p->flush_failures++;
			rc = -ENOBUFS;
		}
	}
	free(ids);
	return rc;
}

int
publish_snapshot(struct publisher *p, struct el_snapshot *next)
{
	struct el_snapshot *old;
	double t0;
	int rc = 0;

	if (next == NULL)
		return -EINVAL;

	pthread_mutex_lock(&p->lock);
	t0 = publish_now();
	old = p->current;
	__atomic_store_n(&p->current, next, __ATOMIC_RELEASE);
	if (old != NULL) {
		/* Control is not a reader: it does not report for itself. */
		publish_wait_grace(p->qsbr);
		rc = publish_post_flush(p, old, next);
		compile_snapshot_free(p->cs, old);
	}
	p->generation = next->generation;
	p->n_published++;
	p->last_seconds = publish_now() - t0;
	pthread_mutex_unlock(&p->lock);

	if (rc < 0)
		RTE_LOG(WARNING, USER1,
			"snapshot %" PRIu64 ": backend flush not delivered to every worker (%d)\n",
			next->generation, rc);
	return rc;
}

void
publish_lock(struct publisher *p)
{
	pthread_mutex_lock(&p->lock);
}

void
publish_unlock(struct publisher *p)
{
	pthread_mutex_unlock(&p->lock);
}

void
publish_fini(struct publisher *p)
{
	if (p->qsbr == NULL)
		return;
	if (p->current != NULL)
		compile_snapshot_free(p->cs, p->current);
	p->current = NULL;
	rte_free(p->qsbr);
	p->qsbr = NULL;
	pthread_mutex_destroy(&p->lock);
}
