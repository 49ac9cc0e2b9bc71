"""The stack's connectivity map: which workloads may talk to which, and to what outside the
cluster, as EKS enforces its NetworkPolicies (offline/flows.py), with the reason for each.

The plan writes it to ``build/plan/<stack>/``: ``flows.md`` (every allowed flow with the
policy that allows it and that policy's purpose, and a Mermaid diagram of the workloads),
``flows.dot`` and, where Graphviz is installed, ``flows.svg``. A change that opens or closes
a flow changes the map, so reviewers see it in the plan's diff.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from components import vault_spec
from components.certificates import SOLVER_LABELS, SOLVER_PORT
from components.network_policies import NOT_ISOLATED
from components.traffic import KUBERNETES_API, Need, Outside, Pods, ServiceRef
from offline.flows import INTERNET, ClusterModel, Endpoint, Flow, Network, Verdict, Workload
from offline.harness import StackRun
from offline.operated import operated_objects
from offline.pod_security import pod_template
from offline.render import Placed
from offline.wiring import selects

SUBNET = "aws:ec2/subnet:Subnet"
# The external-secrets chart's controller pods (its app.kubernetes.io/name), which
# reconcile every (Cluster)SecretStore.
ESO_CONTROLLER = "external-secrets"
CLUSTER = "aws:eks/cluster:Cluster"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"


def stack_network(run: StackRun) -> Network:
    """The stack's VPC and service CIDR, the subnets its node groups run in (pods and nodes)
    and those the EKS cluster is given (the control plane's interfaces), as the program
    wires them."""
    cidr_by_id = {f"{r.name}-id": str(r.inputs["cidrBlock"]) for r in run.of_type(SUBNET)}  # the harness's ids

    def cidrs(ids: Iterable[Any]) -> tuple[str, ...]:
        return tuple(sorted({cidr_by_id[str(i)] for i in ids}))

    (cluster,) = run.of_type(CLUSTER)
    nodes = [i for group in run.of_type(NODE_GROUP) for i in group.inputs["subnetIds"]]
    return Network(
        str(run.exports["vpcCidr"]),
        str(run.exports["serviceCidr"]),
        cidrs(nodes),
        cidrs(cluster.inputs["vpcConfig"]["subnetIds"]),
    )


def stack_model(objects: Sequence[Placed], network: Network) -> ClusterModel:
    """The model of everything deployed, with what the cluster and its operators add."""
    return ClusterModel.of([*objects, *operated_objects(objects)], network)


def endpoint(side: Pods | ServiceRef | Outside, network: Network) -> Endpoint:
    """A side of a declared flow as the model names it."""
    if isinstance(side, Pods):
        return Endpoint("pod", namespace=side.namespace, labels=dict(side.labels))
    if isinstance(side, ServiceRef):
        return Endpoint("service", namespace=side.namespace, name=side.name)
    if side.what == "internet":
        return Endpoint("address", address=INTERNET)
    if side.what == "vpc":
        return Endpoint("address", address=network.vpc_host() or network.vpc_cidr)
    return Endpoint("api-server" if side.what == "kubernetes-api" else "control-plane")


def _expanded(side: Pods | ServiceRef | Outside, model: ClusterModel, network: Network) -> list[Endpoint]:
    """A declared side as the model's endpoints: every pod a ``Pods`` selects (each replica,
    shard and Job of the workload must be served)."""
    if not isinstance(side, Pods):
        return [endpoint(side, network)]
    return [
        pod.endpoint()
        for pod in model.pods
        if pod.namespace == side.namespace and side.labels.items() <= pod.labels.items()
    ]


def required_flows_are_allowed(
    needs: Sequence[Need], model: ClusterModel, network: Network, observed: Sequence[tuple[str, Flow]] = ()
) -> list[str]:
    """Every flow a component declares it needs (components/traffic.py), and every flow the
    rendered objects show a workload needs (``observed_flows``), is allowed as EKS enforces
    the stack's NetworkPolicies; every declaration names a workload the stack runs."""
    findings = []
    flows: list[tuple[str, Flow]] = list(observed)
    for need in needs:
        sources, destinations = _expanded(need.source, model, network), _expanded(need.destination, model, network)
        empty = [side for side, found in ((need.source, sources), (need.destination, destinations)) if not found]
        # A namespace-wide declaration (no labels) may find its namespace empty (the portal's, while off).
        if any(not isinstance(side, Pods) or side.labels for side in empty):
            findings.append(f"{need.why}: {empty[0]} selects no pod of the stack")
        flows += [(need.why, Flow(s, d, need.port, need.protocol)) for s in sources for d in destinations]
    for why, flow in flows:
        try:
            verdict = model.verdict(flow)
        except ValueError as error:  # the flow names no workload of the stack
            findings.append(f"{why}: {error}")
            continue
        if not verdict.allowed:
            where = f"{describe(flow.source)} -> {describe(flow.destination)} {flow.protocol} {flow.port}"
            findings.append(f"{why}: {where} is blocked: {verdict.reason}")
    return findings


