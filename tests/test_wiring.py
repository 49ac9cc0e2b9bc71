"""The program's selectors and names against what the charts render (offline/wiring.py), and
the objects the cluster and its operators add (offline/operated.py)."""

from __future__ import annotations

from typing import Any

import pytest

from offline import wiring
from offline.harness import StackRun
from offline.irsa import ROLE_ARN_ANNOTATION, irsa_findings
from offline.operated import acme_solver_namespaces, operated_objects
from offline.render import Placed, StackRendering
from offline.rendered_checks import deployed

LABELS = {"app": "web", "tier": "front"}


@pytest.mark.parametrize(
    ("selector", "selected"),
    [
        ({}, True),
        (None, True),
        ({"matchLabels": {"app": "web"}}, True),
        ({"matchLabels": {"app": "api"}}, False),
        ({"matchExpressions": [{"key": "app", "operator": "In", "values": ["web", "api"]}]}, True),
        ({"matchExpressions": [{"key": "app", "operator": "NotIn", "values": ["web"]}]}, False),
        ({"matchExpressions": [{"key": "zone", "operator": "NotIn", "values": ["a"]}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "Exists"}]}, True),
        ({"matchExpressions": [{"key": "tier", "operator": "DoesNotExist"}]}, False),
        ({"matchLabels": {"app": "web"}, "matchExpressions": [{"key": "x", "operator": "Exists"}]}, False),
    ],
)
def test_label_selectors_select_as_the_api_does(selector: dict[str, Any] | None, selected: bool) -> None:
    assert wiring.selects(selector, LABELS) is selected


def deployment(name: str, labels: dict[str, str], namespace: str = "apps") -> Placed:
    template = {"metadata": {"labels": labels}, "spec": {"containers": [{"name": "c", "image": "i:1"}]}}
    obj = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name}, "spec": {"template": template}}
    return Placed("chart", namespace, obj)


def service(name: str, labels: dict[str, str], ports: dict[str, int], namespace: str = "apps") -> Placed:
    spec = {"ports": [{"name": n, "port": p} for n, p in ports.items()]}
    obj = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name, "labels": labels}, "spec": spec}
    return Placed("chart", namespace, obj)


def program(kind: str, spec: dict[str, Any], namespace: str = "apps", api: str = "v1") -> Placed:
    return Placed("program", namespace, {"apiVersion": api, "kind": kind, "metadata": {"name": "x"}, "spec": spec})


CLUSTER = wiring.Cluster.of(
    [
        Placed("program", "", {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "apps"}}),
        deployment("web", LABELS),
        service("web", {"app": "web"}, {"http": 8080, "metrics": 9090}),
    ]
)


def findings(placed: Placed) -> list[str]:
    return [f for check in wiring.OBJECT_CHECKS for f in check(CLUSTER, placed)]


def test_a_network_policy_or_budget_that_selects_no_pod_is_reported() -> None:
    policy = program("NetworkPolicy", {"podSelector": {"matchLabels": {"app": "webb"}}}, api="networking.k8s.io/v1")
    (finding,) = findings(policy)
    assert finding.startswith("program: NetworkPolicy apps/x selects no pod the stack runs there")
    assert findings(program("NetworkPolicy", {"podSelector": {"matchLabels": {"app": "web"}}})) == []
    assert findings(program("NetworkPolicy", {"podSelector": {}})) == [], "an empty selector means every pod"
    assert findings(program("NetworkPolicy", {"podSelector": {"matchLabels": LABELS}}, namespace="other"))
    assert findings(program("PodDisruptionBudget", {"selector": {"matchLabels": {"tier": "back"}}}))


def test_a_service_monitor_must_select_a_service_with_the_port_it_names() -> None:
    def monitor(selector: dict[str, str], port: str) -> Placed:
        return program("ServiceMonitor", {"selector": {"matchLabels": selector}, "endpoints": [{"port": port}]})

    assert findings(monitor({"app": "web"}, "metrics")) == []
    (missing_port,) = findings(monitor({"app": "web"}, "metric"))
    assert "Service apps/web has no port named 'metric'" in missing_port
    (nothing,) = findings(monitor({"app": "api"}, "metrics"))
    assert "selects no Service in ['apps']" in nothing


def test_a_scaled_object_must_scale_a_workload_the_stack_runs() -> None:
    assert findings(program("ScaledObject", {"scaleTargetRef": {"name": "web"}})) == []
    (finding,) = findings(program("ScaledObject", {"scaleTargetRef": {"name": "web-controlplane"}}))
    assert finding.endswith("scales Deployment web-controlplane, which the stack does not run")


def test_ingress_backends_must_be_services_and_ports_that_exist() -> None:
    def ingress(name: str, port: dict[str, Any]) -> Placed:
        path = {"path": "/", "pathType": "Prefix", "backend": {"service": {"name": name, "port": port}}}
        return program("Ingress", {"rules": [{"http": {"paths": [path]}}]}, api="networking.k8s.io/v1")

    assert findings(ingress("web", {"number": 8080})) == []
    assert findings(ingress("web", {"name": "http"})) == []
    assert "no Service apps/provisioning-service" in findings(ingress("provisioning-service", {"number": 8080}))[0]
    assert "has no port 8081" in findings(ingress("web", {"number": 8081}))[0]
    route = program(
        "IngressRoute", {"routes": [{"services": [{"name": "webb", "port": 8080}]}]}, api="traefik.io/v1alpha1"
    )
    assert "no Service apps/webb" in findings(route)[0]


