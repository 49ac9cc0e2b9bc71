"""The network flows a component's workloads need, as data the component declares.

Each component names, next to its ports and labels, the flows its workloads cannot work
without (from, to, port, protocol, why); the platform collects them (``Platform.flows``).
The plan proves every one of them allowed by the NetworkPolicies with EKS's semantics
(offline/flows.py) and lists them in the connectivity map. What every workload needs
(name resolution) is declared once, here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

TCP = "TCP"
UDP = "UDP"


@dataclass(frozen=True)
class Pods:
    """The pods of one workload: its namespace and labels that select only it."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceRef:
    """A Service, reached at its ClusterIP and Service port."""

    namespace: str
    name: str


@dataclass(frozen=True)
class Outside:
    """Something outside the cluster's pods: ``internet``, ``kubernetes-api`` (through the
    `kubernetes` Service), ``vpc`` (RDS, the nodes' kubelets), ``control-plane`` (the API
    server calling webhooks and aggregated APIs from its interfaces in the VPC)."""

    what: str

    def __post_init__(self) -> None:
        if self.what not in OUTSIDE:
            raise ValueError(f"unknown outside endpoint {self.what!r}; one of {', '.join(OUTSIDE)}")


OUTSIDE = ("internet", "kubernetes-api", "vpc", "control-plane")
INTERNET = Outside("internet")
KUBERNETES_API = Outside("kubernetes-api")
VPC = Outside("vpc")
CONTROL_PLANE = Outside("control-plane")
KUBE_DNS = ServiceRef("kube-system", "kube-dns")
# Prometheus scrapes every workload's metrics port. One pod stands for all of them (every
# shard and replica carries these labels and the same policies; prometheus-operator labels
# them, offline/operated.py).
PROMETHEUS_PODS = Pods("monitoring", {"app.kubernetes.io/name": "prometheus", "operator.prometheus.io/shard": "0"})
DNS_PORT = 53


@dataclass(frozen=True)
class Need:
    """A flow a workload cannot work without."""

    source: Pods | Outside
    destination: Pods | ServiceRef | Outside
    port: int
    why: str
    protocol: str = TCP

    def __post_init__(self) -> None:
        if self.protocol not in (TCP, UDP):
            raise ValueError(f"flow {self.why!r}: protocol {self.protocol!r} is not TCP or UDP")
        if not 0 < self.port < 65536:
            raise ValueError(f"flow {self.why!r}: port {self.port} is out of range")
        if not self.why:
            raise ValueError("every flow says why it is needed")


def api_client(pods: Pods, what: str) -> Need:
    return Need(pods, KUBERNETES_API, 443, f"{what} calls the Kubernetes API")


def name_resolution(pods: Pods, what: str) -> tuple[Need, ...]:
    """Every workload resolves Service and external names through kube-dns."""
    return tuple(Need(pods, KUBE_DNS, DNS_PORT, f"{what} resolves names", protocol) for protocol in (UDP, TCP))