def observed_flows(objects: Sequence[Placed], model: ClusterModel) -> list[tuple[str, Flow]]:
    """The flows the rendered objects themselves show are needed, whatever the components
    declare: what Prometheus scrapes (ServiceMonitors, PodMonitors, Probes), what the API
    server calls (admission and conversion webhooks, aggregated APIs), which pods call the
    API (their service account is bound to a role), and the HTTP-01 solvers Traefik must
    reach. A flow a component forgot to declare is then blocked, and the plan says so."""
    return [
        *_scrapes(objects, model),
        *_control_plane_calls(objects, model),
        *_api_clients(objects, model),
        *_vault_clients(objects, model),
        *_solvers(model),
    ]


def _vault_clients(objects: Sequence[Placed], model: ClusterModel) -> Iterator[tuple[str, Flow]]:
    """Who talks to Vault, as the objects are configured: a pod whose spec carries Vault's
    address (the jobs' VAULT_ADDR, the connector's Vault URL), and External Secrets'
    controller where a (Cluster)SecretStore's Vault provider names it. Checked against the
    declared flows both ways (this required, and no undeclared one open), so who may talk
    to Vault follows the configuration of its clients, not a list kept beside it."""
    host = urlsplit(vault_spec.VAULT_ADDR).hostname or ""
    vault = Endpoint("service", vault_spec.NAMESPACE, vault_spec.API_SERVICE.name)
    for placed in objects:
        obj = placed.obj
        template = pod_template(obj)
        if template is not None and obj.get("kind") != "PodTemplate" and host in json.dumps(template[1]):
            yield (
                f"{_workload_name(placed)} is configured with Vault's address",
                Flow(Endpoint("pod", placed.namespace, _workload_name(placed)), vault, 8200),
            )
        provider = ((obj.get("spec") or {}).get("provider") or {}).get("vault") or {}
        if obj.get("kind") in ("SecretStore", "ClusterSecretStore") and host in str(provider.get("server", "")):
            for pod in model.pods:
                if pod.labels.get("app.kubernetes.io/name") == ESO_CONTROLLER:
                    yield (
                        f"{obj['kind']} {(obj.get('metadata') or {}).get('name')} reads Vault",
                        Flow(pod.endpoint(), vault, 8200),
                    )


def _pods_with(model: ClusterModel, namespace: str, selector: Mapping[str, Any] | None) -> list[Workload]:
    return [pod for pod in model.pods if pod.namespace == namespace and selects(selector, pod.labels)]


def _scrapes(objects: Sequence[Placed], model: ClusterModel) -> Iterator[tuple[str, Flow]]:
    """prometheus-operator's target discovery: a ServiceMonitor's endpoints are the pods
    behind the Services it selects, at the port its ``port`` (a Service port name) forwards
    to or at its ``targetPort``; a PodMonitor's are the pods it selects at their named port
    (prometheus-operator Documentation/api-reference/api.md, ServiceMonitorSpec,
    PodMonitorSpec; namespaceSelector absent: the monitor's own namespace). Prometheus
    scrapes the pod addresses, not the Services'."""
    prometheus = [pod for pod in model.pods if pod.labels.get("app.kubernetes.io/name") == "prometheus"]
    if not prometheus:
        return
    scraper = prometheus[0].endpoint()
    nodes = sorted({pod.node_ip for pod in model.pods})
    for placed in objects:
        obj = placed.obj
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        name = f"{kind} {placed.namespace}/{(obj.get('metadata') or {}).get('name')}"
        if kind == "ServiceMonitor":
            for namespace in _monitored_namespaces(spec, placed.namespace, model):
                for service in model.services:
                    if service.namespace != namespace or not selects(
                        spec.get("selector"), _service_labels(objects, service)
                    ):
                        continue
                    for entry in spec.get("endpoints") or []:
                        for target in _service_targets(model, service, entry, nodes):
                            yield f"{name} scrapes {service}", Flow(scraper, target[0], target[1])
        elif kind == "PodMonitor":
            for namespace in _monitored_namespaces(spec, placed.namespace, model):
                for pod in _pods_with(model, namespace, spec.get("selector")):
                    for entry in spec.get("podMetricsEndpoints") or []:
                        number = _pod_port(pod, entry.get("portNumber") or entry.get("port") or entry.get("targetPort"))
                        if number is not None:
                            yield f"{name} scrapes {pod}", Flow(scraper, pod.endpoint(), number)
        elif kind == "Probe":
            host, _, listen = str((spec.get("prober") or {}).get("url") or "").partition(":")
            parts = host.split(".")
            prober = next(
                (s for s in model.services if len(parts) > 1 and (s.name, s.namespace) == tuple(parts[:2])), None
            )
            if prober is None:
                continue
            yield f"{name} asks its prober", Flow(scraper, prober.endpoint(), int(listen or 80))
            # The prober then requests each static target, on the internet (the public endpoints).
            for port_of_service in prober.ports:
                for pod, _ in model.backends(prober, port_of_service):
                    for target in ((spec.get("targets") or {}).get("staticConfig") or {}).get("static") or []:
                        url = urlsplit(str(target) if "//" in str(target) else f"http://{target}")
                        port = url.port or (443 if url.scheme == "https" else 80)
                        yield (
                            f"{name} probes {target}",
                            Flow(pod.endpoint(), Endpoint("address", address=INTERNET), port),
                        )


