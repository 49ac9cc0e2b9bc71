"""Every chart rendered for real, and each check over what they render shown to catch its fault.

The stacks' own renderings must pass every check (test_every_stack_renders_and_passes);
each other test plants one fault of a kind and sees it reported.
"""

from __future__ import annotations

from typing import Any

import pytest

from components import charts, edc, portal
from components import connector_values as connector
from components.charts import Chart
from offline.crd_schemas import duplicate_list_key_findings
from offline.harness import RegisteredResource, StackRun
from offline.render import (
    ARGO_CD,
    PULUMI,
    ChartSource,
    RenderedChart,
    StackRendering,
    builtin_api_versions,
    render_stack,
)
from offline.rendered_checks import (
    RENDERED_CHECKS,
    alerts_watch_what_eks_exposes,
    charts_render,
    check_stack,
    image_findings,
    images_from_the_stacks_registry,
    images_pinned,
    no_credential_in_plain_env,
    objects_match_schema,
    pods_meet_pod_security,
    server_side_apply_accepts,
    values_are_read,
)

RELEASE = "kubernetes:helm.sh/v3:Release"
CLUSTER = "aws:eks/cluster:Cluster"


def test_every_stack_renders_and_passes_every_check(checked: dict[str, tuple[StackRendering, list[str]]]) -> None:
    for name, (rendering, findings) in checked.items():
        assert findings == [], name
        assert not [chart.source.origin for chart in rendering.charts if chart.error]
        # 11 Helm releases, the root Application and the connector's.
        assert len(rendering.charts) == 13, name


def test_every_stack_with_the_portal_renders_and_passes_every_check(
    portal_runs: dict[str, StackRun], portal_checked: dict[str, tuple[StackRendering, list[str]]]
) -> None:
    """prod, dr at pilot light and dr activated, with the portal and its identity provider."""
    for name, run in portal_runs.items():
        rendering, findings = portal_checked[name]
        assert findings == [], name
        charts_of = {chart.source.chart.name for chart in rendering.charts}
        assert {"portal", "centralidp"} <= charts_of or name == "dr", name
        portal_flows = [need for need in run.flows if need.why == portal.FRONTEND_ROUTE]
        assert len(portal_flows) == (0 if name == "dr" else 1), name


def resource(type_: str, name: str, inputs: dict[str, Any], dependencies: tuple[str, ...] = ()) -> RegisteredResource:
    return RegisteredResource(
        type_, name, f"urn:{name}", inputs, "explicit", True, "", "test", dependencies=dependencies
    )


def cluster() -> RegisteredResource:
    return resource(CLUSTER, "cluster", {"version": "1.35"})


def release(name: str, chart: Chart, namespace: str, values: dict[str, Any], *after: str) -> RegisteredResource:
    inputs = {
        "name": name,
        "chart": chart.name,
        "version": chart.version,
        "repositoryOpts": {"repo": chart.repository},
        "namespace": namespace,
        "values": values,
    }
    return resource(RELEASE, name, inputs, tuple(f"urn:{a}" for a in after))


def rendered(*objects: dict[str, Any], deployer: str = PULUMI, server_side_apply: bool = False) -> StackRendering:
    source = ChartSource(
        "helm release test", deployer, "test", "test", "tractus-x", charts.KEDA, {}, server_side_apply=server_side_apply
    )
    return StackRendering("1.35", [RenderedChart(source, "", list(objects))], [])


def deployment(namespace: str = "tractus-x", **container: Any) -> dict[str, Any]:
    pod = {
        "securityContext": {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [
            {
                "name": "app",
                "image": "registry.example.org/app:1.0.0",
                "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]}},
                **container,
            }
        ],
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "app", "namespace": namespace},
        "spec": {
            "selector": {"matchLabels": {"app": "x"}},
            "template": {"metadata": {"labels": {"app": "x"}}, "spec": pod},
        },
    }


