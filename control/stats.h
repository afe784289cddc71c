/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Counters of the appliance: the per-worker counters summed, printed as a
 * readable block (at exit and every --stats-interval) and rendered in the
 * Prometheus text exposition format (version 0.0.4) under the metric names of
 * DESIGN.md section 6.
 *
 * Thread safety: any control-side thread. Worker counters are read with
 * worker_stats_read() (values may be a few bursts old); the snapshot passed
 * in must stay alive for the call (hold publish_lock() off the publishing
 * thread).
 */
#ifndef EDGELB_STATS_H
#define EDGELB_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "edgelb/snapshot.h"
#include "edgelb/worker.h"

/** Flows per worker walked for edgelb_backend_flows_active. */
#define STATS_BE_SCAN_MAX (1u << 18)

/** What the counters are read from. */
struct stats_src {
	const struct el_snapshot *snap;	  /**< interface and service names; may be NULL */
	struct el_worker *const *workers; /**< may be NULL when n_workers is 0 */
	unsigned n_workers;
	uint64_t generation;	/**< current snapshot generation */
	double publish_seconds; /**< duration of the last publish */
	double uptime_seconds;	/**< shown in the printed header */
};

/** Sum the counters of @p n workers into @p out (zeroed first). */
void stats_sum(struct el_worker *const *workers, unsigned n, struct el_worker_stats *out);

/** Sum worker_svc_stats() over @p n workers for service port @p svc_id. */
void stats_svc_sum(struct el_worker *const *workers, unsigned n, uint32_t svc_id, uint64_t *created,
		   uint64_t *active);

/**
 * Print the counters as a block of text: per interface packets and bytes,
 * flows, ARP/ICMP/reject counters, every non-zero drop reason by its label,
 * and flows per service port.
 * @return 0, or -EIO when writing failed
 */
int stats_print(FILE *f, const struct stats_src *src);

/**
 * Render the Prometheus text format into @p buf (NUL-terminated):
 * edgelb_packets_total{port,direction}, edgelb_drops_total{reason} (every
 * reason, zeros included), edgelb_flows_active,
 * edgelb_flows_created_total{service},
 * edgelb_backend_flows_active{service,backend} (backends with flows only,
 * counted by walking each worker's flow table with worker_conns(): the
 * workers keep no per-backend counter; at most STATS_BE_SCAN_MAX flows per
 * worker are counted), edgelb_snapshot_generation,
 * edgelb_snapshot_publish_seconds.
 *
 * @return the length written (without the NUL), or -ENOSPC when @p len is
 *         too small (the buffer then holds a truncated text)
 */
int stats_render_prometheus(char *buf, size_t len, const struct stats_src *src);

#endif
