/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelbctl HTTP client: server URLs, percent-encoding, answer framing
 * (Content-Length, chunked, connection close) and the message for a server
 * that is down.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_http.h"

static void
test_url_with_ipv4_host_and_port(void **state)
{
	struct ctl_http_url u;

	(void)state;
	assert_int_equal(ctl_http_url_parse("http://127.0.0.1:9180", &u), 0);
	assert_string_equal(u.host, "127.0.0.1");
	assert_string_equal(u.port, "9180");
	assert_string_equal(u.prefix, "");
	assert_false(u.ipv6);
}

static void
test_url_with_bracketed_ipv6_host(void **state)
{
	struct ctl_http_url u;

	(void)state;
	assert_int_equal(ctl_http_url_parse("http://[::1]:9180/", &u), 0);
	assert_string_equal(u.host, "::1");
	assert_string_equal(u.port, "9180");
	assert_true(u.ipv6);
	assert_int_equal(ctl_http_url_parse("http://[2001:db8::5]", &u), 0);
	assert_string_equal(u.host, "2001:db8::5");
	assert_string_equal(u.port, "80");
}

static void
test_url_without_port_uses_80(void **state)
{
	struct ctl_http_url u;

	(void)state;
	assert_int_equal(ctl_http_url_parse("http://edge-1.example", &u), 0);
	assert_string_equal(u.host, "edge-1.example");
	assert_string_equal(u.port, "80");
}

static void
test_url_without_scheme_is_http(void **state)
{
	struct ctl_http_url u;

	(void)state;
	assert_int_equal(ctl_http_url_parse("localhost:8080", &u), 0);
	assert_string_equal(u.host, "localhost");
	assert_string_equal(u.port, "8080");
}

static void
test_url_path_becomes_a_prefix_without_trailing_slash(void **state)
{
	struct ctl_http_url u;

	(void)state;
	assert_int_equal(ctl_http_url_parse("http://h:1/edge/lb//", &u), 0);
	assert_string_equal(u.prefix, "/edge/lb");
}

static void
test_https_is_not_supported(void **state)
{
	struct ctl_http_url u;

	(void)state;
	assert_int_equal(ctl_http_url_parse("https://127.0.0.1:9180", &u), -EPROTONOSUPPORT);
}

static void
test_malformed_urls_are_refused(void **state)
{
	static const char *const bad[] = {
	    "http://",	    "http://:80",  "http://h:0",      "http://h:65536",
	    "http://h:80x", "http://[::1", "http://h:",	      "http://h?x=1",
	    "http://h/p?q", "http://a b",  "http://h:123456", "http://[::1]x",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct ctl_http_url u;

		if (ctl_http_url_parse(bad[i], &u) != -EINVAL)
			fail_msg("\"%s\" was accepted", bad[i]);
	}
}

static void
test_escape_keeps_unreserved_and_encodes_the_rest(void **state)
{
	char out[64];

	(void)state;
	assert_int_equal(ctl_http_escape("web-1.a_b~", out, sizeof(out)), 0);
	assert_string_equal(out, "web-1.a_b~");
	assert_int_equal(ctl_http_escape("a/b c?%", out, sizeof(out)), 0);
	assert_string_equal(out, "a%2Fb%20c%3F%25");
	assert_int_equal(ctl_http_escape("abcdef", out, 6), -ENOSPC);
}

static void
test_dechunk_joins_chunks(void **state)
{
	const char *in = "4\r\nWiki\r\n6;ext=1\r\npedia \r\nE\r\nin \r\n\r\nchunks.\r\n0\r\n\r\n";
	size_t len, used;
	char *out;

	(void)state;
	assert_int_equal(ctl_http_dechunk(in, strlen(in), &out, &len, &used), 0);
	assert_int_equal(len, 24);
	assert_memory_equal(out, "Wikipedia in \r\n\r\nchunks.", 24);
	assert_int_equal(used, strlen(in));
	free(out);
}

static void
test_dechunk_skips_trailer_fields(void **state)
{
	const char *in = "3\r\nabc\r\n0\r\nX-Trailer: 1\r\n\r\n";
	size_t len, used;
	char *out;

	(void)state;
	assert_int_equal(ctl_http_dechunk(in, strlen(in), &out, &len, &used), 0);
	assert_string_equal(out, "abc");
	assert_int_equal(used, strlen(in));
	free(out);
}

static void
test_dechunk_of_a_cut_body_asks_for_more(void **state)
{
	const char *in = "4\r\nWiki\r\n6\r\nped";
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(ctl_http_dechunk(in, strlen(in), &out, &len, NULL), -EAGAIN);
	assert_int_equal(ctl_http_dechunk("4\r\nWiki\r\n0\r\n", 12, &out, &len, NULL), -EAGAIN);
}

static void
test_dechunk_refuses_garbage(void **state)
{
	size_t len;
	char *out;

	(void)state;
	assert_int_equal(ctl_http_dechunk("zz\r\nab\r\n", 8, &out, &len, NULL), -EBADMSG);
	assert_int_equal(ctl_http_dechunk("2\r\nabc\r\n0\r\n\r\n", 14, &out, &len, NULL), -EBADMSG);
	assert_int_equal(ctl_http_dechunk("FFFFFFFFFFFF\r\n", 14, &out, &len, NULL), -EFBIG);
}

