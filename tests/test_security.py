"""security: playbook "Kubernetes RBAC", "Network Policies"."""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from components.namespaces import PLATFORM_NAMESPACES
from components.settings import ACCESS_LEVEL_GROUPS
from components.traffic import Pods, ServiceRef
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


# --- NetworkPolicies ---------------------------------------------------------------------
# What they allow is judged with EKS's semantics against the real pods in
# tests/test_connectivity.py and tests/test_flows.py; here, what the program creates.


def test_every_namespace_denies_all_traffic_by_default(stack: StackRun) -> None:
    deny = {
        p["metadata"]["namespace"]: p["spec"]
        for p in objects(stack, NETWORK_POLICY)
        if p["metadata"]["name"] == "default-deny-all"
    }
    assert set(deny) == {spec.name for spec in PLATFORM_NAMESPACES}
    for spec in deny.values():
        assert spec == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_network_policies_are_enforced_by_the_vpc_cni(stack: StackRun) -> None:
    # Without the CNI's policy agent the API accepts every NetworkPolicy and enforces none.
    (cni,) = [a for a in stack.of_type("aws:eks/addon:Addon") if a.inputs["addonName"] == "vpc-cni"]
    assert json.loads(cni.inputs["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_every_policy_serves_declared_flows_and_says_which(stack: StackRun) -> None:
    """Each allow policy selects a workload that declares flows, and its purpose lists them."""
    sides = [side for need in stack.flows for side in (need.source, need.destination)]
    workloads = [side.pods() if isinstance(side, ServiceRef) else side for side in sides]
    declared = {
        (side.namespace, json.dumps(dict(side.labels), sort_keys=True)) for side in workloads if isinstance(side, Pods)
    }
    for policy in objects(stack, NETWORK_POLICY):
        metadata, spec = policy["metadata"], policy["spec"]
        if metadata["name"] == "default-deny-all":
            continue
        selected = json.dumps(spec["podSelector"].get("matchLabels", {}), sort_keys=True)
        assert (metadata["namespace"], selected) in declared, metadata
        assert metadata["annotations"]["tractusx-platform/purpose"], metadata


def test_the_platforms_workloads_in_kube_system_are_isolated_both_ways(stack: StackRun) -> None:
    """kube-system has no default deny (it is EKS's): the platform's own workloads there get
    an ingress and an egress policy each, CoreDNS none."""
    kube_system = [p for p in objects(stack, NETWORK_POLICY) if p["metadata"]["namespace"] == "kube-system"]
    names = {p["metadata"]["name"] for p in kube_system}
    for workload in ("metrics-server", "aws-cluster-autoscaler"):
        assert {f"{workload}-ingress", f"{workload}-egress"} <= names
    assert not any(p["spec"]["podSelector"].get("matchLabels") == {"k8s-app": "kube-dns"} for p in kube_system)
