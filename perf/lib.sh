# SPDX-License-Identifier: BSD-3-Clause
#
# Shell functions shared by the benchmark scripts (sourced, not run).

# bench_manifests PODS: print the manifests both vdev benchmarks load at
# start: LoadBalancer Service "bench" (TCP 80 -> 8080 on nodePort 30080,
# UDP 53 -> 5353 on nodePort 30053, at 198.18.0.100) and its Endpoints,
# PODS pods from 198.18.2.10 up.
bench_manifests() {
	echo "apiVersion: v1"
	echo "kind: Service"
	echo "metadata: {name: bench, namespace: default}"
	echo "spec:"
	echo "  type: LoadBalancer"
	echo "  loadBalancerIP: 198.18.0.100"
	echo "  ports:"
	echo "    - {name: http, protocol: TCP, port: 80, targetPort: 8080, nodePort: 30080}"
	echo "    - {name: dns, protocol: UDP, port: 53, targetPort: 5353, nodePort: 30053}"
	echo "---"
	echo "apiVersion: v1"
	echo "kind: Endpoints"
	echo "metadata: {name: bench, namespace: default}"
	echo "subsets:"
	echo "  - ports: [{name: http, port: 8080, protocol: TCP}, {name: dns, port: 5353, protocol: UDP}]"
	echo "    addresses:"
	i=0
	while [ $i -lt "$1" ]; do
		echo "      - {ip: 198.18.2.$((10 + i))}"
		i=$((i + 1))
	done
}
