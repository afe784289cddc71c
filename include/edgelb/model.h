/* SPDX-License-Identifier: BSD-3-Clause */
/**
 * @file
 * The control-side service model: the Kubernetes objects edgelb serves
 * (core/v1 Service and Endpoints, discovery.k8s.io/v1 EndpointSlice), kept
 * as plain C structs on the heap (malloc), keyed by namespace and name.
 *
 * Only the fields edgelb uses are kept, plus labels and selector so a stored
 * object reads back the way it was written, plus what edgelb fills in itself
 * (allocated nodePorts, LoadBalancer ingress addresses). Validation follows
 * the API server's rules for those fields; every message starts with the path
 * of the field at fault ("spec.ports[1].port: must be between 1 and 65535").
 *
 * Numbers are kept as written (int32_t) so validation can report a value out
 * of range; addresses are struct el_ip (network byte order).
 *
 * Thread safety: a model is owned by the control thread; no function locks.
 */
#ifndef EDGELB_MODEL_H
#define EDGELB_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "edgelb/types.h"

#define EL_LABEL_MAX	 64  /**< DNS-1123 label (63) + NUL */
#define EL_SUBDOMAIN_MAX 254 /**< DNS-1123 subdomain (253) + NUL */

#define EL_PROTO_TCP  6
#define EL_PROTO_UDP  17
#define EL_PROTO_SCTP 132

/** Label that makes kube-proxy (and edgelb) leave a Service alone. */
#define EL_LABEL_PROXY_NAME "service.kubernetes.io/service-proxy-name"
/** Label that ties an EndpointSlice to its Service. */
#define EL_LABEL_SERVICE_NAME "kubernetes.io/service-name"

/** Default and limits of spec.sessionAffinityConfig.clientIP.timeoutSeconds. */
#define EL_AFFINITY_TIMEOUT_DEFAULT 10800
#define EL_AFFINITY_TIMEOUT_MAX	    86400

enum el_svc_type {
	EL_SVC_CLUSTER_IP = 0,
	EL_SVC_NODE_PORT,
	EL_SVC_LOAD_BALANCER,
	EL_SVC_EXTERNAL_NAME,
};

/** spec.ipFamilyPolicy. EL_IPFP_UNSET until defaulted (model_service_families()). */
enum el_ip_family_policy {
	EL_IPFP_UNSET = 0,
	EL_IPFP_SINGLE_STACK,
	EL_IPFP_PREFER_DUAL_STACK,
	EL_IPFP_REQUIRE_DUAL_STACK,
};

/** Bit of an IP family (EL_AF_INET, EL_AF_INET6) in a family set: the
 *  "families edgelb can serve" argument of model_service_families(). */
#define EL_FAMILY_BIT(af) ((af) == EL_AF_INET ? 1u : (af) == EL_AF_INET6 ? 2u : 0u)
#define EL_FAMILIES_BOTH  (EL_FAMILY_BIT(EL_AF_INET) | EL_FAMILY_BIT(EL_AF_INET6))

/** A string map entry (labels, selector). Both strings are owned. */
struct el_kv {
	char *key;
	char *value;
};

struct el_svc_port {
	char name[EL_LABEL_MAX]; /**< "" = unnamed (only one port) */
	uint8_t proto;		 /**< EL_PROTO_*; SCTP is stored, not programmed */
	int32_t port;
	int32_t target_port;		/**< 0 = not given (or given by name) */
	char target_name[EL_LABEL_MAX]; /**< named targetPort; "" = numeric or not given */
	int32_t node_port;		/**< 0 = none yet */
	bool node_port_auto;		/**< node_port was allocated by edgelb */
};

struct el_service {
	char ns[EL_LABEL_MAX];
	char name[EL_LABEL_MAX];
	uint64_t rev; /**< model revision of the put that stored it */

	struct el_kv *labels;
	unsigned n_labels;
	struct el_kv *selector; /**< spec.selector; stored only */
	unsigned n_selector;

