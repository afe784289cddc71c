/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * api_bench: load generator for edgelb's REST API, for perf/api_bench.sh.
 *
 * A small HTTP/1.1 client (RFC 9112: keep-alive connections, one request in
 * flight per connection, bodies framed by Content-Length) over C
 * connections served from one poll() loop, so the client costs little next
 * to the server it measures (they share the host's CPUs).
 *
 *   api_bench [--server HOST:PORT] [--conns C] [--namespace NS] COMMAND
 *
 *   apply N [ENDPOINTS]   PUT N Services (ClusterIP, one TCP port 80 -> 8080),
 *                         then N Endpoints of ENDPOINTS addresses (default 10);
 *                         prints for each phase the time, requests per second
 *                         and the latency of a request (send to answer).
 *   churn N RATE SECONDS  PUT the Endpoints of a random one of the N services
 *                         (a new set of addresses each time) RATE times per
 *                         second for SECONDS, open loop: latency is counted
 *                         from the time a request was due, so a stalled
 *                         server is not hidden by a client that waits
 *                         (coordinated omission); also from the time sent.
 *   metrics NAME...       GET /metrics; print the sum over all label sets of
 *                         each metric NAME, or the value of one series given
 *                         as NAME{label="value",...} (labels in the order
 *                         edgelb writes them).
 *
 * Services are NS/sNNNNN with clusterIPs from 198.18.128.0/17; endpoint
 * addresses come from 198.19.0.0/16, port 8080, a set of its own for every
 * service and every churn update (no traffic goes to these services, so
 * the addresses need no neighbour). Every answer must be 2xx: anything
 * else is printed and the command fails.
 *
 * Output: readable lines, then one line of key=value pairs for scripts.
 * Exit status 0, or 1 when a request failed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BENCH_MAX_CONNS 256
#define BENCH_BUF	(64 * 1024)

struct bench_conn {
	int fd;
	char out[8192];
	size_t out_len, out_off;
	char *in;
	size_t in_len, in_cap;
	bool busy;
	long req;	  /* index of the request in flight */
	double due, sent; /* seconds */
};

struct bench {
	struct sockaddr_in addr;
	char host[64];
	unsigned conns;
	const char *ns;
	struct bench_conn c[BENCH_MAX_CONNS];
	double *lat_due, *lat_sent; /* per completed request */
	size_t n_lat, cap_lat;
	unsigned long failed;
	char last_error[512];
};

static double
bench_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
bench_connect(struct bench *b, struct bench_conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (struct sockaddr *)&b->addr, sizeof(b->addr)) < 0) {
		int rc = -errno;
		close(c->fd);
		c->fd = -1;
		return rc;
	}
	fcntl(c->fd, F_SETFL, fcntl(c->fd, F_GETFL) | O_NONBLOCK);
	c->in_cap = BENCH_BUF;
	c->in = malloc(c->in_cap);
	return c->in == NULL ? -ENOMEM : 0;
}

/* Queue one request on an idle connection. */
static int
bench_send(struct bench *b, struct bench_conn *c, const char *method, const char *path,
	   const char *body, long req, double due)
{
	size_t blen = body ? strlen(body) : 0;
	int n = snprintf(c->out, sizeof(c->out),
			 "%s %s HTTP/1.1\r\nHost: %s\r\nContent-Type: application/json\r\n"
			 "Content-Length: %zu\r\n\r\n%s",
			 method, path, b->host, blen, body ? body : "");

	if (n < 0 || (size_t)n >= sizeof(c->out))
		return -E2BIG;
	c->out_len = (size_t)n;
	c->out_off = 0;
	c->in_len = 0;
	c->busy = true;
	c->req = req;
	c->due = due;
	c->sent = bench_now();
	return 0;
}

static void
bench_record(struct bench *b, double due, double sent, double done)
{
	if (b->n_lat == b->cap_lat) {
		size_t nc = b->cap_lat ? b->cap_lat * 2 : 4096;
		double *a = realloc(b->lat_due, nc * sizeof(*a));
		double *s = a ? realloc(b->lat_sent, nc * sizeof(*s)) : NULL;
		if (a != NULL)
			b->lat_due = a;
		if (s == NULL)
			return;
		b->lat_sent = s;
		b->cap_lat = nc;
	}
	b->lat_due[b->n_lat] = done - due;
	b->lat_sent[b->n_lat] = done - sent;
	b->n_lat++;
}

/*
 * Is a whole answer in c->in? Returns 1 (done: *status set), 0 (more to
 * read), -1 (not HTTP).
 */
