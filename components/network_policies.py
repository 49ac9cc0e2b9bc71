"""The NetworkPolicies of the platform, generated from the flows its components declare.

Playbook "Network Policies": every namespace denies all traffic by default
(``default-deny-all``, ingress and egress) and allows only what its workloads need. What
they need is what each component declares next to its ports and labels
(``flows()``, components/traffic.py): every declared flow becomes an egress rule on the
workload it starts from and an ingress rule on the workload it reaches, so a policy allows
exactly the declared flows and nothing else, and who may talk to Vault, to Keycloak or to
a webhook is said once, by its clients. What every pod needs, name resolution, is the one
shared default (``shared_needs``). The plan proves every declared flow allowed and every
allowed flow declared, as EKS enforces the policies (offline/connectivity.py).

Namespaces are selected by ``kubernetes.io/metadata.name``, the label the API server
sets on every namespace. The playbook selects ``name: ingress-nginx``, a label nothing
sets, so its rule would match no namespace.

Addresses outside the pods (components/traffic.py ``Outside``):

- the Kubernetes API: the `kubernetes` Service's ClusterIP, which EKS's agent judges before
  kube-proxy translates it (amazon-network-policy-controller-k8s pkg/resolvers/endpoints.go,
  getMatchingServiceClusterIPs; the agent's eBPF program sits at the pod's veth), and the
  private endpoint's addresses, the control plane's network interfaces in the cluster's own
  subnets (EKS user guide network-reqs.adoc: "2-4 elastic network interfaces in the subnets
  that you specify"), which hold nothing else;
- the control plane as a caller (admission webhooks, aggregated APIs): those same subnets;
- the VPC (RDS, the nodes' kubelets and node exporters): the VPC's CIDR;
- the internet: every address but the VPC's, the cluster's Service addresses and the
  instance metadata service; as a source, every address (the Network Load Balancer keeps
  the client's address, and forwards through any node's NodePort).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from components import traffic
from components.traffic import Need, Outside, Pods, ServiceRef

ANYWHERE = "0.0.0.0/0"
# The EC2 instance metadata service (IMDS), reachable from pods unless a policy says no.
METADATA_CIDR = "169.254.169.254/32"
NAMESPACE_LABEL = "kubernetes.io/metadata.name"
DEFAULT_DENY = "default-deny-all"
# Workloads the platform names as destinations but does not isolate: CoreDNS, EKS's add-on
# that every pod of the cluster resolves names through, EKS's own add-ons in kube-system
# among them, which the platform neither runs nor declares flows for.
NOT_ISOLATED = (traffic.KUBE_DNS.pods(),)


@dataclass(frozen=True)
class ClusterNetwork:
    """The addresses the policies name: the VPC (RDS, nodes), and where pods reach the
    Kubernetes API."""

    vpc_cidr: str
    service_cidr: str  # the cluster's Service addresses: inside the cluster, never the internet
    api_service_ip: str  # the `kubernetes` Service's ClusterIP, the service CIDR's first address
    control_plane_cidrs: tuple[str, ...]  # the cluster's own subnets, where the control plane's ENIs are


@dataclass(frozen=True)
class Peer:
    """A namespace (optionally narrowed to pods) or a CIDR block."""

    namespace: str | None = None
    pods: Mapping[str, str] | None = None
    cidr: str | None = None
    any_namespace: bool = False
    except_cidrs: tuple[str, ...] = ()  # parts of ``cidr`` left out

    def manifest(self) -> dict[str, Any]:
        if self.cidr is not None:
            block: dict[str, Any] = {"cidr": self.cidr}
            if self.except_cidrs:
                block["except"] = list(self.except_cidrs)
            return {"ipBlock": block}
        peer: dict[str, Any] = {}
        if self.any_namespace:
            peer["namespaceSelector"] = {}
        elif self.namespace is not None:
            peer["namespaceSelector"] = {"matchLabels": {NAMESPACE_LABEL: self.namespace}}
        if self.pods is not None:
            peer["podSelector"] = {"matchLabels": dict(self.pods)}
        return peer


@dataclass(frozen=True)
class Rule:
    """Traffic from (ingress) or to (egress) ``peers`` on ``ports`` (port, protocol)."""

    peers: tuple[Peer, ...]
    ports: tuple[tuple[int, str], ...]

    def manifest(self, direction: str) -> dict[str, Any]:
        return {
            direction: [peer.manifest() for peer in self.peers],
            "ports": [{"protocol": protocol, "port": port} for port, protocol in self.ports],
        }


@dataclass(frozen=True)
class Policy:
    name: str
    namespace: str
    purpose: str
    pods: Mapping[str, str] = field(default_factory=dict)  # empty: every pod of the namespace
    ingress: tuple[Rule, ...] | None = None  # None: the policy does not govern ingress
    egress: tuple[Rule, ...] | None = None

    @property
    def policy_types(self) -> list[str]:
        return [kind for kind, rules in (("Ingress", self.ingress), ("Egress", self.egress)) if rules is not None]

    def spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {
            "podSelector": {"matchLabels": dict(self.pods)} if self.pods else {},
            "policyTypes": self.policy_types,
        }
        if self.ingress:
            spec["ingress"] = [rule.manifest("from") for rule in self.ingress]
        if self.egress:
            spec["egress"] = [rule.manifest("to") for rule in self.egress]
        return spec


def shared_needs(namespaces: Sequence[str]) -> tuple[Need, ...]:
    """What every pod of every platform namespace needs: name resolution. A default deny on
    egress also blocks DNS; without this no pod resolves a Service name."""
    return tuple(need for ns in namespaces for need in traffic.name_resolution(Pods(ns), f"every pod of {ns}"))


def network_policies(namespaces: Sequence[str], net: ClusterNetwork, needs: Sequence[Need]) -> list[Policy]:
    """A default deny in every namespace of ``namespaces``, and per workload one egress and
    one ingress policy that allow exactly its declared flows (``needs``)."""
    egress: dict[tuple[str, tuple[tuple[str, str], ...]], _Allowed] = {}
    ingress: dict[tuple[str, tuple[tuple[str, str], ...]], _Allowed] = {}
    for need in needs:
        port = need.destination.target(need.port) if isinstance(need.destination, ServiceRef) else need.port
        if isinstance(need.source, Pods):
            _allowed(egress, need.source).add(_peers(need.destination, net, source=False), port, need)
        reached = _reached(need.destination)
        if reached is not None and not any(reached.key() == kept.key() for kept in NOT_ISOLATED):
            _allowed(ingress, reached).add(_peers(need.source, net, source=True), port, need)
    # Outside the platform's namespaces (kube-system, EKS's) no default deny isolates a
    # workload: its own policies do, in both directions, even where it declares nothing.
    for pods in [entry.pods for entry in (*egress.values(), *ingress.values())]:
        if pods.namespace not in namespaces:
            for table in (egress, ingress):
                _allowed(table, pods)
    policies = [
        Policy(DEFAULT_DENY, ns, "deny all traffic not allowed by another policy", ingress=(), egress=())
        for ns in namespaces
    ]
    for direction, allowed in (("egress", egress), ("ingress", ingress)):
        policies += [entry.policy(direction) for _, entry in sorted(allowed.items())]
    names: dict[tuple[str, str], Pods] = {}
    for pods in (entry.pods for entry in (*egress.values(), *ingress.values())):
        clash = names.setdefault((pods.namespace, pods.name), pods)
        if clash.key() != pods.key():
            raise ValueError(
                f"workloads {dict(clash.labels)} and {dict(pods.labels)} in {pods.namespace} would share the "
                f"NetworkPolicy name {pods.name!r}; give one of them a distinguishing label"
            )
    return policies


@dataclass
class _Allowed:
    """The flows of one workload in one direction, by peer."""

    pods: Pods
    rules: dict[str, tuple[tuple[Peer, ...], list[tuple[int, str]]]] = field(default_factory=dict)
    why: list[str] = field(default_factory=list)

    def add(self, peers: tuple[Peer, ...], port: int, need: Need) -> None:
        _, ports = self.rules.setdefault(json.dumps([p.manifest() for p in peers], sort_keys=True), (peers, []))
        if (port, need.protocol) not in ports:
            ports.append((port, need.protocol))
        if need.why not in self.why:
            self.why.append(need.why)

    def policy(self, direction: str) -> Policy:
        rules = tuple(Rule(peers, tuple(ports)) for peers, ports in self.rules.values())
        return Policy(
            f"{self.pods.name}-{direction}",
            self.pods.namespace,
            "; ".join(self.why) or f"nothing: no {direction} flow is declared for it",
            pods=dict(self.pods.labels),
            **{direction: rules},
        )


def _allowed(table: dict[tuple[str, tuple[tuple[str, str], ...]], _Allowed], pods: Pods) -> _Allowed:
    return table.setdefault(pods.key(), _Allowed(pods))


def _reached(destination: Pods | ServiceRef | Outside) -> Pods | None:
    if isinstance(destination, Pods):
        return destination
    if isinstance(destination, ServiceRef):
        return destination.pods()
    return None


def _peers(side: Pods | ServiceRef | Outside, net: ClusterNetwork, source: bool) -> tuple[Peer, ...]:
    """The other side of a flow as a policy names it."""
    if isinstance(side, ServiceRef):
        side = side.pods()  # EKS admits the ClusterIP of every Service that selects these pods
    if isinstance(side, Pods):
        return (Peer(namespace=side.namespace, pods=dict(side.labels)),)
    control_plane = tuple(Peer(cidr=cidr) for cidr in net.control_plane_cidrs)
    if side == traffic.INTERNET:
        if source:
            return (Peer(cidr=ANYWHERE),)
        return (Peer(cidr=ANYWHERE, except_cidrs=(net.vpc_cidr, net.service_cidr, METADATA_CIDR)),)
    if side == traffic.KUBERNETES_API:
        return (Peer(cidr=f"{net.api_service_ip}/32"), *control_plane)
    if side == traffic.CONTROL_PLANE:
        return control_plane
    return (Peer(cidr=net.vpc_cidr),)