def _monitored_namespaces(spec: Mapping[str, Any], own: str, model: ClusterModel) -> list[str]:
    selector = spec.get("namespaceSelector") or {}
    if selector.get("any"):
        return sorted({pod.namespace for pod in model.pods} | {s.namespace for s in model.services})
    return list(selector.get("matchNames") or [own])


def _service_labels(objects: Sequence[Placed], service: Any) -> Mapping[str, str]:
    for placed in objects:
        obj = placed.obj
        metadata = obj.get("metadata") or {}
        if (
            obj.get("kind") == "Service"
            and placed.namespace == service.namespace
            and metadata.get("name") == service.name
        ):
            return {str(k): str(v) for k, v in (metadata.get("labels") or {}).items()}
    return {}


def _service_targets(
    model: ClusterModel, service: Any, entry: Mapping[str, Any], nodes: Sequence[Any]
) -> list[tuple[Endpoint, int]]:
    """Where a ServiceMonitor endpoint of ``service`` is scraped: its pods at the port, or,
    for the Services without a selector the cluster fills itself, the API server's
    addresses (default/kubernetes) and every node's kubelet."""
    ports = [p for p in service.ports if p.name == entry["port"]] if "port" in entry else list(service.ports)
    if not service.selector:
        if (service.namespace, service.name) == ("default", "kubernetes"):
            return [
                (Endpoint("control-plane", address=a), p.port)
                for p in ports
                for a in model.network.control_plane_addresses()[:1]
            ]
        return [(Endpoint("node", address=str(node)), p.port) for p in ports[:1] for node in nodes[:1]]
    targets = []
    for service_port in ports:
        for pod, forwarded in model.backends(service, service_port):
            target = _pod_port(pod, entry["targetPort"]) if "targetPort" in entry else forwarded
            if target is not None:
                targets.append((pod.endpoint(), target))
    return list(dict.fromkeys(targets))


def _pod_port(pod: Workload, port: Any) -> int | None:
    if isinstance(port, int):
        return port
    return next((p.port for p in pod.ports if p.name == port), None)


def _control_plane_calls(objects: Sequence[Placed], model: ClusterModel) -> Iterator[tuple[str, Flow]]:
    """The API server calls admission webhooks, CRD conversion webhooks and aggregated APIs
    at the Service they name (port 443 unless set), from its network interfaces in the
    cluster's subnets (Kubernetes API reference: WebhookClientConfig, ServiceReference)."""
    caller = Endpoint("control-plane")
    for placed in objects:
        obj = placed.obj
        kind, spec = obj.get("kind"), obj.get("spec") or {}
        name = f"{kind} {(obj.get('metadata') or {}).get('name')}"
        references = []
        if kind in ("ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"):
            references = [(w.get("clientConfig") or {}).get("service") for w in obj.get("webhooks") or []]
        elif kind == "CustomResourceDefinition":
            references = [((spec.get("conversion") or {}).get("webhook") or {}).get("clientConfig", {}).get("service")]
        elif kind == "APIService":
            references = [spec.get("service")]
        for reference in references:
            if not reference:
                continue
            key = (reference.get("namespace"), reference.get("name"))
            service = next((s for s in model.services if s.key == key), None)
            if service is not None:
                yield (
                    f"the API server calls {name}",
                    Flow(caller, service.endpoint(), int(reference.get("port") or 443)),
                )