def test_every_rendered_check_runs_in_the_plan() -> None:
    assert {check.__name__ for check in RENDERED_CHECKS} == {
        "charts_render",
        "values_are_read",
        "objects_match_schema",
        "server_side_apply_accepts",
        "no_credential_in_plain_env",
        "images_pinned",
        "pods_meet_pod_security",
        "wiring_matches_the_charts",
        "alerts_watch_what_eks_exposes",
    }


# --- helm itself: values schema, required values, API versions -------------------------


def test_a_value_the_charts_schema_refuses_is_reported() -> None:
    bad = release("vault", charts.VAULT, "vault", {"server": {"ha": {"replicas": "three"}}})
    (finding,) = charts_render(render_stack(StackRun("test", [cluster(), bad], {})))
    assert finding.startswith("helm release vault (vault 0.34.1): ")
    assert "/server/ha/replicas" in finding and "got string, want integer" in finding


def test_a_release_that_needs_a_crd_it_does_not_wait_for_is_reported() -> None:
    """traefik's ServiceMonitor needs monitoring.coreos.com/v1 at install time: on a fresh
    cluster helm install fails unless the release waits for the one installing the CRD."""
    stack = release("stack", charts.KUBE_PROMETHEUS_STACK, "monitoring", {})
    values = {"metrics": {"prometheus": {"serviceMonitor": {"enabled": True}}}}
    (finding,) = charts_render(
        render_stack(StackRun("t", [cluster(), stack, release("ingress", charts.TRAEFIK, "traefik", values)], {}))
    )
    assert "You have to deploy monitoring.coreos.com/v1 first" in finding
    waits = release("ingress", charts.TRAEFIK, "traefik", values, "stack")
    assert charts_render(render_stack(StackRun("t", [cluster(), stack, waits], {}))) == []


def test_charts_see_the_builtin_apis_with_their_kinds_as_a_cluster_serves_them() -> None:
    """helm template alone knows no group/version/Kind, so traefik would fall back to
    policy/v1beta1 PodDisruptionBudgets, which Kubernetes 1.25 removed."""
    assert {"policy/v1", "policy/v1/PodDisruptionBudget"} <= builtin_api_versions("1.35")
    assert "policy/v1beta1/PodDisruptionBudget" not in builtin_api_versions("1.35")
    traefik = release(
        "ingress", charts.TRAEFIK, "traefik", {"podDisruptionBudget": {"enabled": True, "maxUnavailable": 1}}
    )
    (chart,) = render_stack(StackRun("t", [cluster(), traefik], {})).charts
    (pdb,) = [o for o in chart.objects if o["kind"] == "PodDisruptionBudget"]
    assert pdb["apiVersion"] == "policy/v1"


def test_a_value_key_the_chart_never_reads_is_reported() -> None:
    bad = release("metrics", charts.METRICS_SERVER, "kube-system", {"replicas": 2, "replicass": 3})
    assert values_are_read(render_stack(StackRun("t", [cluster(), bad], {}))) == [
        "helm release metrics (metrics-server 3.13.1): value replicass is not read by the chart"
    ]


# --- what the charts render ---------------------------------------------------------------


def test_an_object_the_api_server_refuses_is_reported() -> None:
    bad = deployment()
    bad["spec"]["template"]["spec"]["containers"][0]["imagePullPolicy"] = 3
    (finding,) = objects_match_schema(rendered(bad))
    assert finding.startswith("helm release test: Deployment tractus-x/app: spec.template.spec.containers.0")


def test_duplicate_list_keys_are_reported_where_server_side_apply_is_used() -> None:
    env = [{"name": "A", "value": "1"}, {"name": "A", "value": "2"}]
    duplicate = deployment(env=env)
    (finding,) = server_side_apply_accepts(rendered(duplicate, deployer=ARGO_CD, server_side_apply=True))
    assert finding == (
        'helm release test: Deployment/app: .spec.template.spec.containers[name="app"].env: '
        'duplicate entries for key [name="A"]'
    )
    # helm applies its releases with a three-way merge, not server-side apply.
    assert server_side_apply_accepts(rendered(duplicate)) == []


