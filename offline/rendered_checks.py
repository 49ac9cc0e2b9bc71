"""Checks over what the charts really render, together with the program's own objects.

``check_stack`` is the one entry point of the offline plan and the tests: it renders every
chart of a stack (offline/render.py) and returns the findings of the checks over the
stack run (offline/checks.py) and of the checks below, one line per violation, naming
the chart or resource it comes from.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import kubernetes_validate

from components import backup_image, registry
from components.charts import BITNAMI_IMAGES, PINNED, PLACEHOLDER_CREDENTIALS
from components.monitoring import EKS_UNSCRAPED
from components.namespaces import PLATFORM_NAMESPACES
from offline import connectivity, hosts, pod_security, wiring
from offline.charts import chart_archive
from offline.checks import run_checks
from offline.crd_schemas import duplicate_list_key_findings
from offline.harness import MOCK_ACCOUNT_ID, StackRun
from offline.irsa import irsa_findings
from offline.operated import operated_objects
from offline.render import ARGO_CD, ChartSource, Placed, StackRendering, helm_template, render_stack
from offline.values_usage import unread_values

RenderedCheck = Callable[[StackRendering], list[str]]

# helm test hooks are created only by `helm test`, which neither Pulumi nor Argo CD run.
_TEST_HOOKS = {"test", "test-success", "test-failure"}


def _is_test_hook(obj: Mapping[str, Any]) -> bool:
    hooks = ((obj.get("metadata") or {}).get("annotations") or {}).get("helm.sh/hook", "")
    return bool(set(str(hooks).replace(" ", "").split(",")) & _TEST_HOOKS)


def deployed(rendering: StackRendering) -> Iterator[Placed]:
    """Everything the stack creates in the cluster: the program's objects and the
    charts' (helm test hooks excepted)."""
    for placed in rendering.objects():
        if not _is_test_hook(placed.obj):
            yield placed


def describe(obj: Mapping[str, Any]) -> str:
    metadata = obj.get("metadata") or {}
    namespace = f"{metadata['namespace']}/" if metadata.get("namespace") else ""
    return f"{obj.get('kind')} {namespace}{metadata.get('name')}"


def charts_render(rendering: StackRendering) -> list[str]:
    """helm renders every chart: its values pass the chart's values.schema.json and its
    own checks (required values, API versions it needs from the cluster)."""
    return [
        f"{chart.source.origin} ({chart.source.chart.name} {chart.source.chart.version}): {chart.error}"
        for chart in rendering.charts
        if chart.error
    ]


def objects_match_schema(rendering: StackRendering) -> list[str]:
    """Every object the stack creates, the program's and the charts', is what the API
    server accepts: a built-in object validates in strict mode against the official
    OpenAPI schema of the cluster's Kubernetes version, a custom resource against the
    openAPIV3Schema of the CRD the stack installs for it (offline/crd_schemas.py); unknown
    fields are errors in both, since the API server would drop them."""
    crds = rendering.crds
    findings = []
    for origin, _, obj in deployed(rendering):
        api_version, kind = str(obj.get("apiVersion")), str(obj.get("kind"))
        if crds.knows(api_version, kind):
            findings += [f"{origin}: {describe(obj)}: {finding}" for finding in crds.findings(obj)]
            continue
        try:
            kubernetes_validate.validate(obj, rendering.kube_version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            findings.append(
                f"{origin}: {describe(obj)}: neither Kubernetes {rendering.kube_version} nor a CRD "
                f"of the stack serves {api_version} {kind}"
            )
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path) or "(root)"
            findings.append(f"{origin}: {describe(obj)}: {where}: {error.message}")
    return findings


