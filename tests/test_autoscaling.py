"""autoscaling: playbook "Horizontal Scaling", "Custom Metrics Auto-scaling", "Application Updates"."""

from __future__ import annotations

from typing import Any

import pytest

from components import edc, monitoring
from components.autoscaling import (
    KEDA_IMAGE_TAG,
    METRICS_SERVER_IMAGE_TAG,
    PAUSED_REPLICAS_ANNOTATION,
)
from components.portal_values import PORTAL_DEPLOYMENT
from offline.checks import plain
from offline.crd_schemas import CrdIndex
from offline.harness import StackRun, run_stack
from tests.conftest import chart_of, stack_copy

SCALED_OBJECT = "kubernetes:keda.sh/v1alpha1:ScaledObject"
PDB = "kubernetes:policy/v1:PodDisruptionBudget"
RELEASE = "kubernetes:helm.sh/v3:Release"


def scaled_objects(run: StackRun) -> dict[str, dict[str, Any]]:
    return {r.inputs["metadata"]["name"]: plain(r.inputs) for r in run.of_type(SCALED_OBJECT)}


def triggers(scaled: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {t.get("name", t["type"]): t for t in scaled["spec"]["triggers"]}


def test_edc_control_plane_has_one_merged_autoscaler_with_every_playbook_metric(stack: StackRun) -> None:
    # Two HPAs on one Deployment fight over its replicas: the playbook's two are one here.
    # The playbook's edc-control-plane is the chart's <release>-controlplane.
    (control,) = [
        s for s in stack.of_type(SCALED_OBJECT) if s.inputs["spec"]["scaleTargetRef"]["name"] == "edc-controlplane"
    ]
    spec = plain(control.inputs)["spec"]
    assert spec["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "edc-controlplane"}
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 15)
    found = triggers(plain(control.inputs))
    assert found["cpu"] == {"type": "cpu", "metricType": "Utilization", "metadata": {"value": "70"}}
    assert found["memory"] == {"type": "memory", "metricType": "Utilization", "metadata": {"value": "80"}}
    # The playbook's metric names as the connector's OpenTelemetry agent exports them,
    # scraped as job tractus-x-edc.
    pods = 'job="tractus-x-edc",namespace="tractus-x",pod=~"edc-controlplane-[a-z0-9]+-[a-z0-9]+"'
    negotiations = found["contract-negotiations-per-second"]
    assert negotiations["metricType"] == "AverageValue" and negotiations["metadata"]["threshold"] == "10"
    assert negotiations["metadata"]["query"] == (
        f'sum(rate(http_server_request_duration_seconds_count{{{pods},http_route=~".*/negotiations.*"}}[2m]))'
    )
    assert found["queue-depth"]["metadata"]["threshold"] == "50"
    assert found["queue-depth"]["metadata"]["query"] == f"sum(http_server_active_requests{{{pods}}})"
    hpa = spec["advanced"]["horizontalPodAutoscalerConfig"]
    assert hpa["name"] == "edc-control-plane-hpa"
    assert hpa["behavior"] == {
        "scaleUp": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
    }


def test_portal_scales_from_three_to_twenty_on_cpu_and_request_rate(portal_stack: StackRun) -> None:
    # The target is the portal chart's frontend Deployment, `<release>-portal`.
    portal = scaled_objects(portal_stack)[PORTAL_DEPLOYMENT]
    spec = portal["spec"]
    assert spec["scaleTargetRef"]["name"] == PORTAL_DEPLOYMENT == "portal-portal"
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (3, 20)
    found = triggers(portal)
    assert found["cpu"]["metadata"] == {"value": "60"}
    requests = found["http-requests-per-second"]
    assert requests["metadata"]["threshold"] == "100" and requests["metricType"] == "AverageValue"
    assert requests["metadata"]["query"].startswith(
        'sum(rate(http_requests_total{namespace="portal",pod=~"portal-portal-'
    )
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["name"] == "portal-hpa"


def test_prometheus_triggers_query_the_configured_server_and_fail_on_missing_data(stack: StackRun) -> None:
    for scaled in scaled_objects(stack).values():
        for trigger in scaled["spec"]["triggers"]:
            if trigger["type"] == "prometheus":
                # Thanos Query sees every Prometheus shard; prometheus-operated balances over
                # all pods of all shards and answers with one shard's part of the series.
                assert trigger["metadata"]["serverAddress"] == monitoring.THANOS_QUERY_URL
                assert trigger["metadata"]["ignoreNullValues"] == "false"


def test_no_portal_autoscaler_targets_a_portal_that_does_not_run(
    stack: StackRun, portal_runs: dict[str, StackRun]
) -> None:
    # Off by default; at pilot light the portal does not run (its database is a replica).
    for run in (stack, portal_runs["dr"]):
        assert PORTAL_DEPLOYMENT not in scaled_objects(run)
        assert all(r.inputs["metadata"]["name"] != PORTAL_DEPLOYMENT for r in run.of_type(PDB))


@pytest.mark.parametrize("with_portal", [False, True], ids=["without-portal", "with-portal"])
def test_every_scaled_workload_has_a_disruption_budget_selecting_its_pods(
    stack: StackRun, portal_stack: StackRun, with_portal: bool
) -> None:
    run = portal_stack if with_portal else stack
    budgets = {
        r.inputs["metadata"]["name"]: plain(r.inputs)
        for r in run.of_type(PDB)
        if r.inputs["metadata"]["namespace"] != monitoring.NAMESPACE  # the query layer's own budget
    }
    assert set(budgets) == set(scaled_objects(run))
    if with_portal:
        assert budgets[PORTAL_DEPLOYMENT]["spec"]["selector"] == {"matchLabels": {"app": "portal-portal"}}
    # The connector chart has no PodDisruptionBudget: the program's select the chart's pods.
    assert budgets["edc-controlplane"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "tractusx-connector-controlplane",
        "app.kubernetes.io/instance": "edc-controlplane",
    }
    assert budgets["edc-dataplane"]["spec"]["selector"]["matchLabels"] == {
        "app.kubernetes.io/name": "tractusx-connector-dataplane",
        "app.kubernetes.io/instance": "edc-dataplane",
    }
    for name, budget in budgets.items():
        assert budget["metadata"]["namespace"] == ("portal" if name == PORTAL_DEPLOYMENT else "tractus-x")
        assert budget["spec"]["maxUnavailable"] == 1
        assert budget["spec"]["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_autoscaler_targets_are_the_connector_charts_deployments(stack: StackRun) -> None:
    # The Deployment names are derived from the connector's release, not a setting.
    assert set(scaled_objects(stack)) == {"edc-controlplane", "edc-dataplane"}
    assert set(edc.DEPLOYMENTS) == {"edc-controlplane", "edc-dataplane"}
    data = scaled_objects(stack)["edc-dataplane"]["spec"]
    assert data["scaleTargetRef"]["name"] == "edc-dataplane"
    assert (data["minReplicaCount"], data["maxReplicaCount"]) == (2, 10)
    assert set(triggers(scaled_objects(stack)["edc-dataplane"])) == {"cpu", "memory"}


def test_the_connector_autoscalers_hold_it_at_zero_on_a_pilot_light_dr_stack(prod: StackRun, dr: StackRun) -> None:
    # The replica database is read-only and the connector migrates its schema at start.
    for name in edc.DEPLOYMENTS:
        assert (scaled_objects(dr)[name]["metadata"].get("annotations") or {}) == {PAUSED_REPLICAS_ANNOTATION: "0"}
        assert not (scaled_objects(prod)[name]["metadata"].get("annotations") or {})
    active = run_stack("dr", overrides={"dr.active": True}, references={"prod": prod})
    for name in edc.DEPLOYMENTS:
        assert not (scaled_objects(active)[name]["metadata"].get("annotations") or {})


def test_metrics_server_and_keda_are_pinned_highly_available_and_hardened(stack: StackRun) -> None:
    releases = {chart_of(r): plain(r.inputs) for r in stack.of_type(RELEASE)}
    for chart, version, namespace in (("metrics-server", "3.13.1", "kube-system"), ("keda", "2.20.2", "keda")):
        release = releases[chart]
        assert (release["chart"], release["version"], release["namespace"]) == (
            stack_copy(stack, chart),
            version,
            namespace,
        )
    metrics = releases["metrics-server"]["values"]
    assert metrics["image"]["tag"] == METRICS_SERVER_IMAGE_TAG == "v0.8.1"
    assert metrics["replicas"] == 2 and metrics["podDisruptionBudget"]["enabled"] is True
    assert metrics["securityContext"]["readOnlyRootFilesystem"] is True
    assert metrics["resources"]["limits"]["memory"]
    keda = releases["keda"]["values"]
    assert {image["tag"] for image in keda["image"].values() if isinstance(image, dict)} == {KEDA_IMAGE_TAG}
    for component in ("operator", "metricServer", "webhooks"):
        assert keda["securityContext"][component]["readOnlyRootFilesystem"] is True
        assert keda["securityContext"][component]["runAsNonRoot"] is True
        assert keda["resources"][component]["limits"]["memory"]
        assert keda["podDisruptionBudget"][component] == {"maxUnavailable": 1}
    assert keda["watchNamespace"] == "tractus-x,portal"
    assert keda["permissions"]["operator"]["restrict"]["secret"] is True


def test_scaled_objects_wait_for_keda_and_the_workload_namespace(stack: StackRun) -> None:
    keda = stack.one(RELEASE, "tractusx-autoscaling-keda").urn
    namespace = next(r.urn for r in stack.of_type("kubernetes:core/v1:Namespace") if r.name.endswith("-tractus-x"))
    for scaled in stack.of_type(SCALED_OBJECT):
        assert {keda, namespace} <= set(scaled.dependencies)


def test_scaled_objects_are_checked_against_the_keda_crd(prod: StackRun, crds: CrdIndex) -> None:
    scaled = plain(prod.of_type(SCALED_OBJECT)[0].inputs)
    assert crds.findings(scaled) == []
    broken = {**scaled, "spec": {**scaled["spec"], "triggers": [{"type": "prometheus", "metdata": {}}]}}
    del broken["spec"]["scaleTargetRef"]
    assert crds.findings(broken) == [
        "spec.scaleTargetRef: Required value",
        "spec.triggers[0].metadata: Required value",
        "spec.triggers[0].metdata: unknown field",
    ]
