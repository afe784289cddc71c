/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Allocator hooks for snapshot memory. Unit tests and tools use the default
 * (calloc/free); the appliance installs rte_zmalloc/rte_free before it
 * compiles its first snapshot so workers read hugepage memory.
 */
#include <stdlib.h>

#include "edgelb/snapshot.h"

static void *
snapshot_mem_calloc(size_t size)
{
	return calloc(1, size);
}

static struct snapshot_mem_ops snapshot_mem_ops = {
    .zalloc = snapshot_mem_calloc,
    .free = free,
};

void
snapshot_set_mem_ops(const struct snapshot_mem_ops *ops)
{
	if (ops == NULL || ops->zalloc == NULL || ops->free == NULL) {
		snapshot_mem_ops.zalloc = snapshot_mem_calloc;
		snapshot_mem_ops.free = free;
		return;
	}
	snapshot_mem_ops = *ops;
}

void *
snapshot_zalloc(size_t size)
{
	return snapshot_mem_ops.zalloc(size == 0 ? 1 : size);
}

void
snapshot_mfree(void *p)
{
	if (p != NULL)
		snapshot_mem_ops.free(p);
}
