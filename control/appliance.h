/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The running appliance: DPDK ports, the mbuf pool, worker lcores and their
 * poll loop, the compile state and the publisher. main() parses arguments
 * and the config, starts EAL, then drives an appliance through
 * appliance_init(), appliance_start(), appliance_stop(), appliance_free().
 *
 * Ports: each configured interface is a PCI device EAL probed, or a vdev
 * spec ("name,args") probed here. Every port gets one RX and one TX queue
 * per worker (fewer RX queues when the config says so); RSS is configured
 * with a fixed Toeplitz key only when there is more than one RX queue and the
 * port reports RSS support, and workers learn the key and RETA so they can
 * choose SNAT ports whose replies hash back to them.
 *
 * Workers: worker i runs on its lcore, polls RX queue i of every port, and
 * transmits on TX queue i. It reads the snapshot once per loop iteration and
 * reports a quiescent state at the end of it.
 *
 * Thread safety: every function here is for the main (control) lcore.
 */
#ifndef EDGELB_APPLIANCE_H
#define EDGELB_APPLIANCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <rte_mempool.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/model.h"
#include "edgelb/worker.h"

#include "publish.h"

#define APPLIANCE_BURST	   64
#define APPLIANCE_HK_POLLS 4 /* busy polls per housekeeping call */
#define APPLIANCE_RX_DESC  1024
#define APPLIANCE_TX_DESC  1024
/** Empty polls in a row before a worker backs off (idle_sleep_us > 0). */
#define APPLIANCE_IDLE_POLLS 64

struct appliance;

/** What one worker lcore needs; cache-aligned, one per worker. */
struct appliance_lcore {
	struct appliance *app;
	struct el_worker *worker;
	unsigned lcore_id;
	unsigned index; /**< worker index = queue id = QSBR thread id */
	/** rx[i]: poll interface i (the port has an RX queue for this worker). */
	bool rx[EL_CFG_MAX_IFACES];
	uint16_t port_of[EL_CFG_MAX_IFACES]; /**< interface index -> DPDK port */
	bool running;
	/** TSC when the worker last finished a poll-loop iteration (0 = never);
	 *  written by the worker, read by control (appliance_workers_polling()). */
	uint64_t last_poll_tsc;
} __attribute__((aligned(64)));

struct appliance_port {
	uint16_t port_id;
	uint16_t n_rxq;
	uint16_t n_txq;
	uint8_t mac[6];
	bool started;
	struct el_worker_rss rss;
	char driver[32];
};

struct appliance {
	const struct el_config *cfg;
	struct el_model *model;
	struct compile_state *cs;
	struct publisher pub;
	bool pub_ready;

	struct rte_mempool *pool;
	unsigned n_ports; /**< = cfg->n_ifaces once the ports are up */
	struct appliance_port ports[EL_CFG_MAX_IFACES];

	unsigned n_workers;
	struct el_worker *workers[EL_MAX_WORKERS];
	struct appliance_lcore lcores[EL_MAX_WORKERS];

	uint64_t tsc_per_ms;
	uint64_t start_tsc;
	bool launched;
	/** Set by appliance_stop(); every worker loop ends when it sees it. */
	volatile bool quit;
};

/**
 * Bring the appliance up to the point where packets could flow: probe and
 * start the ports, create the pool and workers, compile and publish the
 * first snapshot of @p model. EAL must be initialised. On failure the
 * appliance is left for appliance_free().
 *
 * @param cfg    loaded config; must outlive the appliance
 * @param model  service model; must outlive the appliance
 * @param err    receives a message naming what failed
 * @return 0, or a negative errno (-ENODEV: a device is missing, -EINVAL:
 *         bad lcore or queue setup, -ENOMEM, -ENOSPC: compile ran out of
 *         NodePorts or LoadBalancer IPs)
 */
int appliance_init(struct appliance *a, const struct el_config *cfg, struct el_model *model,
		   char *err, size_t errlen);

/** Launch the worker loops on their lcores. @return 0 or a negative errno. */
int appliance_start(struct appliance *a);

/** Ask the workers to stop and wait until all of them have returned. */
void appliance_stop(struct appliance *a);

/** Stop (if needed) and close the ports, free workers, snapshots, pool. */
void appliance_free(struct appliance *a);

/**
 * Compile @p a->model and publish the result: the path every change of the
 * service model takes.
 * @return 0, or what compile_snapshot() / publish_snapshot() returned
 */
int appliance_republish(struct appliance *a, char *err, size_t errlen);

/** Print the counters block (stats_print) with the current snapshot. */
int appliance_print_stats(struct appliance *a, FILE *f);

/**
 * Render Prometheus text (stats_render_prometheus) with the current
 * snapshot. @return length, or -ENOSPC
 */
int appliance_render_metrics(struct appliance *a, char *buf, size_t len);

/** A worker that has not finished a poll-loop iteration for this long is
 *  not polling (a backing-off worker sleeps idle_sleep_us on top). */
#define APPLIANCE_POLL_STALE_MS 500

/**
 * Is every worker polling: launched, and done with a poll-loop iteration
 * within APPLIANCE_POLL_STALE_MS (plus idle_sleep_us)?
 * @param stale  receives the index of a worker that is not (may be NULL)
 * @param age_ms receives how long ago it last polled, UINT64_MAX = never
 * @return 0, or -EAGAIN
 */
int appliance_workers_polling(const struct appliance *a, unsigned *stale, uint64_t *age_ms);

/** Print one line per port (name, device, driver, MAC, queues, RSS). */
void appliance_print_ports(const struct appliance *a, FILE *f);

#endif
