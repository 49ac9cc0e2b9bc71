"""Every chart a stack deploys, rendered with the real helm exactly as it would be deployed.

Two deployers render charts on a real cluster:
- Pulumi's ``helm.v3.Release`` installs a chart with the values, release name and
  namespace of the resource, against the cluster's Kubernetes version, with the API
  versions the cluster serves at that moment: the built-in ones plus the CRDs installed
  before it. On a fresh cluster that is only what the release's dependencies installed,
  so a chart that needs a CRD (``monitoring.coreos.com/v1`` for a ServiceMonitor) from a
  release it does not depend on fails on the first ``pulumi up``, and here as well.
- Argo CD renders each Application's chart with ``helm template`` (release name
  ``spec.source.helm.releaseName``, namespace ``spec.destination.namespace``, values
  ``valuesObject``, ``--kube-version`` and ``--api-versions`` of the cluster; CRDs
  included). The root Application renders the argocd-apps chart; the child Applications
  it renders are taken from that real rendering, then rendered themselves.
CRDs under a chart's ``crds/`` are included (``--include-crds``), as both deployers
install them.
"""

from __future__ import annotations

import json
import subprocess
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from pathlib import Path
from typing import Any, NamedTuple

import kubernetes_validate
import yaml

from components.chart_mirror import pinned
from components.charts import Chart
from offline.charts import ChartError, chart_archive, helm
from offline.checks import kubernetes_version, plain
from offline.crd_schemas import CrdIndex
from offline.harness import RegisteredResource, StackRun

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
CRD_KIND = ("apiextensions.k8s.io/v1", "CustomResourceDefinition")
PULUMI = "pulumi"
ARGO_CD = "argocd"


@dataclass(frozen=True)
class ChartSource:
    """One chart as a deployer would render it."""

    origin: str  # what deploys it: the Pulumi resource or the Argo CD Application
    deployer: str  # PULUMI or ARGO_CD
    name: str  # the Pulumi resource's or the Application's name
    release: str
    namespace: str
    chart: Chart
    values: Mapping[str, Any]
    api_versions: frozenset[str] = frozenset()
    # Argo CD applies with server-side apply (the Application's ServerSideApply=true).
    server_side_apply: bool = False
    # Where the deployer reads the chart: the chart repository's URL, or the OCI
    # repository of the stack's copy (components/chart_mirror.py).
    reference: str = ""


@dataclass
class RenderedChart:
    source: ChartSource
    text: str = ""  # what helm printed
    objects: list[dict[str, Any]] = field(default_factory=list)
    error: str = ""  # helm's error (values schema, a required value, a missing API version)

    @property
    def file_name(self) -> str:
        return f"{self.source.deployer}-{self.source.release}.yaml"


def helm_template(source: ChartSource, kube_version: str, values: Mapping[str, Any] | None = None) -> str:
    """``helm template`` of ``source`` (with ``values`` instead of its own when given); raises
    RenderError with helm's message when helm refuses."""
    return template_archive(
        chart_archive(source.chart),
        source.release,
        source.namespace,
        kube_version,
        values=source.values if values is None else values,
        api_versions=source.api_versions | builtin_api_versions(kube_version),
    )


def template_archive(
    archive: Path,
    release: str,
    namespace: str,
    kube_version: str,
    *,
    values: Mapping[str, Any],
    api_versions: frozenset[str] = frozenset(),
) -> str:
    """``helm template`` of a chart archive, CRDs included."""
    with tempfile.NamedTemporaryFile("w", suffix=".yaml") as values_file:
        yaml.safe_dump(dict(values), values_file)
        values_file.flush()
        command = [
            helm(),
            "template",
            release,
            str(archive),
            "--namespace",
            namespace,
            "--kube-version",
            kube_version,
            "--include-crds",
            "--values",
            values_file.name,
        ]
        for api_version in sorted(api_versions):
            command += ["--api-versions", api_version]
        result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise RenderError(result.stderr.strip())
    return result.stdout


class RenderError(RuntimeError):
    """helm refused to render a chart."""


