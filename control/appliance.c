/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The appliance around the workers: DPDK ports and queues, the mbuf pool,
 * one poll loop per worker lcore, and the first snapshot. The poll loop is
 * the usual DPDK run-to-completion shape: receive a burst per port, hand it
 * to the worker, do housekeeping, report quiescent; back off with a sleep
 * (offline for RCU) only when idle_sleep_us asks for it.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <rte_bus.h>
#include <rte_cycles.h>
#include <rte_dev.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_malloc.h>
#include <rte_mbuf.h>
#include <rte_rcu_qsbr.h>

#include "appliance.h"
#include "stats.h"

/* Pending packets a worker may hold while next hops resolve, as planned for
 * in the pool size. */
#define APPLIANCE_PENDING_PER_WORKER 2048
#define APPLIANCE_POOL_CACHE	     256

/*
 * The Toeplitz key programmed on RSS-capable ports: the key of Microsoft's
 * RSS verification suite, which most NIC drivers use by default, so hashes
 * can be checked against published vectors. 52 bytes cover NICs with the
 * longer key; a port with a 40-byte key takes the first 40.
 */
static const uint8_t appliance_rss_key[52] = {
    0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43,
    0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb,
    0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01,
    0xfa, 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d,
};

static void __attribute__((format(printf, 3, 4)))
appliance_err(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	if (err == NULL || len == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
}

/* ---- snapshot memory ---- */

static void *
appliance_snap_zalloc(size_t size)
{
	return rte_zmalloc("el_snapshot", size, RTE_CACHE_LINE_SIZE);
}

static void
appliance_snap_free(void *p)
{
	rte_free(p);
}

static const struct snapshot_mem_ops appliance_snap_mem = {
    .zalloc = appliance_snap_zalloc,
    .free = appliance_snap_free,
};

/* ---- ports ---- */

static bool
appliance_hex_run(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isxdigit((unsigned char)s[i]))
			return false;
	return true;
}

/* "DDDD:BB:DD.F" or "BB:DD.F": a PCI address. Written into @p full with the
 * domain, as EAL names PCI ports. */
static bool
appliance_pci_name(const char *dev, char *full, size_t len)
{
	size_t n = strlen(dev);
	const char *p = dev;

	if (n == 12 && appliance_hex_run(p, 4) && p[4] == ':')
		p += 5;
	else if (n != 7)
		return false;
	if (!(appliance_hex_run(p, 2) && p[2] == ':' && appliance_hex_run(p + 3, 2) &&
	      p[5] == '.' && p[6] >= '0' && p[6] <= '7'))
		return false;
	snprintf(full, len, "%s%s", n == 7 ? "0000:" : "", dev);
	return true;
}

/* Find (or probe) the DPDK port of one interface. */
static int
appliance_port_find(const struct el_cfg_iface *ifc, uint16_t *port_id, char *err, size_t errlen)
{
	char name[EL_CFG_DEVICE_MAX];
	int rc;

	if (appliance_pci_name(ifc->device, name, sizeof(name))) {
		if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
			return 0;
		appliance_err(err, errlen,
			      "interface %s: PCI device %s has no DPDK port (bound to a DPDK "
			      "driver? not excluded by --no-pci or a block list?)",
			      ifc->name, name);
		return -ENODEV;
	}

	/* A vdev spec: the port is named as the device, before the first ','. */
	snprintf(name, sizeof(name), "%s", ifc->device);
	name[strcspn(name, ",")] = '\0';
	if (name[0] == '\0') {
		appliance_err(err, errlen, "interface %s: empty device name", ifc->name);
		return -EINVAL;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) == 0)
		return 0; /* given as --vdev in the EAL arguments */
	rc = rte_dev_probe(ifc->device);
	if (rc < 0) {
		appliance_err(err, errlen,
			      "interface %s: cannot probe vdev \"%s\" (%d; see the driver's "
			      "message above)",
			      ifc->name, ifc->device, rc);
		return rc;
	}
	if (rte_eth_dev_get_port_by_name(name, port_id) != 0) {
		appliance_err(err, errlen, "interface %s: vdev \"%s\" probed but is no ethdev",
			      ifc->name, ifc->device);
		return -ENODEV;
	}
	return 0;
}