def _bound_accounts(objects: Sequence[Placed]) -> set[tuple[str, str]]:
    bound = set()
    for placed in objects:
        obj = placed.obj
        if obj.get("kind") in ("RoleBinding", "ClusterRoleBinding"):
            for subject in obj.get("subjects") or []:
                if subject.get("kind") == "ServiceAccount":
                    bound.add((subject.get("namespace") or placed.namespace, subject.get("name")))
    return bound


def _pods_calling_the_api(objects: Sequence[Placed]) -> Iterator[tuple[Placed, str]]:
    """Each pod template whose service account is bound to a Role or ClusterRole (and that
    mounts its token), with the account."""
    bound = _bound_accounts(objects)
    for placed in [*objects, *operated_objects(objects)]:
        template = pod_template(placed.obj)
        if template is None or placed.obj.get("kind") == "PodTemplate":
            continue
        _, spec = template
        account = spec.get("serviceAccountName") or spec.get("serviceAccount") or "default"
        if (placed.namespace, account) in bound and spec.get("automountServiceAccountToken") is not False:
            yield placed, account


def _workload_name(placed: Placed) -> str:
    metadata = placed.obj.get("metadata") or {}
    return f"{placed.obj['kind']}/{metadata.get('name') or metadata.get('generateName')}"


def _api_clients(objects: Sequence[Placed], model: ClusterModel) -> Iterator[tuple[str, Flow]]:
    """A pod whose service account is bound to a role calls the API: the binding is there
    for it to."""
    for placed, account in _pods_calling_the_api(objects):
        pod = Endpoint("pod", placed.namespace, _workload_name(placed))
        yield f"{placed.namespace}/{account} is bound to a role", Flow(pod, Endpoint("api-server"), 443)


def api_access_without_a_role(needs: Sequence[Need], objects: Sequence[Placed], model: ClusterModel) -> list[str]:
    """Least privilege the other way round: a workload declared to call the API whose
    service account is bound to no role could do nothing there; its API egress is one
    flow too many (or its role is missing)."""
    callers = {(placed.namespace, _workload_name(placed)) for placed, _ in _pods_calling_the_api(objects)}
    findings = []
    for need in needs:
        if need.destination != KUBERNETES_API or not isinstance(need.source, Pods):
            continue
        for pod in _expanded(need.source, model, model.network):
            if (pod.namespace, pod.name) not in callers:
                findings.append(f"{need.why}: {describe(pod)} has no role bound to its service account")
    return findings


def _solvers(model: ClusterModel) -> Iterator[tuple[str, Flow]]:
    """Let's Encrypt's HTTP-01 request reaches each solver pod through Traefik."""
    traefik = [pod for pod in model.pods if pod.labels.get("app.kubernetes.io/name") == "traefik"]
    for pod in model.pods:
        if SOLVER_LABELS.items() <= pod.labels.items() and traefik:
            yield "an HTTP-01 challenge", Flow(traefik[0].endpoint(), pod.endpoint(), SOLVER_PORT)


def _matches(declared: Pods | ServiceRef | Outside, actual: Endpoint, network: Network) -> bool:
    if isinstance(declared, Pods):
        return (
            actual.kind == "pod"
            and actual.namespace == declared.namespace
            and declared.labels.items() <= actual.labels.items()
        )
    if isinstance(declared, ServiceRef):
        return actual.kind == "service" and (actual.namespace, actual.name) == (declared.namespace, declared.name)
    if declared.what == "internet":  # as a source: anyone, the NLB forwarding through any node
        return actual.kind != "pod"
    if declared.what == "kubernetes-api":  # its Service, or the private endpoint's interfaces
        return actual.kind == "api-server" or (actual.kind == "control-plane" and bool(actual.address))
    if declared.what == "control-plane":
        return actual.kind == "control-plane"
    return actual == endpoint(declared, network)


def undeclared(
    entries: Sequence[tuple[Flow, Verdict]], needs: Sequence[Need], model: ClusterModel
) -> list[tuple[Flow, Verdict]]:
    """The allowed flows no component declares it needs: where the policies grant more
    than the platform asks for (a namespace without policies, a rule wider than its use).
    Flows from or to a pod no policy can confine (``unisolated``) are the node's and EKS's."""
    return [
        (flow, verdict)
        for flow, verdict in entries
        if not _declared(flow, needs, model)
        and not unisolated(flow.source, model)
        and not unisolated(flow.destination, model)
    ]


