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
    """The pods of one workload: its namespace and labels that select only it (every
    replica, shard and Job run of it). No labels: every pod of the namespace."""

    namespace: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def key(self) -> tuple[str, tuple[tuple[str, str], ...]]:
        return self.namespace, tuple(sorted(self.labels.items()))

    @property
    def name(self) -> str:
        """The workload's name in the names of its NetworkPolicies."""
        if not self.labels:
            return "all-pods"
        labels = self.labels
        base = next((labels[k] for k in NAME_LABELS if k in labels), next(iter(sorted(labels.values()))))
        component = labels.get("app.kubernetes.io/component") or labels.get("component")
        name = base if not component or component in base else f"{base}-{component}"
        return name.replace(".", "-").lower()


@dataclass(frozen=True)
class ServiceRef:
    """A Service, reached at its ClusterIP and Service port, and the pods behind it with the
    port each Service port forwards to (the NetworkPolicies name the pods and their port;
    EKS admits the ClusterIP of every Service that selects them, offline/flows.py)."""

    namespace: str
    name: str
    backends: Mapping[str, str] = field(default_factory=dict)  # the Service's pod labels
    target_ports: Mapping[int, int] = field(default_factory=dict)  # Service port -> pod port, where they differ

    def pods(self) -> Pods:
        if not self.backends:
            raise ValueError(f"Service {self.namespace}/{self.name} names no pods behind it")
        return Pods(self.namespace, self.backends)

    def target(self, port: int) -> int:
        return self.target_ports.get(port, port)


@dataclass(frozen=True)
class Outside:
    """Something outside the cluster's pods: ``internet``, ``kubernetes-api`` (through the
    `kubernetes` Service), ``vpc`` (RDS, the nodes' kubelets), ``control-plane`` (the API
    server calling webhooks and aggregated APIs from its interfaces in the VPC)."""

    what: str

    def __post_init__(self) -> None:
        if self.what not in OUTSIDE:
            raise ValueError(f"unknown outside endpoint {self.what!r}; one of {', '.join(OUTSIDE)}")


# The labels a workload's policy names come from, in this order.
NAME_LABELS = ("app.kubernetes.io/name", "app", "k8s-app", "name")
OUTSIDE = ("internet", "kubernetes-api", "vpc", "control-plane")
INTERNET = Outside("internet")
KUBERNETES_API = Outside("kubernetes-api")
VPC = Outside("vpc")
CONTROL_PLANE = Outside("control-plane")
KUBE_DNS = ServiceRef("kube-system", "kube-dns", {"k8s-app": "kube-dns"})
# Every Prometheus shard and replica: prometheus-operator labels each of its pods so
# (offline/operated.py).
PROMETHEUS_PODS = Pods("monitoring", {"app.kubernetes.io/name": "prometheus"})
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
    """Resolving Service and external names through kube-dns."""
    return tuple(Need(pods, KUBE_DNS, DNS_PORT, f"{what} resolves names", protocol) for protocol in (UDP, TCP))


def scraped(pods: Pods, port: int, what: str) -> Need:
    """Prometheus scrapes a metrics port (at the pod's address: it discovers targets through
    the Services' endpoints, never their ClusterIPs)."""
    return Need(PROMETHEUS_PODS, pods, port, f"Prometheus scrapes {what}")