/* Decide queue counts and RSS for a found port. */
static int
appliance_port_plan(struct appliance *a, unsigned i, char *err, size_t errlen)
{
	const struct el_cfg_iface *ifc = &a->cfg->ifaces[i];
	struct appliance_port *p = &a->ports[i];
	struct rte_eth_dev_info info;
	unsigned nrxq;
	int rc;

	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0) {
		appliance_err(err, errlen, "interface %s: device info: %s", ifc->name,
			      strerror(-rc));
		return rc;
	}
	snprintf(p->driver, sizeof(p->driver), "%s", info.driver_name);

	nrxq = ifc->rx_queues ? ifc->rx_queues : a->n_workers;
	if (nrxq > a->n_workers)
		nrxq = a->n_workers; /* a queue nobody polls would lose packets */
	if (nrxq > info.max_rx_queues)
		nrxq = info.max_rx_queues;
	if (nrxq == 0) {
		appliance_err(err, errlen, "interface %s: device has no RX queue", ifc->name);
		return -EINVAL;
	}
	if (a->n_workers > info.max_tx_queues) {
		appliance_err(
		    err, errlen, "interface %s: %u workers need %u TX queues, device %s has %u",
		    ifc->name, a->n_workers, a->n_workers, info.driver_name, info.max_tx_queues);
		return -EINVAL;
	}
	p->n_rxq = (uint16_t)nrxq;
	p->n_txq = (uint16_t)a->n_workers;
	return 0;
}

static void
appliance_port_read_rss(struct appliance_port *p, const struct rte_eth_dev_info *info,
			unsigned key_len)
{
	struct rte_eth_rss_reta_entry64 reta[512 / RTE_ETH_RETA_GROUP_SIZE];
	unsigned size = info->reta_size;

	memset(&p->rss, 0, sizeof(p->rss));
	if (size == 0 || size > 512 || (size & (size - 1)) != 0)
		return;
	memset(reta, 0, sizeof(reta));
	for (unsigned g = 0; g < size / RTE_ETH_RETA_GROUP_SIZE; g++)
		reta[g].mask = UINT64_MAX;
	if (rte_eth_dev_rss_reta_query(p->port_id, reta, (uint16_t)size) != 0)
		return;
	for (unsigned e = 0; e < size; e++)
		p->rss.reta[e] =
		    reta[e / RTE_ETH_RETA_GROUP_SIZE].reta[e % RTE_ETH_RETA_GROUP_SIZE];
	memcpy(p->rss.key, appliance_rss_key, key_len);
	p->rss.key_len = key_len;
	p->rss.reta_size = size;
	p->rss.enabled = 1;
}

static int
appliance_port_setup(struct appliance *a, unsigned i, char *err, size_t errlen)
{
	const struct el_cfg_iface *ifc = &a->cfg->ifaces[i];
	struct appliance_port *p = &a->ports[i];
	struct rte_eth_conf conf;
	struct rte_eth_dev_info info;
	struct rte_ether_addr mac;
	uint16_t nb_rxd = APPLIANCE_RX_DESC, nb_txd = APPLIANCE_TX_DESC;
	unsigned key_len = 0;
	int socket = rte_eth_dev_socket_id(p->port_id);
	int rc;

	if (socket < 0)
		socket = (int)rte_socket_id();
	rc = rte_eth_dev_info_get(p->port_id, &info);
	if (rc != 0)
		goto fail;

	memset(&conf, 0, sizeof(conf));
	if (p->n_rxq > 1 && info.flow_type_rss_offloads != 0) {
		key_len = info.hash_key_size ? info.hash_key_size : 40;
		if (key_len > sizeof(appliance_rss_key))
			key_len = sizeof(appliance_rss_key);
		conf.rxmode.mq_mode = RTE_ETH_MQ_RX_RSS;
		conf.rx_adv_conf.rss_conf.rss_key = (uint8_t *)(uintptr_t)appliance_rss_key;
		conf.rx_adv_conf.rss_conf.rss_key_len = (uint8_t)key_len;
		conf.rx_adv_conf.rss_conf.rss_hf =
		    (RTE_ETH_RSS_IP | RTE_ETH_RSS_TCP | RTE_ETH_RSS_UDP) &
		    info.flow_type_rss_offloads;
	}
	rc = rte_eth_dev_configure(p->port_id, p->n_rxq, p->n_txq, &conf);
	if (rc != 0)
		goto fail;
	rc = rte_eth_dev_adjust_nb_rx_tx_desc(p->port_id, &nb_rxd, &nb_txd);
	if (rc != 0)
		goto fail;
	for (uint16_t q = 0; q < p->n_rxq; q++) {
		rc = rte_eth_rx_queue_setup(p->port_id, q, nb_rxd, (unsigned)socket, NULL, a->pool);
		if (rc != 0)
			goto fail;
	}
	for (uint16_t q = 0; q < p->n_txq; q++) {
		rc = rte_eth_tx_queue_setup(p->port_id, q, nb_txd, (unsigned)socket, NULL);
		if (rc != 0)
			goto fail;
	}
	if (ifc->mtu != 0) {
		rc = rte_eth_dev_set_mtu(p->port_id, ifc->mtu);
		if (rc != 0) {
			appliance_err(err, errlen, "interface %s: mtu %u: %s", ifc->name, ifc->mtu,
				      strerror(-rc));
			return rc;
		}
	}
	rc = rte_eth_dev_start(p->port_id);
	if (rc != 0)
		goto fail;
	p->started = true;
	rc = rte_eth_promiscuous_enable(p->port_id);
	if (rc != 0 && rc != -ENOTSUP)
		goto fail;
	rc = rte_eth_macaddr_get(p->port_id, &mac);
	if (rc != 0)
		goto fail;
	memcpy(p->mac, mac.addr_bytes, 6);
	if (conf.rxmode.mq_mode == RTE_ETH_MQ_RX_RSS)
		appliance_port_read_rss(p, &info, key_len);
	return 0;

fail:
	appliance_err(err, errlen, "interface %s (%s): port setup: %s", ifc->name, ifc->device,
		      strerror(rc < 0 ? -rc : rc));
	return rc < 0 ? rc : -rc;
}

