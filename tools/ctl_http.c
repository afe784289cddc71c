/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small HTTP/1.1 client (RFC 9110 semantics, RFC 9112 message syntax) for
 * the edgelb REST API: one request per connection, non-blocking connect with
 * a timeout, every read bounded by poll(), answers framed by Content-Length,
 * chunked coding (RFC 9112 section 7.1) or connection close.
 */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "ctl_buf.h"
#include "ctl_http.h"

#ifndef EL_VERSION
#define EL_VERSION "dev"
#endif

int
ctl_http_url_parse(const char *url, struct ctl_http_url *u)
{
	const char *p = url, *host, *host_end, *colon;
	size_t hlen;

	memset(u, 0, sizeof(*u));
	if (strncasecmp(p, "http://", 7) == 0)
		p += 7;
	else if (strstr(p, "://") != NULL)
		return -EPROTONOSUPPORT;
	if (*p == '[') {
		host = p + 1;
		host_end = strchr(host, ']');
		if (host_end == NULL)
			return -EINVAL;
		p = host_end + 1;
		u->ipv6 = true;
	} else {
		host = p;
		host_end = host + strcspn(host, ":/?#");
		p = host_end;
	}
	hlen = (size_t)(host_end - host);
	if (hlen == 0)
		return -EINVAL;
	if (hlen >= sizeof(u->host))
		return -ENAMETOOLONG;
	memcpy(u->host, host, hlen);
	for (size_t i = 0; i < hlen; i++) {
		unsigned char c = (unsigned char)u->host[i];

		if (!(isalnum(c) || c == '.' || c == '-' || c == '_' || (u->ipv6 && c == ':') ||
		      (u->ipv6 && c == '%')))
			return -EINVAL;
	}
	strcpy(u->port, "80");
	if (*p == ':') {
		char *end;
		long port;

		colon = p + 1;
		if (!isdigit((unsigned char)*colon))
			return -EINVAL;
		port = strtol(colon, &end, 10);
		if (port < 1 || port > 65535 || end - colon > 5)
			return -EINVAL;
		snprintf(u->port, sizeof(u->port), "%ld", port);
		p = end;
	}
	if (*p == '?' || *p == '#')
		return -EINVAL;
	if (*p != '\0' && *p != '/')
		return -EINVAL;
	if (strpbrk(p, "?# \t\r\n") != NULL)
		return -EINVAL;
	hlen = strlen(p);
	while (hlen > 0 && p[hlen - 1] == '/')
		hlen--;
	if (hlen >= sizeof(u->prefix))
		return -ENAMETOOLONG;
	memcpy(u->prefix, p, hlen);
	u->prefix[hlen] = '\0';
	return 0;
}

int
ctl_http_escape(const char *s, char *out, size_t outlen)
{
	size_t n = 0;

	for (; *s != '\0'; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			if (n + 1 >= outlen)
				return -ENOSPC;
			out[n++] = (char)c;
		} else {
			if (n + 3 >= outlen)
				return -ENOSPC;
			snprintf(out + n, 4, "%%%02X", c);
			n += 3;
		}
	}
	if (n >= outlen)
		return -ENOSPC;
	out[n] = '\0';
	return 0;
}

/* Find "\r\n" in [p, end); returns its position or NULL. */
static const char *
ctl_http_eol(const char *p, const char *end)
{
	for (; p + 1 < end; p++)
		if (p[0] == '\r' && p[1] == '\n')
			return p;
	return NULL;
}