static int
bench_parse(struct bench_conn *c, int *status)
{
	char *end, *cl;
	size_t head, len = 0;

	c->in[c->in_len] = '\0';
	end = strstr(c->in, "\r\n\r\n");
	if (end == NULL)
		return 0;
	head = (size_t)(end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*d %d", status) != 1)
		return -1;
	cl = strcasestr(c->in, "\r\nContent-Length:");
	if (cl != NULL && cl < end)
		len = strtoul(cl + 17, NULL, 10);
	return c->in_len >= head + len ? 1 : 0;
}

/* Drive every connection until none is busy, or for @p max_s seconds when
 * @p next (may be NULL) feeds idle ones. */
typedef bool (*bench_feed_fn)(struct bench *b, struct bench_conn *c, void *ctx);

static int
bench_loop(struct bench *b, bench_feed_fn feed, void *ctx, double deadline)
{
	struct pollfd pfd[BENCH_MAX_CONNS];

	for (;;) {
		unsigned busy = 0;
		int timeout;

		for (unsigned i = 0; i < b->conns; i++) {
			struct bench_conn *c = &b->c[i];
			if (!c->busy && feed != NULL)
				feed(b, c, ctx);
			pfd[i].fd = c->fd;
			pfd[i].events = !c->busy ? 0 : c->out_off < c->out_len ? POLLOUT : POLLIN;
			pfd[i].revents = 0;
			busy += c->busy;
		}
		if (busy == 0 && (feed == NULL || bench_now() >= deadline))
			return 0;
		timeout = busy ? 100 : 1;
		if (poll(pfd, b->conns, timeout) < 0 && errno != EINTR)
			return -errno;
		for (unsigned i = 0; i < b->conns; i++) {
			struct bench_conn *c = &b->c[i];
			int status = 0, r;
			ssize_t n;

			if (!c->busy || pfd[i].revents == 0)
				continue;
			if (c->out_off < c->out_len) {
				n = write(c->fd, c->out + c->out_off, c->out_len - c->out_off);
				if (n < 0 && errno != EAGAIN && errno != EINTR)
					return -errno;
				if (n > 0)
					c->out_off += (size_t)n;
				continue;
			}
			if (c->in_len + 1 >= c->in_cap) {
				char *ni = realloc(c->in, c->in_cap * 2);
				if (ni == NULL)
					return -ENOMEM;
				c->in = ni;
				c->in_cap *= 2;
			}
			n = read(c->fd, c->in + c->in_len, c->in_cap - c->in_len - 1);
			if (n == 0) {
				snprintf(b->last_error, sizeof(b->last_error),
					 "the server closed a connection");
				return -ECONNRESET;
			}
			if (n < 0) {
				if (errno == EAGAIN || errno == EINTR)
					continue;
				return -errno;
			}
			c->in_len += (size_t)n;
			r = bench_parse(c, &status);
			if (r < 0)
				return -EPROTO;
			if (r == 0)
				continue;
			c->busy = false;
			if (status < 200 || status >= 300) {
				b->failed++;
				snprintf(b->last_error, sizeof(b->last_error), "%d %.400s", status,
					 strstr(c->in, "\r\n\r\n") + 4);
			}
			bench_record(b, c->due, c->sent, bench_now());
		}
		if (feed != NULL && busy == 0 && bench_now() >= deadline)
			return 0;
	}
}

/* ---- statistics ---- */

static int
bench_dbl_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double
bench_pct(double *v, size_t n, double p)
{
	size_t i;

	if (n == 0)
		return 0;
	i = (size_t)(p * (double)(n - 1) + 0.5);
	return v[i < n ? i : n - 1];
}

static void
bench_report(struct bench *b, const char *what, double secs, const char *key)
{
	size_t n = b->n_lat;

	qsort(b->lat_due, n, sizeof(double), bench_dbl_cmp);
	qsort(b->lat_sent, n, sizeof(double), bench_dbl_cmp);
	printf("%-28s %7zu requests in %8.3f s: %8.0f/s  latency ms p50 %.2f p99 %.2f "
	       "max %.2f\n",
	       what, n, secs, secs > 0 ? (double)n / secs : 0, bench_pct(b->lat_due, n, 0.5) * 1e3,
	       bench_pct(b->lat_due, n, 0.99) * 1e3, n ? b->lat_due[n - 1] * 1e3 : 0);
	printf("RESULT %s_requests=%zu %s_seconds=%.3f %s_p50_ms=%.3f %s_p99_ms=%.3f "
	       "%s_max_ms=%.3f %s_sent_p50_ms=%.3f %s_sent_p99_ms=%.3f\n",
	       key, n, key, secs, key, bench_pct(b->lat_due, n, 0.5) * 1e3, key,
	       bench_pct(b->lat_due, n, 0.99) * 1e3, key, n ? b->lat_due[n - 1] * 1e3 : 0, key,
	       bench_pct(b->lat_sent, n, 0.5) * 1e3, key, bench_pct(b->lat_sent, n, 0.99) * 1e3);
	b->n_lat = 0;
}

/* ---- bodies ---- */

static void
bench_service(char *body, size_t len, char *path, size_t plen, const char *ns, long i)
{
	snprintf(path, plen, "/api/v1/namespaces/%s/services/s%05ld", ns, i);
	snprintf(body, len,
		 "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"s%05ld\","
		 "\"namespace\":\"%s\"},\"spec\":{\"clusterIP\":\"198.18.%ld.%ld\",\"ports\":"
		 "[{\"name\":\"http\",\"port\":80,\"targetPort\":8080}]}}",
		 i, ns, 128 + (i >> 8) % 128, i & 255);
}

/* Endpoints of service @p i, set number @p gen: @p n distinct addresses. */
static void
bench_endpoints(char *body, size_t len, char *path, size_t plen, const char *ns, long i, unsigned n,
		long gen)
{
	size_t o;

	snprintf(path, plen, "/api/v1/namespaces/%s/endpoints/s%05ld", ns, i);
	o = (size_t)snprintf(body, len,
			     "{\"apiVersion\":\"v1\",\"kind\":\"Endpoints\",\"metadata\":{\"name\":"
			     "\"s%05ld\",\"namespace\":\"%s\"},\"subsets\":[{\"ports\":[{\"name\":"
			     "\"http\",\"port\":8080}],\"addresses\":[",
			     i, ns);
	/* host x of 198.19.0.0/16: consecutive per service and shifted by
	 * each new set, so no two services (and no two sets of one service)
	 * share an address set, as no two Services share their pods */
	for (unsigned j = 0; j < n && o + 64 < len; j++) {
		long x = (i * (long)n + (long)j + gen * 7919) % 65534 + 1;

		o += (size_t)snprintf(body + o, len - o, "%s{\"ip\":\"198.19.%ld.%ld\"}",
				      j ? "," : "", x >> 8, x & 255);
	}
	snprintf(body + o, len - o, "]}]}");
}

/* ---- apply ---- */

struct bench_apply {
	long next, n;
	unsigned eps; /* 0: services */
	double start;
};

static bool
bench_apply_feed(struct bench *b, struct bench_conn *c, void *ctx)
{
	struct bench_apply *a = ctx;
	char body[4096], path[256];

	if (a->next >= a->n)
		return false;
	if (a->eps == 0)
		bench_service(body, sizeof(body), path, sizeof(path), b->ns, a->next);
	else
		bench_endpoints(body, sizeof(body), path, sizeof(path), b->ns, a->next, a->eps, 0);
	bench_send(b, c, "PUT", path, body, a->next, bench_now());
	a->next++;
	return true;
}

static int
bench_cmd_apply(struct bench *b, long n, unsigned eps)
{
	struct bench_apply a = {.n = n};
	double t0 = bench_now(), t1;
	int rc;

	rc = bench_loop(b, bench_apply_feed, &a, 0);
	t1 = bench_now();
	if (rc == 0)
		bench_report(b, "services", t1 - t0, "services");
	a = (struct bench_apply){.n = n, .eps = eps};
	if (rc == 0)
		rc = bench_loop(b, bench_apply_feed, &a, 0);
	if (rc == 0) {
		bench_report(b, "endpoints", bench_now() - t1, "endpoints");
		printf("RESULT apply_total_seconds=%.3f\n", bench_now() - t0);
	}
	return rc;
}

/* ---- churn ---- */

struct bench_churn {
	long n, sent, late;
	double rate, start, end;
	uint64_t rnd;
};

static bool
bench_churn_feed(struct bench *b, struct bench_conn *c, void *ctx)
{
	struct bench_churn *k = ctx;
	double due = k->start + (double)k->sent / k->rate, now = bench_now();
	char body[4096], path[256];
	long i;

	if (due >= k->end || now < due)
		return false;
	if (now - due > 1e-3)
		k->late++;
	k->rnd ^= k->rnd << 13;
	k->rnd ^= k->rnd >> 7;
	k->rnd ^= k->rnd << 17;
	i = (long)(k->rnd % (uint64_t)k->n);
	bench_endpoints(body, sizeof(body), path, sizeof(path), b->ns, i, 10, k->sent + 1);
	bench_send(b, c, "PUT", path, body, k->sent, due);
	k->sent++;
	return true;
}

static int
bench_cmd_churn(struct bench *b, long n, double rate, double secs)
{
	struct bench_churn k = {.n = n, .rate = rate, .rnd = 0x9e3779b97f4a7c15ull};
	int rc;

	k.start = bench_now();
	k.end = k.start + secs;
	rc = bench_loop(b, bench_churn_feed, &k, k.end);
	if (rc == 0) {
		printf("churn: %ld updates due, %ld sent more than 1 ms late (no idle "
		       "connection)\n",
		       k.sent, k.late);
		bench_report(b, "churn (from due time)", bench_now() - k.start, "churn");
		printf("RESULT churn_late=%ld\n", k.late);
	}
	return rc;
}

/* ---- metrics ---- */

static int
bench_cmd_metrics(struct bench *b, char **names, int n)
{
	struct bench_conn *c = &b->c[0];
	int rc;

	bench_send(b, c, "GET", "/metrics", NULL, 0, bench_now());
	b->conns = 1;
	rc = bench_loop(b, NULL, NULL, 0);
	if (rc < 0)
		return rc;
	printf("RESULT");
	for (int k = 0; k < n; k++) {
		size_t nl = strlen(names[k]);
		double sum = 0;
		char *body = strstr(c->in, "\r\n\r\n");

		for (char *line = body ? body + 4 : NULL; line != NULL && *line;) {
			char *eol = strchr(line, '\n');
			if (eol != NULL)
				*eol = '\0';
			/* NAME sums every series; NAME{labels} is one series */
			if (strncmp(line, names[k], nl) == 0 &&
			    (line[nl] == ' ' || (line[nl] == '{' && names[k][nl - 1] != '}'))) {
				char *sp = strrchr(line, ' ');
				if (sp != NULL)
					sum += strtod(sp + 1, NULL);
			}
			if (eol != NULL)
				*eol = '\n';
			line = eol ? eol + 1 : NULL;
		}
		printf(" %s=%.9g", names[k], sum);
	}
	printf("\n");
	return 0;
}

static void
bench_usage(FILE *f)
{
	fprintf(f, "usage: api_bench [--server HOST:PORT] [--conns C] [--namespace NS] "
		   "apply N [ENDPOINTS] | churn N RATE SECONDS | metrics NAME...\n");
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"server", required_argument, NULL, 's'},
	    {"conns", required_argument, NULL, 'c'},
	    {"namespace", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	static struct bench b;
	const char *server = "127.0.0.1:9180";
	char host[64], *colon;
	int opt, rc = 0;

	b.conns = 16;
	b.ns = "bench";
	while ((opt = getopt_long(argc, argv, "+s:c:n:h", opts, NULL)) != -1) {
		switch (opt) {
		case 's':
			server = optarg;
			break;
		case 'c':
			b.conns = (unsigned)atoi(optarg);
			break;
		case 'n':
			b.ns = optarg;
			break;
		case 'h':
			bench_usage(stdout);
			return 0;
		default:
			bench_usage(stderr);
			return 2;
		}
	}
	if (optind >= argc || b.conns == 0 || b.conns > BENCH_MAX_CONNS) {
		bench_usage(stderr);
		return 2;
	}
	snprintf(host, sizeof(host), "%s", server);
	colon = strrchr(host, ':');
	if (colon == NULL) {
		fprintf(stderr, "api_bench: --server wants HOST:PORT\n");
		return 2;
	}
	*colon = '\0';
	b.addr.sin_family = AF_INET;
	b.addr.sin_port = htons((uint16_t)atoi(colon + 1));
	if (inet_pton(AF_INET, host, &b.addr.sin_addr) != 1) {
		fprintf(stderr, "api_bench: %s is not an IPv4 address\n", host);
		return 2;
	}
	snprintf(b.host, sizeof(b.host), "%s", server);
	for (unsigned i = 0; i < b.conns; i++) {
		rc = bench_connect(&b, &b.c[i]);
		if (rc < 0) {
			fprintf(stderr, "api_bench: connect %s: %s\n", server, strerror(-rc));
			return 1;
		}
	}

	if (strcmp(argv[optind], "apply") == 0 && argc - optind >= 2)
		rc = bench_cmd_apply(&b, atol(argv[optind + 1]),
				     argc - optind >= 3 ? (unsigned)atoi(argv[optind + 2]) : 10);
	else if (strcmp(argv[optind], "churn") == 0 && argc - optind == 4)
		rc = bench_cmd_churn(&b, atol(argv[optind + 1]), atof(argv[optind + 2]),
				     atof(argv[optind + 3]));
	else if (strcmp(argv[optind], "metrics") == 0)
		rc = bench_cmd_metrics(&b, argv + optind + 1, argc - optind - 1);
	else {
		bench_usage(stderr);
		return 2;
	}
	if (rc < 0) {
		fprintf(stderr, "api_bench: %s%s%s\n", strerror(-rc), b.last_error[0] ? ": " : "",
			b.last_error);
		return 1;
	}
	if (b.failed > 0) {
		fprintf(stderr, "api_bench: %lu requests refused; last: %s\n", b.failed,
			b.last_error);
		return 1;
	}
	return 0;
}