static int
appliance_pool_create(struct appliance *a, char *err, size_t errlen)
{
	unsigned n = 0, mtu = 0;
	uint16_t room = RTE_MBUF_DEFAULT_BUF_SIZE;

	for (unsigned i = 0; i < a->n_ports; i++) {
		n += a->ports[i].n_rxq * APPLIANCE_RX_DESC + a->ports[i].n_txq * APPLIANCE_TX_DESC;
		if (a->cfg->ifaces[i].mtu > mtu)
			mtu = a->cfg->ifaces[i].mtu;
	}
	n += a->n_workers *
	     (APPLIANCE_PENDING_PER_WORKER + 4 * APPLIANCE_BURST + APPLIANCE_POOL_CACHE * 3 / 2);
	/* a mempool works best with 2^k - 1 objects */
	n = rte_align32pow2(n + 1) - 1;
	if (mtu + RTE_ETHER_HDR_LEN + RTE_ETHER_CRC_LEN + 8 > RTE_MBUF_DEFAULT_DATAROOM)
		room = (uint16_t)(RTE_PKTMBUF_HEADROOM + mtu + RTE_ETHER_HDR_LEN +
				  RTE_ETHER_CRC_LEN + 8);
	a->pool = rte_pktmbuf_pool_create("el_mbufs", n, APPLIANCE_POOL_CACHE, 0, room,
					  (int)rte_socket_id());
	if (a->pool == NULL) {
		appliance_err(err, errlen, "mbuf pool of %u mbufs: %s", n, rte_strerror(rte_errno));
		return -ENOMEM;
	}
	return 0;
}

/* ---- workers ---- */

static int
appliance_pick_lcores(struct appliance *a, unsigned *lcores, char *err, size_t errlen)
{
	const struct el_config *cfg = a->cfg;
	unsigned n = 0, l;

	if (cfg->n_workers > 0) {
		for (unsigned i = 0; i < cfg->n_workers; i++) {
			l = cfg->workers[i];
			if (l >= RTE_MAX_LCORE || !rte_lcore_is_enabled(l)) {
				appliance_err(err, errlen,
					      "workers: lcore %u is not in the EAL core list", l);
				return -EINVAL;
			}
			if (l == rte_get_main_lcore()) {
				appliance_err(err, errlen,
					      "workers: lcore %u is the main lcore (control)", l);
				return -EINVAL;
			}
			for (unsigned k = 0; k < n; k++)
				if (lcores[k] == l) {
					appliance_err(err, errlen, "workers: lcore %u listed twice",
						      l);
					return -EINVAL;
				}
			lcores[n++] = l;
		}
	} else {
		RTE_LCORE_FOREACH_WORKER(l)
		{
			if (n == EL_MAX_WORKERS) {
				appliance_err(err, errlen,
					      "more than %d worker lcores; list them in workers:",
					      EL_MAX_WORKERS);
				return -EINVAL;
			}
			lcores[n++] = l;
		}
	}
	if (n == 0) {
		appliance_err(err, errlen,
			      "no worker lcore: give EAL the main lcore and at least one "
			      "more (for example -l 0-1)");
		return -EINVAL;
	}
	a->n_workers = n;
	return 0;
}

