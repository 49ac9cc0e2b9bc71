"""TLS: cert-manager and the Let's Encrypt ClusterIssuers (playbook "Certificate Management").

Every host the platform serves (components/hosts.py) gets its certificate from its own
Ingress: the ``cert-manager.io/cluster-issuer`` annotation and the Ingress's ``tls`` hosts
make cert-manager's ingress-shim create a Certificate for exactly those names, in the
Ingress's namespace. There is no platform-wide Certificate: one for names no Ingress
serves can never pass HTTP-01 (Let's Encrypt must reach the name through the edge).

The HTTP-01 challenge is served through the ``nginx`` IngressClass, which the ingress
controller (components/ingress.py) serves. The playbook's solver sets ``class: nginx``,
i.e. the legacy ``kubernetes.io/ingress.class`` annotation; the solver uses
``ingressClassName`` instead, which selects the IngressClass object the controller watches.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import charts
from components.cluster import Cluster
from components.helm import chart_release
from components.ingress import TRAEFIK_PODS
from components.namespaces import Namespaces
from components.traffic import CONTROL_PLANE, INTERNET, Need, Pods, api_client, scraped

NAMESPACE = "cert-manager"
# crds.{enabled,keep} replace installCRDs from chart v1.15 on; prometheus.servicemonitor
# is spelt in lower case by the chart.
RELEASE_NAME = "cert-manager"
REPLICAS = 2

INGRESS_CLASS = "nginx"
# Playbook "Certificate Management": the production issuer; staging for trials (its
# rate limits are far higher, its certificates are not trusted).
ISSUERS = {
    "letsencrypt-prod": "https://acme-v02.api.letsencrypt.org/directory",
    "letsencrypt-staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
CERTIFICATE_ISSUER = "letsencrypt-prod"


@dataclass(frozen=True)
class CertificatesArgs:
    cluster: Cluster
    namespaces: Namespaces
    acme_email: str
    depends_on: Sequence[pulumi.Resource]  # the monitoring CRDs (ServiceMonitor)


def chart_values() -> dict[str, Any]:
    security = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    small = {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "500m", "memory": "256Mi"}}
    component = {
        "replicaCount": REPLICAS,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "containerSecurityContext": security,
        "resources": small,
    }
    return {
        # CRDs installed and kept when the release is removed (deleting them would
        # delete every Certificate and Issuer).
        "crds": {"enabled": True, "keep": True},
        **component,
        "webhook": dict(component),
        "cainjector": dict(component),
        "prometheus": {"enabled": True, "servicemonitor": {"enabled": True}},
    }


def cluster_issuer_spec(server: str, name: str, email: str) -> dict[str, Any]:
    return {
        "acme": {
            "server": server,
            "email": email,
            "privateKeySecretRef": {"name": name},
            "solvers": [{"http01": {"ingress": {"ingressClassName": INGRESS_CLASS}}}],
        }
    }


class Certificates(pulumi.ComponentResource):
    release: k8s.helm.v3.Release

    def __init__(self, name: str, args: CertificatesArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:certificates:Certificates", name, None, opts)
        provider = args.cluster.k8s_provider
        self.release = chart_release(
            f"{name}-release",
            release=RELEASE_NAME,
            chart=charts.CERT_MANAGER,
            namespace=NAMESPACE,
            values=chart_values(),
            parent=self,
            provider=provider,
            depends_on=[args.namespaces.namespace(NAMESPACE), *args.depends_on],
        )
        after_crds = pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[self.release])
        issuers = [
            k8s.apiextensions.CustomResource(
                f"{name}-{issuer}",
                api_version="cert-manager.io/v1",
                kind="ClusterIssuer",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=issuer),
                spec=cluster_issuer_spec(server, issuer, args.acme_email),
                opts=after_crds,
            )
            for issuer, server in ISSUERS.items()
        ]
        self.issuers = issuers
        self.register_outputs({"release": self.release.name, "issuers": list(ISSUERS)})


def _cert_manager(component: str) -> Pods:
    return Pods(NAMESPACE, {"app.kubernetes.io/instance": RELEASE_NAME, "app.kubernetes.io/component": component})


SOLVER_LABELS = {"acme.cert-manager.io/http01-solver": "true"}
SOLVER_PORT = 8089


def http01_challenges(namespace: str) -> Need:
    """cert-manager runs the HTTP-01 solver pod in the namespace of the Certificate it solves
    for (cert-manager pkg/issuer/acme/http/pod.go); Let's Encrypt's request reaches it
    through Traefik. Every namespace with a Certificate or an Ingress of an HTTP-01 issuer
    declares this."""
    return Need(
        TRAEFIK_PODS,
        Pods(namespace, SOLVER_LABELS),
        SOLVER_PORT,
        "Let's Encrypt's HTTP-01 request reaches the solver through Traefik",
    )


def flows() -> tuple[Need, ...]:
    controller, webhook, cainjector = (_cert_manager(c) for c in ("controller", "webhook", "cainjector"))
    return (
        Need(controller, INTERNET, 443, "cert-manager talks ACME to Let's Encrypt"),
        Need(controller, INTERNET, 80, "cert-manager checks the HTTP-01 challenge at the public host first"),
        Need(CONTROL_PLANE, webhook, 10250, "the API server calls cert-manager's admission webhook"),
        *(
            api_client(pods, f"cert-manager's {name}")
            for pods, name in (
                (controller, "controller"),
                (webhook, "webhook"),
                (cainjector, "CA injector"),
                (_cert_manager("startupapicheck"), "install check"),
            )
        ),
        *(scraped(pods, 9402, f"cert-manager's {pods.name}") for pods in (controller, webhook, cainjector)),
    )
