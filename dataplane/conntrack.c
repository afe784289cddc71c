/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker connection and affinity tables: rte_hash (cuckoo hashing, one
 * writer) from packet 5-tuples to indices of preallocated entry arrays.
 * Every flow is keyed twice (client and reply direction); expiry is an
 * incremental sweep, never a timer. See conntrack.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "conntrack.h"

/* CT_HASH_SEED (conntrack.h) is fixed, so a table hashes the same way on
 * every run (easier to debug). */
_Static_assert(sizeof(struct ct_key4) == 16, "key layout");

struct aff_key4 {
	uint32_t client;
	uint32_t svc_id;
};

/* The memory budget per flow (conntrack_bytes_per_flow()) counts on it. */
_Static_assert(sizeof(struct ct_flow4) == 32, "flow entry grew");
_Static_assert(sizeof(struct ct_meta4) == 12, "flow entry grew");
_Static_assert(sizeof(struct ct_key6) == 40, "key layout");
_Static_assert(sizeof(struct ct_flow6) == 80, "flow entry grew");
_Static_assert(sizeof(struct ct_meta6) == 12, "flow entry grew");

static uint32_t ct_name_seq;

static size_t
heap_allocated(void)
{
	size_t total = 0;
	for (unsigned i = 0; i < rte_socket_count(); i++) {
		struct rte_malloc_socket_stats st;
		if (rte_malloc_get_socket_stats(rte_socket_id_by_idx(i), &st) == 0)
			total += st.heap_allocsz_bytes;
	}
	return total;
}

static struct rte_hash *
hash_new(const char *what, uint32_t entries, uint32_t key_len, uint32_t seed, int socket_id)
{
	char name[RTE_HASH_NAMESIZE];
	uint32_t seq = __atomic_fetch_add(&ct_name_seq, 1, __ATOMIC_RELAXED);
	struct rte_hash_parameters p = {
	    .name = name,
	    .entries = entries,
	    .key_len = key_len,
	    .hash_func = rte_hash_crc,
	    .hash_func_init_val = seed,
	    .socket_id = socket_id,
	    .extra_flag = 0, /* one writer, no concurrent readers */
	};
	snprintf(name, sizeof(name), "el_%s_%u", what, seq);
	return rte_hash_create(&p);
}

static void conntrack_free6(struct conntrack *ct);

void
conntrack_destroy(struct conntrack *ct)
{
	if (ct == NULL)
		return;
	rte_hash_free(ct->h4);
	rte_hash_free(ct->aff_h4);
	rte_free(ct->flows4);
	rte_free(ct->meta4);
	rte_free(ct->aff4);
	conntrack_free6(ct);
	rte_free(ct);
}

struct conntrack *
conntrack_create(uint32_t max_flows, uint32_t max_affinity, int socket_id)
{
	if (max_flows == 0 || max_flows > (1u << 29)) {
		rte_errno = EINVAL;
		return NULL;
	}
	struct conntrack *ct =
	    rte_zmalloc_socket("el_ct", sizeof(*ct), RTE_CACHE_LINE_SIZE, socket_id);
	if (ct == NULL) {
		rte_errno = ENOMEM;
		return NULL;
	}

	size_t before = heap_allocated();
	/* Two keys per flow. rte_hash rounds its buckets, key store ring and
	 * free-slot ring up to powers of two, so any slack above 2 * max_flows
	 * doubles them when max_flows is a power of two (140 -> 165 bytes per
	 * flow). The price of no slack: a cuckoo table may refuse some of the
	 * last ~0.1% of inserts when it is nearly full; those new flows are
	 * refused and counted as flow_table_full, like any flow past
	 * max_flows, and no live flow is ever evicted. */
	uint32_t keys = 2 * max_flows;
	if (keys < 64)
		keys = 64; /* rte_hash wants at least a few buckets */
	ct->h4 = hash_new("ct4", keys, sizeof(struct ct_key4), CT_HASH_SEED, socket_id);
	ct->flows4 = rte_malloc_socket("el_ct_flows4", (size_t)max_flows * sizeof(struct ct_flow4),
				       RTE_CACHE_LINE_SIZE, socket_id);
	ct->meta4 = rte_malloc_socket("el_ct_meta4", (size_t)max_flows * sizeof(struct ct_meta4),
				      RTE_CACHE_LINE_SIZE, socket_id);
	ct->bytes = heap_allocated() - before;
	if (ct->h4 == NULL || ct->flows4 == NULL || ct->meta4 == NULL)
		goto nomem;

	ct->cap = max_flows;
	for (uint32_t i = 0; i < max_flows; i++) {
		ct->flows4[i].flags = 0;
		ct->meta4[i].next_free = i + 1 < max_flows ? i + 1 : CT_NONE;
	}
	ct->free_head = 0;

	ct->aff_free_head = CT_NONE;
	if (max_affinity > 0) {
		uint32_t n = max_affinity < 64 ? 64 : max_affinity;
		ct->aff_h4 = hash_new("aff4", n, sizeof(struct aff_key4), CT_HASH_SEED, socket_id);
		ct->aff4 =
		    rte_zmalloc_socket("el_aff4", (size_t)max_affinity * sizeof(struct ct_aff4),
				       RTE_CACHE_LINE_SIZE, socket_id);
		if (ct->aff_h4 == NULL || ct->aff4 == NULL)
			goto nomem;
		ct->aff_cap = max_affinity;
		for (uint32_t i = 0; i < max_affinity; i++)
			ct->aff4[i].next_free = i + 1 < max_affinity ? i + 1 : CT_NONE;
		ct->aff_free_head = 0;
	}
	return ct;

nomem:
	conntrack_destroy(ct);
	rte_errno = ENOMEM;
	return NULL;
}