static uint16_t
appliance_tx(void *ctx, uint8_t iface, struct rte_mbuf **pkts, uint16_t n)
{
	struct appliance_lcore *lc = ctx;

	if (iface >= lc->app->n_ports)
		return 0;
	return rte_eth_tx_burst(lc->port_of[iface], (uint16_t)lc->index, pkts, n);
}

static int
appliance_workers_create(struct appliance *a, const unsigned *lcores, char *err, size_t errlen)
{
	for (unsigned w = 0; w < a->n_workers; w++) {
		struct appliance_lcore *lc = &a->lcores[w];
		struct el_worker_conf wc;

		memset(lc, 0, sizeof(*lc));
		lc->app = a;
		lc->lcore_id = lcores[w];
		lc->index = w;
		for (unsigned i = 0; i < a->n_ports; i++) {
			lc->port_of[i] = a->ports[i].port_id;
			lc->rx[i] = w < a->ports[i].n_rxq;
		}

		memset(&wc, 0, sizeof(wc));
		wc.index = w;
		wc.n_workers = a->n_workers;
		wc.max_flows = a->cfg->ct_max_flows;
		wc.new_flows_per_source = a->cfg->ct_new_flows_per_source;
		wc.new_flows_burst = a->cfg->ct_new_flows_burst;
		wc.icmp_errors_per_second = a->cfg->icmp_errors_per_second;
		wc.icmp_errors_burst = a->cfg->icmp_errors_burst;
		wc.socket_id = (int)rte_lcore_to_socket_id(lc->lcore_id);
		wc.pool = a->pool;
		wc.tx = appliance_tx;
		wc.tx_ctx = lc;
		for (unsigned i = 0; i < a->n_ports; i++)
			wc.rss[i] = a->ports[i].rss;
		wc.snat_port_min = 1024;
		wc.snat_port_max = 65535;

		a->workers[w] = worker_create(&wc);
		if (a->workers[w] == NULL) {
			appliance_err(err, errlen, "worker %u (lcore %u): %s", w, lc->lcore_id,
				      rte_strerror(rte_errno));
			return -ENOMEM;
		}
		lc->worker = a->workers[w];
	}
	for (unsigned w = 0; w < a->n_workers; w++)
		worker_set_peers(a->workers[w], a->workers, a->n_workers);
	return 0;
}

static inline uint64_t
appliance_now_ms(const struct appliance *a)
{
	return rte_get_tsc_cycles() / a->tsc_per_ms;
}

static int
appliance_worker_main(void *arg)
{
	struct appliance_lcore *lc = arg;
	struct appliance *a = lc->app;
	struct rte_rcu_qsbr *qsbr = a->pub.qsbr;
	struct rte_mbuf *pkts[APPLIANCE_BURST];
	const uint32_t idle_us = a->cfg->idle_sleep_us;
	const unsigned tid = lc->index, n_ports = a->n_ports;
	unsigned idle = 0, hk_wait = 0;

	rte_rcu_qsbr_thread_register(qsbr, tid);
	rte_rcu_qsbr_thread_online(qsbr, tid);

	while (!__atomic_load_n(&a->quit, __ATOMIC_RELAXED)) {
		const struct el_snapshot *snap = __atomic_load_n(&a->pub.current, __ATOMIC_ACQUIRE);
		uint64_t tsc = rte_get_tsc_cycles(), now_ms = tsc / a->tsc_per_ms;
		unsigned got = 0;

		for (unsigned i = 0; i < n_ports; i++) {
			uint16_t n;

			if (!lc->rx[i])
				continue;
			n = rte_eth_rx_burst(lc->port_of[i], (uint16_t)tid, pkts, APPLIANCE_BURST);
			if (n == 0)
				continue;
			worker_process_burst(lc->worker, snap, (uint8_t)i, pkts, n, now_ms);
			got += n;
		}
		/* under load every APPLIANCE_HK_POLLS-th poll: its work is paced
		 * by time, and messages and hand-offs wait a few bursts at most */
		if (got == 0 || ++hk_wait >= APPLIANCE_HK_POLLS) {
			hk_wait = 0;
			worker_poll_housekeeping(lc->worker, snap, now_ms);
		}
		rte_rcu_qsbr_quiescent(qsbr, tid);
		/* its own cache line: /readyz reads it, nobody else writes it */
		__atomic_store_n(&lc->last_poll_tsc, tsc, __ATOMIC_RELAXED);

		if (got != 0 || idle_us == 0) {
			idle = 0;
			continue;
		}
		if (idle < APPLIANCE_IDLE_POLLS) {
			idle++;
			continue;
		}
		/* Idle: let the kernel have the core. Offline, so a publish
		 * does not wait for the sleep. */
		rte_rcu_qsbr_thread_offline(qsbr, tid);
		usleep(idle_us);
		rte_rcu_qsbr_thread_online(qsbr, tid);
	}

	rte_rcu_qsbr_thread_offline(qsbr, tid);
	rte_rcu_qsbr_thread_unregister(qsbr, tid);
	return 0;
}

