"""The connectivity map: the platform's real pods, Services and NetworkPolicies judged with
EKS's semantics (offline/flows.py), and written for review."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.traffic import INTERNET, KUBERNETES_API, Need, Pods
from offline.connectivity import (
    connectivity,
    describe,
    required_flows_are_allowed,
    stack_model,
    stack_network,
    undeclared,
    write_map,
)
from offline.flows import ClusterModel, Endpoint, Flow
from offline.harness import StackRun
from offline.render import StackRendering
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
)


@pytest.fixture(scope="module")
def models(runs: dict[str, StackRun], renderings: dict[str, StackRendering]) -> dict[str, ClusterModel]:
    return {name: stack_model(list(deployed(renderings[name])), stack_network(run)) for name, run in runs.items()}


def test_the_stacks_network_is_what_the_program_creates(runs: dict[str, StackRun]) -> None:
    network = stack_network(runs["prod"])
    assert (network.vpc_cidr, network.service_cidr) == ("10.40.0.0/16", "172.20.0.0/16")
    assert network.private_subnets == ("10.40.0.0/19", "10.40.32.0/19", "10.40.64.0/19")


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
    assert "traefik/allow-kubernetes-api: the Kubernetes API" in row
    assert '"namespace traefik" -> "Kubernetes API" [label="443"];' in (tmp_path / "flows.dot").read_text()
    assert (tmp_path / "flows.svg").read_text().startswith("<?xml")


def test_every_flow_a_component_declares_is_allowed(runs: dict[str, StackRun], models: dict[str, ClusterModel]) -> None:
    for name, run in runs.items():
        assert len(run.flows) > 80
        assert required_flows_are_allowed(run.flows, models[name], stack_network(run)) == []


def test_a_blocked_required_flow_is_reported(runs: dict[str, StackRun], renderings: dict[str, StackRendering]) -> None:
    """Without Traefik's API policy, the flow Traefik declares is reported blocked."""
    run = runs["prod"]
    objects = [
        p
        for p in deployed(renderings["prod"])
        if not (
            p.obj["kind"] == "NetworkPolicy"
            and (p.namespace, p.obj["metadata"]["name"]) == ("traefik", "allow-kubernetes-api")
        )
    ]
    network = stack_network(run)
    (finding,) = required_flows_are_allowed(run.flows, stack_model(objects, network), network)
    assert finding.startswith(
        "Traefik (its Ingress, IngressRoute and Gateway providers) calls the Kubernetes API: "
        "traefik/app.kubernetes.io/name=traefik -> api-server TCP 443 is blocked"
    )


def test_a_declared_flow_must_name_a_workload_the_stack_runs(
    runs: dict[str, StackRun], models: dict[str, ClusterModel]
) -> None:
    ghost = Need(Pods("traefik", {"app.kubernetes.io/name": "traefic"}), KUBERNETES_API, 443, "a typo")
    (finding,) = required_flows_are_allowed((ghost,), models["prod"], stack_network(runs["prod"]))
    assert finding.startswith("a typo: pod traefik/") and "names 0 pods of the model, not one" in finding


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


def test_the_map_lists_what_the_policies_allow_beyond_the_declared_flows(
    runs: dict[str, StackRun], models: dict[str, ClusterModel]
) -> None:
    run, model = runs["prod"], models["prod"]
    entries = connectivity(model)
    extra = {
        (describe(f.source), describe(f.destination), f.port)
        for f, _ in undeclared(entries, run.flows, stack_network(run))
    }
    assert ("traefik/Deployment/traefik", "api-server", 443) not in extra, "declared by the ingress component"
    # kube-system has no policies of the platform's: everything reaches metrics-server.
    assert ("203.0.113.10", "kube-system/Deployment/metrics-server", 10250) in extra
    assert len(extra) < len(entries)
