"""certificates and ingress: playbook "Certificate Management" and the edge behind an NLB."""

from __future__ import annotations

from typing import Any

from offline.checks import plain
from offline.harness import RegisteredResource, StackRun
from tests.conftest import release


def custom(run: StackRun, kind: str) -> list[RegisteredResource]:
    return [r for r in run.resources if r.type.endswith(f":{kind}") and r.type.startswith("kubernetes:cert-manager")]


def test_cert_manager_is_pinned_installs_its_crds_and_reports_metrics(stack: StackRun) -> None:
    cert_manager = release(stack, "cert-manager")
    values = plain(cert_manager.inputs["values"])
    assert cert_manager.inputs["version"] == "v1.21.1"
    assert cert_manager.inputs["namespace"] == "cert-manager"
    assert values["crds"] == {"enabled": True, "keep": True}
    assert values["replicaCount"] >= 2 and values["podDisruptionBudget"]["enabled"] is True
    # CertificateNotReady reads certmanager_certificate_ready_status.
    assert values["prometheus"]["servicemonitor"]["enabled"] is True


def test_lets_encrypt_issuers_solve_http01_through_the_nginx_class(stack: StackRun) -> None:
    """Without a hosted zone (the stack files'); with one they solve DNS-01 there
    (tests/test_disaster_recovery.py)."""
    issuers = {r.inputs["metadata"]["name"]: r for r in custom(stack, "ClusterIssuer")}
    assert set(issuers) == {"letsencrypt-prod", "letsencrypt-staging"}
    urn = release(stack, "cert-manager").urn
    for name, issuer in issuers.items():
        acme: dict[str, Any] = issuer.inputs["spec"]["acme"]
        assert acme["email"] == "certificates@example.com"
        assert acme["privateKeySecretRef"] == {"name": name}
        assert acme["solvers"] == [{"http01": {"ingress": {"ingressClassName": "nginx"}}}]
        assert urn in issuer.dependencies
    assert issuers["letsencrypt-prod"].inputs["spec"]["acme"]["server"] == (
        "https://acme-v02.api.letsencrypt.org/directory"
    )
    # No AWS identity and the default self-check: HTTP-01 needs neither.
    values = plain(release(stack, "cert-manager").inputs["values"])
    assert "serviceAccount" not in values and "dns01RecursiveNameserversOnly" not in values


def test_every_certificate_comes_from_the_ingress_that_serves_its_names(stack: StackRun) -> None:
    """No platform-wide Certificate: one for names no Ingress serves never passes HTTP-01."""
    public = [c for c in custom(stack, "Certificate") if c.inputs["spec"]["issuerRef"]["kind"] == "ClusterIssuer"]
    assert public == []


def test_traefik_serves_the_nginx_class_and_gateway_api(stack: StackRun) -> None:
    traefik = release(stack, "traefik")
    values = plain(traefik.inputs["values"])
    assert traefik.inputs["version"] == "39.0.9"
    assert values["providers"]["kubernetesIngressNginx"] == {"enabled": True}
    assert values["providers"]["kubernetesGateway"] == {"enabled": True}
    (ingress_class,) = stack.of_type("kubernetes:networking.k8s.io/v1:IngressClass")
    assert ingress_class.inputs["metadata"]["name"] == "nginx"
    assert ingress_class.inputs["spec"]["controller"] == "k8s.io/ingress-nginx"


def test_traefik_is_highly_available_behind_an_nlb_with_metrics_and_access_logs(stack: StackRun) -> None:
    values = plain(release(stack, "traefik").inputs["values"])
    assert values["deployment"]["replicas"] >= 2
    assert values["podDisruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    (spread,) = values["topologySpreadConstraints"]
    assert spread["topologyKey"] == "topology.kubernetes.io/zone"
    assert values["service"]["annotations"]["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert values["logs"]["access"]["enabled"] is True
    assert values["metrics"]["prometheus"]["serviceMonitor"]["enabled"] is True
    # The 2 s latency target of the SLA table is a bucket bound of Traefik's histogram.
    assert any("buckets=" in arg and ",2," in arg for arg in values["additionalArguments"])


def test_charts_that_create_service_monitors_wait_for_the_monitoring_crds(stack: StackRun) -> None:
    stack_urn = release(stack, "kube-prometheus-stack").urn
    for chart in ("traefik", "cert-manager", "prometheus-yet-another-cloudwatch-exporter"):
        assert stack_urn in release(stack, chart).dependencies, chart