/* ---- life cycle ---- */

int
appliance_init(struct appliance *a, const struct el_config *cfg, struct el_model *model, char *err,
	       size_t errlen)
{
	unsigned lcores[EL_MAX_WORKERS];
	struct el_snapshot *snap = NULL;
	int rc;

	memset(a, 0, sizeof(*a));
	a->cfg = cfg;
	a->model = model;
	a->tsc_per_ms = rte_get_tsc_hz() / 1000;
	if (a->tsc_per_ms == 0)
		a->tsc_per_ms = 1;
	a->start_tsc = rte_get_tsc_cycles();

	if (cfg->n_ifaces == 0) {
		appliance_err(err, errlen, "no interfaces configured");
		return -EINVAL;
	}
	rc = appliance_pick_lcores(a, lcores, err, errlen);
	if (rc < 0)
		return rc;

	for (unsigned i = 0; i < cfg->n_ifaces; i++) {
		rc = appliance_port_find(&cfg->ifaces[i], &a->ports[i].port_id, err, errlen);
		if (rc < 0)
			return rc;
		for (unsigned k = 0; k < i; k++)
			if (a->ports[k].port_id == a->ports[i].port_id) {
				appliance_err(err, errlen,
					      "interfaces %s and %s use the same device",
					      cfg->ifaces[k].name, cfg->ifaces[i].name);
				return -EINVAL;
			}
		a->n_ports = i + 1;
		rc = appliance_port_plan(a, i, err, errlen);
		if (rc < 0)
			return rc;
	}
	rc = appliance_pool_create(a, err, errlen);
	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < a->n_ports; i++) {
		rc = appliance_port_setup(a, i, err, errlen);
		if (rc < 0)
			return rc;
	}

	rc = appliance_workers_create(a, lcores, err, errlen);
	if (rc < 0)
		return rc;

	snapshot_set_mem_ops(&appliance_snap_mem);
	a->cs = compile_state_new(cfg);
	if (a->cs == NULL) {
		appliance_err(err, errlen, "compile state: out of memory");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < a->n_ports; i++)
		compile_set_iface(a->cs, i, a->ports[i].port_id, a->ports[i].mac);

	rc = publish_init(&a->pub, a->cs, a->workers, a->n_workers, (int)rte_socket_id());
	if (rc < 0) {
		appliance_err(err, errlen, "publisher: %s", strerror(-rc));
		return rc;
	}
	a->pub_ready = true;

	rc = compile_snapshot(a->cs, model, &snap, err, errlen);
	if (rc < 0)
		return rc;
	rc = publish_snapshot(&a->pub, snap);
	if (rc < 0) {
		appliance_err(err, errlen, "publish: %s", strerror(-rc));
		return rc;
	}
	return 0;
}

int
appliance_start(struct appliance *a)
{
	int rc;

	__atomic_store_n(&a->quit, false, __ATOMIC_RELAXED);
	for (unsigned w = 0; w < a->n_workers; w++) {
		rc = rte_eal_remote_launch(appliance_worker_main, &a->lcores[w],
					   a->lcores[w].lcore_id);
		if (rc != 0) {
			appliance_stop(a);
			return rc < 0 ? rc : -rc;
		}
		a->lcores[w].running = true;
		a->launched = true;
	}
	return 0;
}

