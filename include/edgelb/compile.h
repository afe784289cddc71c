/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * From the service model to a snapshot. Control keeps a compile state across
 * snapshots: stable service-port and backend ids, NodePort and LoadBalancer
 * IP allocations, and the per-service objects a new snapshot can share with
 * the previous one.
 *
 * Two ways to compile: compile_snapshot() looks at the whole model (at start,
 * and whenever the caller cannot say what changed); compile_update() rebuilds
 * only the Services named with compile_touch() since the last compile, so a
 * change costs what the changed Services cost plus one copy of the frontend
 * and owned-address tables, whatever the number of Services. The REST API
 * takes the second way: compile_assign() allocates for one Service when it
 * is put, compile_release() when it is deleted, then compile_touch() and
 * compile_update() publish the change.
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

struct el_model;   /* edgelb/model.h */
struct el_service; /* edgelb/model.h */
struct compile_state;

/**
 * The IP families edgelb can serve with @p cfg: EL_FAMILY_BIT() (model.h)
 * of every family that has an interface address or a LoadBalancer pool.
 * The "families configured on the cluster" of model_service_families().
 *
 * Thread safety: pure; any thread.
 */
unsigned compile_families_available(const struct el_config *cfg);

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
 * Each port of a Service becomes one el_snap_svc per IP family of the
 * Service (model_service_families() with compile_families_available()):
 * frontends, backends and a Maglev table of that family, its own stable id,
 * one name for both. A LoadBalancer Service gets one address per family,
 * from a pool of that family; a family with no pool at all gets none (a
 * warning) when another family of the Service has one. A family without a
 * SNAT address of its family, and an externalIP of a family the Service
 * lacks (not served), are warnings.
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
 *         configured range, loadBalancerIP outside every pool or of a
 *         family the service lacks, IP families that do not resolve, such
 *         as RequireDualStack with one family available),
 *         or -ENOSPC (a pool or the NodePort range is exhausted; @p err
 *         says which service)
 */
int compile_snapshot(struct compile_state *cs, const struct el_model *m, struct el_snapshot **out,
		     char *err, size_t errlen);

/**
 * Write the allocations the compile state holds into @p m, so stored Services
 * read back with them: ports[].nodePort (node_port_auto set when edgelb chose
 * it), status.loadBalancer.ingress (lb_ingress_auto; one address per family,
 * in the order of spec.ipFamilies), and spec.ipFamilyPolicy and
 * spec.ipFamilies as defaulted (model_service_default_families()). What edgelb filled
 * in before and no longer holds is cleared: a nodePort it chose (explicit
 * ones stay as written) and status.loadBalancer.ingress (status is edgelb's
 * to fill: a Service without an address has none).
 * @return 0, or -ENOMEM (the model may be partly updated; call again)
 */
int compile_writeback(const struct compile_state *cs, struct el_model *m);

/**
 * Allocate for Service @p s, about to be stored in place of the Service of
 * the same namespace and name (if any): nodePorts when its type has them,
 * the LoadBalancer addresses when it is a LoadBalancer (programmed Services
 * only, as compile_snapshot()). First its IP families are defaulted and
 * checked against what the config can serve
 * (model_service_default_families(), compile_families_available()).
 *
 * A nodePort @p s gives (ports[].nodePort != 0) is taken as asked: kept when
 * this Service holds it already, refused when another holds it, else it must
 * lie in the range. A port without one gets the lowest free port of the
 * range. spec.loadBalancerIP must lie in a pool and may be shared only with
 * Services that asked for it too on other ports (their ports are read from
 * @p m), and serves its own family, which must be one of the Service's;
 * every other family of the Service keeps the address of that family it
 * holds, else takes the one of its status.loadBalancer.ingress when free,
 * else the first free address of the pools of that family. What the old
 * version held and @p s does not keep is released (a family dropped gives
 * its address back).
 *
 * On success @p s carries the result: spec.ipFamilyPolicy and
 * spec.ipFamilies, ports[].nodePort (node_port_auto for the ports edgelb
 * chose) and status.loadBalancer.ingress, one address per family in the
 * order of spec.ipFamilies (cleared when it gets none). Before the first
 * compile (no state yet) only the families are filled in: the next compile
 * allocates from the model.
 *
 * @param m    the live model (@p s need not be in it)
 * @param err  receives "FIELD: what is wrong" on failure
 * @return 0; -EEXIST (a nodePort or address another Service holds),
 *         -EINVAL (IP families that do not resolve, a nodePort outside the
 *         range, an address outside every pool or of a family the Service
 *         lacks), -ENOSPC (the range or the pools of a family are full),
 *         -ENOMEM; on failure the compile state is unchanged (@p s may have
 *         its families filled in)
 */
int compile_assign(struct compile_state *cs, const struct el_model *m, struct el_service *s,
		   char *err, size_t errlen);

/** Release whatever Service @p ns / @p name holds (it is being deleted). */
void compile_release(struct compile_state *cs, const char *ns, const char *name);

/**
 * Name a Service whose object, Endpoints or EndpointSlices changed (also one
 * that was deleted): compile_update() rebuilds it.
 * @return 0, or -ENOMEM
 */
int compile_touch(struct compile_state *cs, const char *ns, const char *name);

/**
 * Build the next snapshot of @p m, rebuilding only the Services touched since
 * the last compile; every other Service keeps its objects and frontends.
 * Allocations are not made here (see compile_assign()): a Service's
 * frontends use what it holds. Before the first compile, or after an update
 * failed half way, this is compile_snapshot().
 *
 * @param out  receives the new snapshot, generation = previous + 1
 * @return 0, -ENOMEM (the touched Services are still to be rebuilt, or the
 *         next call rebuilds everything), or what compile_snapshot() returns
 */
int compile_update(struct compile_state *cs, const struct el_model *m, struct el_snapshot **out,
		   char *err, size_t errlen);

/**
 * Warnings of the last compile: frontends left out because another service
 * had them, backends beyond MAGLEV_MAX_BACKENDS. After compile_snapshot(),
 * all of them; after compile_update(), those of the touched Services (the
 * frontends they share with others, whoever won).
 * @param list  receives the array; valid until the next compile_snapshot()
 * @return the number of warnings
 */
unsigned compile_warnings(const struct compile_state *cs, const char *const **list);

/** Free a snapshot built by compile_snapshot(); per-service objects still
 *  used by a newer snapshot are kept. Call only after the RCU grace period,
 *  and before compile_state_free(). NULL is a no-op. */
void compile_snapshot_free(struct compile_state *cs, struct el_snapshot *s);

/**
 * Backend ids of UDP service ports that could take flows in @p old and can
 * not in @p new (removed, or no longer serving): the UDP flows to them are
 * flushed. TCP service ports are left out: their flows drain (DESIGN.md
 * section 5), and a backend id belongs to one service port, hence to one
 * protocol.
 * @param ids  receives a malloc'd array (free() it), NULL when n is 0
 * @return count, or -ENOMEM
 */
int compile_removed_backends(const struct el_snapshot *old, const struct el_snapshot *new,
			     uint32_t **ids);

/**
 * Same as compile_removed_backends(), in time proportional to the Services
 * that changed when @p new is the snapshot compile_update() built right after
 * @p old (falls back to the full comparison otherwise). @p old must not have
 * been freed.
 */
int compile_removed_since(const struct compile_state *cs, const struct el_snapshot *old,
			  const struct el_snapshot *new, uint32_t **ids);

#endif
