"""Every Helm chart the platform deploys, pinned to an exact release, in one place.

Helm releases of the program and Argo CD child Applications name their chart from here,
and the offline plan renders exactly these versions (offline/charts.py fetches them), so
what is deployed and what is checked cannot drift apart. Each version is a release of
the chart's repository whose source could be checked at its release tag; bumping one is
a change of this file, after which ``make plan`` renders the new chart and runs every
check over it (README, "Charts").
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# Chart versions are SemVer; cert-manager's carry a leading "v" (v1.21.1).
_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+$")


@dataclass(frozen=True)
class Chart:
    """A Helm chart at an exact version in an HTTPS chart repository."""

    repository: str
    name: str
    version: str

    def __post_init__(self) -> None:
        if not self.repository.startswith("https://"):
            raise ValueError(f"chart {self.name}: repository {self.repository!r} is not an https:// URL")
        if not _EXACT_VERSION.match(self.version):
            raise ValueError(f"chart {self.name}: version {self.version!r} is not an exact version")


ARGO_HELM = "https://argoproj.github.io/argo-helm"
PROMETHEUS_COMMUNITY = "https://prometheus-community.github.io/helm-charts"
TRACTUS_X = "https://eclipse-tractusx.github.io/charts/dev"

# Argo CD v3.4.4 (argo-helm tag argo-cd-10.1.1), with the redis-ha 4.38.0 subchart.
ARGO_CD = Chart(ARGO_HELM, "argo-cd", "10.1.1")
# The app-of-apps chart of the root Application (argo-helm tag argocd-apps-2.0.5).
ARGOCD_APPS = Chart(ARGO_HELM, "argocd-apps", "2.0.5")
CERT_MANAGER = Chart("https://charts.jetstack.io", "cert-manager", "v1.21.1")
CLUSTER_AUTOSCALER = Chart("https://kubernetes.github.io/autoscaler", "cluster-autoscaler", "9.59.0")
EXTERNAL_SECRETS = Chart("https://charts.external-secrets.io", "external-secrets", "2.9.0")
KEDA = Chart("https://kedacore.github.io/charts", "keda", "2.20.2")
METRICS_SERVER = Chart("https://kubernetes-sigs.github.io/metrics-server/", "metrics-server", "3.13.1")
# prometheus-operator v0.93 with kube-state-metrics 8.4.0, node exporter 4.56.1 and
# grafana 12.11.1 as subcharts.
KUBE_PROMETHEUS_STACK = Chart(PROMETHEUS_COMMUNITY, "kube-prometheus-stack", "88.5.3")
BLACKBOX_EXPORTER = Chart(PROMETHEUS_COMMUNITY, "prometheus-blackbox-exporter", "11.17.2")
# prometheus-community publishes YACE under this name from chart 0.39.0 on (the chart's
# README, "Migrate from nerdswords/helm-charts").
CLOUDWATCH_EXPORTER = Chart(PROMETHEUS_COMMUNITY, "prometheus-yet-another-cloudwatch-exporter", "0.47.0")
# Traefik v3.6 with the Kubernetes Ingress NGINX provider (traefik-helm-chart tag v39.0.9).
TRAEFIK = Chart("https://traefik.github.io/charts", "traefik", "39.0.9")
VAULT = Chart("https://helm.releases.hashicorp.com", "vault", "0.34.1")
# The Tractus-X products, deployed by Argo CD.
TRACTUSX_CONNECTOR = Chart(TRACTUS_X, "tractusx-connector", "0.12.1")
PORTAL = Chart(TRACTUS_X, "portal", "2.5.0")
CENTRALIDP = Chart(TRACTUS_X, "centralidp", "4.2.1")

# Bitnami's free images moved to bitnamilegacy in August 2025 and get no updates, so the
# platform runs none of its own; an upstream chart that can only run one is listed here,
# image repository -> why it stays.
BITNAMI_IMAGES: dict[str, str] = {
    "docker.io/bitnamilegacy/keycloak": (
        "centralidp 4.2.1, the only packaging of the Tractus-X central identity provider, wraps Bitnami's "
        "keycloak chart 23.0.0, whose StatefulSet runs the container through Bitnami's scripts and "
        "environment (/opt/bitnami, the KEYCLOAK_* variables of its env-vars ConfigMap); the official "
        "quay.io/keycloak/keycloak image has neither, so Keycloak 25.0.6 runs as upstream pins it "
        "(components/portal_values.KEYCLOAK_IMAGE) until a centralidp release drops the Bitnami chart"
    ),
}

# Literal values a chart puts where a credential would go although nothing uses them as
# one, by chart: value -> why. The portal chart fills the username and password of the
# backend's clients that authenticate with client_credentials (GRANTTYPE) with
# `backend.placeholder` ("empty", values.yaml): those clients send only their client
# secret, which comes from a Secret.
PLACEHOLDER_CREDENTIALS: dict[str, dict[str, str]] = {
    PORTAL.name: {"empty": "the portal backend's placeholder for unused usernames and passwords"},
}

PINNED: tuple[Chart, ...] = (
    ARGO_CD,
    ARGOCD_APPS,
    CERT_MANAGER,
    CLUSTER_AUTOSCALER,
    EXTERNAL_SECRETS,
    KEDA,
    METRICS_SERVER,
    KUBE_PROMETHEUS_STACK,
    BLACKBOX_EXPORTER,
    CLOUDWATCH_EXPORTER,
    TRAEFIK,
    VAULT,
    TRACTUSX_CONNECTOR,
    PORTAL,
    CENTRALIDP,
)