static void
test_response_with_content_length(void **state)
{
	const char *in = "HTTP/1.1 201 Created\r\nContent-Type: application/json\r\n"
			 "Content-Length: 2\r\n\r\n{}extra";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), false, false, &r), 0);
	assert_int_equal(r.status, 201);
	assert_string_equal(r.reason, "Created");
	assert_string_equal(r.content_type, "application/json");
	assert_int_equal(r.body_len, 2);
	assert_string_equal(r.body, "{}");
	ctl_http_resp_free(&r);
}

static void
test_response_shorter_than_content_length_waits(void **state)
{
	const char *in = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n12345";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), false, false, &r), -EAGAIN);
	assert_int_equal(ctl_http_parse_response(in, strlen(in), true, false, &r), -EBADMSG);
}

static void
test_chunked_response_is_decoded(void **state)
{
	const char *in = "HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
			 "5\r\nhello\r\n1\r\n!\r\n0\r\n\r\n";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), false, false, &r), 0);
	assert_string_equal(r.body, "hello!");
	ctl_http_resp_free(&r);
}

static void
test_response_without_length_ends_at_close(void **state)
{
	const char *in = "HTTP/1.0 200 OK\r\n\r\nall of it";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), false, false, &r), -EAGAIN);
	assert_int_equal(ctl_http_parse_response(in, strlen(in), true, false, &r), 0);
	assert_string_equal(r.body, "all of it");
	ctl_http_resp_free(&r);
}

static void
test_interim_100_continue_is_skipped(void **state)
{
	const char *in = "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 404 Not Found\r\n"
			 "Content-Length: 0\r\n\r\n";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), false, false, &r), 0);
	assert_int_equal(r.status, 404);
	assert_int_equal(r.body_len, 0);
	ctl_http_resp_free(&r);
}

static void
test_no_content_has_no_body(void **state)
{
	const char *in = "HTTP/1.1 204 No Content\r\n\r\n";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), false, false, &r), 0);
	assert_int_equal(r.status, 204);
	assert_int_equal(r.body_len, 0);
	ctl_http_resp_free(&r);
}

static void
test_malformed_status_line_is_refused(void **state)
{
	const char *in = "HTTP/2 200 OK\r\nContent-Length: 0\r\n\r\n";
	const char *in2 = "HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n";
	const char *in3 = "HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n";
	struct ctl_http_resp r;

	(void)state;
	assert_int_equal(ctl_http_parse_response(in, strlen(in), true, false, &r), -EBADMSG);
	assert_int_equal(ctl_http_parse_response(in2, strlen(in2), true, false, &r), -EBADMSG);
	assert_int_equal(ctl_http_parse_response(in3, strlen(in3), true, false, &r), -EBADMSG);
}

static void
test_server_that_is_down_reports_connection_refused(void **state)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t sl = sizeof(sa);
	struct ctl_http_client c = {.timeout_ms = 2000};
	struct ctl_http_resp r;
	char url[64], err[256];
	int fd;

	(void)state;
	/* A bound socket that never listens: connecting to its port is refused. */
	fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", ntohs(sa.sin_port));
	assert_int_equal(ctl_http_url_parse(url, &c.url), 0);
	c.server = url;
	assert_int_equal(ctl_http_request(&c, "GET", "/healthz", NULL, 0, &r, err, sizeof(err)),
			 -ECONNREFUSED);
	assert_non_null(strstr(err, "cannot connect to http://127.0.0.1:"));
	assert_non_null(strstr(err, ": Connection refused"));
	close(fd);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_url_with_ipv4_host_and_port),
	    cmocka_unit_test(test_url_with_bracketed_ipv6_host),
	    cmocka_unit_test(test_url_without_port_uses_80),
	    cmocka_unit_test(test_url_without_scheme_is_http),
	    cmocka_unit_test(test_url_path_becomes_a_prefix_without_trailing_slash),
	    cmocka_unit_test(test_https_is_not_supported),
	    cmocka_unit_test(test_malformed_urls_are_refused),
	    cmocka_unit_test(test_escape_keeps_unreserved_and_encodes_the_rest),
	    cmocka_unit_test(test_dechunk_joins_chunks),
	    cmocka_unit_test(test_dechunk_skips_trailer_fields),
	    cmocka_unit_test(test_dechunk_of_a_cut_body_asks_for_more),
	    cmocka_unit_test(test_dechunk_refuses_garbage),
	    cmocka_unit_test(test_response_with_content_length),
	    cmocka_unit_test(test_response_shorter_than_content_length_waits),
	    cmocka_unit_test(test_chunked_response_is_decoded),
	    cmocka_unit_test(test_response_without_length_ends_at_close),
	    cmocka_unit_test(test_interim_100_continue_is_skipped),
	    cmocka_unit_test(test_no_content_has_no_body),
	    cmocka_unit_test(test_malformed_status_line_is_refused),
	    cmocka_unit_test(test_server_that_is_down_reports_connection_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