def values_are_read(rendering: StackRendering) -> list[str]:
    """Every value key the platform sets is read by its chart: helm ignores a key it does
    not know without a word, so a misspelt or moved key would silently leave the chart's
    default in place (offline/values_usage.py: static candidates, confirmed by rendering
    with the key changed and removed)."""
    findings = []
    for chart in rendering.charts:
        if chart.error:
            continue  # charts_render reports it
        source = chart.source

        def render(values: Mapping[str, Any], source: ChartSource = source) -> str:
            return helm_template(source, rendering.kube_version, values=values)

        unread = unread_values(chart_archive(source.chart), source.values, render)
        findings += [
            f"{source.origin} ({source.chart.name} {source.chart.version}): value {key} is not read by the chart"
            for key in unread
        ]
    return findings


def _server_side_applied(rendering: StackRendering) -> Iterator[Placed]:
    """What is applied with server-side apply: the program's objects (pulumi-kubernetes 4
    applies server-side; the platform's provider sets enable_server_side_apply) and the
    objects of every Argo CD Application that syncs with ServerSideApply=true. Helm
    releases are applied by helm's own three-way merge."""
    for resource, obj in rendering.program_objects:
        yield Placed(f"{resource.type} {resource.name}", "", obj)
    for chart in rendering.charts:
        if chart.source.deployer == ARGO_CD and chart.source.server_side_apply:
            yield from (Placed(chart.source.origin, chart.source.namespace, obj) for obj in chart.objects)


def server_side_apply_accepts(rendering: StackRendering) -> list[str]:
    """Nothing applied server-side has two entries of one key in a keyed list (env,
    ports, volumes, containers...): the API server refuses such an object ("duplicate
    entries for key"), so the sync fails every time. An Application that applies its chart
    client-side for that reason must still need to: once its chart renders nothing that
    server-side apply refuses, the exception is stale."""
    findings = [
        f"{origin}: {finding}"
        for origin, _, obj in _server_side_applied(rendering)
        for finding in duplicate_list_key_findings(obj, rendering.crds, rendering.kube_version)
    ]
    for chart in rendering.charts:
        source = chart.source
        if source.deployer != ARGO_CD or source.server_side_apply or chart.error:
            continue
        if not any(duplicate_list_key_findings(o, rendering.crds, rendering.kube_version) for o in chart.objects):
            findings.append(
                f"{source.origin}: syncs without ServerSideApply=true, but its chart renders nothing that "
                "server-side apply refuses: drop its client_side_apply_reason"
            )
    return findings


# Environment variables that hold a credential, by the name the application reads it under.
_CREDENTIAL_VARIABLE = re.compile(r"(PASSWORD|PASSWD|SECRET|TOKEN|API_?KEY|AUTH_KEY|PRIVATE_KEY)$", re.IGNORECASE)
_REFERENCE = re.compile(r"^\$\([A-Za-z_][A-Za-z0-9_]*\)$")


def no_credential_in_plain_env(rendering: StackRendering) -> list[str]:
    """No container gets a credential as a literal env value (a chart default such as
    "password", or a secret copied into values): credentials come from Secrets
    (valueFrom, envFrom) or as a $(VAR) reference to a variable that does. A chart's
    documented placeholder for an unused credential (components/charts.PLACEHOLDER_CREDENTIALS)
    is no credential."""
    sources = [(f"{r.type} {r.name}", obj, "") for r, obj in rendering.program_objects]
    sources += [(c.source.origin, obj, c.source.chart.name) for c in rendering.charts for obj in c.objects]
    findings = []
    for origin, obj, chart in sources:
        template = pod_security.pod_template(obj)
        if template is None or _is_test_hook(obj):
            continue
        placeholders = PLACEHOLDER_CREDENTIALS.get(chart, {})
        for kind in ("initContainers", "containers"):
            for container in template[1].get(kind) or []:
                for env in container.get("env") or []:
                    value = str(env.get("value") or "")
                    literal = value and not _REFERENCE.match(value) and value not in placeholders
                    if literal and _CREDENTIAL_VARIABLE.search(str(env.get("name"))):
                        findings.append(
                            f"{origin}: {describe(obj)}: container {container.get('name')}: {env['name']} is a "
                            "literal value; take it from a Secret"
                        )
    return findings


