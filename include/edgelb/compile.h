/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * From the service model to a snapshot. Control keeps a compile state across
 * snapshots: stable service-port and backend ids, NodePort and LoadBalancer
 * IP allocations, and the per-service objects a new snapshot can share with
 * the previous one.
 *
 * Plain C, no EAL: memory comes from snapshot_zalloc() (rte_zmalloc in the
 * appliance, calloc in unit tests).
 *
 * Thread safety: control thread only.
 */
#ifndef EDGELB_COMPILE_H
#define EDGELB_COMPILE_H

#include <stddef.h>
#include <stdint.h>

#include "edgelb/config.h"
#include "edgelb/snapshot.h"

struct el_model; /* edgelb/model.h */
struct compile_state;

/** New compile state for @p cfg (kept by pointer: must outlive the state).
 *  NULL on ENOMEM. */
struct compile_state *compile_state_new(const struct el_config *cfg);
/** Free the state; free every snapshot built with it first. */
void compile_state_free(struct compile_state *cs);

/** Tell the compiler which DPDK port and MAC an interface (index into
 *  cfg->ifaces) has; copied into every later snapshot. */
void compile_set_iface(struct compile_state *cs, unsigned iface, uint16_t port_id,
		       const uint8_t mac[6]);

/**
 * Build a snapshot of @p m. Allocates NodePorts and LoadBalancer IPs that
 * the model leaves open (stable for the life of @p cs) and resolves named
 * target ports per endpoint.
 *
 * The allocations are kept in @p cs (compile_writeback() copies them into
 * the model). On failure @p cs keeps the allocations of the last success.
 *
 * Services are taken in (namespace, name) order. A frontend (address, port,
 * protocol) claimed by two services stays with the first; the other one is
 * left out and reported by compile_warnings(). An explicit nodePort taken
 * by an older service (lower model revision) is refused with -EEXIST.
 *
 * @param out  receives the new snapshot, generation = previous + 1
 * @param err  receives "ns/name: FIELD: what is wrong" on failure
 * @return 0, -ENOMEM, -EEXIST (an explicit nodePort, or a loadBalancerIP,
 *         that an older service holds), -EINVAL (nodePort outside the
 *         configured range, loadBalancerIP outside every pool),
 *         or -ENOSPC (a pool or the NodePort range is exhausted; @p err
 *         says which service)
 */
int compile_snapshot(struct compile_state *cs, const struct el_model *m, struct el_snapshot **out,
		     char *err, size_t errlen);

/**
 * Write the allocations of the last successful compile_snapshot() into the
 * model it compiled, so stored Services read back with them: ports[].nodePort
 * (node_port_auto set when edgelb chose it) and status.loadBalancer.ingress
 * (lb_ingress_auto). Services the compile did not see are left alone.
 * @return 0, or -ENOMEM (the model may be partly updated; call again)
 */
int compile_writeback(const struct compile_state *cs, struct el_model *m);

/**
 * Warnings of the last compile_snapshot() call (frontends left out because
 * another service had them, backends beyond MAGLEV_MAX_BACKENDS).
 * @param list  receives the array; valid until the next compile_snapshot()
 * @return the number of warnings
 */
unsigned compile_warnings(const struct compile_state *cs, const char *const **list);

/** Free a snapshot built by compile_snapshot(); per-service objects still
 *  used by a newer snapshot are kept. Call only after the RCU grace period,
 *  and before compile_state_free(). NULL is a no-op. */
void compile_snapshot_free(struct compile_state *cs, struct el_snapshot *s);

/**
 * Backend ids that could take flows in @p old and can not in @p new (removed,
 * or no longer serving): the UDP flows to them are flushed.
 * @param ids  receives a malloc'd array (free() it), NULL when n is 0
 * @return count, or -ENOMEM
 */
int compile_removed_backends(const struct el_snapshot *old, const struct el_snapshot *new,
			     uint32_t **ids);

#endif