def test_an_application_applied_client_side_without_need_is_reported() -> None:
    (finding,) = server_side_apply_accepts(rendered(deployment(), deployer=ARGO_CD, server_side_apply=False))
    assert "drop its client_side_apply_reason" in finding


def test_the_connector_is_applied_client_side_because_its_chart_lists_six_variables_twice(
    renderings: dict[str, StackRendering],
) -> None:
    for rendering in renderings.values():
        (chart,) = [c for c in rendering.charts if c.source.chart == charts.TRACTUSX_CONNECTOR]
        assert chart.source.server_side_apply is False
        (control,) = [
            o
            for o in chart.objects
            if o["kind"] == "Deployment" and o["metadata"]["name"] == edc.CONTROL_PLANE_DEPLOYMENT
        ]
        duplicated = [f.rsplit('[name="', 1)[1].rstrip('"]') for f in duplicate_list_key_findings(control)]
        assert sorted(duplicated) == [
            "EDC_CATALOG_CACHE_EXECUTION_ENABLED",
            "TX_EDC_CATALOG_NODE_LIST_FILE",
            "WEB_HTTP_CATALOG_AUTH_KEY",
            "WEB_HTTP_CATALOG_AUTH_TYPE",
            "WEB_HTTP_CATALOG_PATH",
            "WEB_HTTP_CATALOG_PORT",
        ]


def test_the_connectors_api_keys_are_generated_and_come_from_a_secret(renderings: dict[str, StackRendering]) -> None:
    for rendering in renderings.values():
        (chart,) = [c for c in rendering.charts if c.source.chart == charts.TRACTUSX_CONNECTOR]
        env = {
            e["name"]: e.get("value")
            for o in chart.objects
            if o["kind"] == "Deployment"
            for c in o["spec"]["template"]["spec"]["containers"]
            for e in c.get("env") or []
        }
        assert env["WEB_HTTP_MANAGEMENT_AUTH_KEY"] == "$(EDC_MANAGEMENT_API_KEY)"
        assert env["WEB_HTTP_CATALOG_AUTH_KEY"] == "$(EDC_CATALOG_API_KEY)"
        assert env["TX_EDC_DPF_CONSUMER_PROXY_AUTH_APIKEY"] == "$(EDC_PROXY_API_KEY)"
        secret_refs = {
            ref["secretRef"]["name"]
            for o in chart.objects
            if o["kind"] == "Deployment"
            for c in o["spec"]["template"]["spec"]["containers"]
            for ref in c.get("envFrom") or []
        }
        assert edc.API_KEYS_SECRET in secret_refs
    assert connector.API_KEY_VARIABLES == ("EDC_MANAGEMENT_API_KEY", "EDC_CATALOG_API_KEY", "EDC_PROXY_API_KEY")


def test_a_literal_credential_in_a_containers_env_is_reported() -> None:
    (finding,) = no_credential_in_plain_env(rendered(deployment(env=[{"name": "API_AUTH_KEY", "value": "password"}])))
    assert finding == (
        "helm release test: Deployment tractus-x/app: container app: API_AUTH_KEY is a literal value; "
        "take it from a Secret"
    )
    referenced = deployment(
        env=[{"name": "API_AUTH_KEY", "value": "$(EDC_API_KEY)"}, {"name": "KEY_ALIAS", "value": "x"}]
    )
    assert no_credential_in_plain_env(rendered(referenced)) == []


