"""The EKS network policy model (offline/flows.py): one test per rule of the VPC CNI's
enforcement, each with a flow it must deny and one it must allow."""

from __future__ import annotations

from typing import Any

from components.certificates import SOLVER_LABELS, SOLVER_PORT
from offline.flows import INTERNET, ClusterModel, Endpoint, Flow, Network
from offline.operated import cluster_objects, operated_objects
from offline.render import Placed

NETWORK = Network("10.40.0.0/16", "172.20.0.0/16", ("10.40.0.0/19", "10.40.32.0/19"))
VPC_HOST = "10.40.64.10"  # the lowest address block of the VPC outside both private subnets, +10
OUTSIDE = Endpoint("address", address=INTERNET)
API = {"app": "api"}
CLIENT = {"app": "client"}
DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def namespace(name: str, labels: dict[str, str] | None = None) -> Placed:
    metadata: dict[str, Any] = {"name": name, "labels": labels or {}}
    return Placed("test", "", {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata})


def deployment(
    ns: str, name: str, labels: dict[str, str], ports: list[dict[str, Any]], *, host_network: bool = False
) -> Placed:
    spec: dict[str, Any] = {"containers": [{"name": "main", "image": "i:1", "ports": ports}]}
    if host_network:
        spec["hostNetwork"] = True
    template = {"metadata": {"labels": labels}, "spec": spec}
    kind = "DaemonSet" if host_network else "Deployment"
    return Placed(
        "test", ns, {"apiVersion": "apps/v1", "kind": kind, "metadata": {"name": name}, "spec": {"template": template}}
    )


def service(ns: str, name: str, selector: dict[str, str], ports: list[dict[str, Any]], **spec: Any) -> Placed:
    body = {"selector": selector, "ports": ports, **spec}
    return Placed("test", ns, {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name}, "spec": body})