	enum el_svc_type type;
	bool headless;		   /**< spec.clusterIP "None" */
	struct el_ip *cluster_ips; /**< spec.clusterIP first, then the rest of spec.clusterIPs */
	unsigned n_cluster_ips;
	uint8_t ip_families[2]; /**< spec.ipFamilies as EL_AF_*; n 0 = not given */
	unsigned n_ip_families;
	uint8_t ip_family_policy; /**< enum el_ip_family_policy; EL_IPFP_UNSET = not given */
	struct el_ip *external_ips;
	unsigned n_external_ips;
	struct el_ip lb_ip;	    /**< spec.loadBalancerIP; family EL_AF_NONE = not given */
	struct el_cidr *src_ranges; /**< spec.loadBalancerSourceRanges */
	unsigned n_src_ranges;
	bool affinity_client_ip;  /**< sessionAffinity ClientIP */
	int32_t affinity_timeout; /**< seconds; EL_AFFINITY_TIMEOUT_DEFAULT when not given */
	bool etp_local; /**< externalTrafficPolicy Local (stored; fullnat serves it as Cluster) */
	char *external_name; /**< spec.externalName; NULL = none */
	struct el_svc_port *ports;
	unsigned n_ports;

	/** status.loadBalancer.ingress[].ip (hostnames are not kept); edgelb
	 *  fills in one per IP family, in the order of ip_families. */
	struct el_ip *lb_ingress;
	unsigned n_lb_ingress;
	bool lb_ingress_auto; /**< lb_ingress was filled by edgelb */
};

struct el_ep_port {
	char name[EL_LABEL_MAX];
	int32_t port;
	uint8_t proto;
};

/** One subset of a core/v1 Endpoints object. */
struct el_ep_subset {
	struct el_ip *addrs; /**< addresses[].ip: ready */
	unsigned n_addrs;
	struct el_ip *not_ready; /**< notReadyAddresses[].ip */
	unsigned n_not_ready;
	struct el_ep_port *ports;
	unsigned n_ports;
};

struct el_endpoints {
	char ns[EL_LABEL_MAX];
	char name[EL_SUBDOMAIN_MAX]; /**< same as the Service's name */
	uint64_t rev;
	struct el_kv *labels;
	unsigned n_labels;
	struct el_ep_subset *subsets;
	unsigned n_subsets;
};

enum el_addr_type {
	EL_ADDR_IPV4 = EL_AF_INET,
	EL_ADDR_IPV6 = EL_AF_INET6,
	EL_ADDR_FQDN = 1, /**< stored, never programmed */
};

/** A condition as written: 1, 0, or EL_COND_NIL (absent / null). */
#define EL_COND_NIL (-1)

struct el_slice_ep {
	struct el_ip *addrs; /**< IPv4/IPv6 slices */
	char **fqdns;	     /**< FQDN slices (owned strings) */
	unsigned n_addrs;    /**< entries in addrs or fqdns */
	int8_t ready, serving, terminating;
};

struct el_slice_port {
	char name[EL_LABEL_MAX];
	int32_t port; /**< 0 = not given (k8s: "all ports"; not programmed) */
	uint8_t proto;
};

struct el_slice {
	char ns[EL_LABEL_MAX];
	char name[EL_SUBDOMAIN_MAX];
	uint64_t rev;
	struct el_kv *labels;
	unsigned n_labels;
	char service_name[EL_LABEL_MAX]; /**< label kubernetes.io/service-name; "" = none */
	enum el_addr_type addr_type;
	struct el_slice_ep *eps;
	unsigned n_eps;
	struct el_slice_port *ports;
	unsigned n_ports;
};

/**
 * Conditions with Kubernetes' nil rules: ready nil => true; serving nil =>
 * the value of ready; terminating nil => false.
 */
static inline bool
model_slice_ep_ready(const struct el_slice_ep *e)
{
	return e->ready != 0;
}

static inline bool
model_slice_ep_serving(const struct el_slice_ep *e)
{
	return e->serving == EL_COND_NIL ? model_slice_ep_ready(e) : e->serving != 0;
}

static inline bool
model_slice_ep_terminating(const struct el_slice_ep *e)
{
	return e->terminating == 1;
}

/**
 * Every stored object, each kind sorted by (namespace, name). The arrays
 * hold pointers the model owns.
 */
