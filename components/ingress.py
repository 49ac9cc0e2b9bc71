"""The edge: Traefik behind an AWS Network Load Balancer, serving the ``nginx`` IngressClass.

The playbook names the community ingress-nginx controller, which was retired in March 2026
(no releases or security fixes since). Traefik v3.6+ ships a Kubernetes Ingress NGINX
provider that serves Ingresses of an IngressClass whose controller is
``k8s.io/ingress-nginx`` and reads their ``nginx.ingress.kubernetes.io/*`` annotations, so
the cert-manager HTTP-01 solver and the Tractus-X charts keep working unchanged. Gateway
API is on for new routes. Traefik's request metrics (``traefik_service_*``) are what the
edge SLOs in components/alerts.py measure.
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
from components.namespaces import Namespaces
from components.registry import ImageRegistry
from components.traffic import INTERNET, Need, Pods, api_client, scraped

NAMESPACE = "traefik"
# Chart 39.0.9 ships Traefik v3.6.15, the v3.6 line with the Ingress NGINX provider
# (stable since v3.6.2); the 39.x values call it kubernetesIngressNginx (chart 40 renamed
# it, traefik/traefik-helm-chart#1714).
RELEASE_NAME = "traefik"
REPLICAS = 3  # one per availability zone
INGRESS_CLASS = "nginx"
NGINX_CONTROLLER = "k8s.io/ingress-nginx"  # what the provider matches IngressClasses by
# Request-duration buckets: the playbook's 2 s latency target must be a bucket bound.
DURATION_BUCKETS = "0.1,0.25,0.5,1,2,5,10"

# Traefik's own health endpoint (ping@internal), routed on the websecure entry point for
# requests to any host, so the NLB's DNS name answers it: the Route 53 failover health
# checks (components.failover) request it there. A host's own routes (the portal's
# Host(...) rules) are longer and so take precedence for that host. Chart values
# `ingressRoute.healthcheck.{enabled,entryPoints,matchRule}` as documented in the chart's
# README values table (checked at chart 37.3.0, older than 39.0.9) and rendered by
# templates/healthcheck-ingressroute.yaml (an IngressRoute to the ping@internal service).
HEALTH_CHECK_PATH = "/ping"
# The chart's metrics entry point (ports.metrics.port), which its ServiceMonitor scrapes.
METRICS_PORT = 9100

NLB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-type": "nlb",
    "service.beta.kubernetes.io/aws-load-balancer-cross-zone-load-balancing-enabled": "true",
}


@dataclass(frozen=True)
class IngressArgs:
    cluster: Cluster
    namespaces: Namespaces
    depends_on: Sequence[pulumi.Resource]  # the monitoring CRDs (ServiceMonitor)
    images: ImageRegistry


def chart_values(images: ImageRegistry) -> dict[str, Any]:
    return {
        # Traefik is a Docker Hub official image (library/traefik).
        "image": images.chart_image("docker.io/traefik"),
        "deployment": {"replicas": REPLICAS},
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "topologySpreadConstraints": [
            {
                "maxSkew": 1,
                "topologyKey": "topology.kubernetes.io/zone",
                "whenUnsatisfiable": "DoNotSchedule",
                "labelSelector": {"matchLabels": {"app.kubernetes.io/name": "traefik"}},
            }
        ],
        # The IngressClass `nginx` is created by this component; the chart's own
        # `traefik` class and plain Ingress provider stay off, so each Ingress has one router.
        "ingressClass": {"enabled": False},
        "providers": {
            "kubernetesCRD": {"enabled": True},
            "kubernetesIngress": {"enabled": False},
            "kubernetesIngressNginx": {"enabled": True},
            "kubernetesGateway": {"enabled": True},
        },
        "service": {
            "type": "LoadBalancer",
            "annotations": NLB_ANNOTATIONS,
            # Keep the client's address (access logs, allow-lists); the NLB health-checks
            # only nodes that run a Traefik pod.
            "spec": {"externalTrafficPolicy": "Local"},
        },
        "ingressRoute": {
            "healthcheck": {
                "enabled": True,
                "entryPoints": ["websecure"],
                "matchRule": f"Path(`{HEALTH_CHECK_PATH}`)",
            }
        },
        "logs": {"general": {"level": "INFO", "format": "json"}, "access": {"enabled": True, "format": "json"}},
        "metrics": {"prometheus": {"serviceMonitor": {"enabled": True}}},
        "additionalArguments": [f"--metrics.prometheus.buckets={DURATION_BUCKETS}"],
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1000m", "memory": "512Mi"}},
    }


class Ingress(pulumi.ComponentResource):
    release: k8s.helm.v3.Release
    load_balancer_hostname: pulumi.Output[str]

    def __init__(self, name: str, args: IngressArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:ingress:Ingress", name, None, opts)
        provider = args.cluster.k8s_provider
        self.ingress_class = k8s.networking.v1.IngressClass(
            f"{name}-nginx-class",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=INGRESS_CLASS, labels={"app.kubernetes.io/managed-by": "tractusx-platform"}
            ),
            spec=k8s.networking.v1.IngressClassSpecArgs(controller=NGINX_CONTROLLER),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.release = chart_release(
            f"{name}-release",
            release=RELEASE_NAME,
            chart=charts.TRAEFIK,
            namespace=NAMESPACE,
            values=chart_values(args.images),
            parent=self,
            provider=provider,
            depends_on=[args.namespaces.namespace(NAMESPACE), self.ingress_class, *args.depends_on],
        )
        # The NLB's DNS name, for the dr stack's failover records. Read from the chart's
        # Service once the release is deployed: Helm waits (atomic) until a LoadBalancer
        # Service has an ingress address, so it is there on the first `pulumi up`; in a
        # preview before the release exists the id is unknown and the read is skipped.
        # The chart names the Service after the release (traefik.fullname).
        service = k8s.core.v1.Service.get(
            f"{name}-service",
            pulumi.Output.all(self.release.status.namespace, self.release.status.name).apply(
                lambda status: f"{status[0]}/{status[1]}"
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        self.load_balancer_hostname = service.status.apply(_load_balancer_hostname)
        self.register_outputs(
            {
                "release": self.release.name,
                "ingressClass": INGRESS_CLASS,
                "loadBalancerHostname": self.load_balancer_hostname,
            }
        )


def _load_balancer_hostname(status: Any) -> str:
    ingress = (status.load_balancer.ingress or []) if status is not None and status.load_balancer else []
    if not ingress or not ingress[0].hostname:
        raise pulumi.RunError(
            f"the {RELEASE_NAME} Service in {NAMESPACE} has no load balancer hostname yet; "
            "check the Service's events (`kubectl -n traefik describe service traefik`) and run `pulumi up` again"
        )
    return str(ingress[0].hostname)


TRAEFIK_PODS = Pods(NAMESPACE, {"app.kubernetes.io/name": "traefik"})


def flows() -> tuple[Need, ...]:
    """What Traefik needs; its backends declare the routes they take from it."""
    return (
        Need(INTERNET, TRAEFIK_PODS, 8443, "clients reach the platform over HTTPS through the Network Load Balancer"),
        Need(INTERNET, TRAEFIK_PODS, 8000, "plain HTTP (redirected to HTTPS, and Let's Encrypt's HTTP-01 requests)"),
        api_client(TRAEFIK_PODS, "Traefik (its Ingress, IngressRoute and Gateway providers)"),
        scraped(TRAEFIK_PODS, METRICS_PORT, "Traefik's request metrics"),
    )
