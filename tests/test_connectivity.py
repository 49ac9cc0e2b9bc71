"""The connectivity map: the platform's real pods, Services and NetworkPolicies judged with
EKS's semantics (offline/flows.py), and written for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.traffic import INTERNET, KUBERNETES_API, Need, Pods, api_client
from offline.connectivity import (
    api_access_without_a_role,
    connectivity,
    observed_flows,
    required_flows_are_allowed,
    stack_model,
    stack_network,
    unrequired_flows,
    write_map,
)
from offline.flows import ClusterModel, Endpoint, Flow
from offline.harness import StackRun
from offline.render import Placed, StackRendering
from offline.rendered_checks import deployed

API = Endpoint("api-server")
DNS = Endpoint("service", namespace="kube-system", name="kube-dns")
CONNECTOR = Endpoint("pod", namespace="tractus-x", labels={"app.kubernetes.io/instance": "edc-controlplane"})
TRAEFIK = Endpoint("pod", namespace="traefik", labels={"app.kubernetes.io/name": "traefik"})
SOLVER = Endpoint("pod", namespace="tractus-x", labels={"acme.cert-manager.io/http01-solver": "true"})
# One workload of each namespace whose pods call the Kubernetes API.
API_CLIENTS = (
    TRAEFIK,
    Endpoint("pod", namespace="cert-manager", labels={"app.kubernetes.io/name": "cert-manager"}),
    Endpoint("pod", namespace="argocd", labels={"app.kubernetes.io/name": "argocd-application-controller"}),
    Endpoint("pod", namespace="keda", labels={"app": "keda-operator"}),
    Endpoint("pod", namespace="external-secrets", labels={"app.kubernetes.io/name": "external-secrets"}),
    Endpoint("pod", namespace="vault", labels={"app.kubernetes.io/name": "vault", "component": "server"}),
    Endpoint("pod", namespace="monitoring", labels={"operator.prometheus.io/shard": "0"}),
    Endpoint("pod", namespace="kube-system", labels={"app.kubernetes.io/name": "metrics-server"}),
)


@pytest.fixture(scope="module")
def models(runs: dict[str, StackRun], renderings: dict[str, StackRendering]) -> dict[str, ClusterModel]:
    return {name: stack_model(list(deployed(renderings[name])), stack_network(run)) for name, run in runs.items()}


def test_the_stacks_network_is_what_the_program_creates(runs: dict[str, StackRun]) -> None:
    network = stack_network(runs["prod"])
    assert (network.vpc_cidr, network.service_cidr) == ("10.40.0.0/16", "172.20.0.0/16")
    assert network.private_subnets == ("10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19")
    # The control plane's own /28s: no pod or node lives there.
    assert network.cluster_subnets == ("10.40.248.0/28", "10.40.248.16/28", "10.40.248.32/28")


def test_api_clients_reach_the_kubernetes_api_through_its_service(models: dict[str, ClusterModel]) -> None:
    for model in models.values():
        for client in API_CLIENTS:
            verdict = model.verdict(Flow(client, API, 443))
            assert verdict.allowed, verdict.reason
            assert "[api-server 172.20.0.1/32]" in verdict.reason
        assert not model.verdict(Flow(CONNECTOR, API, 443)).allowed, "the connector does not call the API"


def test_http01_challenges_reach_the_solver_beside_the_certificate(models: dict[str, ClusterModel]) -> None:
    for model in models.values():
        assert model.verdict(Flow(TRAEFIK, SOLVER, 8089)).allowed
        assert not model.verdict(Flow(CONNECTOR, SOLVER, 8089)).allowed


def test_every_workload_resolves_names(models: dict[str, ClusterModel]) -> None:
    for model in models.values():
        for client in (*API_CLIENTS, CONNECTOR):
            for protocol in ("UDP", "TCP"):
                verdict = model.verdict(Flow(client, DNS, 53, protocol))
                assert verdict.allowed, verdict.reason


def test_the_plan_writes_the_map_with_the_reason_of_each_flow(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering], tmp_path: Path
) -> None:
    write_map(runs["prod"], list(deployed(renderings["prod"])), tmp_path)
    text = (tmp_path / "flows.md").read_text()
    assert text.startswith("# Connectivity of stack prod")
    assert "```mermaid" in text
    row = next(line for line in text.splitlines() if line.startswith("| traefik/Deployment/traefik | api-server |"))
    why = "Traefik (its Ingress, IngressRoute and Gateway providers) calls the Kubernetes API"
    assert row.endswith(f"| {why} | traefik/traefik-egress |")
    assert "## Allowed, but declared by no component (0 of" in text
    assert '"namespace traefik" -> "Kubernetes API" [label="443"];' in (tmp_path / "flows.dot").read_text()
    assert (tmp_path / "flows.svg").read_text().startswith("<?xml")


def test_every_flow_a_component_declares_or_the_charts_show_is_allowed(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering], models: dict[str, ClusterModel]
) -> None:
    for name, run in runs.items():
        assert len(run.flows) > 80
        observed = observed_flows(list(deployed(renderings[name])), models[name])
        assert len(observed) > 40
        assert required_flows_are_allowed(run.flows, models[name], stack_network(run), observed) == []


def without(rendering: StackRendering, namespace: str, policy: str) -> list[Placed]:
    return [
        p
        for p in deployed(rendering)
        if not (p.obj["kind"] == "NetworkPolicy" and (p.namespace, p.obj["metadata"]["name"]) == (namespace, policy))
    ]


def test_a_blocked_required_flow_is_reported(runs: dict[str, StackRun], renderings: dict[str, StackRendering]) -> None:
    """Without Traefik's egress policy (the default deny left), what Traefik declares is blocked."""
    run = runs["prod"]
    network = stack_network(run)
    findings = required_flows_are_allowed(
        run.flows, stack_model(without(renderings["prod"], "traefik", "traefik-egress"), network), network
    )
    assert (
        "Traefik (its Ingress, IngressRoute and Gateway providers) calls the Kubernetes API: "
        "traefik/Deployment/traefik -> api-server TCP 443 is blocked"
    ) in [finding.split(": denied")[0] for finding in findings]