def policy(ns: str, name: str, spec: dict[str, Any]) -> Placed:
    obj = {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": {"name": name}, "spec": spec}
    return Placed("test", ns, obj)


def egress(ns: str, selector: dict[str, str], *rules: dict[str, Any]) -> Placed:
    spec = {"podSelector": {"matchLabels": selector}, "policyTypes": ["Egress"], "egress": list(rules)}
    return policy(ns, "egress", spec)


def ingress(ns: str, selector: dict[str, str], *rules: dict[str, Any]) -> Placed:
    spec = {"podSelector": {"matchLabels": selector}, "policyTypes": ["Ingress"], "ingress": list(rules)}
    return policy(ns, "ingress", spec)


def ports(*numbers: int | str, protocol: str = "TCP") -> list[dict[str, Any]]:
    return [{"port": n, "protocol": protocol} for n in numbers]


def block(cidr: str, *excepts: str) -> dict[str, Any]:
    return {"ipBlock": {"cidr": cidr, "except": list(excepts)}} if excepts else {"ipBlock": {"cidr": cidr}}


def pods(labels: dict[str, str], ns: str | None = None) -> dict[str, Any]:
    peer: dict[str, Any] = {"podSelector": {"matchLabels": labels}}
    if ns is not None:
        peer["namespaceSelector"] = {"matchLabels": {"kubernetes.io/metadata.name": ns}}
    return peer


def apps(*objects: Placed) -> ClusterModel:
    """Namespace "apps": a client, and an api behind Service "api" (port 80 -> 8080),
    everything denied both ways unless ``objects`` allow it."""
    return ClusterModel.of(
        [
            namespace("apps"),
            deployment("apps", "client", CLIENT, [{"name": "http", "containerPort": 9000}]),
            deployment("apps", "api", {**API, "tier": "back"}, [{"name": "http", "containerPort": 8080}]),
            service("apps", "api", API, [{"name": "http", "port": 80, "targetPort": 8080}]),
            policy("apps", "deny-all", DENY_ALL),
            *objects,
        ],
        NETWORK,
    )


def allowed(model: ClusterModel, source: Endpoint, destination: Endpoint, port: int, protocol: str = "TCP") -> bool:
    return model.verdict(Flow(source, destination, port, protocol)).allowed


def client(model: ClusterModel) -> Endpoint:
    return model.pod("apps", "Deployment/client")


def api_pod(model: ClusterModel) -> Endpoint:
    return model.pod("apps", "Deployment/api")


def api_service(model: ClusterModel) -> Endpoint:
    return model.service("apps", "api")


def test_addresses_are_assigned_as_eks_does() -> None:
    model = ClusterModel.of([*cluster_objects(), deployment("apps", "api", API, [])], NETWORK)
    assert model.address(Endpoint("service", "default", "kubernetes")) == "172.20.0.1"
    assert model.address(Endpoint("service", "kube-system", "kube-dns")) == "172.20.0.10"
    assert model.address(Endpoint("api-server")) == "172.20.0.1"
    assert NETWORK.control_plane_addresses() == ("10.40.0.4", "10.40.32.4")
    assert NETWORK.vpc_host() == VPC_HOST
    # apps/Deployment/api sorts first: the first subnet, node .16 and pod .17.
    assert model.address(model.pod("apps", "Deployment/api")) == "10.40.0.17"
    assert model.node_address(model.pod("apps", "Deployment/api")) == "10.40.0.16"


def test_egress_to_a_service_is_judged_on_the_cluster_ip_before_translation() -> None:
    # The VPC CIDR holds the API server's ENIs, but pods dial the `kubernetes` ClusterIP.
    vpc_only = apps(*cluster_objects(), egress("apps", CLIENT, {"to": [block("10.40.0.0/16")], "ports": ports(443)}))
    assert not allowed(vpc_only, client(vpc_only), Endpoint("api-server"), 443)
    assert not allowed(vpc_only, client(vpc_only), Endpoint("service", "default", "kubernetes"), 443)
    assert allowed(vpc_only, client(vpc_only), Endpoint("control-plane", address="10.40.0.4"), 443)

    cluster_ip = apps(*cluster_objects(), egress("apps", CLIENT, {"to": [block("172.20.0.1/32")], "ports": ports(443)}))
    assert allowed(cluster_ip, client(cluster_ip), Endpoint("api-server"), 443)
    assert allowed(cluster_ip, client(cluster_ip), Endpoint("service", "default", "kubernetes"), 443)
    assert not allowed(cluster_ip, client(cluster_ip), Endpoint("api-server"), 6443)


def test_a_selector_peer_admits_a_cluster_ip_only_when_it_matches_the_service_selector() -> None:
    admit_api = ingress("apps", API, {"from": [pods(CLIENT)]})
    subset = apps(admit_api, egress("apps", CLIENT, {"to": [pods(API)], "ports": ports(8080)}))
    assert allowed(subset, client(subset), api_service(subset), 80)

    # The pod carries tier=back, the Service selector does not: the pod is reachable, the
    # Service is not, because the controller matches the peer against the selector map.
    superset = apps(admit_api, egress("apps", CLIENT, {"to": [pods({**API, "tier": "back"})], "ports": ports(8080)}))
    assert allowed(superset, client(superset), api_pod(superset), 8080)
    assert not allowed(superset, client(superset), api_service(superset), 80)


def test_the_policy_names_the_target_port_and_egress_sees_the_service_port() -> None:
    admit_api = ingress("apps", API, {"from": [pods(CLIENT)]})
    target_port = apps(admit_api, egress("apps", CLIENT, {"to": [pods(API)], "ports": ports(8080)}))
    verdict = target_port.verdict(Flow(client(target_port), api_service(target_port), 80))
    assert verdict.allowed
    assert "ClusterIP of Service apps/api" in verdict.reason
    assert "TCP 80" in verdict.reason

    # Naming the Service port: no Service targets 80, so no ClusterIP entry is written.
    service_port = apps(admit_api, egress("apps", CLIENT, {"to": [pods(API)], "ports": ports(80)}))
    assert not allowed(service_port, client(service_port), api_service(service_port), 80)


def test_ingress_of_a_backend_sees_the_client_and_the_container_port() -> None:
    open_egress = egress("apps", CLIENT, {"to": [pods(API)], "ports": ports(8080)})
    wrong_port = apps(open_egress, ingress("apps", API, {"from": [pods(CLIENT)], "ports": ports(80)}))
    assert not allowed(wrong_port, client(wrong_port), api_service(wrong_port), 80)

    right_port = apps(open_egress, ingress("apps", API, {"from": [pods(CLIENT)], "ports": ports(8080)}))
    assert allowed(right_port, client(right_port), api_service(right_port), 80)


def test_a_headless_service_is_reached_on_its_pods_not_on_a_cluster_ip() -> None:
    headless = service("apps", "api-pods", API, [{"port": 8080}], clusterIP="None")
    admit = ingress("apps", API, {"from": [pods(CLIENT)]})
    service_cidr = apps(headless, admit, egress("apps", CLIENT, {"to": [block("172.20.0.0/16")], "ports": ports(8080)}))
    target = service_cidr.service("apps", "api-pods")
    assert not allowed(service_cidr, client(service_cidr), target, 8080)

    to_pods = apps(headless, admit, egress("apps", CLIENT, {"to": [pods(API)], "ports": ports(8080)}))
    assert allowed(to_pods, client(to_pods), target, 8080)


def test_an_ip_block_except_is_a_hole() -> None:
    model = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0", "10.40.0.0/16")], "ports": ports(443)}))
    assert allowed(model, client(model), OUTSIDE, 443)
    assert not allowed(model, client(model), Endpoint("address", address=VPC_HOST), 443)
    # A CIDR destination stands for each of its addresses.
    assert allowed(model, client(model), Endpoint("address", address="203.0.113.0/24"), 443)
    assert not allowed(model, client(model), Endpoint("address", address="10.0.0.0/8"), 443)


def test_an_except_holes_every_rule_with_the_same_cidr() -> None:
    # Controller issue #121: the agent merges rules of one CIDR with their except lists, so
    # "internet except private ranges" also takes the private ranges out of "DNS anywhere".
    dns_anywhere = {"to": [block("0.0.0.0/0")], "ports": ports(53, protocol="UDP")}
    internet = {"to": [block("0.0.0.0/0", "10.0.0.0/8")], "ports": ports(443)}
    resolver = Endpoint("address", address="10.40.0.2")
    merged = apps(egress("apps", CLIENT, dns_anywhere, internet))
    assert not allowed(merged, client(merged), resolver, 53, "UDP")
    alone = apps(egress("apps", CLIENT, dns_anywhere))
    assert allowed(alone, client(alone), resolver, 53, "UDP")

    # The merged except list also stops a pod's entry from inheriting the other rule's ports.
    admit_all = ingress("apps", API, {})
    to_api = {"to": [pods(API)], "ports": ports(8080)}
    private = {"to": [block("10.0.0.0/8")], "ports": ports(5432)}
    private_but_vpc = {"to": [block("10.0.0.0/8", "10.40.0.0/16")], "ports": ports(443)}
    holed = apps(admit_all, egress("apps", CLIENT, to_api, private, private_but_vpc))
    assert not allowed(holed, client(holed), api_pod(holed), 5432)
    whole = apps(admit_all, egress("apps", CLIENT, to_api, private))
    assert allowed(whole, client(whole), api_pod(whole), 5432)


def test_a_more_specific_entry_inherits_the_ports_of_the_cidrs_around_it() -> None:
    to_api = {"to": [pods(API)], "ports": ports(8080)}
    admit_all = ingress("apps", API, {})
    vpc = apps(admit_all, egress("apps", CLIENT, to_api, {"to": [block("10.40.0.0/16")], "ports": ports(5432)}))
    assert allowed(vpc, client(vpc), api_pod(vpc), 5432)
    # /0 donates too in the current agent (utils_test.go TestIsNonHostCIDR; older agents did not).
    everywhere = apps(admit_all, egress("apps", CLIENT, to_api, {"to": [block("0.0.0.0/0")], "ports": ports(443)}))
    assert allowed(everywhere, client(everywhere), api_pod(everywhere), 443)
    # A donor whose except holds the pod gives it nothing: the pod's /32 entry has 8080 only.
    outside = {"to": [block("0.0.0.0/0", "10.40.0.0/16")], "ports": ports(443)}
    excepted = apps(admit_all, egress("apps", CLIENT, to_api, outside))
    assert not allowed(excepted, client(excepted), api_pod(excepted), 443)
    assert allowed(excepted, client(excepted), api_pod(excepted), 8080)


def test_the_node_is_always_allowed_both_ways() -> None:
    model = apps()
    api, own_node = api_pod(model), Endpoint("node")
    other_node = Endpoint("node", address=model.node_address(client(model)))
    assert allowed(model, own_node, api, 8080), "the kubelet's probe"
    assert not allowed(model, other_node, api, 8080)
    assert allowed(model, api, own_node, 10250)
    assert not allowed(model, api, other_node, 10250)


def test_host_network_pods_are_never_enforced_nor_selected_as_peers() -> None:
    agent = deployment("monitoring", "agent", {"app": "agent"}, [{"containerPort": 9100}], host_network=True)
    peer = Endpoint("pod", "monitoring", "DaemonSet/agent")
    lockdown = [namespace("monitoring"), agent, policy("monitoring", "deny-all", DENY_ALL)]
    model = apps(*lockdown, ingress("apps", API, {"from": [pods({"app": "agent"}, "monitoring")]}))
    assert allowed(model, peer, OUTSIDE, 443), "its egress is not judged"
    assert allowed(model, OUTSIDE, peer, 9100), "nor its ingress"
    assert not allowed(model, peer, api_pod(model), 8080), "its node address is no pod the selector names"

    subnets = {"from": [block("10.40.0.0/19"), block("10.40.32.0/19")]}
    by_address = apps(*lockdown, ingress("apps", API, subnets))
    assert allowed(by_address, peer, api_pod(by_address), 8080)


def test_default_deny_blocks_dns_unless_allowed() -> None:
    denied = apps(*cluster_objects())
    kube_dns = Endpoint("service", "kube-system", "kube-dns")
    assert not allowed(denied, client(denied), kube_dns, 53, "UDP")

    dns = pods({"k8s-app": "kube-dns"}, "kube-system")
    model = apps(*cluster_objects(), egress("apps", CLIENT, {"to": [dns], "ports": ports(53, protocol="UDP")}))
    verdict = model.verdict(Flow(client(model), kube_dns, 53, "UDP"))
    assert verdict.allowed
    assert "172.20.0.10" in verdict.reason


def test_a_solver_pod_is_reached_from_traefik_only_when_a_policy_admits_it() -> None:
    issuer = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "letsencrypt"},
        "spec": {"acme": {"solvers": [{"http01": {"ingress": {"ingressClassName": "traefik"}}}]}},
    }
    certificate = {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Certificate",
        "metadata": {"name": "edc"},
        "spec": {"issuerRef": {"kind": "ClusterIssuer", "name": "letsencrypt"}},
    }
    traefik_labels = {"app.kubernetes.io/name": "traefik"}
    stack = [
        namespace("edc"),
        namespace("traefik"),
        Placed("test", "", issuer),
        Placed("test", "edc", certificate),
        deployment("traefik", "traefik", traefik_labels, [{"name": "web", "containerPort": 8000}]),
        policy("edc", "deny-all", DENY_ALL),
    ]
    traefik, solver = (
        Endpoint("pod", "traefik", "Deployment/traefik"),
        Endpoint("pod", "edc", "Pod/cm-acme-http-solver"),
    )

    without = ClusterModel.of([*stack, *operated_objects(stack)], NETWORK)
    assert not allowed(without, traefik, solver, SOLVER_PORT)

    admit = ingress("edc", SOLVER_LABELS, {"from": [pods(traefik_labels, "traefik")], "ports": ports(SOLVER_PORT)})
    with_policy = ClusterModel.of([*stack, admit, *operated_objects(stack)], NETWORK)
    assert allowed(with_policy, traefik, solver, SOLVER_PORT)


