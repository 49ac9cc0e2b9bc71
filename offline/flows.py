"""Which network flows between the cluster's workloads EKS lets through, and every one it does.

This is the project's model of NetworkPolicy enforcement on EKS: the Amazon VPC CNI with its
network policy agent, in the standard enforcing mode the cluster runs (components/cluster.py
sets only ``enableNetworkPolicy``). It is not the upstream NetworkPolicy semantics: EKS
judges a packet in two stages, and each stage has its own rules.

1. The network policy controller (aws/amazon-network-policy-controller-k8s, "NPC"), in the
   control plane, turns each NetworkPolicy into PolicyEndpoints: per ingress and egress rule a
   list of ``{cidr, except, ports}``, plus the pods the policy selects
   (pkg/resolvers/endpoints.go; the 2026 tree with ``resolveIngressPorts`` and
   ``hasTargetPortBypass``, pull requests #206, #210, #223, #225).
2. The node agent (aws/aws-network-policy-agent) merges every PolicyEndpoint of the policies
   that select a pod into one longest-prefix-match map per direction
   (controllers/policyendpoints_controller.go at 287f7fa4,
   pkg/fwruleprocessor/fw_rule_processor.go ``ComputeMapEntriesFromEndpointRules`` at c57ed001,
   pkg/utils/utils.go at 1a05fb5e), and eBPF programs on the pod's host-side veth look every
   new connection up in it: on the destination address for egress, on the source address for
   ingress, then scan that one entry's port list (pkg/ebpf/c/tc.v4egress.bpf.c at 31f2ea04,
   tc.v4ingress.bpf.c at 6ada6ff3).

Each rule below is cited next to the code that models it. What is deliberately not modelled:

- Transitions. A new pod is allowed everything until its maps are programmed (standard mode),
  strict mode denies everything before that, flows opened meanwhile are re-judged later
  (tc.v4egress.bpf.c ``pod_state``). The model is the steady state.
- Replies. The agent's conntrack map admits any packet whose reverse 5-tuple it allowed, on
  both hooks, and the kernel un-NATs Service replies before the veth; only connection
  initiations are judged here, and a reply never needs a rule.
- IPv6: the cluster is IPv4, and the agent skips IPv6 rules in it (fw_rule_processor.go).
- Replicas and nodes: each workload is one representative pod on a node of its own, so the
  node-IP exception below covers the pod's own kubelet, never another workload's
  hostNetwork pod (that is the case that must hold on every node).
- Map sharing between workloads whose pod names collapse to the same prefix
  (utils.go ``GetPodIdentifier``), ClusterNetworkPolicies (the platform deploys none),
  security groups for pods, NodePort/instance-target SNAT (an NLB source is an address),
  and bugs reported without a cause in the code (controller issues #222, #572).
- When two rule or except strings name the same network differently (host bits set), the
  agent keeps one of them at random (Go map order); the model keeps the last.
"""

from __future__ import annotations

import hashlib
import ipaddress
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any, NamedTuple

from offline.operated import OPERATED
from offline.pod_security import pod_template
from offline.render import Placed
from offline.wiring import selects

IPv4Address = ipaddress.IPv4Address
IPv4Network = ipaddress.IPv4Network

KINDS = ("pod", "service", "address", "api-server", "node", "control-plane")
PROTOCOLS = ("TCP", "UDP", "SCTP")
# Representative addresses outside the cluster: a host on the internet (TEST-NET-3, RFC 5737)
# and the EC2 instance metadata service, which pods using the instance role call on port 80.
INTERNET = "203.0.113.10"
IMDS = "169.254.169.254"
IMDS_PORT = 80
API_PORT = 443
KUBERNETES_SERVICE = ("default", "kubernetes")
KUBE_DNS_SERVICE = ("kube-system", "kube-dns")
# The ports every egress to an outside address is tried on, besides those the policies name.
WELL_KNOWN_PORTS = ((53, "TCP"), (53, "UDP"), (80, "TCP"), (443, "TCP"))
# AWS reserves the first four addresses of a subnet; the control plane's cross-account ENIs
# take the first one that can be handed out, nodes and pods start further up.
ENI_OFFSET = 4
NODE_OFFSET = 16
# tc.v4egress.bpf.c: ``#define MAX_PORT_PROTOCOL 24``; utils.go ``ComputeTrieValue`` stops
# writing after 24 port/protocol entries of one key ("exceeded the supported maximum of 24").
MAX_PORT_PROTOCOL = 24
# The agent's reserved protocol values (utils.go): 254 matches every protocol, 255 drops.
ANY = "ANY"
DENY = "DENY"
UNPLACED = IPv4Address(0)  # a pod's address before ClusterModel.of places it
NODE_ORIGIN = "the node's primary IP (always allowed)"
KUBELET_SOURCE = "the kubelet of the destination's node"


# --- the network -----------------------------------------------------------------------


@dataclass(frozen=True)
class Network:
    vpc_cidr: str  # e.g. "10.40.0.0/16"
    service_cidr: str  # e.g. "172.20.0.0/16"; the `kubernetes` Service is .1, kube-dns .10
    private_subnets: tuple[str, ...]  # pods and nodes live here
    # The subnets the cluster is created with, where the control plane's ENIs are; none:
    # the private subnets (a cluster given the nodes' subnets).
    cluster_subnets: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        vpc = _ipv4_network(self.vpc_cidr)
        if not self.private_subnets:
            raise ValueError("a Network needs at least one private subnet")
        for subnet in (*self.subnets(), *self.control_plane_subnets()):
            if not subnet.subnet_of(vpc):
                raise ValueError(f"subnet {subnet} is not inside the VPC {vpc}")
        if self.service_network().overlaps(vpc):
            raise ValueError(f"service CIDR {self.service_cidr} overlaps the VPC {vpc}")

    def vpc(self) -> IPv4Network:
        return _ipv4_network(self.vpc_cidr)

    def subnets(self) -> tuple[IPv4Network, ...]:
        return tuple(_ipv4_network(subnet) for subnet in self.private_subnets)

    def control_plane_subnets(self) -> tuple[IPv4Network, ...]:
        return tuple(_ipv4_network(subnet) for subnet in self.cluster_subnets) or self.subnets()

    def service_network(self) -> IPv4Network:
        return _ipv4_network(self.service_cidr)

    def kubernetes_ip(self) -> IPv4Address:
        # kubernetes ServiceIPRange: GetIndexedIP(serviceClusterIPRange, 1), "the first valid IP"
        # (pkg/controlplane/apiserver/options/options.go; pkg/controlplane/services.go before).
        return self.service_network().network_address + 1

    def dns_ip(self) -> IPv4Address:
        # awslabs/amazon-eks-ami files/bootstrap.sh: DNS_CLUSTER_IP is the service CIDR's .10.
        return self.service_network().network_address + 10

    def control_plane_addresses(self) -> tuple[str, ...]:
        """The cross-account ENIs of the control plane, one per cluster subnet: webhooks and
        aggregated APIs are called from them, and the private API endpoint resolves to them
        (EKS user guide network-reqs.adoc: "2-4 elastic network interfaces in the subnets that
        you specify"; they are replaced, possibly in other subnets, on every upgrade)."""
        return tuple(str(subnet.network_address + ENI_OFFSET) for subnet in self.control_plane_subnets())

    def vpc_host(self) -> str | None:
        """An address of the VPC outside the private subnets (a public-subnet load balancer
        node, a database endpoint): the lowest part left over, 10 addresses in; None when the
        private subnets fill the VPC."""
        rest = [self.vpc()]
        for subnet in (*self.subnets(), *self.control_plane_subnets()):
            rest = [piece for network in rest for piece in _without(network, subnet)]
        if not rest:
            return None
        lowest = min(rest)
        return str(lowest.network_address + (10 if lowest.num_addresses > 16 else 0))