struct el_model {
	struct el_service **svcs;
	unsigned n_svcs, cap_svcs;
	struct el_endpoints **eps;
	unsigned n_eps, cap_eps;
	struct el_slice **slices;
	unsigned n_slices, cap_slices;
	uint64_t rev; /**< bumped by every put and delete */
	/** The EndpointSlices that name a Service (label kubernetes.io/service-name),
	 *  sorted by (namespace, service name, name); read with model_slices_of(). */
	struct el_slice **by_svc;
	unsigned n_by_svc, cap_by_svc;
};

/** Make @p m an empty model. */
void el_model_init(struct el_model *m);

/** Free every object of @p m; @p m is empty (and reusable) afterwards. */
void el_model_free(struct el_model *m);

/* ---- objects ---- */

/** New Service with the API defaults (namespace "default", type ClusterIP,
 *  affinity timeout 10800). NULL on ENOMEM. */
struct el_service *model_service_new(void);
/** New Endpoints (namespace "default"). NULL on ENOMEM. */
struct el_endpoints *model_endpoints_new(void);
/** New EndpointSlice (namespace "default", addressType IPv4). NULL on ENOMEM. */
struct el_slice *model_slice_new(void);

void model_service_free(struct el_service *s);
void model_endpoints_free(struct el_endpoints *e);
void model_slice_free(struct el_slice *sl);

/** Deep copies; NULL on ENOMEM. */
struct el_service *model_service_dup(const struct el_service *s);
struct el_endpoints *model_endpoints_dup(const struct el_endpoints *e);
struct el_slice *model_slice_dup(const struct el_slice *sl);

/**
 * Deep copy of a whole model (for a change that may have to be rolled back:
 * change the copy, compile it, keep whichever one won).
 * @param dst  initialised by this call
 * @return 0, or -ENOMEM (@p dst is then empty)
 */
int model_clone(struct el_model *dst, const struct el_model *src);

/**
 * Check an object as the API server would for the fields edgelb uses.
 * @param err  receives "FIELD: what is wrong"
 * @return 0, or -EINVAL
 */
int model_validate_service(const struct el_service *s, char *err, size_t errlen);
int model_validate_endpoints(const struct el_endpoints *e, char *err, size_t errlen);
int model_validate_slice(const struct el_slice *sl, char *err, size_t errlen);

/**
 * Validate and store an object, replacing the one with the same namespace
 * and name (which is freed).
 *
 * @return 0: @p m owns the object; -EINVAL (@p err names the field) or
 *         -ENOMEM: the caller still owns it and @p m is unchanged
 */
int model_put_service(struct el_model *m, struct el_service *s, char *err, size_t errlen);
int model_put_endpoints(struct el_model *m, struct el_endpoints *e, char *err, size_t errlen);
int model_put_slice(struct el_model *m, struct el_slice *sl, char *err, size_t errlen);

/** model_put_service() without the validation, for a caller that validates
 *  the Service itself. @return 0, or -ENOMEM (the caller still owns @p s) */
int model_put_service_unchecked(struct el_model *m, struct el_service *s);

/** Remove and free an object. @return 0, or -ENOENT */
int model_delete_service(struct el_model *m, const char *ns, const char *name);
int model_delete_endpoints(struct el_model *m, const char *ns, const char *name);
int model_delete_slice(struct el_model *m, const char *ns, const char *name);

/** Remove an object and hand it to the caller (who frees it); NULL when absent. */
struct el_service *model_take_service(struct el_model *m, const char *ns, const char *name);
struct el_endpoints *model_take_endpoints(struct el_model *m, const char *ns, const char *name);
struct el_slice *model_take_slice(struct el_model *m, const char *ns, const char *name);

/** Find an object; NULL when absent. The pointer is valid until the next
 *  put/delete of that object. */
struct el_service *model_find_service(const struct el_model *m, const char *ns, const char *name);
struct el_endpoints *model_find_endpoints(const struct el_model *m, const char *ns,
					  const char *name);
struct el_slice *model_find_slice(const struct el_model *m, const char *ns, const char *name);

/**
 * Move every object of @p src into @p dst (replacing same-named ones),
 * services in the order they were put into @p src. @p src is left empty.
 * The objects were validated when put into @p src and are not checked again.
 * @return 0, or -ENOMEM (both models unchanged)
 */
int model_merge(struct el_model *dst, struct el_model *src);