def _declared(flow: Flow, needs: Sequence[Need], model: ClusterModel) -> bool:
    return bool(declarations(flow, needs, model))


def declarations(flow: Flow, needs: Sequence[Need], model: ClusterModel) -> list[Need]:
    """The declared flows that stand for this allowed flow. NetworkPolicies name pods, never
    a Service alone: a flow to a Service's pods at the port it forwards to also opens the
    Service's ClusterIP (EKS admits the ClusterIP of every Service in front of the pods a
    rule names, getMatchingServiceClusterIPs), and a flow to a Service opens its pods;
    either stands for the other. A host-network pod is its node's address in the VPC."""
    direct = [need for need in needs if _covers(need, flow, model.network)]
    if direct or flow.destination.kind not in ("pod", "service"):
        return direct
    if flow.destination.kind == "pod":
        pod = model.workload(flow.destination.namespace, flow.destination.name)
        if pod is None or not pod.host_network:
            return []
        node = Endpoint("address", address=model.network.vpc_host() or model.network.vpc_cidr)
        return [
            need for need in needs if _covers(need, Flow(flow.source, node, flow.port, flow.protocol), model.network)
        ]
    service = next(s for s in model.services if s.key == (flow.destination.namespace, flow.destination.name))
    port = service.port_for(flow.port, flow.protocol)
    backends = model.backends(service, port) if port is not None else []
    covering = [
        [
            need
            for need in needs
            if _covers(need, Flow(flow.source, pod.endpoint(), target, flow.protocol), model.network)
        ]
        for pod, target in backends
    ]
    if not covering or not all(covering):
        return []
    unique: dict[int, Need] = {}
    for need in (need for found in covering for need in found):
        unique.setdefault(id(need), need)
    return list(unique.values())


def _covers(need: Need, flow: Flow, network: Network) -> bool:
    if need.protocol != flow.protocol or not _matches(need.source, flow.source, network):
        return False
    if need.port == flow.port and _matches(need.destination, flow.destination, network):
        return True
    destination = need.destination
    if isinstance(destination, ServiceRef) and destination.backends:
        return destination.target(need.port) == flow.port and _matches(destination.pods(), flow.destination, network)
    return False


def unrequired_flows(model: ClusterModel, needs: Sequence[Need], network: Network) -> list[str]:
    """Least privilege: every flow the policies let through is one a component declares.
    Flows from workloads the platform leaves unisolated (NOT_ISOLATED: CoreDNS) are EKS's."""
    return [
        f"{describe(flow.source)} -> {describe(flow.destination)} {flow.protocol} {flow.port} is allowed "
        f"({verdict.reason}) but no component declares it"
        for flow, verdict in undeclared(connectivity(model), needs, model)
    ]


def _unconfined(flow: Flow, model: ClusterModel) -> list[str]:
    ends = [describe(side) for side in (flow.source, flow.destination) if unisolated(side, model)]
    return [f"no NetworkPolicy confines {' or '.join(ends)} (host network or EKS's CoreDNS)"] if ends else []


def unisolated(side: Endpoint, model: ClusterModel) -> bool:
    """A pod no NetworkPolicy confines: one on the host network (its traffic is the node's,
    which the agent never judges), or a workload the platform leaves to EKS (NOT_ISOLATED:
    CoreDNS). What reaches them or leaves them is the node's and EKS's to govern."""
    if side.kind != "pod":
        return False
    pod = model.workload(side.namespace, side.name)
    labels = pod.labels if pod is not None else side.labels
    if pod is not None and pod.host_network:
        return True
    return any(side.namespace == kept.namespace and kept.labels.items() <= labels.items() for kept in NOT_ISOLATED)


def describe(endpoint: Endpoint) -> str:
    if endpoint.kind == "pod":
        name = endpoint.name or ",".join(f"{k}={v}" for k, v in sorted(endpoint.labels.items()))
        return f"{endpoint.namespace}/{name}"
    if endpoint.kind == "service":
        return f"Service {endpoint.namespace}/{endpoint.name}"
    if endpoint.kind == "address":
        return endpoint.address
    return endpoint.kind


_POLICY = re.compile(r"NetworkPolicy ([\w.-]+/[\w.-]+)")