void
conntrack_lookup4_bulk(const struct conntrack *ct, const struct ct_key4 **keys, unsigned n,
		       uint64_t *hit, uint32_t *val)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];

	*hit = 0;
	if (n == 0)
		return;
	rte_hash_lookup_bulk_data(ct->h4, (const void **)keys, n, hit, data);
	for (unsigned i = 0; i < n; i++)
		val[i] = (uint32_t)(uintptr_t)data[i];
}

void
conntrack_lookup4_bulk_sig(const struct conntrack *ct, const struct ct_key4 **keys,
			   const uint32_t *sigs, unsigned n, uint64_t *hit, uint32_t *val)
{
	void *data[RTE_HASH_LOOKUP_BULK_MAX];

	*hit = 0;
	if (n == 0)
		return;
	rte_hash_lookup_with_hash_bulk_data(ct->h4, (const void **)keys, (hash_sig_t *)sigs, n, hit,
					    data);
	for (unsigned i = 0; i < n; i++)
		val[i] = (uint32_t)(uintptr_t)data[i];
}

int
conntrack_lookup4(const struct conntrack *ct, const struct ct_key4 *key, uint32_t *val)
{
	void *data;
	if (rte_hash_lookup_data(ct->h4, key, &data) < 0)
		return -ENOENT;
	*val = (uint32_t)(uintptr_t)data;
	return 0;
}

bool
conntrack_reply_in_use4(const struct conntrack *ct, uint32_t backend, uint32_t snat, uint16_t bport,
			uint16_t lport, uint8_t proto)
{
	struct ct_key4 k = {
	    .src = backend, .dst = snat, .sport = bport, .dport = lport, .proto = proto};
	return rte_hash_lookup(ct->h4, &k) >= 0;
}

int
conntrack_add4(struct conntrack *ct, const struct ct_flow4 *f, const struct ct_meta4 *meta,
	       unsigned flags, uint32_t *idx)
{
	struct ct_key4 ck, rk;

	conntrack_client_key4(f, &ck);
	conntrack_reply_key4(f, &rk);
	return conntrack_add4_sig(ct, f, meta, flags, conntrack_hash4(&ck), conntrack_hash4(&rk),
				  idx);
}