class _KubernetesLoader(yaml.CSafeLoader):
    """YAML as Kubernetes reads it (sigs.k8s.io/yaml): a bare ``=`` is the string "=",
    not YAML 1.1's ``value`` tag, which PyYAML cannot construct."""


_KubernetesLoader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:value"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def parse_objects(text: str) -> list[dict[str, Any]]:
    return [doc for doc in yaml.load_all(text, Loader=_KubernetesLoader) if isinstance(doc, dict) and doc]


def render(source: ChartSource, kube_version: str) -> RenderedChart:
    try:
        text = helm_template(source, kube_version)
        return RenderedChart(source, text, parse_objects(text))
    except (RenderError, ChartError) as error:
        return RenderedChart(source, error=str(error))


def crd_api_versions(objects: Iterable[Mapping[str, Any]]) -> set[str]:
    """``group/version`` and ``group/version/Kind`` of every version the CRDs serve, as
    helm's ``--api-versions`` (and ``.Capabilities.APIVersions.Has``) spell them."""
    found: set[str] = set()
    for obj in objects:
        if (obj.get("apiVersion"), obj.get("kind")) != CRD_KIND:
            continue
        spec = obj.get("spec") or {}
        kind = (spec.get("names") or {}).get("kind", "")
        for version in spec.get("versions") or []:
            if version.get("served", True):
                found |= {f"{spec.get('group')}/{version['name']}", f"{spec.get('group')}/{version['name']}/{kind}"}
    return found


@cache
def builtin_api_versions(kube_version: str) -> frozenset[str]:
    """What a real API server of ``kube_version`` serves, in both of helm's spellings.

    ``helm template`` alone knows only ``group/version`` of the built-in APIs, while
    ``helm install`` against a cluster (and Argo CD) also see ``group/version/Kind``:
    charts test for e.g. ``policy/v1/PodDisruptionBudget`` and would otherwise fall back
    to an API the cluster no longer serves. The list is the group-version-kinds of the
    official OpenAPI schema of that Kubernetes version, as kubernetes-validate ships it.
    """
    folder = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{kube_version}.0-local"
    definitions = json.loads((folder / "_definitions.json").read_text())["$defs"]
    found: set[str] = set()
    for definition in definitions.values():
        for gvk in definition.get("x-kubernetes-group-version-kind") or []:
            group_version = f"{gvk['group']}/{gvk['version']}" if gvk["group"] else gvk["version"]
            found |= {group_version, f"{group_version}/{gvk['kind']}"}
    return frozenset(found)


class _Graph:
    """Which resources a resource waits for: its dependencies, what a component it depends
    on contains, and so on transitively (Pulumi waits for a component's children)."""

    def __init__(self, resources: Sequence[RegisteredResource]) -> None:
        self._by_urn = {r.urn: r for r in resources}
        self._children: dict[str, list[str]] = {}
        for r in resources:
            self._children.setdefault(r.parent, []).append(r.urn)

    def waits_for(self, resource: RegisteredResource) -> set[str]:
        seen: set[str] = set()
        pending = list(resource.dependencies)
        while pending:
            urn = pending.pop()
            if urn in seen:
                continue
            seen.add(urn)
            pending += self._children.get(urn, [])
            if urn in self._by_urn:
                pending += self._by_urn[urn].dependencies
        return seen


def _release_source(resource: RegisteredResource, api_versions: frozenset[str]) -> ChartSource:
    inputs = plain(resource.inputs)
    # An OCI chart is its own reference; a repository chart is read from repositoryOpts.repo.
    chart = str(inputs["chart"])
    reference = chart if chart.startswith("oci://") else str((inputs.get("repositoryOpts") or {}).get("repo", ""))
    return ChartSource(
        origin=f"helm release {resource.name}",
        deployer=PULUMI,
        name=resource.name,
        release=str(inputs["name"]),
        namespace=str(inputs["namespace"]),
        chart=deployed_chart(reference, str(inputs["chart"]).rsplit("/", 1)[-1], str(inputs["version"])),
        values=inputs.get("values") or {},
        api_versions=api_versions,
        reference=reference,
    )