int
ctl_http_dechunk(const char *in, size_t len, char **out, size_t *out_len, size_t *consumed)
{
	const char *p = in, *end = in + len;
	struct ctl_buf b = {0};
	int rc;

	for (;;) {
		const char *eol = ctl_http_eol(p, end);
		uint64_t size = 0;
		const char *q = p;

		if (eol == NULL) {
			/* A size line longer than any sane one is garbage. */
			rc = end - p > 1024 ? -EBADMSG : -EAGAIN;
			goto fail;
		}
		if (q == eol || !isxdigit((unsigned char)*q)) {
			rc = -EBADMSG;
			goto fail;
		}
		for (; q < eol && isxdigit((unsigned char)*q); q++) {
			int d = isdigit((unsigned char)*q) ? *q - '0'
							   : tolower((unsigned char)*q) - 'a' + 10;

			size = size * 16 + (uint64_t)d;
			if (size > CTL_HTTP_MAX_RESPONSE) {
				rc = -EFBIG;
				goto fail;
			}
		}
		/* Chunk extensions (";name=value") are allowed and ignored. */
		while (q < eol && (*q == ' ' || *q == '\t'))
			q++;
		if (q != eol && *q != ';') {
			rc = -EBADMSG;
			goto fail;
		}
		p = eol + 2;
		if (size == 0) {
			/* Trailer fields up to an empty line. */
			for (;;) {
				eol = ctl_http_eol(p, end);
				if (eol == NULL) {
					rc = -EAGAIN;
					goto fail;
				}
				if (eol == p)
					break;
				p = eol + 2;
			}
			p += 2;
			break;
		}
		if ((uint64_t)(end - p) < size + 2) {
			rc = -EAGAIN;
			goto fail;
		}
		if (b.len + size > CTL_HTTP_MAX_RESPONSE) {
			rc = -EFBIG;
			goto fail;
		}
		if (p[size] != '\r' || p[size + 1] != '\n') {
			rc = -EBADMSG;
			goto fail;
		}
		rc = ctl_buf_add(&b, p, (size_t)size);
		if (rc < 0)
			goto fail;
		p += size + 2;
	}
	*out_len = b.len;
	*out = ctl_buf_take(&b);
	if (*out == NULL)
		return -ENOMEM;
	if (consumed != NULL)
		*consumed = (size_t)(p - in);
	return 0;
fail:
	ctl_buf_free(&b);
	return rc;
}

/* Header value of "name" inside the header block [p, end), or NULL. */
static const char *
ctl_http_header(const char *p, const char *end, const char *name, size_t *vlen)
{
	size_t nlen = strlen(name);

	while (p < end) {
		const char *eol = ctl_http_eol(p, end + 2);

		if (eol == NULL)
			break;
		if ((size_t)(eol - p) > nlen && strncasecmp(p, name, nlen) == 0 && p[nlen] == ':') {
			const char *v = p + nlen + 1, *ve = eol;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*vlen = (size_t)(ve - v);
			return v;
		}
		p = eol + 2;
	}
	return NULL;
}

static void
ctl_http_copy_value(char *dst, size_t dstlen, const char *v, size_t vlen)
{
	if (vlen >= dstlen)
		vlen = dstlen - 1;
	memcpy(dst, v, vlen);
	dst[vlen] = '\0';
}

int
ctl_http_parse_response(const char *buf, size_t len, bool eof, bool head,
			struct ctl_http_resp *resp)
{
	const char *p = buf, *end = buf + len;

	memset(resp, 0, sizeof(*resp));
	for (;;) {
		const char *hdr_end = NULL, *line_end, *sp, *v;
		size_t vlen, body_avail;
		int status;

		for (const char *q = p; q + 3 < end; q++) {
			if (memcmp(q, "\r\n\r\n", 4) == 0) {
				hdr_end = q;
				break;
			}
		}
		if (hdr_end == NULL) {
			if (end - p > 65536)
				return -EBADMSG;
			return eof ? -EBADMSG : -EAGAIN;
		}
		/* Status line: HTTP/1.x SP 3DIGIT SP reason */
		line_end = ctl_http_eol(p, end);
		if (line_end - p < 12 || strncmp(p, "HTTP/1.", 7) != 0 || p[8] != ' ' ||
		    !isdigit((unsigned char)p[9]) || !isdigit((unsigned char)p[10]) ||
		    !isdigit((unsigned char)p[11]))
			return -EBADMSG;
		status = (p[9] - '0') * 100 + (p[10] - '0') * 10 + (p[11] - '0');
		if (status < 100)
			return -EBADMSG;
		if (status < 200) {
			p = hdr_end + 4; /* interim answer: the real one follows */
			continue;
		}
		resp->status = status;
		sp = p + 12;
		if (sp < line_end && *sp == ' ')
			sp++;
		ctl_http_copy_value(resp->reason, sizeof(resp->reason), sp,
				    (size_t)(line_end - sp));
		v = ctl_http_header(line_end + 2, hdr_end, "Content-Type", &vlen);
		if (v != NULL)
			ctl_http_copy_value(resp->content_type, sizeof(resp->content_type), v,
					    vlen);
		p = hdr_end + 4;
		body_avail = (size_t)(end - p);
		if (head || status == 204 || status == 304) {
			body_avail = 0;
		} else if ((v = ctl_http_header(line_end + 2, hdr_end, "Transfer-Encoding",
						&vlen)) != NULL &&
			   vlen >= 7 && strncasecmp(v + vlen - 7, "chunked", 7) == 0) {
			int rc =
			    ctl_http_dechunk(p, body_avail, &resp->body, &resp->body_len, NULL);

			if (rc == -EAGAIN && eof)
				rc = -EBADMSG;
			return rc;
		} else if ((v = ctl_http_header(line_end + 2, hdr_end, "Content-Length", &vlen)) !=
			   NULL) {
			unsigned long long cl = 0;

			if (vlen == 0)
				return -EBADMSG;
			for (size_t i = 0; i < vlen; i++) {
				if (!isdigit((unsigned char)v[i]))
					return -EBADMSG;
				cl = cl * 10 + (unsigned)(v[i] - '0');
				if (cl > CTL_HTTP_MAX_RESPONSE)
					return -EFBIG;
			}
			if (body_avail < cl)
				return eof ? -EBADMSG : -EAGAIN;
			body_avail = (size_t)cl;
		} else if (!eof) {
			return -EAGAIN; /* body runs to the end of the connection */
		}
		resp->body = malloc(body_avail + 1);
		if (resp->body == NULL)
			return -ENOMEM;
		memcpy(resp->body, p, body_avail);
		resp->body[body_avail] = '\0';
		resp->body_len = body_avail;
		return 0;
	}
}