def test_port_ranges_end_at_end_port() -> None:
    model = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0")], "ports": [{"port": 8000, "endPort": 8100}]}))
    assert allowed(model, client(model), OUTSIDE, 8000)
    assert allowed(model, client(model), OUTSIDE, 8100)
    assert not allowed(model, client(model), OUTSIDE, 8101)
    assert not allowed(model, client(model), OUTSIDE, 7999)


def test_protocols_are_told_apart_and_default_to_tcp() -> None:
    model = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0")], "ports": [{"port": 5000}]}))
    assert allowed(model, client(model), OUTSIDE, 5000, "TCP")
    assert not allowed(model, client(model), OUTSIDE, 5000, "UDP")


def test_a_rule_without_ports_admits_every_protocol_and_port() -> None:
    model = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0")]}))
    assert allowed(model, client(model), OUTSIDE, 3478, "UDP")
    assert allowed(model, client(model), OUTSIDE, 0, "ICMP")
    assert not allowed(model, api_pod(model), OUTSIDE, 3478, "UDP"), "the api has no such rule"


def test_named_ports_resolve_on_pods_and_never_on_ip_blocks() -> None:
    # Ingress: "http" is resolved on the policy's own pods (the api's 8080), whatever the client declares.
    named = apps(
        egress("apps", CLIENT, {"to": [pods(API)]}),
        ingress("apps", API, {"from": [pods(CLIENT)], "ports": ports("http")}),
    )
    assert allowed(named, client(named), api_pod(named), 8080)
    assert not allowed(named, client(named), api_pod(named), 9000)
    # An ipBlock has no pod to resolve a name on: the rule is dropped, not opened to every port.
    cidr = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0")], "ports": ports("https")}))
    assert not allowed(cidr, client(cidr), OUTSIDE, 443)