def wiring_matches_the_charts(rendering: StackRendering) -> list[str]:
    """Selectors and names that point at other objects meet what the charts really render:
    NetworkPolicy and disruption budget selectors select pods, ServiceMonitors select
    Services with the ports they name, KEDA scales workloads that exist, Ingresses and
    in-cluster addresses in the program's objects and the charts' values name Services and
    ports that exist (offline/wiring.py). What the cluster and its operators create for
    the stack (offline/operated.py) counts as there."""
    objects = list(deployed(rendering))
    objects += operated_objects(objects)
    cluster = wiring.Cluster.of(objects)
    findings = [finding for placed in objects for check in wiring.OBJECT_CHECKS for finding in check(cluster, placed)]
    for resource, obj in rendering.program_objects:
        findings += wiring.address_findings(cluster, f"{resource.type} {resource.name}", obj)
    for chart in rendering.charts:
        findings += wiring.address_findings(cluster, f"{chart.source.origin} values", chart.source.values)
    return findings


def alerts_watch_what_eks_exposes(rendering: StackRendering) -> list[str]:
    """No alert rule, the charts' or the program's, watches a scrape job of something EKS
    does not let Prometheus scrape (components/monitoring.EKS_UNSCRAPED): its ``up`` is
    absent or 0 forever, and such an alert fires from the first day."""
    findings = []
    for origin, _, obj in deployed(rendering):
        if obj.get("kind") != "PrometheusRule":
            continue
        for group in (obj.get("spec") or {}).get("groups") or []:
            for rule in group.get("rules") or []:
                expression = str(rule.get("expr", ""))
                for job, reason in EKS_UNSCRAPED.items():
                    if "alert" in rule and re.search(rf'job=~?"{re.escape(job)}"', expression):
                        findings.append(f"{origin}: alert {rule['alert']} watches job {job}: {reason}")
    return findings


def _images(value: Any) -> Iterator[str]:
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "image" and isinstance(item, str):
                yield item
            else:
                yield from _images(item)
    elif isinstance(value, list):
        for item in value:
            yield from _images(item)


# registry/repository[:tag][@sha256:digest]; the tag is what follows the last ':' after the last '/'.
_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_findings(image: str) -> list[str]:
    """An image reference pins a release: a digest, or a tag that is not ``latest``;
    a Bitnami image only where BITNAMI_IMAGES says why."""
    findings = []
    name = _DIGEST.sub("", image)
    last = name.rsplit("/", 1)[-1]
    tag = last.split(":", 1)[1] if ":" in last else ""
    repository = name.removesuffix(f":{tag}") if tag else name
    if not _DIGEST.search(image) and not tag:
        findings.append(f"image {image} has neither a tag nor a digest")
    if tag == "latest":
        findings.append(f"image {image} is tagged latest, which moves")
    bitnami = {"bitnami", "bitnamilegacy"} & set(repository.split("/"))
    # BITNAMI_IMAGES names Docker Hub repositories; the stack pulls them through its cache.
    known = any(repository == known or repository.endswith(f"/{known.split('/', 1)[1]}") for known in BITNAMI_IMAGES)
    if bitnami and not known:
        findings.append(
            f"image {image} is a Bitnami image (no longer maintained for free); "
            "add it to components/charts.BITNAMI_IMAGES with the reason, or replace it"
        )
    return findings


def images_pinned(rendering: StackRendering) -> list[str]:
    """Every image the stack runs, in pod templates and in the custom resources that
    operators turn into pods."""
    findings: set[str] = set()
    for origin, _, obj in deployed(rendering):
        if obj.get("kind") == "CustomResourceDefinition":
            continue
        for image in _images(obj):
            findings |= {f"{origin}: {describe(obj)}: {finding}" for finding in image_findings(image)}
    return sorted(findings)


