/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * edgelbctl manifests: which kinds go where (REST paths), how files,
 * directories and List objects become objects, and the order they are sent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "ctl_manifest.h"

static const char svc_web[] = "apiVersion: v1\nkind: Service\nmetadata: {name: web}\n"
			      "spec: {ports: [{port: 80}]}\n";
static const char ep_web[] = "apiVersion: v1\nkind: Endpoints\nmetadata: {name: web}\n";
static const char slice_web[] = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\n"
				"metadata: {name: web-1, namespace: shop}\naddressType: IPv4\n";

static void
add_ok(struct ctl_manifest *m, const char *text, const char *ns)
{
	char err[256];

	if (ctl_manifest_add_text(m, "t.yaml", text, strlen(text), ns, err, sizeof(err)) != 0)
		fail_msg("add failed: %s", err);
}

static void
test_kinds_map_from_api_version_and_kind(void **state)
{
	enum ctl_kind k;

	(void)state;
	assert_int_equal(ctl_manifest_kind_of("v1", "Service", &k), 0);
	assert_int_equal(k, CTL_KIND_SERVICE);
	assert_int_equal(ctl_manifest_kind_of("v1", "Endpoints", &k), 0);
	assert_int_equal(k, CTL_KIND_ENDPOINTS);
	assert_int_equal(ctl_manifest_kind_of("discovery.k8s.io/v1", "EndpointSlice", &k), 0);
	assert_int_equal(k, CTL_KIND_ENDPOINTSLICE);
}

static void
test_known_kind_with_another_api_version_is_refused(void **state)
{
	enum ctl_kind k;

	(void)state;
	assert_int_equal(ctl_manifest_kind_of("discovery.k8s.io/v1beta1", "EndpointSlice", &k),
			 -EPROTO);
	assert_int_equal(ctl_manifest_kind_of("apps/v1", "Service", &k), -EPROTO);
}

static void
test_unknown_kind_is_refused(void **state)
{
	enum ctl_kind k;

	(void)state;
	assert_int_equal(ctl_manifest_kind_of("apps/v1", "Deployment", &k), -ENOENT);
}

static void
test_command_line_kind_words_and_short_names(void **state)
{
	static const struct {
		const char *word;
		enum ctl_kind kind;
	} cases[] = {
	    {"svc", CTL_KIND_SERVICE},
	    {"services", CTL_KIND_SERVICE},
	    {"ep", CTL_KIND_ENDPOINTS},
	    {"endpoints", CTL_KIND_ENDPOINTS},
	    {"endpointslices", CTL_KIND_ENDPOINTSLICE},
	    {"endpointslice.discovery.k8s.io", CTL_KIND_ENDPOINTSLICE},
	};
	enum ctl_kind k;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(ctl_manifest_kind_word(cases[i].word, &k), 0);
		assert_int_equal(k, cases[i].kind);
	}
	assert_int_equal(ctl_manifest_kind_word("pods", &k), -ENOENT);
}

static void
test_object_paths_per_kind(void **state)
{
	char p[256];

	(void)state;
	assert_int_equal(ctl_manifest_path(CTL_KIND_SERVICE, "default", "web", p, sizeof(p)), 0);
	assert_string_equal(p, "/api/v1/namespaces/default/services/web");
	assert_int_equal(ctl_manifest_path(CTL_KIND_ENDPOINTS, "shop", "web", p, sizeof(p)), 0);
	assert_string_equal(p, "/api/v1/namespaces/shop/endpoints/web");
	assert_int_equal(ctl_manifest_path(CTL_KIND_ENDPOINTSLICE, "shop", "web-1", p, sizeof(p)),
			 0);
	assert_string_equal(p, "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices/web-1");
}