def test_control_plane_calls_come_from_its_enis_in_the_private_subnets() -> None:
    webhook = Endpoint("control-plane", address="10.40.32.4")
    kube_system = {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}}}
    from_kube_system = apps(ingress("apps", API, {"from": [kube_system], "ports": ports(8080)}))
    assert not allowed(from_kube_system, webhook, api_pod(from_kube_system), 8080)

    from_vpc = apps(ingress("apps", API, {"from": [block("10.40.0.0/16")], "ports": ports(8080)}))
    assert allowed(from_vpc, webhook, api_pod(from_vpc), 8080)


def test_only_the_isolated_direction_is_judged() -> None:
    egress_only = ClusterModel.of(
        [
            deployment("apps", "client", CLIENT, []),
            deployment("apps", "api", API, [{"containerPort": 8080}]),
            policy("apps", "no-egress", {"podSelector": {}, "policyTypes": ["Egress"]}),
        ],
        NETWORK,
    )
    assert allowed(egress_only, OUTSIDE, Endpoint("pod", "apps", "Deployment/api"), 8080)
    assert not allowed(egress_only, Endpoint("pod", "apps", "Deployment/api"), OUTSIDE, 443)


def test_standalone_pods_get_no_policy() -> None:
    def bare_pod(owned: bool) -> Placed:
        metadata: dict[str, Any] = {"name": "debug", "labels": {"app": "debug"}}
        if owned:
            metadata["ownerReferences"] = [{"apiVersion": "batch/v1", "kind": "Job", "name": "debug", "uid": "1"}]
        spec = {"containers": [{"name": "main", "image": "i:1", "ports": [{"containerPort": 8080}]}]}
        return Placed("test", "apps", {"apiVersion": "v1", "kind": "Pod", "metadata": metadata, "spec": spec})

    debug = Endpoint("pod", "apps", "Pod/debug")
    standalone = apps(bare_pod(owned=False))
    assert allowed(standalone, OUTSIDE, debug, 8080)
    owned = apps(bare_pod(owned=True))
    assert not allowed(owned, OUTSIDE, debug, 8080)