# An image passed to a program as a flag (cert-manager's --acme-http01-solver-image,
# prometheus-operator's --prometheus-config-reloader): a registry host with a dot, a
# repository path, and a tag or a digest (which tells it from a class name such as
# Traefik's k8s.io/ingress-nginx).
_IMAGE_FLAG = re.compile(
    r"^--[\w.-]+=(?P<image>[a-z0-9-]+(?:\.[a-z0-9-]+)+(?::\d+)?/[\w./-]+"
    r"(?::[\w.-]+(?:@sha256:[0-9a-f]{64})?|@sha256:[0-9a-f]{64}))$"
)


def _flag_images(value: Any) -> Iterator[str]:
    for text in wiring.strings(value):
        if match := _IMAGE_FLAG.match(text):
            yield match["image"]


def stack_registry_findings(image: str, stack_registry: str) -> list[str]:
    """An image comes from the stack's own registry (``<account>.dkr.ecr.<region>.amazonaws.com/
    <name prefix>``): through one of its pull-through cache rules, or its backup image's
    repository."""
    repositories = [upstream.name for upstream in registry.UPSTREAMS] + [backup_image.REPOSITORY]
    if any(image.startswith(f"{stack_registry}/{repository}/") for repository in repositories):
        return []
    if any(image.startswith(f"{stack_registry}/{repository}@") for repository in repositories):
        return []
    return [
        f"image {image} is not pulled through the stack's registry {stack_registry}/"
        f"{{{','.join(repositories)}}}: set the chart's image values with components/registry.ImageRegistry "
        "(a new upstream needs its rule in components/registry.UPSTREAMS)"
    ]


def images_from_the_stacks_registry(rendering: StackRendering, stack_registry: str) -> list[str]:
    """Every image the stack runs, in pod templates, in the custom resources operators turn
    into pods and in the flags that name images to a program, is pulled from the stack's own
    ECR in its own region: a chart bump that brings an image from elsewhere, or a reference
    to another stack's registry, is a finding (an activation would pull it from the
    internet, or from the lost region)."""
    findings: set[str] = set()
    for origin, _, obj in deployed(rendering):
        if obj.get("kind") == "CustomResourceDefinition":
            continue
        for image in {*_images(obj), *_flag_images(obj)}:
            findings |= {f"{origin}: {describe(obj)}: {f}" for f in stack_registry_findings(image, stack_registry)}
    return sorted(findings)


def namespace_levels() -> dict[str, str]:
    """The Pod Security level each namespace enforces: the platform's own
    (components/namespaces.py), and kube-system, which EKS creates without Pod Security
    labels, so the cluster's default (privileged) applies there."""
    return {"kube-system": pod_security.PRIVILEGED} | {spec.name: spec.pod_security for spec in PLATFORM_NAMESPACES}


def pods_meet_pod_security(rendering: StackRendering) -> list[str]:
    """Every pod template (Deployments, StatefulSets, Jobs and hooks, CronJobs...) meets
    the Pod Security Standard its namespace enforces; a workload in a namespace the
    platform does not create is a finding, since nothing decides its level."""
    levels = namespace_levels()
    findings = []
    for origin, namespace, obj in deployed(rendering):
        if pod_security.pod_template(obj) is None:
            continue
        if namespace not in levels:
            findings.append(f"{origin}: {describe(obj)}: namespace {namespace!r} is not a platform namespace")
            continue
        findings += [
            f"{origin}: {finding} (namespace {namespace} enforces {levels[namespace]})"
            for finding in pod_security.pod_security_findings(obj, levels[namespace])
        ]
    return findings