static void
test_list_paths_per_namespace_and_for_all(void **state)
{
	char p[256];

	(void)state;
	assert_int_equal(ctl_manifest_path(CTL_KIND_SERVICE, "default", NULL, p, sizeof(p)), 0);
	assert_string_equal(p, "/api/v1/namespaces/default/services");
	assert_int_equal(ctl_manifest_path(CTL_KIND_SERVICE, NULL, NULL, p, sizeof(p)), 0);
	assert_string_equal(p, "/api/v1/services");
	assert_int_equal(ctl_manifest_path(CTL_KIND_ENDPOINTSLICE, NULL, NULL, p, sizeof(p)), 0);
	assert_string_equal(p, "/apis/discovery.k8s.io/v1/endpointslices");
	assert_int_equal(ctl_manifest_path(CTL_KIND_SERVICE, NULL, "web", p, sizeof(p)), -EINVAL);
}

static void
test_path_segments_are_percent_encoded(void **state)
{
	char p[256];

	(void)state;
	assert_int_equal(ctl_manifest_path(CTL_KIND_SERVICE, "a b", "x/y", p, sizeof(p)), 0);
	assert_string_equal(p, "/api/v1/namespaces/a%20b/services/x%2Fy");
	assert_int_equal(ctl_manifest_path(CTL_KIND_SERVICE, "default", "web", p, 20), -ENOSPC);
}

static void
test_documents_become_objects_with_their_origin(void **state)
{
	struct ctl_manifest m = {0};
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "%s---\n%s---\n%s", svc_web, ep_web, slice_web);
	add_ok(&m, text, NULL);
	assert_int_equal(m.n, 3);
	assert_int_equal(m.objs[0].kind, CTL_KIND_SERVICE);
	assert_string_equal(m.objs[0].name, "web");
	assert_string_equal(m.objs[0].ns, "default");
	assert_string_equal(m.objs[0].origin, "t.yaml, document 1");
	assert_int_equal(m.objs[2].kind, CTL_KIND_ENDPOINTSLICE);
	assert_string_equal(m.objs[2].ns, "shop");
	assert_string_equal(m.objs[2].origin, "t.yaml, document 3");
	assert_null(m.objs[1].error);
	ctl_manifest_free(&m);
}

static void
test_empty_documents_are_skipped(void **state)
{
	struct ctl_manifest m = {0};
	char text[1024];

	(void)state;
	snprintf(text, sizeof(text), "---\n# nothing\n---\n%s---\n", svc_web);
	add_ok(&m, text, NULL);
	assert_int_equal(m.n, 1);
	assert_string_equal(m.objs[0].origin, "t.yaml, document 2");
	ctl_manifest_free(&m);
}

static void
test_list_items_become_objects(void **state)
{
	const char *text = "apiVersion: v1\nkind: List\nitems:\n"
			   "- {apiVersion: v1, kind: Service, metadata: {name: a}}\n"
			   "- {apiVersion: v1, kind: Endpoints, metadata: {name: a}}\n";
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, text, NULL);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.objs[1].kind, CTL_KIND_ENDPOINTS);
	assert_string_equal(m.objs[1].origin, "t.yaml, document 1, item 2");
	ctl_manifest_free(&m);
}

static void
test_typed_list_items_get_the_kind_of_their_list(void **state)
{
	const char *text = "{\"apiVersion\":\"v1\",\"kind\":\"ServiceList\",\"items\":"
			   "[{\"metadata\":{\"name\":\"a\",\"namespace\":\"x\"}}]}";
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, text, NULL);
	assert_int_equal(m.n, 1);
	assert_int_equal(m.objs[0].kind, CTL_KIND_SERVICE);
	assert_string_equal(ctl_doc_str(m.objs[0].doc, "kind", NULL), "Service");
	assert_string_equal(ctl_doc_str(m.objs[0].doc, "apiVersion", NULL), "v1");
	assert_string_equal(m.objs[0].doc->keys[0]->text, "apiVersion");
	ctl_manifest_free(&m);
}