def test_in_cluster_addresses_in_values_must_name_a_service_and_port() -> None:
    values = {"url": "http://web.apps.svc:9090/metrics", "other": ["https://web.apps.svc.cluster.local:8080"]}
    assert wiring.address_findings(CLUSTER, "values", values) == []
    (finding,) = wiring.address_findings(CLUSTER, "values", {"prometheus": "http://web.apps:9091"})
    assert finding.startswith("values: web.apps:9091: Service apps/web has no port 9091")
    (finding,) = wiring.address_findings(CLUSTER, "values", {"vault": "https://vault.apps.svc:8200"})
    assert "no Service apps/vault" in finding
    # Outside the stack's namespaces (a partner's host, a public name) is not the cluster's business.
    assert wiring.address_findings(CLUSTER, "values", {"bdrs": "https://bdrs.example.org:8443"}) == []


def certificate(namespace: str, issuer: str, kind: str = "ClusterIssuer") -> Placed:
    spec = {"secretName": "tls", "issuerRef": {"name": issuer, "kind": kind}}
    return Placed(
        "program",
        namespace,
        {"apiVersion": "cert-manager.io/v1", "kind": "Certificate", "metadata": {"name": "c"}, "spec": spec},
    )


ACME = Placed(
    "program",
    "",
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "ClusterIssuer",
        "metadata": {"name": "letsencrypt"},
        "spec": {"acme": {"solvers": [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]}},
    },
)
PRIVATE_CA = Placed(
    "program",
    "vault",
    {
        "apiVersion": "cert-manager.io/v1",
        "kind": "Issuer",
        "metadata": {"name": "ca"},
        "spec": {"ca": {"secretName": "ca"}},
    },
)


def test_solver_pods_run_beside_the_certificates_an_http01_issuer_signs() -> None:
    ingress = {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {"name": "edc", "annotations": {"cert-manager.io/cluster-issuer": "letsencrypt"}},
        "spec": {},
    }
    objects = [
        ACME,
        PRIVATE_CA,
        certificate("apps", "letsencrypt"),
        certificate("vault", "ca", "Issuer"),
        Placed("chart", "portal", ingress),
    ]
    assert acme_solver_namespaces(objects) == {"apps", "portal"}
    solvers = [
        p
        for p in operated_objects(objects)
        if p.obj["kind"] == "Pod" and p.obj["metadata"]["name"] == "cm-acme-http-solver"
    ]
    assert sorted(p.namespace for p in solvers) == ["apps", "portal"]
    assert all(p.obj["metadata"]["labels"] == {"acme.cert-manager.io/http01-solver": "true"} for p in solvers)


def test_prometheus_operator_pods_carry_the_labels_its_crd_documents() -> None:
    prometheus = Placed(
        "chart",
        "monitoring",
        {
            "apiVersion": "monitoring.coreos.com/v1",
            "kind": "Prometheus",
            "metadata": {"name": "kps"},
            "spec": {"shards": 2, "podMetadata": {"labels": {"team": "sre"}}},
        },
    )
    pods = [
        p.obj["metadata"]["labels"]
        for p in operated_objects([prometheus])
        if p.obj["kind"] == "Pod" and p.namespace == "monitoring"
    ]
    assert [labels["operator.prometheus.io/shard"] for labels in pods] == ["0", "1"]
    assert pods[0] == {
        "team": "sre",
        "prometheus": "kps",
        "app.kubernetes.io/name": "prometheus",
        "app.kubernetes.io/instance": "kps",
        "app.kubernetes.io/managed-by": "prometheus-operator",
        "operator.prometheus.io/name": "kps",
        "operator.prometheus.io/shard": "0",
    }


def _account(placed: Placed) -> str:
    metadata = placed.obj["metadata"]
    return f"{metadata.get('namespace') or placed.namespace}/{metadata['name']}"


def _with_account(placed: Placed, **metadata: Any) -> Placed:
    return placed._replace(obj={**placed.obj, "metadata": {**placed.obj["metadata"], **metadata}})


def test_every_irsa_service_account_is_admitted_by_the_trust_policy_of_its_role(
    runs: dict[str, StackRun], renderings: dict[str, StackRendering]
) -> None:
    """The rendered ServiceAccounts (the charts' and the program's) that carry a role, each
    admitted by that role's trust policy; an account a chart names differently, or a role
    written for another account, is reported."""
    run, objects = runs["prod"], list(deployed(renderings["prod"]))
    annotated = [
        p
        for p in objects
        if p.obj["kind"] == "ServiceAccount" and ROLE_ARN_ANNOTATION in (p.obj["metadata"].get("annotations") or {})
    ]
    assert {
        "backup/backup-certificates",
        "backup/backup-config",
        "backup/backup-database",
        "backup/backup-vault",
        "backup/restore-test",
        "kube-system/cluster-autoscaler",
        "monitoring/cloudwatch-exporter",
        "vault/vault",
    } <= {_account(p) for p in annotated}
    assert irsa_findings(run, objects) == []

    (vault,) = [p for p in annotated if _account(p) == "vault/vault"]
    renamed = [_with_account(p, name="vault-server") if p is vault else p for p in objects]
    (finding,) = irsa_findings(run, renamed)
    assert finding == (
        f"{vault.origin}: ServiceAccount vault/vault-server uses role tractusx-secrets-vault, whose trust policy "
        "admits ['system:serviceaccount:vault:vault']: AssumeRoleWithWebIdentity is denied"
    )
    elsewhere = {**vault.obj["metadata"]["annotations"], ROLE_ARN_ANNOTATION: "arn:aws:iam::123456789012:role/other"}
    foreign = [_with_account(p, annotations=elsewhere) if p is vault else p for p in objects]
    assert irsa_findings(run, foreign) == [
        f"{vault.origin}: ServiceAccount vault/vault: arn:aws:iam::123456789012:role/other is no role of the stack"
    ]