def charts_come_from_the_stack_copy(run: StackRun, rendering: StackRendering) -> list[str]:
    """With ``chartSource: mirror`` (the default), every Helm release and Argo CD
    Application reads its chart from the stack's own copy, in the ECR registry of the
    stack's account and region, at the pinned version (README "Charts"): a dr stack's
    activation then reads no public chart repository."""
    if run.exports.get("chartSource") != "mirror":
        return []
    copy = f"oci://{MOCK_ACCOUNT_ID}.dkr.ecr.{run.exports['region']}.amazonaws.com/tx-{run.exports['environment']}"
    pinned = {(chart.name, chart.version) for chart in PINNED}
    findings = []
    for source in (chart.source for chart in rendering.charts):
        expected = f"{copy}/charts/{source.chart.name}"
        if source.reference != expected:
            findings.append(
                f"{source.origin} reads {source.chart.name} {source.chart.version} from {source.reference}, "
                f"not from the stack's copy {expected}"
            )
        elif (source.chart.name, source.chart.version) not in pinned:
            findings.append(
                f"{source.origin} reads {source.chart.name} at {source.chart.version}, "
                "which components/charts.py does not pin"
            )
    return findings


def figures(rendering: StackRendering) -> str:
    """What the checks covered, in one line for the plan's summary."""
    objects = list(deployed(rendering))
    crds = rendering.crds
    custom = [obj for _, _, obj in objects if crds.knows(str(obj.get("apiVersion")), str(obj.get("kind")))]
    pods = [obj for _, _, obj in objects if pod_security.pod_template(obj) is not None]
    releases = sum(1 for chart in rendering.charts if chart.source.deployer != ARGO_CD)
    return (
        f"charts rendered: {releases} Helm releases, {len(rendering.charts) - releases} Argo CD Applications; "
        f"objects validated: {len(objects)} ({len(custom)} custom resources against {len(crds.crds)} CRDs); "
        f"pod templates checked for Pod Security: {len(pods)}"
    )


RENDERED_CHECKS: tuple[RenderedCheck, ...] = (
    charts_render,
    values_are_read,
    objects_match_schema,
    server_side_apply_accepts,
    no_credential_in_plain_env,
    images_pinned,
    pods_meet_pod_security,
    wiring_matches_the_charts,
    alerts_watch_what_eks_exposes,
)


def check_stack(run: StackRun, rendering: StackRendering | None = None) -> tuple[StackRendering, list[str]]:
    """Render the stack's charts (unless ``rendering`` is the run's, rendered already); every
    finding of every check over the run and the rendering."""
    rendering = rendering if rendering is not None else render_stack(run)
    findings = run_checks(run)
    findings += [f"{check.__name__}: {finding}" for check in RENDERED_CHECKS for finding in check(rendering)]
    findings += [
        f"images_from_the_stacks_registry: {finding}"
        for finding in images_from_the_stacks_registry(rendering, str(run.exports["imageRegistry"]))
    ]
    findings += [
        f"charts_come_from_the_stack_copy: {finding}" for finding in charts_come_from_the_stack_copy(run, rendering)
    ]
    if "servedHosts" in run.exports:
        findings += [
            f"hosts_are_served_named_probed_and_certified: {finding}"
            for finding in hosts.host_findings(run, deployed(rendering))
        ]
    findings += [
        f"irsa_roles_trust_their_service_accounts: {finding}" for finding in irsa_findings(run, deployed(rendering))
    ]
    if run.flows:
        objects = list(deployed(rendering))
        network = connectivity.stack_network(run)
        model = connectivity.stack_model(objects, network)
        observed = connectivity.observed_flows(objects, model)
        findings += [
            f"required_flows_are_allowed: {finding}"
            for finding in connectivity.required_flows_are_allowed(run.flows, model, network, observed)
        ]
        findings += [
            f"no_flow_open_that_nothing_requires: {finding}"
            for finding in (
                *connectivity.unrequired_flows(model, run.flows, network),
                *connectivity.api_access_without_a_role(run.flows, objects, model),
            )
        ]
    return rendering, findings