void
ctl_http_resp_free(struct ctl_http_resp *resp)
{
	free(resp->body);
	resp->body = NULL;
	resp->body_len = 0;
}

static long
ctl_http_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000L + ts.tv_nsec / 1000000L;
}

/* Wait for fd to be ready for events; -ETIMEDOUT after timeout_ms. */
static int
ctl_http_wait(int fd, short events, int timeout_ms)
{
	struct pollfd pfd = {.fd = fd, .events = events};
	long deadline = ctl_http_now_ms() + timeout_ms;

	for (;;) {
		long left = deadline - ctl_http_now_ms();
		int n;

		if (left < 0)
			left = 0;
		n = poll(&pfd, 1, (int)left);
		if (n > 0)
			return 0;
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Connect to one address with a timeout. Returns the socket or -errno. */
static int
ctl_http_connect_one(const struct addrinfo *ai, int timeout_ms)
{
	int fd, rc, soerr = 0;
	socklen_t sl = sizeof(soerr);

	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, ai->ai_protocol);
	if (fd < 0)
		return -errno;
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
		return fd;
	if (errno != EINPROGRESS) {
		rc = -errno;
		goto fail;
	}
	rc = ctl_http_wait(fd, POLLOUT, timeout_ms);
	if (rc < 0)
		goto fail;
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) < 0) {
		rc = -errno;
		goto fail;
	}
	if (soerr != 0) {
		rc = -soerr;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return rc;
}

static int
ctl_http_connect(const struct ctl_http_client *c, char *err, size_t errlen)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_ADDRCONFIG};
	struct addrinfo *res, *ai;
	int rc, fd = -ECONNREFUSED;

	if (c->url.ipv6)
		hints.ai_family = AF_INET6;
	rc = getaddrinfo(c->url.host, c->url.port, &hints, &res);
	if (rc == EAI_ADDRFAMILY || rc == EAI_NONAME) {
		/* AI_ADDRCONFIG hides loopback-only setups: ask again. */
		hints.ai_flags = 0;
		rc = getaddrinfo(c->url.host, c->url.port, &hints, &res);
	}
	if (rc != 0) {
		snprintf(err, errlen, "cannot connect to %s: cannot resolve %s: %s", c->server,
			 c->url.host, gai_strerror(rc));
		return -EHOSTUNREACH;
	}
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = ctl_http_connect_one(ai, c->timeout_ms);
		if (fd >= 0)
			break;
	}
	freeaddrinfo(res);
	if (fd < 0)
		snprintf(err, errlen, "cannot connect to %s: %s", c->server, strerror(-fd));
	return fd;
}