def _without(network: IPv4Network, hole: IPv4Network) -> list[IPv4Network]:
    if hole.subnet_of(network):
        return list(network.address_exclude(hole))
    return [] if network.subnet_of(hole) else [network]


def _ipv4_network(text: str) -> IPv4Network:
    network = ipaddress.ip_network(text, strict=False)
    if not isinstance(network, IPv4Network):
        raise ValueError(f"{text!r} is not IPv4: the cluster is an IPv4 cluster")
    return network


# --- flows and verdicts ------------------------------------------------------------------


@dataclass(frozen=True)
class Endpoint:
    """One side of a flow.

    - ``pod``: a workload's pod, by namespace and "<Kind>/<name>" (or, without a name, the
      one pod of the namespace whose labels include ``labels``).
    - ``service``: a Service by namespace and name, reached through its ClusterIP.
    - ``address``: an IP or CIDR outside the cluster (a CIDR stands for every address in it).
    - ``api-server``: as a destination, the API server as pods reach it, the `kubernetes`
      Service's ClusterIP; as a source, the control plane (its first ENI).
    - ``control-plane``: the control plane's ENI ``address`` (default: the first one); as a
      source, webhook and aggregated-API calls; as a destination, the private API endpoint.
    - ``node``: the node ``address``; without one, the node of the pod on the other side
      (the kubelet's probes).
    """

    kind: str
    namespace: str = ""
    name: str = ""
    labels: Mapping[str, str] = field(default_factory=dict, hash=False)
    address: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown endpoint kind {self.kind!r}; one of {KINDS}")

    def __str__(self) -> str:
        if self.kind in ("pod", "service"):
            return f"{self.kind} {self.namespace}/{self.name or dict(self.labels)}"
        return f"{self.kind} {self.address}".rstrip()


@dataclass(frozen=True)
class Flow:
    source: Endpoint
    destination: Endpoint
    port: int
    protocol: str = "TCP"


class Verdict(NamedTuple):
    allowed: bool
    reason: str  # the policy or map entry that allowed, or the side that dropped and why


# --- what the cluster runs ---------------------------------------------------------------


@dataclass(frozen=True)
class ContainerPort:
    name: str
    port: int
    protocol: str


@dataclass(frozen=True)
class Workload:
    """One representative pod of a workload, on a node of its own."""

    namespace: str
    name: str  # "<Kind>/<name>"
    labels: Mapping[str, str]
    ports: tuple[ContainerPort, ...]
    host_network: bool
    # EKS user guide cni-network-policy.adoc: "Standalone Pods that don't have a
    # metadata.ownerReferences set can't have network policies applied to them."
    standalone: bool
    ip: IPv4Address = UNPLACED  # the node's address for a hostNetwork pod
    node_ip: IPv4Address = UNPLACED

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def endpoint(self) -> Endpoint:
        return Endpoint("pod", self.namespace, self.name, dict(self.labels))

    def __str__(self) -> str:
        return f"{self.namespace}/{self.name}"


@dataclass(frozen=True)
class ServicePort:
    name: str
    port: int
    protocol: str
    target: int | str  # targetPort; defaults to the port (kubernetes SetDefaults_Service)


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    selector: Mapping[str, str]  # empty: a Service without selector (no pods behind it)
    ports: tuple[ServicePort, ...]
    headless: bool  # clusterIP None, or ExternalName: no ClusterIP
    external_name: bool
    requested_ip: str = ""  # spec.clusterIP as written
    cluster_ip: IPv4Address | None = None

    @property
    def key(self) -> tuple[str, str]:
        return (self.namespace, self.name)

    def endpoint(self) -> Endpoint:
        return Endpoint("service", self.namespace, self.name)

    def port_for(self, port: int, protocol: str) -> ServicePort | None:
        return next((p for p in self.ports if p.port == port and p.protocol == protocol), None)

    def __str__(self) -> str:
        return f"Service {self.namespace}/{self.name}"


@dataclass(frozen=True)
class PolicyPort:
    protocol: str  # defaults to TCP (kubernetes pkg/apis/networking/v1 SetDefaults_NetworkPolicyPort)
    port: int | str | None  # None: every port of the protocol; str: a named port
    end_port: int | None


@dataclass(frozen=True)
class Peer:
    pod_selector: Mapping[str, Any] | None
    namespace_selector: Mapping[str, Any] | None
    cidr: str = ""  # an ipBlock peer when set
    excepts: tuple[str, ...] = ()


@dataclass(frozen=True)
class Rule:
    peers: tuple[Peer, ...] | None  # None: no from/to, every source or destination
    ports: tuple[PolicyPort, ...]  # empty: every protocol and port


@dataclass(frozen=True)
class Policy:
    namespace: str
    name: str
    pod_selector: Mapping[str, Any]
    types: frozenset[str]
    ingress: tuple[Rule, ...]
    egress: tuple[Rule, ...]

    def selects(self, pod: Workload) -> bool:
        return pod.namespace == self.namespace and selects(self.pod_selector, pod.labels)

    def __str__(self) -> str:
        return f"NetworkPolicy {self.namespace}/{self.name}"


# --- parsing the deployed objects --------------------------------------------------------


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _list(value: Any) -> list[Any]:
    return list(value) if isinstance(value, list | tuple) else []


def _int_or_name(value: Any) -> int | str:
    # IntOrString: a JSON number is a port, a JSON string a name (even "8080", which the API
    # then rejects as a port name).
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _namespace_labels(name: str, labels: Mapping[str, str]) -> dict[str, str]:
    # The API server labels every namespace kubernetes.io/metadata.name=<name> (KEP-2161;
    # pkg/registry/core/namespace/strategy.go), the label namespaceSelectors usually use.
    return {**labels, "kubernetes.io/metadata.name": name}


def _container_ports(spec: Mapping[str, Any]) -> tuple[ContainerPort, ...]:
    # Only spec.containers: the controller resolves named ports against them alone
    # (pkg/k8s/pod_utils.go LookupContainerPortAndName). Protocol defaults to TCP.
    ports = []
    for container in _list(spec.get("containers")):
        for port in _list(_map(container).get("ports")):
            number = _map(port).get("containerPort")
            if isinstance(number, int) and not isinstance(number, bool):
                protocol = str(_map(port).get("protocol") or "TCP").upper()
                ports.append(ContainerPort(str(_map(port).get("name") or ""), number, protocol))
    return tuple(ports)


def _workload(placed: Placed) -> Workload | None:
    obj = placed.obj
    if obj.get("kind") == "PodTemplate":  # a template, not a running pod
        return None
    template = pod_template(obj)
    if template is None:
        return None
    metadata, spec = template
    own = _map(obj.get("metadata"))
    standalone = obj.get("kind") == "Pod" and not own.get("ownerReferences") and placed.origin != OPERATED
    return Workload(
        namespace=_namespace_of(placed),
        name=f"{obj['kind']}/{own.get('name') or own.get('generateName')}",
        labels={str(k): str(v) for k, v in _map(metadata.get("labels")).items()},
        ports=_container_ports(spec),
        host_network=spec.get("hostNetwork") is True,
        standalone=standalone,
    )


