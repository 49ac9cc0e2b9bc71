"""security: playbook "Kubernetes RBAC", "Network Policies"."""

from __future__ import annotations

import ipaddress
import json
from collections.abc import Mapping
from typing import Any

import pytest

from components import edc
from components.namespaces import PLATFORM_NAMESPACES
from components.network_policies import vault_clients
from components.portal_values import CENTRALIDP_POD_LABELS, PORTAL_DEPLOYMENT, PORTAL_SELECTOR_LABELS
from components.settings import ACCESS_LEVEL_GROUPS
from offline.checks import plain
from offline.harness import StackRun

NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
INTERNET_HOST = "203.0.113.9"


def vpc_host(run: StackRun, offset: int = 1234) -> str:
    """An address in the stack's VPC: an API endpoint ENI, a node or the database."""
    return str(ipaddress.ip_network(run.exports["vpcCidr"])[offset])


def objects(run: StackRun, type_: str) -> list[dict[str, Any]]:
    return [plain(r.inputs) for r in run.of_type(type_)]


def by_name(run: StackRun, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in objects(run, f"kubernetes:rbac.authorization.k8s.io/v1:{kind}")}


# --- RBAC ------------------------------------------------------------------------------


def test_rbac_roles_are_the_playbooks(stack: StackRun) -> None:
    cluster_roles, roles = by_name(stack, "ClusterRole"), by_name(stack, "Role")
    assert cluster_roles["platform-admin"]["rules"] == [{"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}]
    developer = roles["developer"]
    assert developer["metadata"]["namespace"] == "tractus-x"
    write = ["get", "list", "create", "update", "patch"]
    assert developer["rules"] == [
        {"apiGroups": [""], "resources": ["pods", "services", "configmaps"], "verbs": write},
        {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": write},
    ]
    readonly = cluster_roles["readonly"]["rules"]
    assert all(rule["verbs"] == ["get", "list"] for rule in readonly)
    assert {"apiGroups": ["apps"], "resources": ["*"], "verbs": ["get", "list"]} in readonly


def test_readonly_cannot_read_secrets(stack: StackRun) -> None:
    # The playbook grants readonly every core resource, Secrets included: fixed here.
    for rule in by_name(stack, "ClusterRole")["readonly"]["rules"]:
        if "" in rule["apiGroups"]:
            assert "secrets" not in rule["resources"] and "*" not in rule["resources"]
            assert {"pods", "services", "configmaps", "namespaces", "events"} <= set(rule["resources"])


def test_roles_are_bound_to_the_groups_of_the_access_entries(stack: StackRun) -> None:
    bindings = {**by_name(stack, "ClusterRoleBinding"), **by_name(stack, "RoleBinding")}
    expected = {"platform-admin": "admin", "developer": "developer", "readonly": "readonly"}
    for role, level in expected.items():
        binding = bindings[role]
        assert binding["roleRef"]["name"] == role
        assert binding["subjects"] == [
            {"kind": "Group", "name": ACCESS_LEVEL_GROUPS[level], "apiGroup": "rbac.authorization.k8s.io"}
        ]
    assert bindings["developer"]["roleRef"]["kind"] == "Role"
    assert bindings["developer"]["metadata"]["namespace"] == "tractus-x"
    for role in expected:
        (registered,) = [r for r in stack.resources if r.name == f"tractusx-security-{role}-binding"]
        (created,) = [r for r in stack.resources if r.name == f"tractusx-security-{role}"]
        assert created.urn in registered.dependencies  # bound only once the role exists


# --- NetworkPolicies: a small evaluator of the declared policies -------------------------


def _subset(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    wanted = (selector or {}).get("matchLabels") or {}
    return all(labels.get(key) == value for key, value in wanted.items())


def _peer_matches(
    peer: Mapping[str, Any], policy_ns: str, ns: str | None, labels: Mapping[str, str], ip: str | None
) -> bool:
    if "ipBlock" in peer:
        if ip is None:
            return False
        address, block = ipaddress.ip_address(ip), peer["ipBlock"]
        excluded = any(address in ipaddress.ip_network(cidr) for cidr in block.get("except", []))
        return address in ipaddress.ip_network(block["cidr"]) and not excluded
    if ns is None:
        return False
    if "namespaceSelector" in peer:
        if not _subset(peer["namespaceSelector"], {"kubernetes.io/metadata.name": ns}):
            return False
    elif ns != policy_ns:
        return False
    return _subset(peer.get("podSelector"), labels)


def _port_matches(rule: Mapping[str, Any], port: int, protocol: str) -> bool:
    ports = rule.get("ports")
    return not ports or any(p["port"] == port and p.get("protocol", "TCP") == protocol for p in ports)


def allowed(
    run: StackRun,
    direction: str,
    pod: tuple[str, Mapping[str, str]],
    port: int,
    *,
    protocol: str = "TCP",
    peer_ns: str | None = None,
    peer_labels: Mapping[str, str] | None = None,
    peer_ip: str | None = None,
) -> bool:
    """Whether the namespace's policies let traffic in (Ingress) or out (Egress) of a pod."""
    namespace, labels = pod
    kind, key, peers_key = ("Ingress", "ingress", "from") if direction == "in" else ("Egress", "egress", "to")
    selecting = [
        p
        for p in objects(run, NETWORK_POLICY)
        if p["metadata"]["namespace"] == namespace
        and kind in p["spec"]["policyTypes"]
        and _subset(p["spec"]["podSelector"], labels)
    ]
    if not selecting:
        return True
    return any(
        _port_matches(rule, port, protocol)
        and any(_peer_matches(peer, namespace, peer_ns, peer_labels or {}, peer_ip) for peer in rule[peers_key])
        for policy in selecting
        for rule in policy["spec"].get(key) or []
    )


def flows(
    run: StackRun,
    source: tuple[str, Mapping[str, str]],
    target: tuple[str, Mapping[str, str]],
    port: int,
    protocol: str = "TCP",
) -> bool:
    """Pod to pod: the source's egress and the target's ingress both allow it."""
    (src_ns, src_labels), (dst_ns, dst_labels) = source, target
    out = allowed(run, "out", source, port, protocol=protocol, peer_ns=dst_ns, peer_labels=dst_labels)
    into = allowed(run, "in", target, port, protocol=protocol, peer_ns=src_ns, peer_labels=src_labels)
    return out and into


KUBE_DNS = ("kube-system", {"k8s-app": "kube-dns"})
# A pod of the portal chart: its frontend's label and the chart's selector labels.
PORTAL = ("portal", {"app": PORTAL_DEPLOYMENT, **PORTAL_SELECTOR_LABELS})
CENTRALIDP = ("tractus-x", {**CENTRALIDP_POD_LABELS, "app.kubernetes.io/component": "keycloak"})
EDC = ("tractus-x", edc.CONTROL_PLANE_LABELS)  # the platform's connector
TRAEFIK = ("traefik", {"app.kubernetes.io/name": "traefik"})
PROMETHEUS = ("monitoring", {"app.kubernetes.io/name": "prometheus"})
KEDA_OPERATOR = ("keda", {"app": "keda-operator"})
THANOS_QUERY = ("monitoring", {"app.kubernetes.io/name": "thanos-query", "app.kubernetes.io/component": "query-layer"})
GRAFANA = ("monitoring", {"app.kubernetes.io/name": "grafana"})
BACKUP_JOB = ("backup", {"job-name": "database-backup"})
REDIS = ("tractus-x", {"app.kubernetes.io/name": "redis"})
# cert-manager runs the HTTP-01 solver in the namespace of the Certificate it solves for.
SOLVER = ("tractus-x", {"acme.cert-manager.io/http01-solver": "true"})


def test_every_namespace_denies_all_traffic_by_default(stack: StackRun) -> None:
    deny = {
        p["metadata"]["namespace"]: p["spec"]
        for p in objects(stack, NETWORK_POLICY)
        if p["metadata"]["name"] == "default-deny-all"
    }
    assert set(deny) == {spec.name for spec in PLATFORM_NAMESPACES}
    for spec in deny.values():
        assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


@pytest.mark.parametrize("namespace", [spec.name for spec in PLATFORM_NAMESPACES])
@pytest.mark.parametrize("protocol", ["UDP", "TCP"])
def test_default_deny_leaves_dns_working_in_every_namespace(stack: StackRun, namespace: str, protocol: str) -> None:
    # A default deny on egress without this breaks every Service lookup: a bug, not a policy.
    assert flows(stack, (namespace, {"any": "pod"}), KUBE_DNS, 53, protocol)
    assert not flows(stack, (namespace, {"any": "pod"}), ("kube-system", {"k8s-app": "other"}), 53, protocol)


def test_portal_is_reachable_only_through_the_ingress_controller(stack: StackRun, portal_stack: StackRun) -> None:
    # Playbook "Network Policies" (allow-portal-ingress), for the pods the portal chart runs.
    assert flows(portal_stack, TRAEFIK, PORTAL, 8080)
    assert not flows(portal_stack, BACKUP_JOB, PORTAL, 8080)
    assert not flows(portal_stack, TRAEFIK, PORTAL, 5432)
    assert not flows(portal_stack, EDC, PORTAL, 8080)
    # Without the portal no policy admits anything to such pods.
    assert not flows(stack, TRAEFIK, PORTAL, 8080)
    assert allowed(stack, "in", TRAEFIK, 8443, peer_ip=INTERNET_HOST)
    assert not allowed(stack, "in", TRAEFIK, 9000, peer_ip=INTERNET_HOST)


def test_the_portals_jobs_reach_the_database_and_the_services_it_calls(portal_stack: StackRun) -> None:
    # The chart's migration Jobs and CronJobs (the processes worker) carry none of its labels.
    worker = ("portal", {"job-name": "portal-processes-worker-29000000"})
    assert allowed(portal_stack, "out", worker, 5432, peer_ip=vpc_host(portal_stack))
    for port in (443, 587):
        assert allowed(portal_stack, "out", worker, port, peer_ip=INTERNET_HOST)
    assert not flows(portal_stack, TRAEFIK, worker, 8080)
    # cert-manager's HTTP-01 solvers for the portal's Ingresses run in its namespace.
    assert flows(portal_stack, TRAEFIK, ("portal", {"acme.cert-manager.io/http01-solver": "true"}), 8089)


def test_workloads_reach_the_database_redis_and_the_api_where_they_need_to(stack: StackRun) -> None:
    for namespace in ("tractus-x", "backup"):
        assert allowed(stack, "out", (namespace, {"any": "pod"}), 5432, peer_ip=vpc_host(stack))
    assert not allowed(stack, "out", ("traefik", {"any": "pod"}), 5432, peer_ip=vpc_host(stack))
    assert flows(stack, EDC, REDIS, 6379)
    assert not flows(stack, PORTAL, REDIS, 6379)  # the portal uses no Redis
    assert not flows(stack, BACKUP_JOB, REDIS, 6379)
    assert not flows(stack, REDIS, PORTAL, 6379)  # only Redis listens on 6379
    for namespace in ("traefik", "cert-manager", "backup", "keda", "monitoring"):
        assert allowed(stack, "out", (namespace, {"any": "pod"}), 443, peer_ip=vpc_host(stack))
    assert not allowed(stack, "out", ("tractus-x", {"app": "other"}), 443, peer_ip=INTERNET_HOST)


def test_api_clients_reach_the_kubernetes_service_address_and_the_private_endpoint(stack: StackRun) -> None:
    """EKS's policy agent sees a pod's egress to the `kubernetes` Service at its ClusterIP,
    the service CIDR's first address (172.20.0.1 for the pinned 172.20.0.0/16), before
    kube-proxy translates it: allowing the VPC alone cuts every API client off."""
    api_service = "172.20.0.1"
    public_subnet_host = str(ipaddress.ip_network(stack.exports["vpcCidr"])[-10])
    for namespace in ("traefik", "cert-manager", "backup", "keda", "argocd", "vault", "external-secrets"):
        assert allowed(stack, "out", (namespace, {"any": "pod"}), 443, peer_ip=api_service), namespace
    # Where a namespace has no HTTPS egress to the internet, the rest of the VPC stays closed.
    for namespace in ("traefik", "keda", "argocd"):
        assert not allowed(stack, "out", (namespace, {"any": "pod"}), 443, peer_ip=public_subnet_host), namespace
    assert not allowed(stack, "out", EDC, 443, peer_ip=api_service), "the connector does not call the API"


def test_monitoring_scrapes_every_namespace_and_keda_queries_thanos_query(stack: StackRun) -> None:
    for spec in PLATFORM_NAMESPACES:
        assert flows(stack, PROMETHEUS, (spec.name, {"any": "pod"}), 9100)
    # KEDA reaches the query layer only: a single Prometheus shard answers with part of the series.
    assert flows(stack, KEDA_OPERATOR, THANOS_QUERY, 9090)
    assert not flows(stack, KEDA_OPERATOR, PROMETHEUS, 9090)
    assert not flows(stack, KEDA_OPERATOR, THANOS_QUERY, 10901)
    assert not flows(stack, ("keda", {"app": "keda-operator-metrics-apiserver"}), PROMETHEUS, 10901)
    assert not flows(stack, PORTAL, PROMETHEUS, 9090)
    assert not flows(stack, PORTAL, THANOS_QUERY, 9090)
    # kubelet and node exporter; EKS's kube-proxy serves its metrics on 127.0.0.1 only.
    assert not allowed(stack, "out", PROMETHEUS, 10249, peer_ip=vpc_host(stack))
    for node_port in (10250, 9100):
        assert allowed(stack, "out", PROMETHEUS, node_port, peer_ip=vpc_host(stack))
    assert not allowed(
        stack, "out", ("monitoring", {"app.kubernetes.io/name": "grafana"}), 9100, peer_ip=vpc_host(stack)
    )
    assert flows(stack, ("monitoring", {"app.kubernetes.io/name": "alertmanager"}), PROMETHEUS, 9094, "TCP")


def test_the_query_layer_reaches_every_sidecar_and_serves_grafana(stack: StackRun) -> None:
    assert flows(stack, THANOS_QUERY, PROMETHEUS, 10901)  # Thanos sidecar StoreAPI (gRPC)
    assert flows(stack, GRAFANA, THANOS_QUERY, 9090)
    assert not flows(stack, TRAEFIK, THANOS_QUERY, 9090)
    assert not flows(stack, BACKUP_JOB, PROMETHEUS, 10901)


def test_api_server_reaches_webhooks_and_the_keda_metrics_api(stack: StackRun) -> None:
    assert allowed(stack, "in", KEDA_OPERATOR, 6443, peer_ip=vpc_host(stack, 10))
    assert allowed(stack, "in", KEDA_OPERATOR, 9443, peer_ip=vpc_host(stack, 10))
    assert allowed(stack, "in", ("cert-manager", {"app": "webhook"}), 10250, peer_ip=vpc_host(stack, 10))
    assert not allowed(stack, "in", KEDA_OPERATOR, 6443, peer_ip=INTERNET_HOST)


def test_http01_challenges_reach_the_solver_and_cert_manager_reaches_acme(stack: StackRun) -> None:
    assert flows(stack, TRAEFIK, SOLVER, 8089)
    assert not flows(stack, TRAEFIK, ("cert-manager", SOLVER[1]), 8089), "no Certificate of cert-manager's own"
    assert not flows(stack, ("tractus-x", {}), SOLVER, 8089), "only the ingress controller reaches the solver"
    assert allowed(stack, "out", ("cert-manager", {"app": "cert-manager"}), 443, peer_ip=INTERNET_HOST)
    assert allowed(stack, "out", ("cert-manager", {"app": "cert-manager"}), 80, peer_ip=INTERNET_HOST)


def test_network_policies_are_enforced_by_the_vpc_cni(stack: StackRun) -> None:
    # Without the CNI's policy agent the API accepts every NetworkPolicy and enforces none.
    (cni,) = [a for a in stack.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni"]
    assert json.loads(cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_network_policies_select_the_pods_the_platform_runs(stack: StackRun) -> None:
    (redis,) = [s for s in objects(stack, "kubernetes:apps/v1:StatefulSet") if s["metadata"]["name"] == "redis"]
    labels = redis["spec"]["template"]["metadata"]["labels"]
    assert REDIS[1].items() <= labels.items()
    assert redis["metadata"]["namespace"] == REDIS[0]


def test_the_identity_provider_is_reached_through_the_ingress_controller_and_by_its_seeding_job(
    portal_stack: StackRun,
) -> None:
    seeding_job = ("tractus-x", {"job-name": "centralidp-realm-seeding"})
    assert flows(portal_stack, TRAEFIK, CENTRALIDP, 8080)
    assert flows(portal_stack, seeding_job, CENTRALIDP, 8080)
    assert flows(portal_stack, CENTRALIDP, CENTRALIDP, 7800)  # one Keycloak cluster
    assert not flows(portal_stack, BACKUP_JOB, CENTRALIDP, 8080)
    assert not flows(portal_stack, PORTAL, CENTRALIDP, 7800)
    # Both call out over HTTPS (identity brokering, the data space's services) and mail.
    for workload in (PORTAL, CENTRALIDP):
        for port in (443, 587):
            assert allowed(portal_stack, "out", workload, port, peer_ip=INTERNET_HOST)
        assert not allowed(portal_stack, "out", workload, 22, peer_ip=INTERNET_HOST)


def test_vault_admits_exactly_the_workloads_that_declare_they_use_it(prod: StackRun, dr: StackRun) -> None:
    """One source of truth: the flows the components declare (components/traffic.py)."""

    def clients(run: StackRun) -> set[tuple[str, str]]:
        return {
            (peer.namespace or "", ",".join(f"{k}={v}" for k, v in sorted((peer.pods or {}).items())))
            for peer in vault_clients(run.flows)
        }

    assert clients(prod) == {
        ("backup", "app.kubernetes.io/name=backup-vault"),
        ("external-secrets", "app.kubernetes.io/name=external-secrets"),
        (
            "tractus-x",
            "app.kubernetes.io/instance=edc-controlplane,app.kubernetes.io/name=tractusx-connector-controlplane",
        ),
        ("tractus-x", "app.kubernetes.io/instance=edc-dataplane,app.kubernetes.io/name=tractusx-connector-dataplane"),
        ("vault", "app.kubernetes.io/name=vault-bootstrap"),
    }
    assert clients(dr) - clients(prod) == {("backup", "app.kubernetes.io/name=restore-vault")}