def deployed_chart(reference: str, name: str, version: str) -> Chart:
    """The pinned chart a deployer reads at ``reference``: a chart repository's URL, or
    the stack's OCI copy of it (the same archive, so it renders the same)."""
    if reference.startswith("https://"):
        return Chart(reference, name, version)
    try:
        return pinned(name, version)
    except ValueError as error:
        raise ChartError(f"{reference}: {error}") from error


def application_source(application: Mapping[str, Any], api_versions: frozenset[str]) -> ChartSource:
    """The chart an Argo CD Application deploys, as Argo CD renders it."""
    spec = application["spec"]
    source = spec["source"]
    helm_spec = source.get("helm") or {}
    repository = str(source["repoURL"])
    return ChartSource(
        origin=f"Argo CD Application {application['metadata']['name']}",
        deployer=ARGO_CD,
        name=str(application["metadata"]["name"]),
        release=str(helm_spec.get("releaseName") or application["metadata"]["name"]),
        namespace=str(spec["destination"]["namespace"]),
        chart=deployed_chart(repository, str(source["chart"]), str(source["targetRevision"])),
        values=helm_spec.get("valuesObject") or {},
        api_versions=api_versions,
        server_side_apply="ServerSideApply=true" in ((spec.get("syncPolicy") or {}).get("syncOptions") or []),
        # A Helm OCI repository: Argo CD pulls oci://<repoURL>/<chart> (Argo CD user guide,
        # "Helm" > "Helm OCI"); a chart repository: the chart from its index.
        reference=repository if repository.startswith("https://") else f"oci://{repository}/{source['chart']}",
    )


def _is_application(obj: Mapping[str, Any]) -> bool:
    return obj.get("kind") == "Application" and str(obj.get("apiVersion", "")).startswith("argoproj.io/")


# Built-in kinds without a namespace (the API server's own scope for them); a deployer
# puts every other object without one in the release's namespace.
CLUSTER_SCOPED_KINDS = {
    "APIService",
    "CertificateSigningRequest",
    "ClusterRole",
    "ClusterRoleBinding",
    "CSIDriver",
    "CSINode",
    "CustomResourceDefinition",
    "DeviceClass",
    "FlowSchema",
    "IngressClass",
    "MutatingAdmissionPolicy",
    "MutatingAdmissionPolicyBinding",
    "MutatingWebhookConfiguration",
    "Namespace",
    "Node",
    "PersistentVolume",
    "PriorityClass",
    "PriorityLevelConfiguration",
    "RuntimeClass",
    "StorageClass",
    "ValidatingAdmissionPolicy",
    "ValidatingAdmissionPolicyBinding",
    "ValidatingWebhookConfiguration",
    "VolumeAttachment",
}


class Placed(NamedTuple):
    origin: str  # the Pulumi resource or the chart (release, Application) it comes from
    namespace: str  # where it lands; "" for a cluster-scoped object
    obj: dict[str, Any]


