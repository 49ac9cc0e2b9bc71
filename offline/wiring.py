"""Whether the names and selectors the program writes meet what the charts really render.

The program points at objects it does not create: NetworkPolicies and disruption budgets
select the charts' pods by label, ServiceMonitors select their Services and name their
ports, KEDA scales their Deployments, Ingresses and configuration name their Services
and ports. A chart upgrade that renames a label, a port or a Service breaks that silently:
the NetworkPolicy then protects nothing (or blocks everything), the budget guards no pod,
nothing is scraped. Each function here returns the places that no longer meet their target.

Label selectors follow the API's semantics (k8s.io/apimachinery metav1.LabelSelector):
every matchLabels pair and every matchExpressions term (In, NotIn, Exists, DoesNotExist)
must hold; an empty selector selects everything.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from offline.pod_security import pod_template
from offline.render import Placed


def selects(selector: Mapping[str, Any] | None, labels: Mapping[str, str]) -> bool:
    """Whether a LabelSelector selects an object with ``labels``."""
    selector = selector or {}
    if any(labels.get(key) != value for key, value in (selector.get("matchLabels") or {}).items()):
        return False
    for term in selector.get("matchExpressions") or []:
        key, operator, values = term["key"], term["operator"], set(term.get("values") or [])
        present = key in labels
        held = {
            "In": present and labels.get(key) in values,
            "NotIn": not present or labels.get(key) not in values,
            "Exists": present,
            "DoesNotExist": not present,
        }.get(operator)
        if held is None:
            raise ValueError(f"unknown label selector operator {operator!r}")
        if not held:
            return False
    return True


@dataclass(frozen=True)
class Pod:
    namespace: str
    owner: str  # "<Kind>/<name>" of the workload
    labels: Mapping[str, str]


@dataclass(frozen=True)
class Service:
    namespace: str
    name: str
    labels: Mapping[str, str]
    ports: tuple[tuple[str, int], ...]  # (name, port)


@dataclass
class Cluster:
    """The pods, Services and workloads the stack puts in the cluster."""

    pods: list[Pod] = field(default_factory=list)
    services: dict[tuple[str, str], Service] = field(default_factory=dict)
    workloads: set[tuple[str, str, str]] = field(default_factory=set)  # (namespace, kind, name)
    namespaces: set[str] = field(default_factory=set)

    @classmethod
    def of(cls, objects: Iterable[Placed]) -> Cluster:
        cluster = cls()
        for _, namespace, obj in objects:
            metadata = obj.get("metadata") or {}
            kind, name = str(obj.get("kind")), str(metadata.get("name"))
            if kind == "Namespace":
                cluster.namespaces.add(name)
            template = pod_template(obj)
            if template is not None:
                pod_metadata, _ = template
                cluster.pods.append(Pod(namespace, f"{kind}/{name}", dict(pod_metadata.get("labels") or {})))
                cluster.workloads.add((namespace, kind, name))
            if kind == "Service" and obj.get("apiVersion") == "v1":
                ports = tuple(
                    (str(p.get("name", "")), int(p["port"])) for p in (obj.get("spec") or {}).get("ports") or []
                )
                cluster.services[(namespace, name)] = Service(
                    namespace, name, dict(metadata.get("labels") or {}), ports
                )
        return cluster

    def add_service(self, namespace: str, name: str, metadata: Mapping[str, Any], spec: Mapping[str, Any]) -> None:
        ports = tuple((str(p.get("name", "")), int(p["port"])) for p in spec.get("ports") or [])
        self.services[(namespace, name)] = Service(namespace, name, dict(metadata.get("labels") or {}), ports)

    def pods_selected(self, namespace: str, selector: Mapping[str, Any] | None) -> list[Pod]:
        return [pod for pod in self.pods if pod.namespace == namespace and selects(selector, pod.labels)]


def _named(obj: Mapping[str, Any], namespace: str) -> str:
    return f"{obj.get('kind')} {namespace}/{(obj.get('metadata') or {}).get('name')}"


def pod_selector_findings(cluster: Cluster, placed: Placed) -> list[str]:
    """NetworkPolicies and PodDisruptionBudgets select at least one pod of their namespace
    (an empty podSelector, all of them, is meant to and is left alone)."""
    origin, namespace, obj = placed
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    if kind == "NetworkPolicy":
        selector = spec.get("podSelector") or {}
        if not selector:
            return []
    elif kind == "PodDisruptionBudget":
        selector = spec.get("selector") or {}
    else:
        return []
    if cluster.pods_selected(namespace, selector):
        return []
    return [f"{origin}: {_named(obj, namespace)} selects no pod the stack runs there ({selector})"]


def service_monitor_findings(cluster: Cluster, placed: Placed) -> list[str]:
    """A ServiceMonitor selects Services in its namespaces, and each endpoint's port is a
    named port of every Service it selects (prometheus-operator scrapes only those)."""
    origin, namespace, obj = placed
    if obj.get("kind") != "ServiceMonitor":
        return []
    spec = obj.get("spec") or {}
    scope = spec.get("namespaceSelector") or {}
    namespaces = set(scope.get("matchNames") or [namespace])
    services = [
        s for s in cluster.services.values() if s.namespace in namespaces and selects(spec.get("selector"), s.labels)
    ]
    if not services:
        return [f"{origin}: {_named(obj, namespace)} selects no Service in {sorted(namespaces)}"]
    findings = []
    for endpoint in spec.get("endpoints") or []:
        port = endpoint.get("port")
        for service in services:
            if port is not None and port not in {name for name, _ in service.ports}:
                findings.append(
                    f"{origin}: {_named(obj, namespace)}: Service {service.namespace}/{service.name} has no port "
                    f"named {port!r} (it has {sorted(name for name, _ in service.ports)})"
                )
    return findings


def scale_target_findings(cluster: Cluster, placed: Placed) -> list[str]:
    """A ScaledObject scales a workload the stack runs in its namespace."""
    origin, namespace, obj = placed
    if obj.get("kind") != "ScaledObject":
        return []
    target = (obj.get("spec") or {}).get("scaleTargetRef") or {}
    kind = target.get("kind", "Deployment")
    if (namespace, kind, target.get("name")) in cluster.workloads:
        return []
    return [f"{origin}: {_named(obj, namespace)} scales {kind} {target.get('name')}, which the stack does not run"]


def ingress_backend_findings(cluster: Cluster, placed: Placed) -> list[str]:
    """Every Ingress and Traefik IngressRoute sends traffic to a Service and port that exist."""
    origin, namespace, obj = placed
    kind, spec = obj.get("kind"), obj.get("spec") or {}
    backends: list[tuple[Any, Any]] = []
    if kind == "Ingress":
        for rule in spec.get("rules") or []:
            for path in (rule.get("http") or {}).get("paths") or []:
                service = (path.get("backend") or {}).get("service") or {}
                port = service.get("port") or {}
                backends.append((service.get("name"), port.get("number", port.get("name"))))
    elif kind == "IngressRoute":
        for route in spec.get("routes") or []:
            backends += [
                (s.get("name"), s.get("port"))
                for s in route.get("services") or []
                if s.get("kind", "Service") == "Service"
            ]
    findings = []
    for name, port in backends:
        findings += _service_port_findings(cluster, namespace, str(name), port, f"{origin}: {_named(obj, namespace)}")
    return findings


def _service_port_findings(cluster: Cluster, namespace: str, name: str, port: Any, where: str) -> list[str]:
    service = cluster.services.get((namespace, name))
    if service is None:
        return [f"{where}: no Service {namespace}/{name}"]
    if port is not None and port not in {n for n, _ in service.ports} | {p for _, p in service.ports}:
        return [f"{where}: Service {namespace}/{name} has no port {port} (it has {list(service.ports)})"]
    return []


# An in-cluster address: <service>.<namespace>[.svc[.cluster.local]]:<port>, with or
# without a scheme, anywhere in a string.
_SERVICE_ADDRESS = re.compile(
    r"(?:(?<=//)|(?<![\w.-]))([a-z0-9]([-a-z0-9]*[a-z0-9])?)\.([a-z0-9]([-a-z0-9]*[a-z0-9])?)"
    r"(?:\.svc(?:\.cluster\.local)?)?:(\d{1,5})\b"
)


def strings(value: Any) -> Iterator[str]:
    """Every string in a nested structure of mappings and lists."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for item in value.values():
            yield from strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from strings(item)


def address_findings(cluster: Cluster, where: str, value: Any) -> list[str]:
    """Every in-cluster Service address in ``value`` (a program object's fields, a chart's
    values) names a Service the stack runs, on one of its ports."""
    findings = []
    for text in strings(value):
        for match in _SERVICE_ADDRESS.finditer(text):
            name, namespace, port = match.group(1), match.group(3), int(match.group(5))
            if namespace in cluster.namespaces:
                findings += _service_port_findings(cluster, namespace, name, port, f"{where}: {match.group(0)}")
    return sorted(set(findings))


OBJECT_CHECKS = (pod_selector_findings, service_monitor_findings, scale_target_findings, ingress_backend_findings)