static void
test_object_without_name_is_marked_and_others_kept(void **state)
{
	const char *text = "apiVersion: v1\nkind: Service\nmetadata: {namespace: a}\n---\n"
			   "apiVersion: v1\nkind: Service\nmetadata: {name: ok}\n";
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, text, NULL);
	assert_int_equal(m.n, 2);
	assert_int_equal(m.objs[0].kind, CTL_KIND_NONE);
	assert_non_null(strstr(m.objs[0].error, "t.yaml, document 1: metadata.name is not set"));
	assert_null(m.objs[1].error);
	ctl_manifest_free(&m);
}

static void
test_unsupported_kind_is_marked_with_its_name(void **state)
{
	const char *text = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n";
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, text, NULL);
	assert_int_equal(m.n, 1);
	assert_non_null(strstr(m.objs[0].error, "kind Deployment is not served"));
	ctl_manifest_free(&m);
}

static void
test_non_mapping_document_is_marked(void **state)
{
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, "- a\n- b\n", NULL);
	assert_int_equal(m.n, 1);
	assert_non_null(strstr(m.objs[0].error, "not an object"));
	ctl_manifest_free(&m);
}

static void
test_namespace_flag_fills_objects_without_one(void **state)
{
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, svc_web, "shop");
	assert_string_equal(m.objs[0].ns, "shop");
	ctl_manifest_free(&m);
}

static void
test_namespace_flag_conflicting_with_the_object_is_marked(void **state)
{
	struct ctl_manifest m = {0};

	(void)state;
	add_ok(&m, slice_web, "other");
	assert_non_null(m.objs[0].error);
	assert_non_null(strstr(m.objs[0].error, "(shop)"));
	ctl_manifest_free(&m);
}

static void
test_syntax_error_names_file_and_line(void **state)
{
	struct ctl_manifest m = {0};
	const char *text = "apiVersion: v1\nkind: [Service\n";
	char err[256];

	(void)state;
	assert_int_equal(
	    ctl_manifest_add_text(&m, "bad.yaml", text, strlen(text), NULL, err, sizeof(err)),
	    -EINVAL);
	assert_int_equal(m.n, 0);
	assert_non_null(strstr(err, "bad.yaml: document 1, line "));
}

static void
test_apply_order_is_services_then_endpoints_then_slices(void **state)
{
	struct ctl_manifest m = {0};
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text), "%s---\n%s---\n%s---\n%s---\nkind: Foo\n", slice_web, ep_web,
		 svc_web, "apiVersion: v1\nkind: Service\nmetadata: {name: second}\n");
	add_ok(&m, text, NULL);
	ctl_manifest_sort(&m, false);
	assert_int_equal(m.n, 5);
	assert_string_equal(m.objs[0].name, "web");
	assert_string_equal(m.objs[1].name, "second");
	assert_int_equal(m.objs[2].kind, CTL_KIND_ENDPOINTS);
	assert_int_equal(m.objs[3].kind, CTL_KIND_ENDPOINTSLICE);
	assert_int_equal(m.objs[4].kind, CTL_KIND_NONE);
	ctl_manifest_free(&m);
}

static void
test_delete_order_is_the_reverse(void **state)
{
	struct ctl_manifest m = {0};
	char text[2048];

	(void)state;
	snprintf(text, sizeof(text), "%s---\n%s---\n%s", svc_web, ep_web, slice_web);
	add_ok(&m, text, NULL);
	ctl_manifest_sort(&m, true);
	assert_int_equal(m.objs[0].kind, CTL_KIND_ENDPOINTSLICE);
	assert_int_equal(m.objs[1].kind, CTL_KIND_ENDPOINTS);
	assert_int_equal(m.objs[2].kind, CTL_KIND_SERVICE);
	ctl_manifest_free(&m);
}

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
remove_dir(const char *dir, const char *const *names)
{
	char path[512];

	for (; *names != NULL; names++) {
		snprintf(path, sizeof(path), "%s/%s", dir, *names);
		unlink(path);
	}
	rmdir(dir);
}