int
conntrack_add4_sig(struct conntrack *ct, const struct ct_flow4 *f, const struct ct_meta4 *meta,
		   unsigned flags, uint32_t sc, uint32_t sr, uint32_t *idx)
{
	struct ct_key4 ck, rk;

	if (ct->free_head == CT_NONE)
		return -ENOSPC;
	conntrack_client_key4(f, &ck);
	conntrack_reply_key4(f, &rk);
	if (memcmp(&ck, &rk, sizeof(ck)) == 0)
		return -EEXIST;

	/* rte_hash_add replaces the data of an existing key: never let it */
	if (!(flags & CT_ADD_KEYS_CHECKED) && (rte_hash_lookup_with_hash(ct->h4, &ck, sc) >= 0 ||
					       rte_hash_lookup_with_hash(ct->h4, &rk, sr) >= 0))
		return -EEXIST;

	uint32_t i = ct->free_head;
	if (rte_hash_add_key_with_hash_data(ct->h4, &ck, sc,
					    (void *)(uintptr_t)(i << 1 | CT_DIR_CLIENT)) < 0)
		return -ENOSPC;
	if (rte_hash_add_key_with_hash_data(ct->h4, &rk, sr,
					    (void *)(uintptr_t)(i << 1 | CT_DIR_REPLY)) < 0) {
		rte_hash_del_key_with_hash(ct->h4, &ck, sc);
		return -ENOSPC;
	}

	struct ct_flow4 *e = &ct->flows4[i];
	ct->free_head = ct->meta4[i].next_free;
	*e = *f;
	e->flags = CT_F_USED;
	ct->meta4[i] = *meta;
	ct->used++;
	*idx = i;
	return 0;
}

void
conntrack_del4(struct conntrack *ct, uint32_t idx)
{
	struct ct_flow4 *e = &ct->flows4[idx];
	struct ct_key4 k;

	if (!(e->flags & CT_F_USED))
		return;
	conntrack_client_key4(e, &k);
	rte_hash_del_key_with_hash(ct->h4, &k, conntrack_hash4(&k));
	conntrack_reply_key4(e, &k);
	rte_hash_del_key_with_hash(ct->h4, &k, conntrack_hash4(&k));
	e->flags = 0;
	ct->meta4[idx].next_free = ct->free_head;
	ct->free_head = idx;
	ct->used--;
}

uint32_t
conntrack_count(const struct conntrack *ct)
{
	return ct->used;
}

uint32_t
conntrack_capacity(const struct conntrack *ct)
{
	return ct->cap;
}

/* Tables past this many flows live mostly outside the cache: a sweep looks
 * its victims' keys up in bulk first, so the deletes that follow do not each
 * wait for their buckets in turn. */
#define CT_SWEEP_WARM_MIN 32768