void
appliance_stop(struct appliance *a)
{
	__atomic_store_n(&a->quit, true, __ATOMIC_RELEASE);
	for (unsigned w = 0; w < a->n_workers; w++) {
		if (!a->lcores[w].running)
			continue;
		rte_eal_wait_lcore(a->lcores[w].lcore_id);
		a->lcores[w].running = false;
	}
	a->launched = false;
}

void
appliance_free(struct appliance *a)
{
	if (a->launched)
		appliance_stop(a);
	/* Stopping a port flushes what it buffered (pcap files are closed). */
	for (unsigned i = 0; i < a->n_ports; i++)
		if (a->ports[i].started) {
			rte_eth_dev_stop(a->ports[i].port_id);
			a->ports[i].started = false;
		}
	for (unsigned w = 0; w < a->n_workers; w++)
		if (a->workers[w] != NULL) {
			worker_destroy(a->workers[w]);
			a->workers[w] = NULL;
		}
	for (unsigned i = 0; i < a->n_ports; i++)
		rte_eth_dev_close(a->ports[i].port_id);
	a->n_ports = 0;
	if (a->pub_ready) {
		publish_fini(&a->pub);
		a->pub_ready = false;
	}
	if (a->cs != NULL) {
		compile_state_free(a->cs);
		a->cs = NULL;
	}
	if (a->pool != NULL) {
		rte_mempool_free(a->pool);
		a->pool = NULL;
	}
}

int
appliance_workers_polling(const struct appliance *a, unsigned *stale, uint64_t *age_ms)
{
	uint64_t now = rte_get_tsc_cycles();
	uint64_t limit_ms = APPLIANCE_POLL_STALE_MS + a->cfg->idle_sleep_us / 1000 + 1;

	for (unsigned w = 0; w < a->n_workers; w++) {
		uint64_t last = __atomic_load_n(&a->lcores[w].last_poll_tsc, __ATOMIC_RELAXED);
		uint64_t age = last == 0 ? UINT64_MAX : (now - last) / a->tsc_per_ms;

		if (!a->lcores[w].running || last == 0 || (now > last && age > limit_ms)) {
			if (stale != NULL)
				*stale = w;
			if (age_ms != NULL)
				*age_ms = age;
			return -EAGAIN;
		}
	}
	return 0;
}

int
appliance_republish(struct appliance *a, char *err, size_t errlen)
{
	struct el_snapshot *snap = NULL;
	int rc;

	rc = compile_snapshot(a->cs, a->model, &snap, err, errlen);
	if (rc < 0)
		return rc;
	return publish_snapshot(&a->pub, snap);
}

static void
appliance_stats_src(struct appliance *a, struct stats_src *src)
{
	memset(src, 0, sizeof(*src));
	src->snap = publish_current(&a->pub);
	src->workers = a->workers;
	src->n_workers = a->n_workers;
	src->generation = a->pub.generation;
	src->publish_seconds = a->pub.last_seconds;
	src->uptime_seconds =
	    (double)(rte_get_tsc_cycles() - a->start_tsc) / (double)rte_get_tsc_hz();
}

int
appliance_print_stats(struct appliance *a, FILE *f)
{
	struct stats_src src;
	int rc;

	publish_lock(&a->pub);
	appliance_stats_src(a, &src);
	rc = stats_print(f, &src);
	publish_unlock(&a->pub);
	return rc;
}

int
appliance_render_metrics(struct appliance *a, char *buf, size_t len)
{
	struct stats_src src;
	int rc;

	publish_lock(&a->pub);
	appliance_stats_src(a, &src);
	rc = stats_render_prometheus(buf, len, &src);
	publish_unlock(&a->pub);
	return rc;
}

void
appliance_print_ports(const struct appliance *a, FILE *f)
{
	for (unsigned i = 0; i < a->n_ports; i++) {
		const struct appliance_port *p = &a->ports[i];

		fprintf(f,
			"edgelb: interface %-8s port %u  %-10s %02x:%02x:%02x:%02x:%02x:%02x  "
			"rxq %u txq %u  rss %s\n",
			a->cfg->ifaces[i].name, p->port_id, p->driver, p->mac[0], p->mac[1],
			p->mac[2], p->mac[3], p->mac[4], p->mac[5], p->n_rxq, p->n_txq,
			p->rss.enabled ? "on" : "off");
	}
	for (unsigned w = 0; w < a->n_workers; w++)
		fprintf(f, "edgelb: worker %u on lcore %u\n", w, a->lcores[w].lcore_id);
}