static int
ctl_http_send_all(int fd, const char *p, size_t len, int timeout_ms)
{
	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			int rc = ctl_http_wait(fd, POLLOUT, timeout_ms);

			if (rc < 0)
				return rc;
			continue;
		}
		return n < 0 ? -errno : -EIO;
	}
	return 0;
}

static int
ctl_http_build(const struct ctl_http_client *c, const char *method, const char *path,
	       const char *body, size_t body_len, struct ctl_buf *req)
{
	int rc;

	rc = ctl_buf_addf(req, "%s %s%s HTTP/1.1\r\n", method, c->url.prefix, path);
	if (rc == 0 && c->url.ipv6)
		rc = ctl_buf_addf(req, "Host: [%s]:%s\r\n", c->url.host, c->url.port);
	else if (rc == 0)
		rc = ctl_buf_addf(req, "Host: %s:%s\r\n", c->url.host, c->url.port);
	if (rc == 0)
		rc = ctl_buf_adds(req, "User-Agent: edgelbctl/" EL_VERSION "\r\n"
				       "Accept: application/json\r\n"
				       "Connection: close\r\n");
	if (rc == 0 && c->token != NULL)
		rc = ctl_buf_addf(req, "Authorization: Bearer %s\r\n", c->token);
	if (rc == 0 && body != NULL)
		rc = ctl_buf_addf(req,
				  "Content-Type: application/json\r\n"
				  "Content-Length: %zu\r\n",
				  body_len);
	if (rc == 0)
		rc = ctl_buf_adds(req, "\r\n");
	if (rc == 0 && body != NULL)
		rc = ctl_buf_add(req, body, body_len);
	return rc;
}

int
ctl_http_request(const struct ctl_http_client *c, const char *method, const char *path,
		 const char *body, size_t body_len, struct ctl_http_resp *resp, char *err,
		 size_t errlen)
{
	struct ctl_buf req = {0}, in = {0};
	bool head = strcmp(method, "HEAD") == 0;
	char chunk[16384];
	int fd, rc;

	memset(resp, 0, sizeof(*resp));
	rc = ctl_http_build(c, method, path, body, body_len, &req);
	if (rc < 0) {
		snprintf(err, errlen, "out of memory");
		ctl_buf_free(&req);
		return rc;
	}
	fd = ctl_http_connect(c, err, errlen);
	if (fd < 0) {
		ctl_buf_free(&req);
		return fd;
	}
	rc = ctl_http_send_all(fd, req.p, req.len, c->timeout_ms);
	ctl_buf_free(&req);
	if (rc < 0) {
		snprintf(err, errlen, "sending to %s: %s", c->server, strerror(-rc));
		goto out;
	}
	for (;;) {
		ssize_t n;

		rc = ctl_http_wait(fd, POLLIN, c->timeout_ms);
		if (rc == -ETIMEDOUT) {
			snprintf(err, errlen, "no answer from %s within %d ms", c->server,
				 c->timeout_ms);
			goto out;
		}
		if (rc < 0) {
			snprintf(err, errlen, "reading from %s: %s", c->server, strerror(-rc));
			goto out;
		}
		n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < 0) {
			rc = -errno;
			/* A reset after a complete answer is still an answer. */
			if (ctl_http_parse_response(ctl_buf_str(&in), in.len, true, head, resp) ==
			    0) {
				rc = 0;
				goto out;
			}
			snprintf(err, errlen, "reading from %s: %s", c->server, strerror(-rc));
			goto out;
		}
		if (n > 0 && ctl_buf_add(&in, chunk, (size_t)n) < 0) {
			rc = -ENOMEM;
			snprintf(err, errlen, "out of memory");
			goto out;
		}
		if (in.len > CTL_HTTP_MAX_RESPONSE + 65536) {
			rc = -EFBIG;
			snprintf(err, errlen, "answer of %s is too large", c->server);
			goto out;
		}
		rc = ctl_http_parse_response(ctl_buf_str(&in), in.len, n == 0, head, resp);
		if (rc == -EAGAIN)
			continue;
		if (rc < 0)
			snprintf(err, errlen, "malformed answer from %s%s", c->server,
				 n == 0 ? " (connection closed early)" : "");
		goto out;
	}
out:
	ctl_buf_free(&in);
	close(fd);
	if (rc < 0)
		ctl_http_resp_free(resp);
	return rc;
}
