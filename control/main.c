/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelb: the appliance binary.
 *
 *   edgelb --config FILE [--check] [--duration S] [--stats-interval S]
 *          [--metrics-file PATH] [-- EAL args]
 *
 * Reads the config and the manifests it lists (all before EAL starts, so a
 * bad file is reported as FILE:LINE: KEY: ... and nothing else happens),
 * starts EAL with the config's arguments followed by those after "--",
 * brings up ports and workers, publishes the first snapshot, and runs the
 * control loop until SIGINT/SIGTERM or --duration.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <rte_debug.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_version.h>

#include "edgelb/compile.h"
#include "edgelb/config.h"
#include "edgelb/manifest.h"
#include "edgelb/model.h"

#include "api.h"
#include "appliance.h"
#include "apply.h"
#include "store.h"

#ifndef EDGELB_VERSION
#define EDGELB_VERSION "0.1.0"
#endif

#define MAIN_METRICS_MAX (1u << 20)

static volatile sig_atomic_t force_quit;

struct main_opts {
	const char *config;
	const char *metrics_file;
	bool check;
	double duration;       /**< seconds; 0 = until a signal */
	double stats_interval; /**< seconds; 0 = only at exit */
	int eal_argc;	       /**< arguments after "--" */
	char **eal_argv;
};

static void
main_signal(int sig)
{
	(void)sig;
	force_quit = 1;
}

static void
main_usage(FILE *f, const char *prog)
{
	fprintf(f,
		"usage: %s --config FILE [options] [-- EAL arguments]\n"
		"\n"
		"Run the edgelb appliance: the config file names the interfaces, addresses\n"
		"and manifests; EAL arguments come from its eal: list, then from after \"--\".\n"
		"\n"
		"  -c, --config FILE          configuration file (YAML), required\n"
		"      --check                validate the config and its manifests, list the\n"
		"                             frontends they make, then exit (0 = valid,\n"
		"                             1 = not); EAL is not started\n"
		"  -d, --duration SECONDS     stop after SECONDS (default: run until signalled)\n"
		"  -s, --stats-interval SECONDS\n"
		"                             print counters every SECONDS (default 0: at exit)\n"
		"      --metrics-file PATH    write the Prometheus metrics text to PATH at\n"
		"                             every counters print and at exit\n"
		"  -h, --help                 this text\n"
		"  -V, --version              print the version\n",
		prog);
}

static int
main_parse_seconds(const char *s, double *out)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || v < 0 || v > 1e7)
		return -EINVAL;
	*out = v;
	return 0;
}