@pytest.mark.parametrize(
    ("image", "finding"),
    [
        ("registry.example.org/app", "has neither a tag nor a digest"),
        ("alpine/curl:latest", "is tagged latest"),
        ("docker.io/bitnamilegacy/postgresql:15-debian-11", "is a Bitnami image"),
    ],
)
def test_an_image_that_is_not_pinned_is_reported(image: str, finding: str) -> None:
    (reported,) = images_pinned(rendered(deployment(image=image)))
    assert finding in reported


@pytest.mark.parametrize(
    "image",
    [
        "quay.io/jetstack/cert-manager-controller:v1.21.1",
        f"registry:5000/app@sha256:{'a' * 64}",
        "postgres:17.9-alpine",
    ],
)
def test_pinned_images_pass(image: str) -> None:
    assert image_findings(image) == []


PROD_REGISTRY = "123456789012.dkr.ecr.eu-central-1.amazonaws.com/tx-prod"


@pytest.mark.parametrize(
    "image",
    [
        "quay.io/jetstack/cert-manager-controller:v1.21.1",  # straight from its upstream
        "tractusx/edc-controlplane-postgresql-hashicorp-vault:0.12.1",  # Docker Hub, implicitly
        # dr's cache, in the region an activation has lost or is not in
        "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tx-dr/quay/prometheus/prometheus:v3.14.0",
        f"{PROD_REGISTRY}/gcr/distroless/static:nonroot",  # no rule serves this prefix
    ],
)
def test_an_image_not_pulled_through_the_stacks_own_registry_is_reported(image: str) -> None:
    (reported,) = images_from_the_stacks_registry(rendered(deployment(image=image)), PROD_REGISTRY)
    assert reported == (
        f"helm release test: Deployment tractus-x/app: image {image} is not pulled through the stack's registry "
        f"{PROD_REGISTRY}/{{docker-hub,ecr-public,ghcr,k8s,quay,backup}}: set the chart's image values with "
        "components/registry.ImageRegistry (a new upstream needs its rule in components/registry.UPSTREAMS)"
    )


def test_images_of_the_stacks_cache_and_its_backup_image_pass() -> None:
    cached = deployment(image=f"{PROD_REGISTRY}/docker-hub/library/traefik:v3.6.15")
    backup = deployment(image=f"{PROD_REGISTRY}/backup@sha256:{'a' * 64}")
    assert images_from_the_stacks_registry(rendered(cached, backup), PROD_REGISTRY) == []


def test_an_image_a_program_gets_as_a_flag_comes_from_the_stacks_registry_too() -> None:
    """cert-manager starts ACME solver pods from --acme-http01-solver-image."""
    flag = "--acme-http01-solver-image=quay.io/jetstack/cert-manager-acmesolver:v1.21.1"
    (reported,) = images_from_the_stacks_registry(
        rendered(deployment(image=f"{PROD_REGISTRY}/quay/x:1", args=[flag])), PROD_REGISTRY
    )
    assert "image quay.io/jetstack/cert-manager-acmesolver:v1.21.1 is not pulled through" in reported
    mirrored = f"--acme-http01-solver-image={PROD_REGISTRY}/quay/jetstack/cert-manager-acmesolver:v1.21.1"
    # A flag naming a class, not an image (no tag): Traefik's ingress class controller.
    other = "--providers.kubernetesingressnginx.controllerclass=k8s.io/ingress-nginx"
    ok = deployment(image=f"{PROD_REGISTRY}/quay/x:1", args=[mirrored, other])
    assert images_from_the_stacks_registry(rendered(ok), PROD_REGISTRY) == []


def test_each_stacks_rendering_pulls_only_from_its_own_region(renderings: dict[str, StackRendering]) -> None:
    """Every image of prod's charts, Applications and objects comes from prod's cache;
    against dr's registry each one is a finding, so the check sees them all."""
    dr_registry = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/tx-dr"
    assert images_from_the_stacks_registry(renderings["prod"], PROD_REGISTRY) == []
    elsewhere = images_from_the_stacks_registry(renderings["prod"], dr_registry)
    assert len(elsewhere) > 40
    for image in (
        "docker-hub/tractusx/edc-controlplane-postgresql-hashicorp-vault:0.12.1",  # the connector's Application
        "quay/argoproj/argocd:v3.4.4",  # a Helm release
        "backup@sha256:",  # the program's own Jobs
    ):
        assert any(f"image {PROD_REGISTRY}/{image}" in finding for finding in elsewhere), image