def _service(placed: Placed) -> Service | None:
    obj = placed.obj
    if obj.get("kind") != "Service" or obj.get("apiVersion") != "v1":
        return None
    spec = _map(obj.get("spec"))
    ports = []
    for entry in _list(spec.get("ports")):
        port = _map(entry)
        number = port.get("port")
        if not isinstance(number, int) or isinstance(number, bool):
            continue
        # kubernetes pkg/apis/core/v1/defaults.go SetDefaults_Service: protocol TCP, targetPort = port.
        target = port.get("targetPort")
        protocol = str(port.get("protocol") or "TCP").upper()
        ports.append(ServicePort(str(port.get("name") or ""), number, protocol, _int_or_name(target or number)))
    external = spec.get("type") == "ExternalName"
    requested = str(spec.get("clusterIP") or "")
    return Service(
        namespace=_namespace_of(placed),
        name=str(_map(obj.get("metadata")).get("name")),
        selector={str(k): str(v) for k, v in _map(spec.get("selector")).items()},
        ports=tuple(ports),
        headless=external or requested == "None",
        external_name=external,
        requested_ip=requested,
    )


def _policy_port(port: Mapping[str, Any]) -> PolicyPort:
    value = port.get("port")
    end = port.get("endPort")
    return PolicyPort(
        protocol=str(port.get("protocol") or "TCP").upper(),
        port=None if value is None else _int_or_name(value),
        end_port=end if isinstance(end, int) and not isinstance(end, bool) else None,
    )


def _peer(peer: Mapping[str, Any]) -> Peer:
    block = _map(peer.get("ipBlock"))
    pods, namespaces = peer.get("podSelector"), peer.get("namespaceSelector")
    return Peer(
        pod_selector=None if pods is None else _map(pods),
        namespace_selector=None if namespaces is None else _map(namespaces),
        cidr=str(block.get("cidr") or ""),
        excepts=tuple(str(e) for e in _list(block.get("except"))),
    )


def _rule(rule: Mapping[str, Any], peers_key: str) -> Rule:
    # "If this field is empty or missing, this rule matches all sources/destinations"; the
    # API server stores an empty list as absent, so the controller sees nil either way.
    peers = _list(rule.get(peers_key))
    return Rule(
        peers=tuple(_peer(_map(p)) for p in peers) if peers else None,
        ports=tuple(_policy_port(_map(p)) for p in _list(rule.get("ports"))),
    )


def _policy(placed: Placed) -> Policy | None:
    obj = placed.obj
    if obj.get("kind") != "NetworkPolicy" or obj.get("apiVersion") != "networking.k8s.io/v1":
        return None
    spec = _map(obj.get("spec"))
    egress = _list(spec.get("egress"))
    types = {str(t) for t in _list(spec.get("policyTypes"))}
    if not types:
        # kubernetes pkg/apis/networking/v1/defaults.go SetDefaults_NetworkPolicy: "Any policy
        # that does not specify policyTypes implies at least Ingress", Egress when it has rules.
        types = {"Ingress", "Egress"} if egress else {"Ingress"}
    return Policy(
        namespace=_namespace_of(placed),
        name=str(_map(obj.get("metadata")).get("name")),
        pod_selector=_map(spec.get("podSelector")),
        types=frozenset(types),
        ingress=tuple(_rule(_map(r), "from") for r in _list(spec.get("ingress"))),
        egress=tuple(_rule(_map(r), "to") for r in egress),
    )


def _namespace_of(placed: Placed) -> str:
    return placed.namespace or str(_map(placed.obj.get("metadata")).get("namespace") or "default")


def _collect(
    objects: Iterable[Placed],
) -> tuple[dict[str, dict[str, str]], list[Workload], list[Service], list[Policy]]:
    """Namespaces (with their labels), workloads, Services and NetworkPolicies; the first of
    two objects with the same name wins."""
    namespaces: dict[str, dict[str, str]] = {}
    pods: dict[tuple[str, str], Workload] = {}
    services: dict[tuple[str, str], Service] = {}
    policies: dict[tuple[str, str], Policy] = {}
    for placed in objects:
        obj = placed.obj
        if obj.get("kind") == "Namespace" and obj.get("apiVersion") == "v1":
            metadata = _map(obj.get("metadata"))
            name = str(metadata.get("name"))
            labels = {str(k): str(v) for k, v in _map(metadata.get("labels")).items()}
            namespaces.setdefault(name, _namespace_labels(name, labels))
        elif (pod := _workload(placed)) is not None:
            pods.setdefault(pod.key, pod)
        elif (service := _service(placed)) is not None:
            services.setdefault(service.key, service)
        elif (policy := _policy(placed)) is not None:
            policies.setdefault((policy.namespace, policy.name), policy)
    # A namespace that holds something exists in the cluster even when no object here makes it.
    for namespace in sorted({key[0] for key in (*pods, *services, *policies)}):
        namespaces.setdefault(namespace, _namespace_labels(namespace, {}))
    return namespaces, list(pods.values()), list(services.values()), list(policies.values())


# --- addresses ---------------------------------------------------------------------------