def flows_markdown(
    stack: str,
    entries: Sequence[tuple[Flow, Verdict, Sequence[str]]],
    extra: Sequence[tuple[Flow, Verdict]] = (),
) -> str:
    lines = [
        f"# Connectivity of stack {stack}",
        "",
        "Every flow EKS lets through (offline/flows.py: the VPC CNI's network policy enforcement), "
        "why it is needed (the components' declarations, components/traffic.py) and the NetworkPolicies "
        "that allow it. Replies need no rule.",
        "",
        "```mermaid",
        *mermaid([(f, v) for f, v, _ in entries]),
        "```",
        "",
        "| from | to | port | why | allowed by |",
        "|---|---|---|---|---|",
    ]
    lines += [_row(f, v, reasons) for f, v, reasons in entries]
    lines += [
        "",
        f"## Allowed, but declared by no component ({len(extra)} of {len(entries)})",
        "",
        "Flows the policies let through that no component's `flows()` asks for "
        "(components/traffic.py): where the policies grant more than the platform needs.",
        "",
        "| from | to | port | why | allowed by |",
        "|---|---|---|---|---|",
        *(_row(f, v, ()) for f, v in extra),
    ]
    return "\n".join(lines) + "\n"


def _row(flow: Flow, verdict: Verdict, reasons: Sequence[str]) -> str:
    where = f"| {describe(flow.source)} | {describe(flow.destination)} | {flow.protocol} {flow.port} |"
    why = "; ".join(reasons) or "(declared by no component)"
    policies = ", ".join(sorted(set(_POLICY.findall(verdict.reason)))) or verdict.reason
    return f"{where} {why} | {policies} |"


def _area(endpoint: Endpoint) -> str:
    """What the picture draws an endpoint as: its namespace, or what it is outside the cluster."""
    if endpoint.kind in ("pod", "service"):
        return f"namespace {endpoint.namespace}"
    return {"api-server": "Kubernetes API", "control-plane": "control plane", "node": "node"}.get(
        endpoint.kind, f"address {endpoint.address}"
    )


def _edges(entries: Sequence[tuple[Flow, Verdict]]) -> dict[tuple[str, str], list[str]]:
    """Namespace-level edges with their ports (the table has each workload's flows)."""
    edges: dict[tuple[str, str], list[str]] = defaultdict(list)
    for flow, _ in entries:
        port = f"{flow.port}/{flow.protocol}" if flow.protocol != "TCP" else str(flow.port)
        key = (_area(flow.source), _area(flow.destination))
        if port not in edges[key]:
            edges[key].append(port)
    return edges


def _node_id(name: str) -> str:
    return "n_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def mermaid(entries: Sequence[tuple[Flow, Verdict]]) -> list[str]:
    lines = ["flowchart LR"]
    for (source, destination), ports in sorted(_edges(entries).items()):
        label = ",".join(ports)
        lines.append(f'  {_node_id(source)}["{source}"] -->|{label}| {_node_id(destination)}["{destination}"]')
    return lines


def dot(stack: str, entries: Sequence[tuple[Flow, Verdict]]) -> str:
    lines = [f'digraph "{stack}" {{', "  rankdir=LR;", '  node [shape=box, fontname="Helvetica"];']
    for (source, destination), ports in sorted(_edges(entries).items()):
        lines.append(f'  "{source}" -> "{destination}" [label="{",".join(ports)}"];')
    lines.append("}")
    return "\n".join(lines) + "\n"


def connectivity(model: ClusterModel) -> list[tuple[Flow, Verdict]]:
    """Every allowed flow with its verdict."""
    return [(flow, model.verdict(flow)) for flow in model.allowed_flows()]


def write_map(run: StackRun, objects: Sequence[Placed], target: Path) -> tuple[int, int, int]:
    """Writes the map; returns (flows declared, flows allowed, allowed but undeclared)."""
    network = stack_network(run)
    model = stack_model(objects, network)
    entries = connectivity(model)
    explained = [
        (f, v, [need.why for need in declarations(f, run.flows, model)] or _unconfined(f, model)) for f, v in entries
    ]
    extra = undeclared(entries, run.flows, model)
    target.mkdir(parents=True, exist_ok=True)
    (target / "flows.md").write_text(flows_markdown(run.stack, explained, extra))
    graph = dot(run.stack, entries)
    (target / "flows.dot").write_text(graph)
    renderer = shutil.which("dot")
    if renderer:
        subprocess.run(
            [renderer, "-Tsvg", "-o", str(target / "flows.svg")], input=graph, text=True, check=True, timeout=120
        )
    return len(run.flows), len(entries), len(extra)