@dataclass
class StackRendering:
    """Every chart of a stack, rendered, and the program's own Kubernetes objects."""

    kube_version: str
    charts: list[RenderedChart]
    program_objects: list[tuple[RegisteredResource, dict[str, Any]]]

    def objects(self) -> list[Placed]:
        """Everything the stack puts in the cluster, with where it comes from and the
        namespace it lands in."""
        cluster_scoped = self._cluster_scoped_kinds()
        found = []
        sources = [(f"{r.type} {r.name}", "", obj) for r, obj in self.program_objects]
        sources += [(c.source.origin, c.source.namespace, obj) for c in self.charts for obj in c.objects]
        for origin, default_namespace, obj in sources:
            namespace = (obj.get("metadata") or {}).get("namespace") or default_namespace
            found.append(Placed(origin, "" if obj.get("kind") in cluster_scoped else namespace, obj))
        return found

    def _cluster_scoped_kinds(self) -> set[str]:
        return CLUSTER_SCOPED_KINDS | {
            crd["spec"]["names"]["kind"] for crd in self.all_crds() if crd["spec"].get("scope") == "Cluster"
        }

    def all_crds(self) -> list[dict[str, Any]]:
        every = [obj for _, obj in self.program_objects] + [obj for c in self.charts for obj in c.objects]
        return [obj for obj in every if (obj.get("apiVersion"), obj.get("kind")) == CRD_KIND]

    @cached_property
    def crds(self) -> CrdIndex:
        """The CRDs the stack installs (the charts' and the program's), to validate
        custom resources against."""
        return CrdIndex.from_objects(self.all_crds(), self.kube_version)

    def custom_kinds(self) -> set[tuple[str, str]]:
        """(apiVersion, kind) of every version of every CRD the stack installs."""
        return {
            (f"{crd['spec']['group']}/{version['name']}", crd["spec"]["names"]["kind"])
            for crd in self.all_crds()
            for version in crd["spec"].get("versions") or []
        }


def render_stack(run: StackRun) -> StackRendering:
    """Render every Helm release in dependency order and every Argo CD Application."""
    from offline.checks import is_kubernetes_object

    kube_version = kubernetes_version(run)
    graph = _Graph(run.resources)
    program_objects = [(r, plain(r.inputs)) for r in run.resources if is_kubernetes_object(r)]
    program_crds = {r.urn: crd_api_versions([obj]) for r, obj in program_objects}
    releases = [r for r in run.resources if r.type == HELM_RELEASE]
    provided: dict[str, set[str]] = dict(program_crds)
    charts: list[RenderedChart] = []
    # Resources register after what they depend on, so registration order is a
    # dependency order: each release sees the CRDs of the releases it waits for.
    for release in releases:
        waits = graph.waits_for(release)
        available = frozenset(v for urn in waits for v in provided.get(urn, ()))
        rendered = render(_release_source(release, available), kube_version)
        provided[release.urn] = crd_api_versions(rendered.objects)
        charts.append(rendered)
    for resource, manifest in program_objects:
        if resource.type != APPLICATION:
            continue
        available = frozenset(v for urn in graph.waits_for(resource) for v in provided.get(urn, ()))
        charts += _render_application(manifest, available, kube_version)
    return StackRendering(kube_version, charts, program_objects)


def _render_application(
    manifest: Mapping[str, Any], api_versions: frozenset[str], kube_version: str
) -> list[RenderedChart]:
    """An Application's chart and, for an app of apps, the charts of the Applications it renders."""
    rendered = render(application_source(manifest, api_versions), kube_version)
    found = [rendered]
    for obj in rendered.objects:
        if _is_application(obj):
            found += _render_application(obj, api_versions, kube_version)
    return found


def rendered_applications(run: StackRun) -> dict[str, dict[str, Any]]:
    """The child Applications the stack's Argo CD Applications render (the root
    Application's argocd-apps chart, rendered for real), by name."""
    kube_version = kubernetes_version(run)
    found: dict[str, dict[str, Any]] = {}
    for resource in run.of_type(APPLICATION):
        rendered = render(application_source(plain(resource.inputs), frozenset()), kube_version)
        if rendered.error:
            raise RenderError(f"{resource.name}: {rendered.error}")
        found |= {obj["metadata"]["name"]: obj for obj in rendered.objects if _is_application(obj)}
    return found


def write_rendered(rendering: StackRendering, target: Path) -> None:
    """Each chart's objects as one multi-document YAML file under ``target``."""
    target.mkdir(parents=True, exist_ok=True)
    for chart in rendering.charts:
        source = chart.source
        header = (
            f"# {source.origin}: chart {source.chart.name} {source.chart.version} ({source.reference}), "
            f"release {source.release}, namespace {source.namespace}, Kubernetes {rendering.kube_version}\n"
        )
        body = f"# helm refused to render it:\n# {chart.error}\n" if chart.error else ""
        body += chart.text
        (target / chart.file_name).write_text(header + body)
