/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Snapshot publishing: the one path by which a compiled snapshot reaches the
 * workers, at start-up and on every later change.
 *
 * Workers load the snapshot pointer with an acquire load once per poll-loop
 * iteration and report a quiescent state (rte_rcu_qsbr) at the end of it.
 * Publishing stores the new pointer with a release store, waits for a grace
 * period (every online worker has passed a quiescent state, so none can still
 * hold the old pointer), tells the workers which backends stopped taking
 * flows (their UDP flows are flushed), and only then frees the old snapshot.
 *
 * Thread safety: publish_snapshot() may be called from any control-side
 * thread (main loop, REST server); calls are serialised by an internal
 * mutex. Never call it from a worker lcore: it waits for the workers.
 */
#ifndef EDGELB_PUBLISH_H
#define EDGELB_PUBLISH_H

#include <pthread.h>
#include <stdint.h>

#include <rte_rcu_qsbr.h>

#include "edgelb/compile.h"
#include "edgelb/snapshot.h"
#include "edgelb/worker.h"

struct publisher {
	/** The snapshot workers use; read it with publish_current(). */
	struct el_snapshot *current;
	/** Workers register as reader threads 0..n_workers-1. */
	struct rte_rcu_qsbr *qsbr;
	struct compile_state *cs;
	struct el_worker *const *workers;
	unsigned n_workers;
	pthread_mutex_t lock;

	uint64_t generation;	 /**< generation of current; 0 before the first publish */
	double last_seconds;	 /**< duration of the last publish (store to free) */
	uint64_t n_published;	 /**< publishes since start */
	uint64_t flush_failures; /**< flush messages a worker ring refused */
};

/**
 * Prepare a publisher: allocate the QSBR variable for @p n_workers reader
 * threads (rte_zmalloc, so EAL must be running).
 *
 * @param cs         compile state that built (and frees) the snapshots
 * @param workers    workers[i] is reader thread i; kept by pointer
 * @param n_workers  1..EL_MAX_WORKERS
 * @param socket_id  NUMA socket for the QSBR variable (SOCKET_ID_ANY ok)
 * @return 0, -EINVAL, or -ENOMEM
 */
int publish_init(struct publisher *p, struct compile_state *cs, struct el_worker *const *workers,
		 unsigned n_workers, int socket_id);

/**
 * Make @p next the snapshot every worker uses and free the previous one
 * after the grace period. Waits for all online workers (a few microseconds
 * while they poll; up to idle_sleep_us while they back off).
 *
 * @param next  built by compile_snapshot() with p->cs; owned by the
 *              publisher from now on
 * @return 0; -EINVAL when @p next is NULL; -ENOBUFS when the snapshot was
 *         published but a worker's ring refused the backend flush (its UDP
 *         flows to removed backends then expire by timeout); -ENOMEM when the
 *         removed backends could not be computed (same consequence)
 */
int publish_snapshot(struct publisher *p, struct el_snapshot *next);

/**
 * The snapshot in use. The pointer stays valid until the next
 * publish_snapshot(); a thread other than the one publishing must hold
 * publish_lock() while it reads through it.
 */
static inline const struct el_snapshot *
publish_current(struct publisher *p)
{
	return __atomic_load_n(&p->current, __ATOMIC_ACQUIRE);
}

/** Keep the current snapshot alive (blocks publishing). Control threads. */
void publish_lock(struct publisher *p);
void publish_unlock(struct publisher *p);

/**
 * Free the current snapshot and the QSBR variable. Control thread, after
 * every worker stopped.
 */
void publish_fini(struct publisher *p);

#endif
