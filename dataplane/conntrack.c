/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Per-worker connection and affinity tables. Flows: a flow index (flowtab.h)
 * from packet 5-tuples to entries of preallocated arrays, every flow keyed
 * twice (client and reply direction) and each candidate checked against the
 * entry's own 5-tuples. Affinity: rte_hash (one writer) from (client,
 * service). Expiry is an incremental sweep, never a timer. See conntrack.h.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <rte_errno.h>
#include <rte_hash.h>
#include <rte_hash_crc.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_memory.h>

#include "bytes.h"
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
_Static_assert(sizeof(struct ct_meta) == 12, "flow entry grew");
_Static_assert(sizeof(struct ct_key6) == 40, "key layout");
_Static_assert(sizeof(struct ct_flow6) == 80, "flow entry grew");
_Static_assert(sizeof(struct ct_meta) == 12, "flow entry grew");

/* The key checks below read a key's words straight from the flow entry. */
_Static_assert(offsetof(struct ct_flow4, frontend) == 4 &&
		   offsetof(struct ct_flow4, backend) == 8 &&
		   offsetof(struct ct_flow4, snat) == 12 &&
		   offsetof(struct ct_flow4, cport) == 16 &&
		   offsetof(struct ct_flow4, fport) == 18 &&
		   offsetof(struct ct_flow4, bport) == 20 && offsetof(struct ct_flow4, sport) == 22,
	       "struct ct_flow4 is in key order");
_Static_assert(offsetof(struct ct_key4, sport) == 8 && offsetof(struct ct_key4, proto) == 12,
	       "key layout");
_Static_assert(offsetof(struct ct_flow6, frontend) == 16 &&
		   offsetof(struct ct_flow6, backend) == 32 &&
		   offsetof(struct ct_flow6, snat) == 48 &&
		   offsetof(struct ct_flow6, cport) == 64 &&
		   offsetof(struct ct_flow6, bport) == 68 && offsetof(struct ct_flow6, sport) == 70,
	       "struct ct_flow6 is in key order");
_Static_assert(offsetof(struct ct_key6, sport) == 32 && offsetof(struct ct_key6, proto) == 36,
	       "key layout");

/* Is flow value @p v (idx << 1 | dir) the flow of key @p key in that
 * direction? The client key is the entry's words 0-1 and ports 16-19, the
 * reply key words 2-3 and ports 20-23. */
static inline bool
ct_eq4(const void *ctx, uint32_t v, const void *key)
{
	const struct conntrack *ct = ctx;
	const uint8_t *f = (const uint8_t *)&ct->flows4[v >> 1];
	const uint8_t *k = key;
	unsigned d = v & 1;
	return ((bytes_rd64(f + 8 * d) ^ bytes_rd64(k)) |
		(uint64_t)(bytes_rd32(f + 16 + 4 * d) ^ bytes_rd32(k + 8)) |
		(uint64_t)(ct->flows4[v >> 1].proto ^ ((const struct ct_key4 *)key)->proto)) == 0;
}

/* ct_eq4() for IPv6: addresses at 32 * dir, ports at 64 + 4 * dir. */
static inline bool
ct_eq6(const void *ctx, uint32_t v, const void *key)
{
	const struct conntrack *ct = ctx;
	const uint8_t *f = (const uint8_t *)&ct->flows6[v >> 1];
	const uint8_t *k = key;
	const uint8_t *a = f + 32 * (v & 1);
	return ((bytes_rd64(a) ^ bytes_rd64(k)) | (bytes_rd64(a + 8) ^ bytes_rd64(k + 8)) |
		(bytes_rd64(a + 16) ^ bytes_rd64(k + 16)) |
		(bytes_rd64(a + 24) ^ bytes_rd64(k + 24)) |
		(uint64_t)(bytes_rd32(f + 64 + 4 * (v & 1)) ^ bytes_rd32(k + 32)) |
		(uint64_t)(ct->flows6[v >> 1].proto ^ ((const struct ct_key6 *)key)->proto)) == 0;
}

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
	flowtab_free(&ct->t4);
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
	/* Two keys per flow; the index keeps its buckets at most half full,
	 * so an insert practically never finds both of its buckets full. If
	 * one does, that new flow is refused and counted as flow_table_full,
	 * like any flow past max_flows, and no live flow is ever evicted. */
	int rc = flowtab_init(&ct->t4, 2 * max_flows, socket_id);
	ct->flows4 = rte_malloc_socket("el_ct_flows4", (size_t)max_flows * sizeof(struct ct_flow4),
				       RTE_CACHE_LINE_SIZE, socket_id);
	ct->meta4 = rte_malloc_socket("el_ct_meta4", (size_t)max_flows * sizeof(struct ct_meta),
				      RTE_CACHE_LINE_SIZE, socket_id);
	ct->bytes = heap_allocated() - before;
	if (rc != 0 || ct->flows4 == NULL || ct->meta4 == NULL)
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
	uint32_t sigs[64];

	if (n > 64)
		n = 64;
	for (unsigned i = 0; i < n; i++)
		sigs[i] = conntrack_hash4(keys[i]);
	conntrack_lookup4_bulk_sig(ct, keys, sigs, n, hit, val);
}