def test_more_than_24_ports_of_one_entry_are_not_reliably_allowed() -> None:
    many = [{"port": p} for p in range(8001, 8026)]
    too_many = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0")], "ports": many}))
    assert not allowed(too_many, client(too_many), OUTSIDE, 8001)
    enough = apps(egress("apps", CLIENT, {"to": [block("0.0.0.0/0")], "ports": many[:24]}))
    assert allowed(enough, client(enough), OUTSIDE, 8001)


def test_allowed_flows_of_a_tiny_cluster() -> None:
    web_labels, db_labels = {"app": "web"}, {"app": "db"}
    model = ClusterModel.of(
        [
            namespace("shop"),
            deployment("shop", "web", web_labels, [{"name": "http", "containerPort": 8080}]),
            deployment("shop", "db", db_labels, [{"name": "pg", "containerPort": 5432}]),
            service("shop", "db", db_labels, [{"name": "pg", "port": 5432, "targetPort": "pg"}]),
            policy("shop", "deny-all", DENY_ALL),
            policy(
                "shop",
                "web",
                {
                    "podSelector": {"matchLabels": web_labels},
                    "ingress": [{"from": [block("0.0.0.0/0")], "ports": ports(8080)}],
                    "egress": [
                        {"to": [pods(db_labels)], "ports": ports(5432)},
                        {"to": [block("0.0.0.0/0", "10.40.0.0/16")], "ports": ports(443)},
                    ],
                },
            ),
            policy(
                "shop",
                "db",
                {
                    "podSelector": {"matchLabels": db_labels},
                    "ingress": [{"from": [pods(web_labels)], "ports": ports("pg")}],
                },
            ),
        ],
        NETWORK,
    )
    web, db = Endpoint("pod", "shop", "Deployment/web", web_labels), Endpoint("pod", "shop", "Deployment/db", db_labels)
    assert model.allowed_flows() == [
        Flow(web, db, 5432),
        Flow(web, Endpoint("service", "shop", "db"), 5432),
        # 0.0.0.0/0 except the VPC holds the `kubernetes` ClusterIP: the API server is reachable.
        Flow(web, Endpoint("api-server"), 443),
        Flow(web, OUTSIDE, 443),
        Flow(OUTSIDE, web, 8080),
        Flow(Endpoint("address", address=VPC_HOST), web, 8080),
        Flow(Endpoint("control-plane", address="10.40.0.4"), web, 8080),
        Flow(Endpoint("control-plane", address="10.40.32.4"), web, 8080),
    ]