def test_flows_the_charts_show_are_required_even_where_no_component_declares_them(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    """With a workload's policy removed, the flow the rendered objects show it needs is
    reported from them alone: a ServiceMonitor's scrape, a webhook configuration, a role
    binding, a pod or SecretStore configured with Vault's address."""
    run = runs["prod"]
    network = stack_network(run)
    for namespace, policy, expected in (
        ("traefik", "traefik-ingress", "ServiceMonitor traefik/traefik scrapes Service traefik/traefik"),
        (
            "cert-manager",
            "cert-manager-webhook-ingress",
            "the API server calls ValidatingWebhookConfiguration cert-manager-webhook",
        ),
        ("argocd", "argocd-repo-server-egress", "argocd/argocd-repo-server is bound to a role"),
        ("backup", "backup-vault-egress", "CronJob/backup-vault is configured with Vault's address"),
        ("external-secrets", "external-secrets-egress", "ClusterSecretStore vault reads Vault"),
        ("tractus-x", "tractusx-connector-dataplane-egress", "Deployment/edc-dataplane is configured with Vault's"),
    ):
        objects = without(renderings["prod"], namespace, policy)
        model = stack_model(objects, network)
        findings = required_flows_are_allowed((), model, network, observed_flows(objects, model))
        assert any(finding.startswith(expected) for finding in findings), (expected, findings)


def test_a_declared_flow_must_name_a_workload_the_stack_runs(
    runs: dict[str, StackRun], models: dict[str, ClusterModel]
) -> None:
    ghost = Need(Pods("traefik", {"app.kubernetes.io/name": "traefic"}), KUBERNETES_API, 443, "a typo")
    (finding,) = required_flows_are_allowed((ghost,), models["prod"], stack_network(runs["prod"]))
    assert finding.startswith("a typo: Pods(namespace='traefik'") and "selects no pod of the stack" in finding


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"protocol": "SCTP"}, "is not TCP or UDP"),
        ({"port": 0}, "out of range"),
        ({"why": ""}, "says why"),
    ],
)
def test_a_declared_flow_is_checked_when_it_is_made(kwargs: dict[str, Any], message: str) -> None:
    arguments: dict[str, Any] = {"source": Pods("a"), "destination": INTERNET, "port": 443, "why": "x", **kwargs}
    with pytest.raises(ValueError, match=message):
        Need(**arguments)


def test_no_flow_is_open_that_no_component_requires(runs: dict[str, StackRun], models: dict[str, ClusterModel]) -> None:
    for name, run in runs.items():
        assert unrequired_flows(models[name], run.flows, stack_network(run)) == []
        assert len(connectivity(models[name])) > 100


def test_a_policy_that_opens_more_than_is_declared_is_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    """A namespace-wide allow of HTTPS to anywhere (the kind of rule the platform had) is
    reported flow by flow, and so is an undeclared webhook port opened to the VPC."""
    run = runs["prod"]
    network = stack_network(run)
    wide = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {"name": "allow-https", "namespace": "argocd"},
        "spec": {"podSelector": {}, "policyTypes": ["Egress"], "egress": [{"ports": [{"port": 443}]}]},
    }
    objects = [*deployed(renderings["prod"]), Placed("test", "argocd", wide)]
    findings = unrequired_flows(stack_model(objects, network), run.flows, network)
    assert any(
        f.startswith("argocd/StatefulSet/argocd-redis-ha-server -> 203.0.113.10 TCP 443 is allowed") for f in findings
    ), findings
    assert all("but no component declares it" in f for f in findings)


