/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * Maglev consistent hashing (Eisenbud et al., "Maglev: A Fast and Reliable
 * Software Network Load Balancer", NSDI 2016, section 3.4).
 *
 * Control builds the lookup table; workers only read it. The table does not
 * depend on the order backends are listed: each backend's permutation comes
 * from a hash of its address and port only, and the fill visits backends in
 * sorted order.
 *
 * Thread safety: maglev_build() touches only its arguments (any thread);
 * maglev_lookup() is a pure read.
 */
#ifndef EDGELB_MAGLEV_H
#define EDGELB_MAGLEV_H

#include <stdint.h>

#include "edgelb/snapshot.h"

#define MAGLEV_DEFAULT_SIZE 65537u
#define MAGLEV_MAX_BACKENDS 65535u

/**
 * Table size for @p n_backends: the smallest prime that is >= @p min_size and
 * >= 100 * n_backends (the paper's M >> N, keeping imbalance near 1%).
 * @return the prime, or 0 when no 32-bit prime is that large
 */
uint32_t maglev_table_size(uint32_t n_backends, uint32_t min_size);

/** True (1) when @p m is prime, else 0. */
int maglev_is_prime(uint32_t m);

/**
 * The permutation of the @p m table slots one backend visits while the
 * table fills: slot(j) = (offset + j * skip) mod m, j = 0..m-1 (the paper's
 * offset and skip, from two seeded hashes of the backend's family, address
 * and port in wire byte order).
 *
 * @param be      the backend; only ip and port are read
 * @param m       table size, a prime
 * @param offset  receives offset, 0..m-1
 * @param skip    receives skip, 1..m-1
 * @return 0; -EINVAL when a pointer is NULL, m is not prime or the address
 *         family is not set
 */
int maglev_permutation(const struct el_snap_backend *be, uint32_t m, uint32_t *offset,
		       uint32_t *skip);

/**
 * Fill @p table (@p m entries, m prime, m >= n) with indices into @p bes.
 * The result depends only on the set of (family, address, port) of @p bes,
 * not on their order: mapped back to backends, the table is the same.
 * Duplicate (address, port) entries are allowed.
 *
 * @param bes    backends; only ip and port are read
 * @param n      number of backends, 1..MAGLEV_MAX_BACKENDS
 * @param table  receives @p m indices into @p bes
 * @param m      table size, a prime >= n (see maglev_table_size())
 * @return 0; -EINVAL when an argument is NULL, n is 0, n > MAGLEV_MAX_BACKENDS,
 *         m < n, m not prime, or a backend's address family is not set;
 *         -ENOMEM
 */
int maglev_build(const struct el_snap_backend *bes, uint32_t n, uint16_t *table, uint32_t m);

/** Backend index for a flow hash: table[hash mod m], computed as a
 *  multiply-shift (uniform over the table for a uniform 32-bit hash). */
static inline uint32_t
maglev_lookup(const uint16_t *table, uint32_t m, uint32_t hash)
{
	return table[((uint64_t)hash * m) >> 32];
}

#endif