/* @return 0 to run, 1 when done (help/version), -1 on a usage error. */
static int
main_parse_args(int argc, char **argv, struct main_opts *o)
{
	static const struct option longopts[] = {
	    {"config", required_argument, NULL, 'c'},
	    {"check", no_argument, NULL, 'k'},
	    {"duration", required_argument, NULL, 'd'},
	    {"stats-interval", required_argument, NULL, 's'},
	    {"metrics-file", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},
	    {"version", no_argument, NULL, 'V'},
	    {NULL, 0, NULL, 0},
	};
	int c;

	memset(o, 0, sizeof(*o));
	opterr = 0;
	while ((c = getopt_long(argc, argv, "+c:d:s:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'c':
			o->config = optarg;
			break;
		case 'k':
			o->check = true;
			break;
		case 'd':
			if (main_parse_seconds(optarg, &o->duration) < 0) {
				fprintf(stderr, "edgelb: --duration: not a number of seconds: %s\n",
					optarg);
				return -1;
			}
			break;
		case 's':
			if (main_parse_seconds(optarg, &o->stats_interval) < 0) {
				fprintf(stderr,
					"edgelb: --stats-interval: not a number of seconds: %s\n",
					optarg);
				return -1;
			}
			break;
		case 'm':
			o->metrics_file = optarg;
			break;
		case 'h':
			main_usage(stdout, argv[0]);
			return 1;
		case 'V':
			printf("edgelb %s (%s)\n", EDGELB_VERSION, rte_version());
			return 1;
		default:
			fprintf(stderr, "edgelb: unknown or incomplete option: %s\n",
				argv[optind - 1]);
			main_usage(stderr, argv[0]);
			return -1;
		}
	}
	/* getopt stops at "--"; anything else left over is a mistake. */
	if (optind < argc && strcmp(argv[optind - 1], "--") != 0) {
		fprintf(stderr, "edgelb: unexpected argument: %s (EAL arguments go after --)\n",
			argv[optind]);
		return -1;
	}
	o->eal_argc = argc - optind;
	o->eal_argv = argv + optind;
	if (o->config == NULL) {
		fprintf(stderr, "edgelb: --config FILE is required\n");
		main_usage(stderr, argv[0]);
		return -1;
	}
	return 0;
}

/* Load every manifest path of the config (relative paths: from the config
 * file's directory) into @p m. */
static int
main_load_manifests(const struct el_config *cfg, struct el_model *m)
{
	char path[EL_CFG_PATH_MAX * 2];
	char err[512];
	int rc;

	for (unsigned i = 0; i < cfg->n_manifests; i++) {
		rc = config_resolve_path(cfg, cfg->manifests[i], path, sizeof(path));
		if (rc < 0) {
			fprintf(stderr, "%s: manifests[%u]: %s: %s\n", cfg->path, i,
				cfg->manifests[i], strerror(-rc));
			return rc;
		}
		err[0] = '\0';
		rc = manifest_load_path(m, path, err, sizeof(err));
		if (rc < 0) {
			fprintf(stderr, "%s\n", err[0] ? err : strerror(-rc));
			return rc;
		}
	}
	return 0;
}

static const char *
main_fe_kind(uint8_t kind)
{
	switch (kind) {
	case EL_FE_CLUSTER_IP:
		return "ClusterIP";
	case EL_FE_EXTERNAL_IP:
		return "ExternalIP";
	case EL_FE_LB_INGRESS:
		return "LoadBalancer";
	case EL_FE_NODE_PORT:
		return "NodePort";
	default:
		return "?";
	}
}

static const struct el_snapshot *main_sort_snap;

/* Order frontends by service port, kind, address, port. */
static int
main_fe_cmp(const void *pa, const void *pb)
{
	const struct el_snap_fe *a = *(const struct el_snap_fe *const *)pa;
	const struct el_snap_fe *b = *(const struct el_snap_fe *const *)pb;
	int c = strcmp(main_sort_snap->svcs[a->svc]->name, main_sort_snap->svcs[b->svc]->name);

	if (c == 0)
		c = (int)a->kind - (int)b->kind;
	if (c == 0)
		c = el_ip_cmp(&a->ip, &b->ip);
	if (c == 0)
		c = (int)ntohs(a->port) - (int)ntohs(b->port);
	return c;
}

/* One line per frontend: "  frontend IP:PORT/PROTO  KIND  SERVICE  N backends". */
static void
main_print_frontends(const struct el_snapshot *snap)
{
	const struct el_snap_fe **fes;
	unsigned n = 0;
	char ip[EL_IP_STRLEN], addr[EL_IP_STRLEN + 16];

	if (snap->fe == NULL)
		return;
	fes = calloc((size_t)snap->fe_mask + 1, sizeof(*fes));
	if (fes == NULL)
		return;
	for (uint32_t i = 0; i <= snap->fe_mask; i++)
		if (snap->fe[i].proto != 0 && snap->fe[i].svc < snap->n_svcs)
			fes[n++] = &snap->fe[i];
	main_sort_snap = snap;
	qsort(fes, n, sizeof(*fes), main_fe_cmp);
	for (unsigned i = 0; i < n; i++) {
		const struct el_snap_svc *svc = snap->svcs[fes[i]->svc];

		el_ip_fmt(&fes[i]->ip, ip, sizeof(ip));
		snprintf(addr, sizeof(addr), fes[i]->ip.family == EL_AF_INET6 ? "[%s]:%u" : "%s:%u",
			 ip, ntohs(fes[i]->port));
		printf("  frontend %-24s %-4s %-13s %-40s %u backends\n", addr,
		       fes[i]->proto == IPPROTO_UDP ? "UDP" : "TCP", main_fe_kind(fes[i]->kind),
		       svc->name, svc->n_backends);
	}
	free(fes);
}

/* --check: compile once with plain heap memory and say what would be served. */
static int
main_check(const struct el_config *cfg, const struct el_model *m)
{
	static const uint8_t no_mac[6];
	struct compile_state *cs;
	struct el_snapshot *snap = NULL;
	char err[512] = "";
	unsigned n_fe = 0;
	int rc;

	cs = compile_state_new(cfg);
	if (cs == NULL) {
		fprintf(stderr, "edgelb: out of memory\n");
		return -ENOMEM;
	}
	for (unsigned i = 0; i < cfg->n_ifaces; i++)
		compile_set_iface(cs, i, (uint16_t)i, no_mac);
	rc = compile_snapshot(cs, m, &snap, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s: %s\n", cfg->path, err[0] ? err : strerror(-rc));
		compile_state_free(cs);
		return rc;
	}
	for (uint32_t i = 0; snap->fe != NULL && i <= snap->fe_mask; i++)
		n_fe += snap->fe[i].proto != 0;
	printf("%s: ok: %u interfaces, %u services, %u service ports, %u frontends\n", cfg->path,
	       cfg->n_ifaces, m->n_svcs, snap->n_svcs, n_fe);
	main_print_frontends(snap);
	{
		const char *const *warn;
		unsigned n_warn = compile_warnings(cs, &warn);

		for (unsigned i = 0; i < n_warn; i++)
			fprintf(stderr, "%s: warning: %s\n", cfg->path, warn[i]);
	}
	compile_snapshot_free(cs, snap);
	compile_state_free(cs);
	return 0;
}

/* argv for rte_eal_init: program name, the config's eal list, then the
 * arguments given after "--". */
static char **
main_eal_argv(const char *prog, const struct el_config *cfg, const struct main_opts *o, int *argc)
{
	int n = 1 + (int)cfg->n_eal + o->eal_argc, k = 0;
	char **v = calloc((size_t)n + 1, sizeof(*v));

	if (v == NULL)
		return NULL;
	v[k++] = (char *)(uintptr_t)prog;
	for (unsigned i = 0; i < cfg->n_eal; i++)
		v[k++] = cfg->eal[i];
	for (int i = 0; i < o->eal_argc; i++)
		v[k++] = o->eal_argv[i];
	*argc = k;
	return v;
}

static double
main_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
main_write_metrics(struct appliance *a, const char *path)
{
	char *buf = malloc(MAIN_METRICS_MAX);
	char tmp[EL_CFG_PATH_MAX + 8];
	FILE *f;
	int n;

	if (buf == NULL)
		return;
	n = appliance_render_metrics(a, buf, MAIN_METRICS_MAX);
	if (n < 0) {
		fprintf(stderr, "edgelb: metrics text larger than %u bytes\n", MAIN_METRICS_MAX);
		free(buf);
		return;
	}
	/* write aside, then rename: a reader never sees half a file */
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (f == NULL || fwrite(buf, 1, (size_t)n, f) != (size_t)n || fclose(f) != 0 ||
	    rename(tmp, path) != 0)
		fprintf(stderr, "edgelb: cannot write %s: %s\n", path, strerror(errno));
	free(buf);
}

/* ---- REST API and durable state ----
 * The objects the API accepted live in cfg->state_dir; they are loaded
 * before the manifests, which apply only when the state holds nothing. The
 * API is served from the control loop (api_poll), so every change runs on
 * this thread. */

struct main_api {
	struct store *store;
	bool from_store; /**< the model came from state_dir, not from manifests */
	struct apply apply;
	struct api *api;
	struct appliance *app;
};

/* Open state_dir and load what it holds into @p m. */
static int
main_state_load(const struct el_config *cfg, struct el_model *m, struct main_api *ma)
{
	char dir[EL_CFG_PATH_MAX * 2], err[EL_CFG_PATH_MAX * 2 + 64];
	unsigned loaded = 0, skipped = 0;
	int rc;

	rc = config_resolve_path(cfg, cfg->state_dir, dir, sizeof(dir));
	if (rc == 0)
		rc = store_open(dir, &ma->store, err, sizeof(err));
	else
		snprintf(err, sizeof(err), "%s: state_dir: %s", cfg->path, strerror(-rc));
	if (rc == 0) {
		rc = store_load(ma->store, m, &loaded, &skipped);
		snprintf(err, sizeof(err), "%s: %s", dir, strerror(-rc));
	}
	if (rc < 0) {
		fprintf(stderr, "edgelb: state: %s\n", err);
		return rc;
	}
	ma->from_store = loaded > 0;
	if (loaded > 0 || skipped > 0)
		printf("edgelb: state: %u objects from %s (%u skipped); manifests not applied\n",
		       loaded, dir, skipped);
	return 0;
}

static int
main_api_publish(void *ctx, struct el_snapshot *snap)
{
	struct main_api *ma = ctx;

	return publish_snapshot(&ma->app->pub, snap);
}

static int
main_api_ready(void *ctx, char *why, size_t len)
{
	struct appliance *a = ((struct main_api *)ctx)->app;

	for (unsigned i = 0; i < a->n_ports; i++) {
		struct rte_eth_link link;

		if (!a->ports[i].started) {
			snprintf(why, len, "interface %s is not started", a->cfg->ifaces[i].name);
			return -EAGAIN;
		}
		if (rte_eth_link_get_nowait(a->ports[i].port_id, &link) == 0 &&
		    link.link_status == RTE_ETH_LINK_DOWN) {
			snprintf(why, len, "interface %s: link down", a->cfg->ifaces[i].name);
			return -EAGAIN;
		}
	}
	unsigned w;
	uint64_t age;
	if (appliance_workers_polling(a, &w, &age) < 0) {
		if (age == UINT64_MAX)
			snprintf(why, len, "worker %u has not polled yet", w);
		else
			snprintf(why, len, "worker %u has not polled for %" PRIu64 " ms", w, age);
		return -EAGAIN;
	}
	return 0;
}

static int
main_api_metrics(void *ctx, char *buf, size_t len)
{
	return appliance_render_metrics(((struct main_api *)ctx)->app, buf, len);
}

static int
main_api_conns(void *ctx, struct api_conn *out, unsigned max)
{
	struct appliance *a = ((struct main_api *)ctx)->app;
	uint64_t now_ms = rte_get_tsc_cycles() / a->tsc_per_ms;
	struct el_conn_info *tmp = calloc(max ? max : 1, sizeof(*tmp));
	unsigned n = 0;

	if (tmp == NULL)
		return -ENOMEM;
	for (unsigned w = 0; w < a->n_workers && n < max; w++)
		n += worker_conns(a->workers[w], tmp + n, max - n, now_ms);
	publish_lock(&a->pub);
	const struct el_snapshot *snap = publish_current(&a->pub);
	for (unsigned i = 0; i < n; i++) {
		const struct el_conn_info *c = &tmp[i];
		struct api_conn *o = &out[i];

		memset(o, 0, sizeof(*o));
		o->client = c->client;
		o->frontend = c->frontend;
		o->snat = c->snat;
		o->backend = c->backend;
		o->cport = c->cport;
		o->fport = c->fport;
		o->sport = c->sport;
		o->bport = c->bport;
		o->proto = c->proto;
		o->state = c->state;
		o->age_s = c->age_s;
		o->idle_s = c->idle_s;
		for (uint32_t k = 0; snap != NULL && k < snap->n_svcs; k++)
			if (snap->svcs[k]->id == c->svc_id) {
				snprintf(o->service, sizeof(o->service), "%s", snap->svcs[k]->name);
				break;
			}
	}
	publish_unlock(&a->pub);
	free(tmp);
	return (int)n;
}

/* After the first publish: allocations into the model (and, for a model
 * from manifests, into state_dir), then serve the API. */
static int
main_api_start(struct appliance *a, const struct el_config *cfg, struct el_model *m,
	       struct main_api *ma, char *err, size_t errlen)
{
	char token[EL_CFG_PATH_MAX * 2] = "";
	char cert[EL_CFG_PATH_MAX * 2] = "", key[EL_CFG_PATH_MAX * 2] = "";
	int rc;

	ma->app = a;
	apply_init(&ma->apply, &(struct apply_conf){.cfg = cfg,
						    .model = m,
						    .cs = a->cs,
						    .store = ma->store,
						    .publish = main_api_publish,
						    .publish_ctx = ma});
	rc = apply_start(&ma->apply, !ma->from_store);
	if (rc < 0) {
		snprintf(err, errlen, "state: cannot write %s: %s", store_dir(ma->store),
			 strerror(-rc));
		return rc;
	}
	if (cfg->api_token_file[0] != '\0' &&
	    config_resolve_path(cfg, cfg->api_token_file, token, sizeof(token)) < 0) {
		snprintf(err, errlen, "api.token_file: path too long");
		return -ENAMETOOLONG;
	}
	if ((cfg->api_tls_cert[0] != '\0' &&
	     config_resolve_path(cfg, cfg->api_tls_cert, cert, sizeof(cert)) < 0) ||
	    (cfg->api_tls_key[0] != '\0' &&
	     config_resolve_path(cfg, cfg->api_tls_key, key, sizeof(key)) < 0)) {
		snprintf(err, errlen, "api.tls_cert/tls_key: path too long");
		return -ENAMETOOLONG;
	}
	ma->api = api_start(&(struct api_conf){.listen = cfg->api_listen,
					       .token_file = token,
					       .tls_cert = cert,
					       .tls_key = key,
					       .max_conns_per_ip = cfg->api_max_conns_per_ip,
					       .apply = &ma->apply,
					       .ctx = ma,
					       .ready = main_api_ready,
					       .metrics = main_api_metrics,
					       .conns = main_api_conns},
			    err, errlen);
	if (ma->api == NULL)
		return -errno;
	printf("edgelb: api: serving %s on %s%s\n", api_tls(ma->api) ? "HTTPS" : "HTTP",
	       cfg->api_listen, token[0] ? " (bearer token required)" : "");
	return 0;
}

static void
main_control_loop(struct appliance *a, const struct main_opts *o, struct api *api)
{
	const struct timespec step = {.tv_sec = 0, .tv_nsec = 100 * 1000 * 1000};
	double start = main_now(), next_stats = start + o->stats_interval;

	while (!force_quit) {
		double now;

		if (api != NULL)
			api_poll(api, 100); /* serves the REST API while it waits */
		else
			nanosleep(&step, NULL);
		now = main_now();
		if (o->duration > 0 && now - start >= o->duration)
			break;
		if (o->stats_interval > 0 && now >= next_stats) {
			appliance_print_stats(a, stdout);
			if (o->metrics_file != NULL)
				main_write_metrics(a, o->metrics_file);
			while (next_stats <= now)
				next_stats += o->stats_interval;
		}
	}
}

int
main(int argc, char **argv)
{
	static struct appliance app;
	static struct main_api ma;
	struct main_opts o;
	struct el_config cfg;
	struct el_model model;
	char err[512] = "";
	char **eal_argv;
	int eal_argc, rc, status = EXIT_SUCCESS;

	rc = main_parse_args(argc, argv, &o);
	if (rc != 0)
		return rc > 0 ? EXIT_SUCCESS : EXIT_FAILURE;

	rc = config_load(o.config, &cfg, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "%s\n", err[0] ? err : strerror(-rc));
		return EXIT_FAILURE;
	}
	el_model_init(&model);
	rc = o.check ? 0 : main_state_load(&cfg, &model, &ma);
	if (rc == 0 && !ma.from_store)
		rc = main_load_manifests(&cfg, &model);
	if (rc == 0 && o.check)
		rc = main_check(&cfg, &model);
	if (rc < 0 || o.check) {
		store_close(ma.store);
		el_model_free(&model);
		config_free(&cfg);
		return rc < 0 ? EXIT_FAILURE : EXIT_SUCCESS;
	}

	eal_argv = main_eal_argv(argv[0], &cfg, &o, &eal_argc);
	if (eal_argv == NULL) {
		fprintf(stderr, "edgelb: out of memory\n");
		return EXIT_FAILURE;
	}
	/* rte_eal_init may permute argv; eal_argv only holds borrowed strings */
	rc = rte_eal_init(eal_argc, eal_argv);
	if (rc < 0)
		rte_exit(EXIT_FAILURE, "EAL initialisation failed: %s\n", rte_strerror(rte_errno));

	signal(SIGINT, main_signal);
	signal(SIGTERM, main_signal);

	rc = appliance_init(&app, &cfg, &model, err, sizeof(err));
	if (rc == 0) {
		appliance_print_ports(&app, stdout);
		rc = appliance_start(&app);
		if (rc < 0)
			snprintf(err, sizeof(err), "cannot launch workers: %s", strerror(-rc));
	}
	if (rc == 0)
		rc = main_api_start(&app, &cfg, &model, &ma, err, sizeof(err));
	if (rc < 0) {
		fprintf(stderr, "edgelb: %s\n", err[0] ? err : strerror(-rc));
		status = EXIT_FAILURE;
	} else {
		printf("edgelb: serving snapshot %" PRIu64 " (%u service ports); %s\n",
		       app.pub.generation, publish_current(&app.pub)->n_svcs,
		       o.duration > 0 ? "running for --duration" : "Ctrl-C stops");
		fflush(stdout);
		main_control_loop(&app, &o, ma.api);
		appliance_stop(&app);
		appliance_print_stats(&app, stdout);
		if (o.metrics_file != NULL)
			main_write_metrics(&app, o.metrics_file);
	}

	api_stop(ma.api);
	store_close(ma.store);
	appliance_free(&app);
	el_model_free(&model);
	config_free(&cfg);
	rte_eal_cleanup();
	free(eal_argv);
	return status;
}