/*
 * Bulk lookup in three passes, so the cache misses of a burst overlap
 * instead of queueing: load every first bucket; take each key's first
 * candidate and load its flow entry (@p flows, entries of @p flow_size
 * bytes); check the candidates (a wrong or missing one goes through the
 * full lookup, which also reads the second bucket when the first has
 * spilled). Inlined into each family's function with its own @p eq.
 */
static inline __attribute__((always_inline)) void
ct_bulk(const struct conntrack *ct, const struct flowtab *t, flowtab_eq_fn eq, const void *flows,
	size_t flow_size, const void *const *keys, const uint32_t *sigs, unsigned n, uint64_t *hit,
	uint32_t *val)
{
	uint32_t cand[64];
	uint64_t have = 0, h = 0;

	if (n > 64)
		n = 64;
	for (unsigned i = 0; i < n; i++)
		flowtab_prefetch(t, sigs[i]);
	for (unsigned i = 0; i < n; i++) {
		const struct flowtab_bucket *b = &t->b[flowtab_first(t, sigs[i])];
		unsigned m = flowtab_match(b, flowtab_sig(sigs[i]));
		if (m != 0) {
			cand[i] = b->val[__builtin_ctz(m)];
			have |= 1ull << i;
			const uint8_t *f =
			    (const uint8_t *)flows + (size_t)(cand[i] >> 1) * flow_size;
			rte_prefetch0(f);
			if (flow_size > RTE_CACHE_LINE_SIZE / 2)
				rte_prefetch0(f + flow_size - 1);
		}
	}
	for (unsigned i = 0; i < n; i++) {
		if (((have >> i) & 1) && eq(ct, cand[i], keys[i])) {
			val[i] = cand[i];
			h |= 1ull << i;
		} else if (flowtab_lookup(t, sigs[i], eq, ct, keys[i], &val[i]) == 0) {
			h |= 1ull << i;
		}
	}
	*hit = h;
}

void
conntrack_lookup4_bulk_sig(const struct conntrack *ct, const struct ct_key4 **keys,
			   const uint32_t *sigs, unsigned n, uint64_t *hit, uint32_t *val)
{
	ct_bulk(ct, &ct->t4, ct_eq4, ct->flows4, sizeof(struct ct_flow4), (const void *const *)keys,
		sigs, n, hit, val);
}

int
conntrack_lookup4(const struct conntrack *ct, const struct ct_key4 *key, uint32_t *val)
{
	return flowtab_lookup(&ct->t4, conntrack_hash4(key), ct_eq4, ct, key, val);
}

bool
conntrack_reply_in_use4(const struct conntrack *ct, uint32_t backend, uint32_t snat, uint16_t bport,
			uint16_t lport, uint8_t proto)
{
	struct ct_key4 k;
	uint32_t v;
	uint32_t h = conntrack_key4_set(&k, backend, snat, bport, lport, proto);
	return flowtab_lookup(&ct->t4, h, ct_eq4, ct, &k, &v) == 0;
}