def _place(pods: Sequence[Workload], network: Network) -> list[Workload]:
    """Pods in (namespace, name) order, round-robin over the private subnets: the n-th of a
    subnet gets node address base+16+2n and pod address base+17+2n (a hostNetwork pod has
    its node's)."""
    subnets = network.subnets()
    placed = []
    for index, pod in enumerate(sorted(pods, key=lambda p: p.key)):
        subnet = subnets[index % len(subnets)]
        node = subnet.network_address + NODE_OFFSET + 2 * (index // len(subnets))
        if int(node) + 1 >= int(subnet.broadcast_address):
            raise ValueError(f"private subnet {subnet} has no room for {len(pods)} pods and their nodes")
        placed.append(replace(pod, node_ip=node, ip=node if pod.host_network else node + 1))
    return placed


def _assign_cluster_ips(services: Sequence[Service], network: Network) -> list[Service]:
    """ClusterIPs from the service CIDR: `kubernetes` .1, kube-dns .10, a valid spec.clusterIP
    as written, every other one by a hash of namespace/name (probing upward on collision)."""
    cidr = network.service_network()
    fixed = {KUBERNETES_SERVICE: network.kubernetes_ip(), KUBE_DNS_SERVICE: network.dns_ip()}
    taken = {cidr.network_address, cidr.broadcast_address, *fixed.values()}
    chosen: dict[tuple[str, str], IPv4Address] = {}
    for service in sorted(services, key=lambda s: s.key):
        if service.headless:
            continue
        requested = _requested_ip(service, cidr)
        address = fixed.get(service.key) or (requested if requested not in taken else None)
        if address is None:
            address = _hashed_ip(service, cidr, taken)
        taken.add(address)
        chosen[service.key] = address
    return [replace(s, cluster_ip=chosen.get(s.key)) for s in services]


def _requested_ip(service: Service, cidr: IPv4Network) -> IPv4Address | None:
    try:
        address = IPv4Address(service.requested_ip)
    except ValueError:
        return None
    return address if address in cidr else None


def _hashed_ip(service: Service, cidr: IPv4Network, taken: set[IPv4Address]) -> IPv4Address:
    span = cidr.num_addresses - 2
    start = int.from_bytes(hashlib.sha256(f"{service.namespace}/{service.name}".encode()).digest()[:8], "big")
    for step in range(span):
        address = cidr.network_address + 1 + (start + step) % span
        if address not in taken:
            return address
    raise ValueError(f"service CIDR {cidr} has no room left for {service}")


# --- the controller: NetworkPolicy -> PolicyEndpoint rules -------------------------------


@dataclass(frozen=True)
class L4:
    """One port/protocol entry of a PolicyEndpoint rule or map value."""

    protocol: str  # TCP, UDP, SCTP; ANY (a rule without ports); DENY (an except CIDR)
    port: int = 0  # 0: every port
    end_port: int = 0

    def admits(self, protocol: str, port: int) -> bool:
        # tc.v4egress.bpf.c evaluateByLookUp: the protocol matches (or is ANY_IP_PROTOCOL), and
        # start_port is ANY_PORT (0), equals the port, or start < port <= end_port.
        if self.protocol not in (ANY, protocol):
            return False
        return self.port in (0, port) or self.port < port <= self.end_port

    def __str__(self) -> str:
        if self.protocol in (ANY, DENY):
            return {ANY: "any protocol and port", DENY: "deny all"}[self.protocol]
        ports = "any port" if self.port == 0 else str(self.port)
        if self.port and self.end_port > self.port:
            ports = f"{self.port}-{self.end_port}"
        return f"{self.protocol} {ports}"


CATCH_ALL = L4(ANY)
DENY_ALL = L4(DENY)


@dataclass(frozen=True)
class EndpointRule:
    """One PolicyEndpoint ingress or egress entry (api/v1alpha1 EndpointInfo)."""

    cidr: str  # a pod or ClusterIP address without prefix, or the ipBlock CIDR as written
    excepts: tuple[str, ...]
    ports: tuple[L4, ...]  # empty: every protocol and port
    origin: str  # the policy rule it comes from


@dataclass(frozen=True)
class Inventory:
    """What the controller lists from the API: namespaces with labels, pods, Services."""

    namespaces: Mapping[str, Mapping[str, str]]
    pods: tuple[Workload, ...]
    services: tuple[Service, ...]

    def namespaces_selected(self, selector: Mapping[str, Any]) -> list[str]:
        return [name for name, labels in sorted(self.namespaces.items()) if selects(selector, labels)]

    def peer_pods(self, namespace: str, selector: Mapping[str, Any] | None) -> list[Workload]:
        # hostNetwork pods are never peers or targets: computePodSelectorEndpoints skips them
        # ("Skipped hostNetwork pods", PR #206) and endpoints_test.go "host network pods should
        # be ignored" drops them from ingress peers too. A nil podSelector is labels.Everything().
        return [p for p in self.pods if p.namespace == namespace and not p.host_network and selects(selector, p.labels)]

    def service_pods(self, service: Service) -> list[Workload]:
        # getMatchingServicePort and hasTargetPortBypass filter every pod of the namespace with
        # labels.Set(svc.Spec.Selector).AsSelector(): an empty selector matches them all.
        return [p for p in self.pods if p.namespace == service.namespace and service_selects(service.selector, p)]


# The StatefulSet controller labels each pod with its own name (kubernetes
# pkg/controller/statefulset/stateful_set_utils.go, StatefulSetPodNameLabel): a Service that
# selects one replica by it (redis-ha's "announce" Services) selects the workload's
# representative pod, which stands for every replica.
STATEFULSET_POD_NAME = "statefulset.kubernetes.io/pod-name"


def service_selects(selector: Mapping[str, str], pod: Workload) -> bool:
    """Whether a Service's selector selects the pods of ``pod``'s workload."""
    for key, value in selector.items():
        if key == STATEFULSET_POD_NAME and pod.name.startswith("StatefulSet/"):
            prefix, _, ordinal = value.rpartition("-")
            if prefix == pod.name.split("/", 1)[1] and ordinal.isdigit():
                continue
        if pod.labels.get(key) != value:
            return False
    return True


def policy_rules(policy: Policy, inventory: Inventory) -> tuple[list[EndpointRule], list[EndpointRule]]:
    """The PolicyEndpoint ingress and egress entries NPC writes for ``policy``. Both lists
    are written whatever spec.policyTypes says (computeIngressEndpoints and
    computeEgressEndpoints iterate spec.ingress and spec.egress unconditionally)."""
    ingress = [r for i, rule in enumerate(policy.ingress) for r in _ingress_rule(policy, i, rule, inventory)]
    egress = [r for i, rule in enumerate(policy.egress) for r in _egress_rule(policy, i, rule, inventory)]
    return ingress, egress


def _ingress_rule(policy: Policy, index: int, rule: Rule, inventory: Inventory) -> Iterator[EndpointRule]:
    # endpoints.go computeIngressEndpoints: ports are resolved once per rule, then apply to
    # every peer; a rule whose ports all fail to resolve is skipped entirely.
    origin = f"{policy} ingress[{index}]"
    ports = _ingress_ports(policy, rule.ports, inventory)
    if rule.ports and not ports:
        return
    if rule.peers is None:
        # buildAllowAllIngress: 0.0.0.0/0 (and ::/0, which an IPv4 agent skips).
        yield EndpointRule("0.0.0.0/0", (), ports, origin)
        return
    for peer in rule.peers:
        if peer.cidr:
            yield EndpointRule(peer.cidr, peer.excepts, ports, origin)
            continue
        for namespace in _peer_namespaces(policy, peer, inventory):
            for pod in inventory.peer_pods(namespace, peer.pod_selector):
                yield EndpointRule(str(pod.ip), (), ports, origin)


def _ingress_ports(policy: Policy, ports: Sequence[PolicyPort], inventory: Inventory) -> tuple[L4, ...]:
    # resolveIngressPorts: numeric and protocol-only ports as written; once any port is
    # named, all are resolved against the policy's own (destination) pods and deduplicated
    # (getIngressRulesPorts, dedupPorts), so a name means each target pod's number for it.
    if not any(isinstance(p.port, str) for p in ports):
        return tuple(l4 for p in ports if (l4 := _cidr_port(p)) is not None)
    resolved: dict[L4, None] = {}
    for target in inventory.pods:
        if policy.selects(target) and not target.host_network:
            resolved.update(dict.fromkeys(_pod_ports(target, ports)))
    return tuple(resolved)


def _egress_rule(policy: Policy, index: int, rule: Rule, inventory: Inventory) -> Iterator[EndpointRule]:
    # endpoints.go computeEgressEndpoints.
    origin = f"{policy} egress[{index}]"
    cidr_ports = tuple(l4 for p in rule.ports if (l4 := _cidr_port(p)) is not None)
    if rule.peers is None:
        # buildAllowAllEgress: named ports are dropped (no destination to resolve them on);
        # only named ports: no entry at all rather than every port.
        if not rule.ports or cidr_ports:
            yield EndpointRule("0.0.0.0/0", (), cidr_ports, origin)
        return
    for peer in rule.peers:
        if peer.cidr:
            if not rule.ports or cidr_ports:
                yield EndpointRule(peer.cidr, peer.excepts, cidr_ports, origin)
            continue
        for namespace in _peer_namespaces(policy, peer, inventory):
            # Named ports resolve per destination pod; a pod lacking all of them is left out.
            for pod in inventory.peer_pods(namespace, peer.pod_selector):
                ports = _pod_ports(pod, rule.ports)
                if not rule.ports or ports:
                    yield EndpointRule(str(pod.ip), (), ports, origin)
            yield from _cluster_ip_rules(peer, namespace, rule.ports, inventory, origin)


def _peer_namespaces(policy: Policy, peer: Peer, inventory: Inventory) -> list[str]:
    # resolvePeerNamespaces: no namespaceSelector means the policy's own namespace.
    if peer.namespace_selector is None:
        return [policy.namespace]
    return inventory.namespaces_selected(peer.namespace_selector)


def _cidr_port(port: PolicyPort) -> L4 | None:
    # convertToPolicyInfoPortForCIDRs: no port is every port of the protocol; a named port
    # cannot be resolved without a pod and is dropped; endPort is copied.
    if port.port is None:
        return L4(port.protocol)
    if isinstance(port.port, str):
        return None
    return L4(port.protocol, port.port, port.end_port or 0)


def _pod_ports(pod: Workload, ports: Sequence[PolicyPort]) -> tuple[L4, ...]:
    # getPortList: each policy port resolved on the pod; one that does not resolve is left out.
    resolved = []
    for port in ports:
        if port.port is None:
            resolved.append(L4(port.protocol, 0, port.end_port or 0))
            continue
        number, _ = _container_port(pod, port.port, port.protocol)
        if number is not None:
            resolved.append(L4(port.protocol, number, port.end_port or 0))
    return tuple(resolved)


def _container_port(pod: Workload, port: int | str, protocol: str) -> tuple[int | None, str]:
    """pkg/k8s/pod_utils.go LookupContainerPortAndName: the container port (and its name) of
    that name or number and protocol; a number the pod does not declare passes unchanged."""
    for declared in pod.ports:
        if declared.protocol != protocol:
            continue
        if declared.name == port if isinstance(port, str) else declared.port == port:
            return declared.port, declared.name
    if isinstance(port, int):
        return port, ""
    return None, ""


def _cluster_ip_rules(
    peer: Peer, namespace: str, ports: Sequence[PolicyPort], inventory: Inventory, origin: str
) -> Iterator[EndpointRule]:
    """getMatchingServiceClusterIPs: the agent sees a Service's ClusterIP before DNAT (its
    probe is on the veth: "unable to see the pod IP after the DNAT happens for the
    clusterIPs"), so the controller adds the ClusterIP of each Service of the namespace whose
    selector *map* the peer's podSelector matches (a nil one matches every Service, even
    selector-less ones like `kubernetes`; headless Services are skipped), with each policy
    port translated to the Service port that targets it."""
    for service in inventory.services:
        if service.namespace != namespace or service.cluster_ip is None:
            continue
        if not selects(peer.pod_selector, service.selector):
            continue
        resolved = []
        for port in ports:
            if port.port is None:
                resolved.append(L4(port.protocol, 0, port.end_port or 0))
                continue
            listen = _service_listen_port(service, port.port, port.protocol, inventory)
            if listen is None:
                continue
            if isinstance(port.port, int) and _target_port_bypass(service, listen, port.protocol, ports, inventory):
                continue
            # endPort is copied as written, not translated.
            resolved.append(L4(port.protocol, listen, port.end_port or 0))
        if ports and not resolved:
            continue
        yield EndpointRule(str(service.cluster_ip), (), tuple(resolved), f"{origin} (ClusterIP of {service})")


def _service_listen_port(service: Service, port: int | str, protocol: str, inventory: Inventory) -> int | None:
    """getMatchingServicePort: the Service port whose targetPort is the policy port (same
    type, value and protocol; service_utils.go LookupServiceListenPort), else the first
    backing pod through which the policy port maps to a targetPort (LookupListenPortFromPodSpec)."""
    for declared in service.ports:
        same_type = isinstance(declared.target, int) == isinstance(port, int)
        if same_type and str(declared.target) == str(port) and declared.protocol == protocol:
            return declared.port
    for pod in inventory.service_pods(service):
        number, name = _container_port(pod, port, protocol)
        if number is None:
            continue
        for declared in service.ports:
            if declared.protocol != protocol:
                continue
            if declared.target == name if isinstance(declared.target, str) else declared.target == number:
                return declared.port
    return None


def _target_port_bypass(
    service: Service, listen: int, protocol: str, ports: Sequence[PolicyPort], inventory: Inventory
) -> bool:
    """hasTargetPortBypass (PRs #210, #223, #225): for a numeric policy port, a Service port
    with a *named* targetPort is left out when any backing pod resolves that name (its first
    container port of that name) to a port the policy does not allow, since kube-proxy would
    DNAT ClusterIP:port there."""
    name = next(
        (p.target for p in service.ports if p.port == listen and p.protocol == protocol and isinstance(p.target, str)),
        None,
    )
    if name is None:
        return False
    for pod in inventory.service_pods(service):
        declared = _first_named_port(pod, name, protocol)
        if declared is not None and not _numerically_allowed(declared.port, protocol, ports):
            return True
    return False


def _first_named_port(pod: Workload, name: str, protocol: str) -> ContainerPort | None:
    return next((p for p in pod.ports if p.name == name and p.protocol == protocol), None)


def _numerically_allowed(port: int, protocol: str, ports: Sequence[PolicyPort]) -> bool:
    # isNumericPortAllowed: a protocol-only entry allows every port; named entries are skipped.
    for allowed in ports:
        if allowed.protocol != protocol or isinstance(allowed.port, str):
            continue
        if allowed.port is None or allowed.port <= port <= (allowed.end_port or allowed.port):
            return True
    return False


# --- the agent: PolicyEndpoint rules -> one LPM map per pod and direction ----------------


@dataclass(frozen=True)
class MapEntry:
    """One key of a pod's eBPF LPM trie and its port/protocol list, each entry with the
    policy rules it comes from."""

    network: IPv4Network
    l4: tuple[tuple[L4, tuple[str, ...]], ...]

    def denies(self) -> tuple[str, ...] | None:
        return next((origins for l4, origins in self.l4 if l4.protocol == DENY), None)


@dataclass
class _Pending:
    # EbpfFirewallRules while the agent merges rules with the same CIDR.
    cidr: str
    excepts: list[str]
    l4: dict[L4, set[str]]


def agent_map(rules: Sequence[EndpointRule], node_ip: IPv4Address) -> dict[IPv4Network, MapEntry]:
    """fw_rule_processor.go ComputeMapEntriesFromEndpointRules (c57ed001), step by step."""
    node = IPv4Network(f"{node_ip}/32")
    # "Traffic from the local node should always be allowed. Add NodeIP by default to map entries."
    entries = {node: MapEntry(node, ((CATCH_ALL, (NODE_ORIGIN,)),))}
    pending: dict[str, _Pending] = {}
    donors: dict[str, _Pending] = {}
    excepts: dict[str, set[str]] = {}
    # sortFirewallRulesByPrefixLength: shortest prefix first, so broader CIDRs are in place
    # before the more specific ones that inherit their ports.
    # IPv6 rules (and their excepts) are skipped in an IPv4 cluster.
    ipv4 = [r for r in rules if ipaddress.ip_network(_with_mask(r.cidr), strict=False).version == 4]
    for rule in sorted(ipv4, key=lambda r: _network(r.cidr).prefixlen):
        for except_cidr in rule.excepts:
            excepts.setdefault(except_cidr, set()).add(rule.origin)
        cidr = _with_mask(rule.cidr)
        # IsNodeIP: a rule naming the node's address is dropped; the node entry stays.
        if ipaddress.ip_interface(cidr).ip == node_ip:
            continue
        # A rule without ports gets the catch-all entry (ANY_IP_PROTOCOL, every port).
        l4 = {p: {rule.origin} for p in rule.ports or (CATCH_ALL,)}
        existing = pending.get(cidr)
        if existing is not None:
            # Same CIDR: ports *and except lists* merge, so one rule's except applies to the
            # other's ports as well (controller issues #98, #121).
            _merge(l4, existing.l4)
            item = _Pending(cidr, [*rule.excepts, *existing.excepts], l4)
        else:
            _merge(l4, _inherited(cidr, donors))
            item = _Pending(cidr, list(rule.excepts), l4)
        pending[cidr] = item
        if _network(cidr).prefixlen != 32:
            # utils.go IsNonHostCIDR: every prefix but /32 (and /128) donates its ports, /0
            # included (utils_test.go TestIsNonHostCIDR: 0.0.0.0/0 is a non-host CIDR; agents
            # before that excluded /0).
            donors[cidr] = item
    # "Go through except CIDRs and append DENY all rule": an except that is not itself a
    # key becomes a deny-all key, and the LPM lookup lands there for every address in it.
    for except_cidr, origins in excepts.items():
        if except_cidr not in pending:
            pending[except_cidr] = _Pending(except_cidr, [], {DENY_ALL: origins})
    for item in pending.values():
        network = _network(item.cidr)
        entries[network] = MapEntry(network, tuple((p, tuple(sorted(o))) for p, o in item.l4.items()))
    return entries


def _inherited(cidr: str, donors: Mapping[str, _Pending]) -> dict[L4, set[str]]:
    """checkAndDeriveL4InfoFromAnyMatchingCIDRs: the ports of every broader CIDR seen so far
    that contains this one's address, unless one of that CIDR's excepts contains it too."""
    address = _network(cidr).network_address
    inherited: dict[L4, set[str]] = {}
    for donor_cidr, donor in donors.items():
        if address not in _network(donor_cidr):
            continue
        if any(address in _network(e) for e in donor.excepts):
            continue
        for l4, origins in donor.l4.items():
            inherited.setdefault(l4, set()).update(f"{o} (through {donor_cidr})" for o in origins)
    return inherited


def _merge(into: dict[L4, set[str]], other: Mapping[L4, set[str]]) -> None:
    # mergeDuplicateL4Info: one entry per protocol/port/endPort.
    for l4, origins in other.items():
        into.setdefault(l4, set()).update(origins)


def _with_mask(cidr: str) -> str:
    # The controller writes pod and ClusterIP addresses without a prefix; the agent appends
    # its host mask (/32).
    return cidr if "/" in cidr else f"{cidr}/32"


def _network(cidr: str) -> IPv4Network:
    return _ipv4_network(_with_mask(cidr))


class Lpm:
    """A longest-prefix-match lookup over a pod's map, like BPF_MAP_TYPE_LPM_TRIE."""

    def __init__(self, entries: Mapping[IPv4Network, MapEntry]) -> None:
        self.entries = dict(entries)
        self._by_length: dict[int, dict[int, MapEntry]] = {}
        for network, entry in entries.items():
            self._by_length.setdefault(network.prefixlen, {})[int(network.network_address)] = entry
        self._lengths = sorted(self._by_length, reverse=True)

    def longest(self, network: IPv4Network) -> MapEntry | None:
        """The most specific entry that contains all of ``network``."""
        value = int(network.network_address)
        for length in self._lengths:
            if length > network.prefixlen:
                continue
            mask = (0xFFFFFFFF << (32 - length)) & 0xFFFFFFFF
            entry = self._by_length[length].get(value & mask)
            if entry is not None:
                return entry
        return None

    def inside(self, network: IPv4Network) -> list[MapEntry]:
        """The entries strictly more specific than ``network`` and within it."""
        if network.prefixlen == 32:
            return []
        return [e for n, e in self.entries.items() if n.prefixlen > network.prefixlen and n.subnet_of(network)]


# --- judging one direction of one pod ----------------------------------------------------


class Judgement(NamedTuple):
    allowed: bool
    reason: str


@dataclass(frozen=True)
class Side:
    """What judges one direction of one pod: its map, or nothing."""

    pod: Workload
    direction: str  # "ingress" | "egress"
    lpm: Lpm | None  # None: not enforced
    why: str  # why not enforced, or which policies isolate it

    def judge(self, target: IPv4Network, port: int, protocol: str) -> Judgement:
        where = f"{self.direction} of {self.pod}"
        if self.lpm is None:
            return Judgement(True, f"{where}: {self.why}")
        # One lookup on the destination (egress) or source (ingress) address; a CIDR target
        # stands for each of its addresses, so the entry covering it and every entry inside
        # it must admit the flow.
        covering = self.lpm.longest(target)
        if covering is None:
            return Judgement(False, f"denied at {where}: no entry of its map covers {target} ({self.why})")
        judgements = [_judge_entry(e, port, protocol) for e in [covering, *self.lpm.inside(target)]]
        refused = next((j for j in judgements if not j.allowed), None)
        if refused is not None:
            return Judgement(False, f"denied at {where}: {refused.reason}")
        return Judgement(True, f"{where}: {judgements[0].reason}")


def _judge_entry(entry: MapEntry, port: int, protocol: str) -> Judgement:
    denied_by = entry.denies()
    if denied_by is not None:
        # RESERVED_IP_PROTOCOL: "evt.verdict = 0 ... return BPF_DROP".
        return Judgement(False, f"{entry.network} is an except CIDR of {', '.join(denied_by)} (deny-all entry)")
    matches = [(l4, origins) for l4, origins in entry.l4 if l4.admits(protocol, port)]
    held = ", ".join(str(l4) for l4, _ in entry.l4)
    if not matches:
        sources = sorted({o for _, os in entry.l4 for o in os})
        return Judgement(False, f"entry {entry.network} ({'; '.join(sources)}) holds {held}, not {protocol} {port}")
    if len(entry.l4) > MAX_PORT_PROTOCOL:
        return Judgement(
            False,
            f"entry {entry.network} holds {len(entry.l4)} port/protocol pairs and the agent writes only "
            f"{MAX_PORT_PROTOCOL} of them, in Go map order: {protocol} {port} is not reliably allowed",
        )
    l4, origins = matches[0]
    return Judgement(True, f"allowed by {'; '.join(origins)} (entry {entry.network}: {l4})")


def _sides(
    pod: Workload, policies: Sequence[Policy], rules: Mapping[str, tuple[list[EndpointRule], ...]]
) -> tuple[Side, Side]:
    return (_side(pod, "ingress", policies, rules), _side(pod, "egress", policies, rules))


def _side(
    pod: Workload, direction: str, policies: Sequence[Policy], rules: Mapping[str, tuple[list[EndpointRule], ...]]
) -> Side:
    if pod.host_network:
        # The probes attach to the pod's host veth (utils.GetHostVethName), which a hostNetwork
        # pod has not; EKS docs: "The default deny policy isn't configured for pods with Host
        # networking"; the controller skips them as targets (PR #206).
        return Side(pod, direction, None, "hostNetwork pods are never enforced")
    if pod.standalone:
        return Side(pod, direction, None, "a standalone Pod without ownerReferences: EKS applies no policy to it")
    index = 0 if direction == "ingress" else 1
    kind = "Ingress" if direction == "ingress" else "Egress"
    selecting = [p for p in policies if p.selects(pod)]
    own = [r for p in selecting for r in rules[str(p)][index]]
    isolating = [str(p) for p in selecting if kind in p.types or rules[str(p)][index]]
    # policyendpoints_controller.go deriveIngressAndEgressFirewallRules/deriveDefaultPodIsolation:
    # a direction is enforced when a selecting policy lists it in policyTypes (PodIsolation)
    # or contributes rules to it; otherwise addCatchAllEntry opens it (0.0.0.0/0, any port).
    if not isolating:
        return Side(pod, direction, None, f"no NetworkPolicy isolates it for {direction}")
    return Side(pod, direction, Lpm(agent_map(own, pod.node_ip)), f"isolated by {', '.join(isolating)}")


# --- the model ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Source:
    pod: Workload | None
    address: IPv4Network | None  # None: the node of the pod it reaches
    label: str

    def address_towards(self, pod: Workload) -> IPv4Network:
        return self.address if self.address is not None else IPv4Network(f"{pod.node_ip}/32")


def _host(address: IPv4Address) -> IPv4Network:
    return IPv4Network(f"{address}/32")


@dataclass(frozen=True)
class ClusterModel:
    network: Network
    pods: tuple[Workload, ...]
    services: tuple[Service, ...]
    policies: tuple[Policy, ...]
    sides: Mapping[tuple[str, str, str], Side]  # (namespace, pod name, direction)

    @classmethod
    def of(cls, objects: Iterable[Placed], network: Network) -> ClusterModel:
        """The cluster running ``objects`` (NetworkPolicies, workloads, Services, Namespaces,
        including the operated ones) on ``network``."""
        namespaces, pods, services, policies = _collect(objects)
        placed_pods = tuple(_place(pods, network))
        placed_services = tuple(sorted(_assign_cluster_ips(services, network), key=lambda s: s.key))
        ordered_policies = tuple(sorted(policies, key=lambda p: (p.namespace, p.name)))
        inventory = Inventory(namespaces, placed_pods, placed_services)
        rules = {str(p): policy_rules(p, inventory) for p in ordered_policies}
        sides = {}
        for pod in placed_pods:
            for side in _sides(pod, ordered_policies, rules):
                sides[(pod.namespace, pod.name, side.direction)] = side
        return cls(network, placed_pods, placed_services, ordered_policies, sides)

    # --- lookups -------------------------------------------------------------------------

    def pod(self, namespace: str, name: str) -> Endpoint:
        return self._pod(Endpoint("pod", namespace, name)).endpoint()

    def service(self, namespace: str, name: str) -> Endpoint:
        return self._service(Endpoint("service", namespace, name)).endpoint()

    def address(self, endpoint: Endpoint) -> str:
        """The address others see for ``endpoint``: a pod's IP (its node's for hostNetwork),
        a Service's ClusterIP, an outside address as given."""
        if endpoint.kind == "pod":
            return str(self._pod(endpoint).ip)
        if endpoint.kind == "service":
            return str(self._service(endpoint).cluster_ip or "")
        if endpoint.kind == "api-server":
            return str(self.network.kubernetes_ip())
        if endpoint.kind == "control-plane":
            return endpoint.address or self.network.control_plane_addresses()[0]
        if not endpoint.address:
            raise ValueError(f"{endpoint} needs an address")
        return endpoint.address

    def node_address(self, endpoint: Endpoint) -> str:
        """The primary IP of the node a pod runs on."""
        return str(self._pod(endpoint).node_ip)

    @cached_property
    def _pods_by_key(self) -> dict[tuple[str, str], Workload]:
        return {pod.key: pod for pod in self.pods}

    @cached_property
    def _services_by_key(self) -> dict[tuple[str, str], Service]:
        return {service.key: service for service in self.services}

    def workload(self, namespace: str, name: str) -> Workload | None:
        """The workload ``<Kind>/<name>`` of ``namespace``, if the model has it."""
        return self._pods_by_key.get((namespace, name))

    def _pod(self, endpoint: Endpoint) -> Workload:
        if endpoint.name:
            named = self._pods_by_key.get((endpoint.namespace, endpoint.name))
            found = [] if named is None else [named]
        else:
            found = [
                p
                for p in self.pods
                if p.namespace == endpoint.namespace and all(p.labels.get(k) == v for k, v in endpoint.labels.items())
            ]
        if len(found) != 1:
            raise ValueError(f"{endpoint} names {len(found)} pods of the model, not one")
        return found[0]

    def _service(self, endpoint: Endpoint) -> Service:
        service = self._services_by_key.get((endpoint.namespace, endpoint.name))
        if service is None:
            raise ValueError(f"{endpoint} is not a Service of the model")
        return service

    def _side(self, pod: Workload, direction: str) -> Side:
        return self.sides[(pod.namespace, pod.name, direction)]

    # --- verdicts ------------------------------------------------------------------------

    def verdict(self, flow: Flow) -> Verdict:
        protocol = flow.protocol.upper()
        source = self._source(flow.source)
        destination = flow.destination
        if destination.kind == "pod":
            return self._to_pod(source, self._pod(destination), flow.port, protocol)
        if destination.kind == "service":
            return self._to_service(source, self._service(destination), flow.port, protocol)
        return self._to_outside(source, destination, flow.port, protocol)

    def _source(self, endpoint: Endpoint) -> _Source:
        if endpoint.kind == "pod":
            pod = self._pod(endpoint)
            return _Source(pod, _host(pod.ip), str(pod))
        if endpoint.kind == "service":
            raise ValueError("a Service is never the source of a flow; name the pod behind it")
        if endpoint.kind == "node" and not endpoint.address:
            return _Source(None, None, KUBELET_SOURCE)
        if endpoint.kind == "api-server":  # the API server calls from its ENIs
            endpoint = Endpoint("control-plane")
        address = self.address(endpoint)
        return _Source(None, _ipv4_network(address), f"{endpoint.kind} {address}")

    def _egress(self, source: _Source, target: IPv4Network, port: int, protocol: str) -> Judgement:
        if source.pod is None:
            return Judgement(True, f"{source.label} is not a pod: no egress map judges it")
        return self._side(source.pod, "egress").judge(target, port, protocol)

    def _to_pod(self, source: _Source, pod: Workload, port: int, protocol: str) -> Verdict:
        if source.pod is not None and source.pod.key == pod.key:
            return Verdict(True, f"{pod} reaching its own address stays on its loopback, past no veth")
        egress = self._egress(source, _host(pod.ip), port, protocol)
        if not egress.allowed:
            return Verdict(False, egress.reason)
        ingress = self._side(pod, "ingress").judge(source.address_towards(pod), port, protocol)
        return Verdict(ingress.allowed, f"{egress.reason}; {ingress.reason}")

    def _to_service(self, source: _Source, service: Service, port: int, protocol: str) -> Verdict:
        if service.external_name:
            raise ValueError(f"{service} is an ExternalName alias: name the address it points to")
        service_port = service.port_for(port, protocol)
        if service_port is None:
            return Verdict(False, f"{service} has no {protocol} port {port}")
        backends = self.backends(service, service_port)
        if service.cluster_ip is None:
            return self._to_headless(source, service, backends, protocol)
        # Egress is judged on ClusterIP:port as the packet leaves the pod, before kube-proxy's DNAT.
        egress = self._egress(source, _host(service.cluster_ip), port, protocol)
        via = f"{service} at {service.cluster_ip}:{port}"
        if not egress.allowed:
            return Verdict(False, f"{egress.reason} [{via}]")
        if not service.selector:
            return Verdict(
                True,
                f"{egress.reason} [{via}]; the Service has no selector: its endpoints are no pod of the model "
                "(the API server for default/kubernetes), so no pod ingress applies",
            )
        ingress = self._backend_ingress(source, service, backends, protocol)
        return Verdict(ingress.allowed, f"{egress.reason} [{via}]; {ingress.reason}")

    def _backend_ingress(
        self, source: _Source, service: Service, backends: Sequence[tuple[Workload, int]], protocol: str
    ) -> Judgement:
        """After DNAT each backend's ingress sees the source's address and the targetPort;
        one backend that admits the flow is enough."""
        if not backends:
            return Judgement(False, f"{service} has no pod serving that port (no endpoints)")
        refusals = []
        for backend, target in backends:
            ingress = self._side(backend, "ingress").judge(source.address_towards(backend), target, protocol)
            if ingress.allowed:
                return Judgement(True, f"{ingress.reason} [backend port {target}]")
            refusals.append(ingress.reason)
        return Judgement(False, f"no backend admits it: {'; '.join(refusals)}")

    def _to_headless(
        self, source: _Source, service: Service, backends: Sequence[tuple[Workload, int]], protocol: str
    ) -> Verdict:
        # A headless name resolves to the pod IPs: every hop is a direct pod flow.
        if not backends:
            return Verdict(False, f"{service} (headless) has no pod serving the port")
        refusals = []
        for backend, target in backends:
            verdict = self._to_pod(source, backend, target, protocol)
            if verdict.allowed:
                return Verdict(True, f"{service} is headless: {verdict.reason}")
            refusals.append(verdict.reason)
        return Verdict(False, f"{service} is headless and no backend is reachable: {'; '.join(refusals)}")

    def backends(self, service: Service, port: ServicePort) -> list[tuple[Workload, int]]:
        """The pods behind a Service port, each with its targetPort: the EndpointSlice
        controller selects by the Service's selector and resolves a named targetPort on each
        pod (its first container port of that name), leaving out pods that lack it."""
        if not service.selector:
            return []
        backends = []
        for pod in self.pods:
            if pod.namespace != service.namespace or not service_selects(service.selector, pod):
                continue
            if isinstance(port.target, int):
                backends.append((pod, port.target))
            elif (declared := _first_named_port(pod, port.target, port.protocol)) is not None:
                backends.append((pod, declared.port))
        return backends

    def _to_outside(self, source: _Source, destination: Endpoint, port: int, protocol: str) -> Verdict:
        if destination.kind == "node" and not destination.address:
            if source.pod is None:
                return Verdict(True, f"{source.label} is not a pod: nothing judges a flow to a node")
            target = _host(source.pod.node_ip)  # its own node: the node entry admits it
        else:
            target = _ipv4_network(self.address(destination))
        egress = self._egress(source, target, port, protocol)
        return Verdict(egress.allowed, f"{egress.reason} [{destination.kind} {target}]")

    # --- every allowed flow --------------------------------------------------------------

    def allowed_flows(self) -> list[Flow]:
        """Every flow of ``candidate_flows()`` that the policies allow, in that order."""
        return [flow for flow in self.candidate_flows() if self.verdict(flow).allowed]

    def candidate_flows(self) -> Iterator[Flow]:
        """The finite set of flows ``allowed_flows`` tries, in this order:

        1. from each pod (in namespace/name order):
           a. to every other pod, on each of its declared container ports and protocols;
           b. to every Service with a ClusterIP (not headless, not ExternalName, not
              `default/kubernetes`), on each Service port;
           c. to the API server: ``api-server`` (the `kubernetes` ClusterIP) on 443, then each
              control-plane ENI address on 443;
           d. to IMDS on TCP 80;
           e. to the internet (``INTERNET``), then to ``Network.vpc_host()``, on each
              ``outside_ports()`` pair;
        2. into each pod, on each of its container ports: from the internet (an NLB that keeps
           the client address), from ``Network.vpc_host()`` (an NLB that does not), and from
           each control-plane ENI (webhooks, aggregated APIs).
        The kubelet (its own node) is always allowed and not listed."""
        for source in self.pods:
            yield from self._outbound(source)
        for destination in self.pods:
            yield from self._inbound(destination)

    def outside_ports(self) -> list[tuple[int, str]]:
        """(port, protocol) pairs tried towards outside addresses: ``WELL_KNOWN_PORTS`` and
        every numeric port and endPort an egress rule names."""
        pairs = set(WELL_KNOWN_PORTS)
        for policy in self.policies:
            for rule in policy.egress:
                for port in rule.ports:
                    pairs.update((p, port.protocol) for p in (port.port, port.end_port) if isinstance(p, int))
        return sorted(pairs)

    def _outbound(self, source: Workload) -> Iterator[Flow]:
        origin = source.endpoint()
        for destination in self.pods:
            if destination.key != source.key:
                for port, protocol in _distinct_ports(destination):
                    yield Flow(origin, destination.endpoint(), port, protocol)
        for service in self.services:
            if service.cluster_ip is not None and service.key != KUBERNETES_SERVICE:
                for service_port in service.ports:
                    yield Flow(origin, service.endpoint(), service_port.port, service_port.protocol)
        yield Flow(origin, Endpoint("api-server"), API_PORT)
        for eni in self.network.control_plane_addresses():
            yield Flow(origin, Endpoint("control-plane", address=eni), API_PORT)
        yield Flow(origin, Endpoint("address", address=IMDS), IMDS_PORT)
        for outside in self._outside_addresses():
            for port, protocol in self.outside_ports():
                yield Flow(origin, outside, port, protocol)

    def _inbound(self, destination: Workload) -> Iterator[Flow]:
        sources = [
            *self._outside_addresses(),
            *(Endpoint("control-plane", address=eni) for eni in self.network.control_plane_addresses()),
        ]
        for source in sources:
            for port, protocol in _distinct_ports(destination):
                yield Flow(source, destination.endpoint(), port, protocol)

    def _outside_addresses(self) -> list[Endpoint]:
        vpc_host = self.network.vpc_host()
        return [Endpoint("address", address=a) for a in (INTERNET, vpc_host) if a is not None]


def _distinct_ports(pod: Workload) -> list[tuple[int, str]]:
    return list(dict.fromkeys((p.port, p.protocol) for p in pod.ports))