/**
 * The EndpointSlices of Service @p ns / @p svc (those whose label
 * kubernetes.io/service-name is @p svc), in name order: O(log n).
 * @param first  receives the first of them; valid until the next put or
 *               delete of a slice
 * @return how many there are
 */
unsigned model_slices_of(const struct el_model *m, const char *ns, const char *svc,
			 struct el_slice *const **first);

/** Label value of @p key, NULL when absent. */
const char *model_label(const struct el_kv *labels, unsigned n, const char *key);

/**
 * True when compile programs this Service: not ExternalName, not headless,
 * not labelled service.kubernetes.io/service-proxy-name.
 */
bool model_service_programmable(const struct el_service *s);

/**
 * The IP families of Service @p s, defaulted and checked as the API server
 * does (pkg/registry/core/service/ipallocator's initIPFamilyFields, with
 * "configured on this cluster" read as "edgelb can serve it": an interface
 * address or a LoadBalancer pool of that family, see
 * compile_families_available()):
 *  - ExternalName: no policy, no family (both must be unset);
 *  - an unset policy is RequireDualStack when two ipFamilies or two
 *    clusterIPs are given, else SingleStack;
 *  - SingleStack with two clusterIPs or two ipFamilies is refused;
 *  - ipFamilies missing behind clusterIPs are inferred from them;
 *  - headless without selector: the families given, else the default one,
 *    plus the other one unless SingleStack (availability is not checked);
 *  - otherwise RequireDualStack needs both families available, every
 *    family given must be available, none given means the default family
 *    (IPv4 when available, else IPv6), and PreferDualStack or
 *    RequireDualStack adds the other family when both are available.
 *
 * @param avail   EL_FAMILY_BIT() set of the families edgelb can serve;
 *                0 counts as IPv4 only
 * @param policy  receives the policy (enum el_ip_family_policy); may be NULL
 * @param fam     receives the families, primary first; may be NULL
 * @param n_fam   receives how many (0 for ExternalName); may be NULL
 * @param err     receives "FIELD: what is wrong" on failure
 * @return 0, or -EINVAL
 *
 * Thread safety: pure; any thread.
 */
int model_service_families(const struct el_service *s, unsigned avail, uint8_t *policy,
			   uint8_t fam[2], unsigned *n_fam, char *err, size_t errlen);

/**
 * model_service_families() written into @p s (spec.ipFamilyPolicy and
 * spec.ipFamilies), so a stored Service reads back with them.
 * @return 0, or -EINVAL (@p s unchanged)
 */
int model_service_default_families(struct el_service *s, unsigned avail, char *err, size_t errlen);

/** "SingleStack", "PreferDualStack", "RequireDualStack" ("" when unset). */
const char *model_ip_family_policy_name(uint8_t policy);

/** "IPv4", "IPv6" (or "?") for EL_AF_INET / EL_AF_INET6. */
const char *model_family_name(uint8_t family);

/** "TCP", "UDP", "SCTP" (or "?") for an EL_PROTO_* value. */
const char *model_proto_name(uint8_t proto);

/** "ClusterIP", "NodePort", "LoadBalancer", "ExternalName". */
const char *model_svc_type_name(enum el_svc_type t);

/* ---- syntax checks (also used by the manifest parser) ---- */

/** RFC 1123 label: [a-z0-9]([-a-z0-9]*[a-z0-9])?, at most 63. */
bool model_is_dns1123_label(const char *s);
/** RFC 1035 label: as a DNS-1123 label, starting with a letter. */
bool model_is_dns1035_label(const char *s);
/** RFC 1123 subdomain: dot-separated labels, at most 253. */
bool model_is_dns1123_subdomain(const char *s);
/** IANA service name (a named port): at most 15 of [a-z0-9-], at least one
 *  letter, no leading, trailing or doubled '-'. */
bool model_is_iana_svc_name(const char *s);

/* ---- JSON (for the REST API) ---- */

/**
 * Serialise an object as a Kubernetes JSON object (apiVersion, kind,
 * metadata, spec, status), with edgelb's allocations filled in.
 * @return a malloc'd NUL-terminated string (free() it), NULL on ENOMEM
 */
char *model_service_to_json(const struct el_service *s);
char *model_endpoints_to_json(const struct el_endpoints *e);
char *model_slice_to_json(const struct el_slice *sl);

#endif