int
conntrack_add4(struct conntrack *ct, const struct ct_flow4 *f, const struct ct_meta *meta,
	       unsigned flags, uint32_t *idx)
{
	struct ct_key4 ck, rk;

	conntrack_client_key4(f, &ck);
	conntrack_reply_key4(f, &rk);
	return conntrack_add4_sig(ct, f, meta, flags, conntrack_hash4(&ck), conntrack_hash4(&rk),
				  idx);
}

int
conntrack_add4_sig(struct conntrack *ct, const struct ct_flow4 *f, const struct ct_meta *meta,
		   unsigned flags, uint32_t sc, uint32_t sr, uint32_t *idx)
{
	struct ct_key4 ck, rk;

	if (ct->free_head == CT_NONE)
		return -ENOSPC;
	conntrack_client_key4(f, &ck);
	conntrack_reply_key4(f, &rk);
	if (memcmp(&ck, &rk, sizeof(ck)) == 0)
		return -EEXIST;

	/* the index does not look for an equal key: a key must never be
	 * in it twice */
	uint32_t v;
	if (!(flags & CT_ADD_KEYS_CHECKED) &&
	    (flowtab_lookup(&ct->t4, sc, ct_eq4, ct, &ck, &v) == 0 ||
	     flowtab_lookup(&ct->t4, sr, ct_eq4, ct, &rk, &v) == 0))
		return -EEXIST;

	uint32_t i = ct->free_head;
	if (flowtab_add(&ct->t4, sc, i << 1 | CT_DIR_CLIENT) != 0)
		return -ENOSPC;
	if (flowtab_add(&ct->t4, sr, i << 1 | CT_DIR_REPLY) != 0) {
		flowtab_del(&ct->t4, sc, i << 1 | CT_DIR_CLIENT);
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
	flowtab_del(&ct->t4, conntrack_hash4(&k), idx << 1 | CT_DIR_CLIENT);
	conntrack_reply_key4(e, &k);
	flowtab_del(&ct->t4, conntrack_hash4(&k), idx << 1 | CT_DIR_REPLY);
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

/* What a sweep reads of a flow entry: the last bytes of both families'
 * entries, these fields in this order (checked below). */
struct ct_tail {
	uint32_t last_ms;
	uint8_t proto;
	uint8_t flags;
	struct tcp_state_track tcp;
};

#define CT_TAIL_OF(type)                                                                           \
	(offsetof(type, last_ms) + sizeof(struct ct_tail) == sizeof(type) &&                       \
	 offsetof(type, proto) - offsetof(type, last_ms) == offsetof(struct ct_tail, proto) &&     \
	 offsetof(type, flags) - offsetof(type, last_ms) == offsetof(struct ct_tail, flags) &&     \
	 offsetof(type, tcp) - offsetof(type, last_ms) == offsetof(struct ct_tail, tcp))
_Static_assert(CT_TAIL_OF(struct ct_flow4) && CT_TAIL_OF(struct ct_flow6), "flow entry tail");

/* The sweep's slot walk, for either family: visit @p budget slots (at most
 * CT_SWEEP_MAX) of the @p cap entries of @p size bytes at @p flows from
 * *@p pos, wrapping, and note the used flows idle past their state's
 * timeout, or that @p pick (when not NULL) chooses by index, in @p victim
 * and @p idle. Moves *@p pos and *@p swept. @return the victims. */
static inline unsigned
ct_sweep_scan(const void *flows, size_t size, uint32_t cap, uint32_t used, uint32_t *pos,
	      uint64_t *swept, unsigned budget, const uint32_t *timeout_ms, uint32_t now32,
	      bool (*pick)(const void *arg, uint32_t idx), const void *arg, uint32_t *victim,
	      bool *idle)
{
	const size_t tail = size - sizeof(struct ct_tail);
	uint32_t p = *pos;
	unsigned n = 0;

	if (budget > CT_SWEEP_MAX)
		budget = CT_SWEEP_MAX;
	*swept += budget;
	if (used == 0) { /* nothing to visit: only the position moves */
		*pos = (uint32_t)(((uint64_t)p + budget) % cap);
		return 0;
	}
	for (unsigned i = 0; i < budget; i++) {
		struct ct_tail e; /* copied: read as bytes, whatever the entry's type */
		memcpy(&e, (const uint8_t *)flows + (size_t)p * size + tail, sizeof(e));
		if (e.flags & CT_F_USED) {
			uint8_t st = e.tcp.state < EL_CT_NSTATES ? e.tcp.state : EL_CT_NONE;
			bool is_idle = now32 - e.last_ms >= timeout_ms[st];
			if (is_idle || (pick != NULL && pick(arg, p))) {
				victim[n] = p;
				idle[n] = is_idle;
				n++;
			}
		}
		p = p + 1 == cap ? 0 : p + 1;
	}
	*pos = p;
	return n;
}

/* Tables past this many flows live mostly outside the cache: a sweep loads
 * the buckets of its victims' keys first, so the deletes that follow do not
 * each wait for their buckets in turn. */
#define CT_SWEEP_WARM_MIN 32768

struct ct_pick4 {
	const struct conntrack *ct;
	conntrack_pick_fn extra;
	void *ctx;
};

static bool
ct_pick4(const void *arg, uint32_t idx)
{
	const struct ct_pick4 *p = arg;
	return p->extra(p->ctx, &p->ct->flows4[idx], &p->ct->meta4[idx]);
}

unsigned
conntrack_sweep4(struct conntrack *ct, unsigned budget, const uint32_t *timeout_ms, uint32_t now32,
		 conntrack_pick_fn extra, conntrack_gone_fn gone, void *ctx)
{
	uint32_t victim[CT_SWEEP_MAX];
	bool idle[CT_SWEEP_MAX];
	struct ct_pick4 pk = {.ct = ct, .extra = extra, .ctx = ctx};
	unsigned n = ct_sweep_scan(ct->flows4, sizeof(*ct->flows4), ct->cap, ct->used,
				   &ct->sweep_pos, &ct->swept, budget, timeout_ms, now32,
				   extra != NULL ? ct_pick4 : NULL, &pk, victim, idle);

	if (n > 1 && ct->cap >= CT_SWEEP_WARM_MIN) {
		for (unsigned i = 0; i < n; i++) {
			struct ct_key4 k;
			conntrack_client_key4(&ct->flows4[victim[i]], &k);
			flowtab_prefetch(&ct->t4, conntrack_hash4(&k));
			conntrack_reply_key4(&ct->flows4[victim[i]], &k);
			flowtab_prefetch(&ct->t4, conntrack_hash4(&k));
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
	flowtab_free(&ct->t6);
	rte_hash_free(ct->aff_h6);
	rte_free(ct->flows6);
	rte_free(ct->meta6);
	rte_free(ct->aff6);
	ct->aff_h6 = NULL;
	ct->flows6 = NULL;
	ct->meta6 = NULL;
	ct->aff6 = NULL;
	ct->cap6 = ct->aff_cap6 = 0;
	ct->free_head6 = ct->aff_free_head6 = CT_NONE;
}

int
conntrack_enable6(struct conntrack *ct, uint32_t max_flows, uint32_t max_affinity, int socket_id)
{
	if (ct == NULL || max_flows > (1u << 29) || ct->t6.b != NULL || ct->aff_h6 != NULL)
		return -EINVAL;
	ct->free_head6 = CT_NONE;
	ct->aff_free_head6 = CT_NONE;

	if (max_flows > 0) {
		size_t before = heap_allocated();
		/* two keys per flow: see conntrack_create() */
		int rc = flowtab_init(&ct->t6, 2 * max_flows, socket_id);
		ct->flows6 =
		    rte_malloc_socket("el_ct_flows6", (size_t)max_flows * sizeof(struct ct_flow6),
				      RTE_CACHE_LINE_SIZE, socket_id);
		ct->meta6 =
		    rte_malloc_socket("el_ct_meta6", (size_t)max_flows * sizeof(struct ct_meta),
				      RTE_CACHE_LINE_SIZE, socket_id);
		ct->bytes6 = heap_allocated() - before;
		if (rc != 0 || ct->flows6 == NULL || ct->meta6 == NULL)
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
	if (ct->t6.b == NULL)
		return -ENOENT;
	return flowtab_lookup(&ct->t6, conntrack_hash6(key), ct_eq6, ct, key, val);
}

void
conntrack_lookup6_bulk_sig(const struct conntrack *ct, const struct ct_key6 **keys,
			   const uint32_t *sigs, unsigned n, uint64_t *hit, uint32_t *val)
{
	*hit = 0;
	if (ct->t6.b != NULL)
		ct_bulk(ct, &ct->t6, ct_eq6, ct->flows6, sizeof(struct ct_flow6),
			(const void *const *)keys, sigs, n, hit, val);
}

bool
conntrack_reply_in_use6(const struct conntrack *ct, const uint8_t backend[16],
			const uint8_t snat[16], uint16_t bport, uint16_t lport, uint8_t proto)
{
	struct ct_key6 k;
	uint32_t v;
	uint32_t sig = conntrack_key6_set(&k, backend, snat, bport, lport, proto);
	return ct->t6.b != NULL && flowtab_lookup(&ct->t6, sig, ct_eq6, ct, &k, &v) == 0;
}

int
conntrack_add6(struct conntrack *ct, const struct ct_flow6 *f, const struct ct_meta *meta,
	       uint32_t *idx)
{
	struct ct_key6 ck, rk;

	if (ct->t6.b == NULL || ct->free_head6 == CT_NONE)
		return -ENOSPC;
	conntrack_client_key6(f, &ck);
	conntrack_reply_key6(f, &rk);
	if (memcmp(&ck, &rk, sizeof(ck)) == 0)
		return -EEXIST;
	uint32_t sc = conntrack_hash6(&ck), sr = conntrack_hash6(&rk);

	/* a key must never be in the index twice */
	uint32_t v;
	if (flowtab_lookup(&ct->t6, sc, ct_eq6, ct, &ck, &v) == 0 ||
	    flowtab_lookup(&ct->t6, sr, ct_eq6, ct, &rk, &v) == 0)
		return -EEXIST;

	uint32_t i = ct->free_head6;
	if (flowtab_add(&ct->t6, sc, i << 1 | CT_DIR_CLIENT) != 0)
		return -ENOSPC;
	if (flowtab_add(&ct->t6, sr, i << 1 | CT_DIR_REPLY) != 0) {
		flowtab_del(&ct->t6, sc, i << 1 | CT_DIR_CLIENT);
		return -ENOSPC;
	}

	struct ct_flow6 *e = &ct->flows6[i];
	ct->gen6++;
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
	flowtab_del(&ct->t6, conntrack_hash6(&k), idx << 1 | CT_DIR_CLIENT);
	conntrack_reply_key6(e, &k);
	flowtab_del(&ct->t6, conntrack_hash6(&k), idx << 1 | CT_DIR_REPLY);
	ct->gen6++;
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

struct ct_pick6 {
	const struct conntrack *ct;
	conntrack_pick6_fn extra;
	void *ctx;
};

static bool
ct_pick6(const void *arg, uint32_t idx)
{
	const struct ct_pick6 *p = arg;
	return p->extra(p->ctx, &p->ct->flows6[idx], &p->ct->meta6[idx]);
}

unsigned
conntrack_sweep6(struct conntrack *ct, unsigned budget, const uint32_t *timeout_ms, uint32_t now32,
		 conntrack_pick6_fn extra, conntrack_gone6_fn gone, void *ctx)
{
	uint32_t victim[CT_SWEEP_MAX];
	bool idle[CT_SWEEP_MAX];
	struct ct_pick6 pk = {.ct = ct, .extra = extra, .ctx = ctx};

	if (ct->cap6 == 0)
		return 0;
	unsigned n = ct_sweep_scan(ct->flows6, sizeof(*ct->flows6), ct->cap6, ct->used6,
				   &ct->sweep_pos6, &ct->swept6, budget, timeout_ms, now32,
				   extra != NULL ? ct_pick6 : NULL, &pk, victim, idle);

	if (n > 1 && ct->cap6 >= CT_SWEEP_WARM_MIN) {
		for (unsigned i = 0; i < n; i++) {
			struct ct_key6 k;
			conntrack_client_key6(&ct->flows6[victim[i]], &k);
			flowtab_prefetch(&ct->t6, conntrack_hash6(&k));
			conntrack_reply_key6(&ct->flows6[victim[i]], &k);
			flowtab_prefetch(&ct->t6, conntrack_hash6(&k));
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