def test_the_plan_fails_on_a_chart_image_from_a_public_registry() -> None:
    """check_stack runs the check with the stack's own registry (its imageRegistry export)."""
    keda = release("keda", charts.KEDA, "keda", {"image": {"keda": {"registry": "ghcr.io"}}})
    run = StackRun("test", [cluster(), keda], {"imageRegistry": PROD_REGISTRY})
    _, findings = check_stack(run)
    reported = [f for f in findings if f.startswith("images_from_the_stacks_registry: ")]
    assert any("Deployment keda/keda-operator: image ghcr.io/kedacore/keda:2.20.2 is not pulled" in f for f in reported)


def test_helm_test_hooks_are_not_deployed_and_not_checked() -> None:
    hook = deployment(image="busybox")
    hook["metadata"]["annotations"] = {"helm.sh/hook": "test"}
    assert images_pinned(rendered(hook)) == []


def test_a_pod_that_breaks_its_namespaces_pod_security_level_is_reported() -> None:
    privileged = deployment(securityContext={"privileged": True})
    findings = pods_meet_pod_security(rendered(privileged))
    assert any("privileged" in f and "(namespace tractus-x enforces restricted)" in f for f in findings)
    assert pods_meet_pod_security(rendered(deployment())) == []
    (elsewhere,) = pods_meet_pod_security(rendered(deployment(namespace="default")))
    assert "namespace 'default' is not a platform namespace" in elsewhere


def test_an_alert_on_a_job_eks_does_not_expose_is_reported(renderings: dict[str, StackRendering]) -> None:
    """kube-prometheus-stack's KubeProxyDown would page from the first day on EKS."""
    rule = {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {"name": "k", "namespace": "monitoring"},
        "spec": {
            "groups": [{"name": "g", "rules": [{"alert": "KubeProxyDown", "expr": 'absent(up{job="kube-proxy"}==1)'}]}]
        },
    }
    (finding,) = alerts_watch_what_eks_exposes(rendered(rule))
    assert finding == (
        "helm release test: alert KubeProxyDown watches job kube-proxy: "
        "EKS's kube-proxy serves its metrics on 127.0.0.1 only"
    )
    for rendering in renderings.values():
        (stack,) = [c for c in rendering.charts if c.source.chart == charts.KUBE_PROMETHEUS_STACK]
        alerts = {
            r.get("alert")
            for o in stack.objects
            if o["kind"] == "PrometheusRule"
            for g in o["spec"]["groups"]
            for r in g["rules"]
        }
        assert "KubeProxyDown" not in alerts and "KubeletDown" in alerts


def test_only_a_charts_documented_placeholder_passes_for_a_credential() -> None:
    """The portal chart's `backend.placeholder` ("empty") fills passwords nothing sends."""
    placeholder = deployment(env=[{"name": "DIM__PASSWORD", "value": "empty"}])
    (finding,) = no_credential_in_plain_env(rendered(placeholder))
    assert "DIM__PASSWORD is a literal value" in finding
    portal = ChartSource("Argo CD Application portal", ARGO_CD, "portal", "portal", "portal", charts.PORTAL, {})
    in_portal = StackRendering("1.35", [RenderedChart(portal, "", [placeholder])], [])
    assert no_credential_in_plain_env(in_portal) == []
    other = deployment(env=[{"name": "DIM__PASSWORD", "value": "changeme"}])
    assert no_credential_in_plain_env(StackRendering("1.35", [RenderedChart(portal, "", [other])], []))
