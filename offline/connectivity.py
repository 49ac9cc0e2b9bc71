"""The stack's connectivity map: which workloads may talk to which, and to what outside the
cluster, as EKS enforces its NetworkPolicies (offline/flows.py), with the reason for each.

The plan writes it to ``build/plan/<stack>/``: ``flows.md`` (every allowed flow with the
policy that allows it and that policy's purpose, and a Mermaid diagram of the workloads),
``flows.dot`` and, where Graphviz is installed, ``flows.svg``. A change that opens or closes
a flow changes the map, so reviewers see it in the plan's diff.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

from components.traffic import Need, Outside, Pods, ServiceRef
from offline.flows import INTERNET, ClusterModel, Endpoint, Flow, Network, Verdict
from offline.harness import StackRun
from offline.operated import operated_objects
from offline.render import Placed

SUBNET = "aws:ec2/subnet:Subnet"
PURPOSE_ANNOTATION = "tractusx-platform/purpose"


def stack_network(run: StackRun) -> Network:
    """The stack's VPC, service CIDR and private subnets (where pods, nodes and the API
    endpoint's interfaces live), from what the program registers."""
    private = sorted(
        str(r.inputs["cidrBlock"])
        for r in run.of_type(SUBNET)
        if (r.inputs.get("tags") or {}).get("kubernetes.io/role/internal-elb") == "1"
    )
    return Network(str(run.exports["vpcCidr"]), str(run.exports["serviceCidr"]), tuple(private))


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


def required_flows_are_allowed(needs: Sequence[Need], model: ClusterModel, network: Network) -> list[str]:
    """Every flow a component declares it needs (components/traffic.py) is allowed, as
    EKS enforces the stack's NetworkPolicies."""
    findings = []
    for need in needs:
        flow = Flow(endpoint(need.source, network), endpoint(need.destination, network), need.port, need.protocol)
        try:
            verdict = model.verdict(flow)
        except ValueError as error:  # the declaration names no workload (or several) of the stack
            findings.append(f"{need.why}: {error}")
            continue
        if not verdict.allowed:
            where = f"{describe(flow.source)} -> {describe(flow.destination)} {need.protocol} {need.port}"
            findings.append(f"{need.why}: {where} is blocked: {verdict.reason}")
    return findings


def _matches(declared: Pods | ServiceRef | Outside, actual: Endpoint, network: Network) -> bool:
    if isinstance(declared, Pods):
        return (
            actual.kind == "pod"
            and actual.namespace == declared.namespace
            and declared.labels.items() <= actual.labels.items()
        )
    if isinstance(declared, ServiceRef):
        return actual.kind == "service" and (actual.namespace, actual.name) == (declared.namespace, declared.name)
    if declared.what == "kubernetes-api":  # its Service, or the private endpoint's interfaces
        return actual.kind == "api-server" or (actual.kind == "control-plane" and bool(actual.address))
    if declared.what == "control-plane":
        return actual.kind == "control-plane"
    return actual == endpoint(declared, network)


def undeclared(
    entries: Sequence[tuple[Flow, Verdict]], needs: Sequence[Need], network: Network
) -> list[tuple[Flow, Verdict]]:
    """The allowed flows no component declares it needs: where the policies grant more
    than the platform asks for (a selector that also admits a Service's pods directly,
    a namespace without policies, a rule wider than its use)."""
    return [
        (flow, verdict)
        for flow, verdict in entries
        if not any(
            need.port == flow.port
            and need.protocol == flow.protocol
            and _matches(need.source, flow.source, network)
            and _matches(need.destination, flow.destination, network)
            for need in needs
        )
    ]


def purposes(objects: Iterable[Placed]) -> dict[str, str]:
    """Each NetworkPolicy's stated purpose, by ``namespace/name``."""
    found = {}
    for _, namespace, obj in objects:
        if obj.get("kind") == "NetworkPolicy":
            metadata = obj.get("metadata") or {}
            purpose = (metadata.get("annotations") or {}).get(PURPOSE_ANNOTATION, "")
            found[f"{namespace}/{metadata.get('name')}"] = str(purpose)
    return found


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


def _why(verdict: Verdict, policy_purposes: Mapping[str, str]) -> str:
    names = sorted(set(_POLICY.findall(verdict.reason)))
    if not names:
        return verdict.reason
    return "; ".join(f"{name}: {policy_purposes.get(name) or '(no purpose stated)'}" for name in names)


def flows_markdown(
    stack: str,
    entries: Sequence[tuple[Flow, Verdict]],
    policy_purposes: Mapping[str, str],
    extra: Sequence[tuple[Flow, Verdict]] = (),
) -> str:
    lines = [
        f"# Connectivity of stack {stack}",
        "",
        "Every flow EKS lets through (offline/flows.py: the VPC CNI's network policy enforcement), "
        "with the NetworkPolicies that allow it and why. Replies need no rule.",
        "",
        "```mermaid",
        *mermaid(entries),
        "```",
        "",
        "| from | to | port | allowed by |",
        "|---|---|---|---|",
    ]
    lines += [_row(f, v, policy_purposes) for f, v in entries]
    lines += [
        "",
        f"## Allowed, but declared by no component ({len(extra)} of {len(entries)})",
        "",
        "Flows the policies let through that no component's `flows()` asks for "
        "(components/traffic.py): where the policies grant more than the platform needs.",
        "",
        "| from | to | port | allowed by |",
        "|---|---|---|---|",
        *(_row(f, v, policy_purposes) for f, v in extra),
    ]
    return "\n".join(lines) + "\n"


def _row(flow: Flow, verdict: Verdict, policy_purposes: Mapping[str, str]) -> str:
    where = f"| {describe(flow.source)} | {describe(flow.destination)} | {flow.protocol} {flow.port} |"
    return f"{where} {_why(verdict, policy_purposes)} |"


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
    entries = connectivity(stack_model(objects, network))
    extra = undeclared(entries, run.flows, network)
    target.mkdir(parents=True, exist_ok=True)
    (target / "flows.md").write_text(flows_markdown(run.stack, entries, purposes(objects), extra))
    graph = dot(run.stack, entries)
    (target / "flows.dot").write_text(graph)
    renderer = shutil.which("dot")
    if renderer:
        subprocess.run(
            [renderer, "-Tsvg", "-o", str(target / "flows.svg")], input=graph, text=True, check=True, timeout=120
        )
    return len(run.flows), len(entries), len(extra)