static void
test_directory_reads_manifest_files_in_name_order(void **state)
{
	static const char *const names[] = {"b.yml", "a.json", "c.yaml", "notes.txt", NULL};
	char dir[] = "/tmp/edgelbctl-test-XXXXXX";
	struct ctl_manifest m = {0};
	char err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "c.yaml", "apiVersion: v1\nkind: Service\nmetadata: {name: c}\n");
	write_file(dir, "a.json",
		   "{\"apiVersion\":\"v1\",\"kind\":\"Service\",\"metadata\":{\"name\":\"a\"}}");
	write_file(dir, "b.yml", "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n");
	write_file(dir, "notes.txt", "not: [a manifest\n");
	assert_int_equal(ctl_manifest_add_path(&m, dir, NULL, err, sizeof(err)), 0);
	assert_int_equal(m.n, 3);
	assert_string_equal(m.objs[0].name, "a");
	assert_string_equal(m.objs[1].name, "b");
	assert_string_equal(m.objs[2].name, "c");
	assert_non_null(strstr(m.objs[1].origin, "/b.yml, document 1"));
	ctl_manifest_free(&m);
	remove_dir(dir, names);
}

static void
test_directory_without_manifests_is_an_error(void **state)
{
	static const char *const names[] = {"x.txt", NULL};
	char dir[] = "/tmp/edgelbctl-test-XXXXXX";
	struct ctl_manifest m = {0};
	char err[256];

	(void)state;
	assert_non_null(mkdtemp(dir));
	write_file(dir, "x.txt", "a: 1\n");
	assert_int_equal(ctl_manifest_add_path(&m, dir, NULL, err, sizeof(err)), -ENOENT);
	assert_non_null(strstr(err, dir));
	remove_dir(dir, names);
}

static void
test_missing_file_is_named_in_the_error(void **state)
{
	struct ctl_manifest m = {0};
	char err[256];

	(void)state;
	assert_int_equal(
	    ctl_manifest_add_path(&m, "/nonexistent/edgelb.yaml", NULL, err, sizeof(err)), -ENOENT);
	assert_string_equal(err, "/nonexistent/edgelb.yaml: No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_kinds_map_from_api_version_and_kind),
	    cmocka_unit_test(test_known_kind_with_another_api_version_is_refused),
	    cmocka_unit_test(test_unknown_kind_is_refused),
	    cmocka_unit_test(test_command_line_kind_words_and_short_names),
	    cmocka_unit_test(test_object_paths_per_kind),
	    cmocka_unit_test(test_list_paths_per_namespace_and_for_all),
	    cmocka_unit_test(test_path_segments_are_percent_encoded),
	    cmocka_unit_test(test_documents_become_objects_with_their_origin),
	    cmocka_unit_test(test_empty_documents_are_skipped),
	    cmocka_unit_test(test_list_items_become_objects),
	    cmocka_unit_test(test_typed_list_items_get_the_kind_of_their_list),
	    cmocka_unit_test(test_object_without_name_is_marked_and_others_kept),
	    cmocka_unit_test(test_unsupported_kind_is_marked_with_its_name),
	    cmocka_unit_test(test_non_mapping_document_is_marked),
	    cmocka_unit_test(test_namespace_flag_fills_objects_without_one),
	    cmocka_unit_test(test_namespace_flag_conflicting_with_the_object_is_marked),
	    cmocka_unit_test(test_syntax_error_names_file_and_line),
	    cmocka_unit_test(test_apply_order_is_services_then_endpoints_then_slices),
	    cmocka_unit_test(test_delete_order_is_the_reverse),
	    cmocka_unit_test(test_directory_reads_manifest_files_in_name_order),
	    cmocka_unit_test(test_directory_without_manifests_is_an_error),
	    cmocka_unit_test(test_missing_file_is_named_in_the_error),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