def test_vault_admits_exactly_the_workloads_that_declare_they_use_it(
    runs: dict[str, StackRun], models: dict[str, ClusterModel]
) -> None:
    """One source of truth: the flows the components declare; every other pod is refused."""
    vault = Endpoint("service", namespace="vault", name="vault")
    for name in runs:
        model = models[name]
        admitted = {pod.key for pod in model.pods if model.verdict(Flow(pod.endpoint(), vault, 8200)).allowed}
        expected = {
            ("backup", "CronJob/backup-vault"),
            ("external-secrets", "Deployment/external-secrets"),
            ("tractus-x", "Deployment/edc-controlplane"),
            ("tractus-x", "Deployment/edc-dataplane"),
            ("vault", "Job/vault-bootstrap"),
            ("vault", "StatefulSet/vault"),  # request forwarding among the Vault pods
            # Prometheus scrapes Vault's metrics on its API port.
            ("monitoring", "Pod/prometheus-kube-prometheus-stack-prometheus-shard-0"),
            ("monitoring", "Pod/prometheus-kube-prometheus-stack-prometheus-shard-1"),
        }
        if name == "dr":
            expected.add(("backup", "CronJob/restore-vault"))
        # CoreDNS and host-network pods (the node exporter) are no pods a policy confines.
        unconfined = {
            ("kube-system", "Pod/coredns"),
            ("monitoring", "DaemonSet/kube-prometheus-stack-prometheus-node-exporter"),
        }
        assert admitted - unconfined == expected, name


def pod(namespace: str, **labels: str) -> Endpoint:
    return Endpoint("pod", namespace=namespace, labels=labels)


CONTROL = pod("tractus-x", **{"app.kubernetes.io/instance": "edc-controlplane"})
DATA = pod("tractus-x", **{"app.kubernetes.io/instance": "edc-dataplane"})
PROMETHEUS = Endpoint("pod", namespace="monitoring", labels={"operator.prometheus.io/shard": "0"})
ESO = pod("external-secrets", **{"app.kubernetes.io/name": "external-secrets"})
VAULT = pod("vault", **{"app.kubernetes.io/name": "vault", "component": "server"})
ARGOCD_CONTROLLER = pod("argocd", **{"app.kubernetes.io/name": "argocd-application-controller"})
REPO_SERVER = pod("argocd", **{"app.kubernetes.io/name": "argocd-repo-server"})
INTERNET_HOST = Endpoint("address", address="203.0.113.10")
METADATA = Endpoint("address", address="169.254.169.254")


def allowed(model: ClusterModel, source: Endpoint, destination: Endpoint, port: int) -> bool:
    return model.verdict(Flow(source, destination, port)).allowed


def test_partners_reach_the_connector_only_at_dsp_and_the_public_api(models: dict[str, ClusterModel]) -> None:
    for model in models.values():
        assert allowed(model, TRAEFIK, CONTROL, 8084) and allowed(model, TRAEFIK, DATA, 8081)
        for port in (8080, 8081, 8083, 8085):  # default, management, control, catalog
            assert not allowed(model, TRAEFIK, CONTROL, port), port
        assert not allowed(model, TRAEFIK, DATA, 8084)
        assert allowed(model, DATA, CONTROL, 8083) and allowed(model, CONTROL, DATA, 8084)
        assert not allowed(model, DATA, CONTROL, 8081), "the management API is reachable from nowhere"
        assert allowed(model, PROMETHEUS, CONTROL, 9090)
        for plane in (CONTROL, DATA):
            assert allowed(model, plane, INTERNET_HOST, 443)
            assert not allowed(model, plane, INTERNET_HOST, 80)
            assert not allowed(model, plane, METADATA, 80)


def test_argo_cd_fetches_charts_from_the_repo_server_only(models: dict[str, ClusterModel]) -> None:
    for model in models.values():
        assert allowed(model, REPO_SERVER, INTERNET_HOST, 443)
        assert not allowed(model, ARGOCD_CONTROLLER, INTERNET_HOST, 443)
        assert allowed(model, ARGOCD_CONTROLLER, Endpoint("service", "argocd", "argocd-repo-server"), 8081)


def test_vault_and_external_secrets_reach_what_they_need_and_no_more(models: dict[str, ClusterModel]) -> None:
    for model in models.values():
        assert allowed(model, VAULT, INTERNET_HOST, 443), "KMS for auto-unseal"
        assert not allowed(model, VAULT, METADATA, 80)
        assert allowed(model, ESO, Endpoint("service", "vault", "vault"), 8200)
        # ECR and STS over HTTPS: Argo CD's token for the stack's chart copy (components/chart_mirror.py).
        assert allowed(model, ESO, INTERNET_HOST, 443)
        assert not allowed(model, ESO, INTERNET_HOST, 80)
        assert not allowed(model, ESO, METADATA, 80)
        assert not allowed(model, ESO, Endpoint("service", "vault", "vault"), 8201)


def test_api_access_for_a_workload_without_a_role_is_reported(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering], models: dict[str, ClusterModel]
) -> None:
    """The connector's service account is bound to no role: API egress for it would be a
    flow too many. Every API client the components declare has a role."""
    objects = list(deployed(renderings["prod"]))
    assert api_access_without_a_role(runs["prod"].flows, objects, models["prod"]) == []
    connector = api_client(Pods("tractus-x", {"app.kubernetes.io/instance": "edc-controlplane"}), "the connector")
    (finding,) = api_access_without_a_role((connector,), objects, models["prod"])
    assert finding == (
        "the connector calls the Kubernetes API: tractus-x/Deployment/edc-controlplane has no role bound to its "
        "service account"
    )