unsigned
conntrack_sweep4(struct conntrack *ct, unsigned budget, const uint32_t *timeout_ms, uint32_t now32,
		 conntrack_pick_fn extra, conntrack_gone_fn gone, void *ctx)
{
	uint32_t victim[CT_SWEEP_MAX];
	bool idle[CT_SWEEP_MAX];
	unsigned n = 0;
	uint32_t pos = ct->sweep_pos;

	if (budget > CT_SWEEP_MAX)
		budget = CT_SWEEP_MAX;
	for (unsigned i = 0; i < budget; i++) {
		const struct ct_flow4 *e = &ct->flows4[pos];
		if (e->flags & CT_F_USED) {
			uint8_t st = e->tcp.state < EL_CT_NSTATES ? e->tcp.state : EL_CT_NONE;
			bool is_idle = now32 - e->last_ms >= timeout_ms[st];
			if (is_idle || (extra != NULL && extra(ctx, e, &ct->meta4[pos]))) {
				victim[n] = pos;
				idle[n] = is_idle;
				n++;
			}
		}
		pos = pos + 1 == ct->cap ? 0 : pos + 1;
	}
	ct->sweep_pos = pos;
	ct->swept += budget;

	if (n > 1 && ct->cap >= CT_SWEEP_WARM_MIN) {
		struct ct_key4 keys[2 * CT_SWEEP_MAX];
		const struct ct_key4 *kp[RTE_HASH_LOOKUP_BULK_MAX];
		int32_t posn[RTE_HASH_LOOKUP_BULK_MAX];
		unsigned nk = 0;
		for (unsigned i = 0; i < n; i++) {
			conntrack_client_key4(&ct->flows4[victim[i]], &keys[nk++]);
			conntrack_reply_key4(&ct->flows4[victim[i]], &keys[nk++]);
		}
		for (unsigned off = 0; off < nk; off += RTE_HASH_LOOKUP_BULK_MAX) {
			unsigned c = nk - off < RTE_HASH_LOOKUP_BULK_MAX ? nk - off
									 : RTE_HASH_LOOKUP_BULK_MAX;
			for (unsigned i = 0; i < c; i++)
				kp[i] = &keys[off + i];
			rte_hash_lookup_bulk(ct->h4, (const void **)kp, c, posn);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		gone(ctx, &ct->flows4[victim[i]], &ct->meta4[victim[i]], idle[i]);
		conntrack_del4(ct, victim[i]);
	}
	return n;
}

uint64_t
conntrack_swept(const struct conntrack *ct)
{
	return ct->swept;
}

size_t
conntrack_bytes_per_flow(const struct conntrack *ct)
{
	return ct->cap ? ct->bytes / ct->cap : 0;
}

/* ---- affinity ---- */

static inline bool
aff_expired(const struct ct_aff4 *e, uint64_t now_ms)
{
	return (uint32_t)now_ms - e->last_ms >= e->timeout_ms;
}

static void
aff_free(struct conntrack *ct, uint32_t i)
{
	struct ct_aff4 *e = &ct->aff4[i];
	struct aff_key4 k = {.client = e->client, .svc_id = e->svc_id};
	rte_hash_del_key(ct->aff_h4, &k);
	e->used = 0;
	e->next_free = ct->aff_free_head;
	ct->aff_free_head = i;
	ct->aff_used--;
}

int
conntrack_aff_lookup4(struct conntrack *ct, uint32_t client, uint32_t svc_id, uint64_t now_ms,
		      uint32_t *backend_id)
{
	struct aff_key4 k = {.client = client, .svc_id = svc_id};
	void *data;

	if (ct->aff_h4 == NULL || rte_hash_lookup_data(ct->aff_h4, &k, &data) < 0)
		return -ENOENT;
	uint32_t i = (uint32_t)(uintptr_t)data;
	if (aff_expired(&ct->aff4[i], now_ms)) {
		aff_free(ct, i);
		return -ENOENT;
	}
	*backend_id = ct->aff4[i].backend_id;
	return 0;
}

int
conntrack_aff_update4(struct conntrack *ct, uint32_t client, uint32_t svc_id, uint32_t backend_id,
		      uint32_t timeout_ms, uint64_t now_ms)
{
	struct aff_key4 k = {.client = client, .svc_id = svc_id};
	void *data;
	uint32_t i;

	if (ct->aff_h4 == NULL)
		return -ENOSPC;
	if (rte_hash_lookup_data(ct->aff_h4, &k, &data) >= 0) {
		i = (uint32_t)(uintptr_t)data;
	} else {
		i = ct->aff_free_head;
		if (i == CT_NONE)
			return -ENOSPC;
		if (rte_hash_add_key_data(ct->aff_h4, &k, (void *)(uintptr_t)i) < 0)
			return -ENOSPC;
		ct->aff_free_head = ct->aff4[i].next_free;
		ct->aff_used++;
	}
	struct ct_aff4 *e = &ct->aff4[i];
	e->client = client;
	e->svc_id = svc_id;
	e->backend_id = backend_id;
	e->last_ms = (uint32_t)now_ms;
	e->timeout_ms = timeout_ms;
	e->next_free = CT_NONE;
	e->used = 1;
	return 0;
}

void
conntrack_aff_del4(struct conntrack *ct, uint32_t client, uint32_t svc_id)
{
	struct aff_key4 k = {.client = client, .svc_id = svc_id};
	void *data;

	if (ct->aff_h4 != NULL && rte_hash_lookup_data(ct->aff_h4, &k, &data) >= 0)
		aff_free(ct, (uint32_t)(uintptr_t)data);
}

unsigned
conntrack_aff_sweep4(struct conntrack *ct, unsigned budget, uint64_t now_ms)
{
	unsigned freed = 0;

	if (ct->aff_cap == 0 || ct->aff_used == 0)
		return 0;
	uint32_t pos = ct->aff_sweep_pos;
	for (unsigned i = 0; i < budget; i++) {
		struct ct_aff4 *e = &ct->aff4[pos];
		if (e->used && aff_expired(e, now_ms)) {
			aff_free(ct, pos);
			freed++;
		}
		pos = pos + 1 == ct->aff_cap ? 0 : pos + 1;
	}
	ct->aff_sweep_pos = pos;
	return freed;
}

uint32_t
conntrack_aff_count(const struct conntrack *ct)
{
	return ct->aff_used;
}

/* ---- IPv6: the same tables with 16-byte addresses ---- */

struct aff_key6 {
	uint8_t client[16];
	uint32_t svc_id;
};

static void
conntrack_free6(struct conntrack *ct)
{
	rte_hash_free(ct->h6);
	rte_hash_free(ct->aff_h6);
	rte_free(ct->flows6);
	rte_free(ct->meta6);
	rte_free(ct->aff6);
	ct->h6 = ct->aff_h6 = NULL;
	ct->flows6 = NULL;
	ct->meta6 = NULL;
	ct->aff6 = NULL;
	ct->cap6 = ct->aff_cap6 = 0;
	ct->free_head6 = ct->aff_free_head6 = CT_NONE;
}

int
conntrack_enable6(struct conntrack *ct, uint32_t max_flows, uint32_t max_affinity, int socket_id)
{
	if (ct == NULL || max_flows > (1u << 29) || ct->h6 != NULL || ct->aff_h6 != NULL)
		return -EINVAL;
	ct->free_head6 = CT_NONE;
	ct->aff_free_head6 = CT_NONE;

	if (max_flows > 0) {
		size_t before = heap_allocated();
		/* two keys per flow, no slack: see conntrack_create() */
		uint32_t keys = 2 * max_flows;
		if (keys < 64)
			keys = 64;
		ct->h6 = hash_new("ct6", keys, sizeof(struct ct_key6), CT_HASH_SEED6, socket_id);
		ct->flows6 =
		    rte_malloc_socket("el_ct_flows6", (size_t)max_flows * sizeof(struct ct_flow6),
				      RTE_CACHE_LINE_SIZE, socket_id);
		ct->meta6 =
		    rte_malloc_socket("el_ct_meta6", (size_t)max_flows * sizeof(struct ct_meta6),
				      RTE_CACHE_LINE_SIZE, socket_id);
		ct->bytes6 = heap_allocated() - before;
		if (ct->h6 == NULL || ct->flows6 == NULL || ct->meta6 == NULL)
			goto nomem;
		ct->cap6 = max_flows;
		for (uint32_t i = 0; i < max_flows; i++) {
			ct->flows6[i].flags = 0;
			ct->meta6[i].next_free = i + 1 < max_flows ? i + 1 : CT_NONE;
		}
		ct->free_head6 = 0;
	}

	if (max_affinity > 0) {
		uint32_t n = max_affinity < 64 ? 64 : max_affinity;
		ct->aff_h6 = hash_new("aff6", n, sizeof(struct aff_key6), CT_HASH_SEED6, socket_id);
		ct->aff6 =
		    rte_zmalloc_socket("el_aff6", (size_t)max_affinity * sizeof(struct ct_aff6),
				       RTE_CACHE_LINE_SIZE, socket_id);
		if (ct->aff_h6 == NULL || ct->aff6 == NULL)
			goto nomem;
		ct->aff_cap6 = max_affinity;
		for (uint32_t i = 0; i < max_affinity; i++)
			ct->aff6[i].next_free = i + 1 < max_affinity ? i + 1 : CT_NONE;
		ct->aff_free_head6 = 0;
	}
	return 0;

nomem:
	conntrack_free6(ct);
	ct->bytes6 = 0;
	return -ENOMEM;
}

int
conntrack_lookup6(const struct conntrack *ct, const struct ct_key6 *key, uint32_t *val)
{
	void *data;
	if (ct->h6 == NULL || rte_hash_lookup_data(ct->h6, key, &data) < 0)
		return -ENOENT;
	*val = (uint32_t)(uintptr_t)data;
	return 0;
}

bool
conntrack_reply_in_use6(const struct conntrack *ct, const uint8_t backend[16],
			const uint8_t snat[16], uint16_t bport, uint16_t lport, uint8_t proto)
{
	struct ct_key6 k;
	uint32_t sig = conntrack_key6_set(&k, backend, snat, bport, lport, proto);
	return ct->h6 != NULL && rte_hash_lookup_with_hash(ct->h6, &k, sig) >= 0;
}

int
conntrack_add6(struct conntrack *ct, const struct ct_flow6 *f, const struct ct_meta6 *meta,
	       uint32_t *idx)
{
	struct ct_key6 ck, rk;

	if (ct->h6 == NULL || ct->free_head6 == CT_NONE)
		return -ENOSPC;
	conntrack_client_key6(f, &ck);
	conntrack_reply_key6(f, &rk);
	if (memcmp(&ck, &rk, sizeof(ck)) == 0)
		return -EEXIST;
	uint32_t sc = conntrack_hash6(&ck), sr = conntrack_hash6(&rk);

	/* rte_hash_add replaces the data of an existing key: never let it */
	if (rte_hash_lookup_with_hash(ct->h6, &ck, sc) >= 0 ||
	    rte_hash_lookup_with_hash(ct->h6, &rk, sr) >= 0)
		return -EEXIST;

	uint32_t i = ct->free_head6;
	if (rte_hash_add_key_with_hash_data(ct->h6, &ck, sc,
					    (void *)(uintptr_t)(i << 1 | CT_DIR_CLIENT)) < 0)
		return -ENOSPC;
	if (rte_hash_add_key_with_hash_data(ct->h6, &rk, sr,
					    (void *)(uintptr_t)(i << 1 | CT_DIR_REPLY)) < 0) {
		rte_hash_del_key_with_hash(ct->h6, &ck, sc);
		return -ENOSPC;
	}

	struct ct_flow6 *e = &ct->flows6[i];
	ct->free_head6 = ct->meta6[i].next_free;
	*e = *f;
	e->flags = CT_F_USED;
	ct->meta6[i] = *meta;
	ct->used6++;
	*idx = i;
	return 0;
}

void
conntrack_del6(struct conntrack *ct, uint32_t idx)
{
	if (idx >= ct->cap6)
		return;
	struct ct_flow6 *e = &ct->flows6[idx];
	struct ct_key6 k;

	if (!(e->flags & CT_F_USED))
		return;
	conntrack_client_key6(e, &k);
	rte_hash_del_key_with_hash(ct->h6, &k, conntrack_hash6(&k));
	conntrack_reply_key6(e, &k);
	rte_hash_del_key_with_hash(ct->h6, &k, conntrack_hash6(&k));
	e->flags = 0;
	ct->meta6[idx].next_free = ct->free_head6;
	ct->free_head6 = idx;
	ct->used6--;
}

uint32_t
conntrack_count6(const struct conntrack *ct)
{
	return ct->used6;
}

uint32_t
conntrack_capacity6(const struct conntrack *ct)
{
	return ct->cap6;
}

unsigned
conntrack_sweep6(struct conntrack *ct, unsigned budget, const uint32_t *timeout_ms, uint32_t now32,
		 conntrack_pick6_fn extra, conntrack_gone6_fn gone, void *ctx)
{
	uint32_t victim[CT_SWEEP_MAX];
	bool idle[CT_SWEEP_MAX];
	unsigned n = 0;
	uint32_t pos = ct->sweep_pos6;

	if (ct->cap6 == 0)
		return 0;
	if (budget > CT_SWEEP_MAX)
		budget = CT_SWEEP_MAX;
	for (unsigned i = 0; i < budget; i++) {
		const struct ct_flow6 *e = &ct->flows6[pos];
		if (e->flags & CT_F_USED) {
			uint8_t st = e->tcp.state < EL_CT_NSTATES ? e->tcp.state : EL_CT_NONE;
			bool is_idle = now32 - e->last_ms >= timeout_ms[st];
			if (is_idle || (extra != NULL && extra(ctx, e, &ct->meta6[pos]))) {
				victim[n] = pos;
				idle[n] = is_idle;
				n++;
			}
		}
		pos = pos + 1 == ct->cap6 ? 0 : pos + 1;
	}
	ct->sweep_pos6 = pos;
	ct->swept6 += budget;

	if (n > 1 && ct->cap6 >= CT_SWEEP_WARM_MIN) {
		struct ct_key6 keys[2 * CT_SWEEP_MAX];
		const struct ct_key6 *kp[RTE_HASH_LOOKUP_BULK_MAX];
		int32_t posn[RTE_HASH_LOOKUP_BULK_MAX];
		unsigned nk = 0;
		for (unsigned i = 0; i < n; i++) {
			conntrack_client_key6(&ct->flows6[victim[i]], &keys[nk++]);
			conntrack_reply_key6(&ct->flows6[victim[i]], &keys[nk++]);
		}
		for (unsigned off = 0; off < nk; off += RTE_HASH_LOOKUP_BULK_MAX) {
			unsigned c = nk - off < RTE_HASH_LOOKUP_BULK_MAX ? nk - off
									 : RTE_HASH_LOOKUP_BULK_MAX;
			for (unsigned i = 0; i < c; i++)
				kp[i] = &keys[off + i];
			rte_hash_lookup_bulk(ct->h6, (const void **)kp, c, posn);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		gone(ctx, &ct->flows6[victim[i]], &ct->meta6[victim[i]], idle[i]);
		conntrack_del6(ct, victim[i]);
	}
	return n;
}

uint64_t
conntrack_swept6(const struct conntrack *ct)
{
	return ct->swept6;
}

size_t
conntrack_bytes_per_flow6(const struct conntrack *ct)
{
	return ct->cap6 ? ct->bytes6 / ct->cap6 : 0;
}

static inline bool
aff6_expired(const struct ct_aff6 *e, uint64_t now_ms)
{
	return (uint32_t)now_ms - e->last_ms >= e->timeout_ms;
}

static inline void
aff6_key(struct aff_key6 *k, const uint8_t client[16], uint32_t svc_id)
{
	memcpy(k->client, client, 16);
	k->svc_id = svc_id;
}

static void
aff6_free(struct conntrack *ct, uint32_t i)
{
	struct ct_aff6 *e = &ct->aff6[i];
	struct aff_key6 k;
	aff6_key(&k, e->client, e->svc_id);
	rte_hash_del_key(ct->aff_h6, &k);
	e->used = 0;
	e->next_free = ct->aff_free_head6;
	ct->aff_free_head6 = i;
	ct->aff_used6--;
}

int
conntrack_aff_lookup6(struct conntrack *ct, const uint8_t client[16], uint32_t svc_id,
		      uint64_t now_ms, uint32_t *backend_id)
{
	struct aff_key6 k;
	void *data;

	if (ct->aff_h6 == NULL)
		return -ENOENT;
	aff6_key(&k, client, svc_id);
	if (rte_hash_lookup_data(ct->aff_h6, &k, &data) < 0)
		return -ENOENT;
	uint32_t i = (uint32_t)(uintptr_t)data;
	if (aff6_expired(&ct->aff6[i], now_ms)) {
		aff6_free(ct, i);
		return -ENOENT;
	}
	*backend_id = ct->aff6[i].backend_id;
	return 0;
}

int
conntrack_aff_update6(struct conntrack *ct, const uint8_t client[16], uint32_t svc_id,
		      uint32_t backend_id, uint32_t timeout_ms, uint64_t now_ms)
{
	struct aff_key6 k;
	void *data;
	uint32_t i;

	if (ct->aff_h6 == NULL)
		return -ENOSPC;
	aff6_key(&k, client, svc_id);
	if (rte_hash_lookup_data(ct->aff_h6, &k, &data) >= 0) {
		i = (uint32_t)(uintptr_t)data;
	} else {
		i = ct->aff_free_head6;
		if (i == CT_NONE)
			return -ENOSPC;
		if (rte_hash_add_key_data(ct->aff_h6, &k, (void *)(uintptr_t)i) < 0)
			return -ENOSPC;
		ct->aff_free_head6 = ct->aff6[i].next_free;
		ct->aff_used6++;
	}
	struct ct_aff6 *e = &ct->aff6[i];
	memcpy(e->client, client, 16);
	e->svc_id = svc_id;
	e->backend_id = backend_id;
	e->last_ms = (uint32_t)now_ms;
	e->timeout_ms = timeout_ms;
	e->next_free = CT_NONE;
	e->used = 1;
	return 0;
}

void
conntrack_aff_del6(struct conntrack *ct, const uint8_t client[16], uint32_t svc_id)
{
	struct aff_key6 k;
	void *data;

	if (ct->aff_h6 == NULL)
		return;
	aff6_key(&k, client, svc_id);
	if (rte_hash_lookup_data(ct->aff_h6, &k, &data) >= 0)
		aff6_free(ct, (uint32_t)(uintptr_t)data);
}

unsigned
conntrack_aff_sweep6(struct conntrack *ct, unsigned budget, uint64_t now_ms)
{
	unsigned freed = 0;

	if (ct->aff_cap6 == 0 || ct->aff_used6 == 0)
		return 0;
	uint32_t pos = ct->aff_sweep_pos6;
	for (unsigned i = 0; i < budget; i++) {
		struct ct_aff6 *e = &ct->aff6[pos];
		if (e->used && aff6_expired(e, now_ms)) {
			aff6_free(ct, pos);
			freed++;
		}
		pos = pos + 1 == ct->aff_cap6 ? 0 : pos + 1;
	}
	ct->aff_sweep_pos6 = pos;
	return freed;
}

uint32_t
conntrack_aff_count6(const struct conntrack *ct)
{
	return ct->aff_used6;
}