def test_a_cluster_in_subnets_of_its_own_calls_from_there_and_no_pod_lives_there() -> None:
    """EKS puts the control plane's interfaces only in the subnets the cluster is given;
    with /28s of its own, a rule on them admits the API server and no pod."""
    network = Network("10.40.0.0/16", "172.20.0.0/16", ("10.40.0.0/19",), ("10.40.248.0/28", "10.40.248.16/28"))
    assert network.control_plane_addresses() == ("10.40.248.4", "10.40.248.20")
    objects = [
        namespace("apps"),
        deployment("apps", "client", CLIENT, [{"name": "http", "containerPort": 9000}]),
        deployment("apps", "api", API, [{"name": "http", "containerPort": 8080}]),
        policy("apps", "deny", DENY_ALL),
        ingress("apps", API, {"from": [block("10.40.248.0/28"), block("10.40.248.16/28")], "ports": ports(8080)}),
        egress("apps", CLIENT, {"to": [block("0.0.0.0/0")], "ports": ports(8080)}),
    ]
    model = ClusterModel.of(objects, network)
    assert allowed(model, Endpoint("control-plane", address="10.40.248.20"), api_pod(model), 8080)
    assert not allowed(model, client(model), api_pod(model), 8080), "the client's address is in no cluster subnet"


def test_a_service_selecting_one_statefulset_replica_by_its_pod_name_reaches_that_workload() -> None:
    """The StatefulSet controller labels each pod statefulset.kubernetes.io/pod-name; the
    workload's representative pod stands for every replica (redis-ha's announce Services)."""
    template = {
        "metadata": {"labels": {"app": "db"}},
        "spec": {"containers": [{"name": "db", "ports": [{"containerPort": 6379}]}]},
    }
    db = Placed(
        "test",
        "apps",
        {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db"}, "spec": {"template": template}},
    )
    objects = [
        namespace("apps"),
        db,
        deployment("apps", "client", CLIENT, []),
        service("apps", "db-1", {"app": "db", "statefulset.kubernetes.io/pod-name": "db-1"}, [{"port": 6379}]),
        service("apps", "other-0", {"app": "db", "statefulset.kubernetes.io/pod-name": "other-0"}, [{"port": 6379}]),
    ]
    model = ClusterModel.of(objects, NETWORK)
    assert allowed(model, client(model), model.service("apps", "db-1"), 6379)
    verdict = model.verdict(Flow(client(model), model.service("apps", "other-0"), 6379))
    assert not verdict.allowed and "no pod serving that port" in verdict.reason
