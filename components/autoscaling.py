"""Pod autoscaling: playbook "Horizontal Scaling" and "Custom Metrics Auto-scaling".

metrics-server serves CPU and memory (the resource metrics API). The custom metrics come
from Prometheus through KEDA: each ScaledObject's Prometheus triggers query the metrics
and KEDA owns the resulting autoscaling/v2 HorizontalPodAutoscaler. The playbook's
prometheus-adapter is not used: Kubernetes SIG Instrumentation is deprecating it in
favour of KEDA (kubernetes-sigs/prometheus-adapter#701).

The playbook declares two HPAs on ``edc-control-plane`` (CPU/memory and custom metrics);
the connector chart names that Deployment ``<release>-controlplane`` (components/edc.py),
and its data plane ``<release>-dataplane`` gets the CPU/memory part of the same HPA.
Kubernetes cannot run two HPAs on one Deployment (they fight over its replica count and
the controller marks both AmbiguousSelector), so they are merged into one: every metric
of both, the playbook's scale-up and scale-down behavior, min 2 and max 15 (the custom
metrics HPA's larger maximum, so the custom metrics can still take it there).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components import charts, edc, monitoring, portal_values
from components.helm import chart_release
from components.namespaces import Namespaces
from components.registry import ImageRegistry
from components.traffic import CONTROL_PLANE, VPC, Need, Pods, ServiceRef, api_client, name_resolution

WORKLOAD_NAMESPACE = edc.NAMESPACE
# The namespaces of the scaled Deployments: the connector's and the portal's.
SCALED_NAMESPACES = (WORKLOAD_NAMESPACE, portal_values.PORTAL_NAMESPACE)


# metrics-server chart 3.13.1 ships metrics-server 0.8.1 (its CHANGELOG). Like the other
# resource-metrics add-ons it runs in kube-system.
METRICS_SERVER = charts.METRICS_SERVER
METRICS_SERVER_NAMESPACE = "kube-system"
METRICS_SERVER_IMAGE_TAG = "v0.8.1"  # the chart's appVersion, pinned explicitly
# KEDA 2.20.2 (chart released 2026-07-31, kedacore/charts#895).
KEDA = charts.KEDA
KEDA_IMAGE_TAG = "2.20.2"  # the chart's appVersion, pinned explicitly
KEDA_NAMESPACE = "keda"
REPLICAS = 2  # every autoscaling controller survives a node drain


@dataclass(frozen=True)
class Target:
    """One HPA's worth of the playbook: bounds, metrics and behavior."""

    name: str  # playbook HPA name
    min_replicas: int
    max_replicas: int
    cpu_percent: int | None = None
    memory_percent: int | None = None
    custom: Mapping[str, int] | None = None  # playbook metric name -> average value per pod
    behavior: Mapping[str, Any] | None = None


# Playbook "Horizontal Scaling" (edc-control-plane-hpa) merged with "Custom Metrics
# Auto-scaling" (edc-custom-metrics-hpa).
EDC_CONTROL_PLANE = Target(
    name="edc-control-plane-hpa",
    min_replicas=2,
    max_replicas=15,
    cpu_percent=70,
    memory_percent=80,
    custom={"contract_negotiations_per_second": 10, "queue_depth": 50},
    behavior={
        "scaleUp": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}],
        },
        "scaleDown": {
            "stabilizationWindowSeconds": 300,
            "policies": [{"type": "Percent", "value": 50, "periodSeconds": 60}],
        },
    },
)
# The data plane moves the data of the transfers the control plane negotiates: the playbook
# scales nothing else of the connector, so it gets the playbook's CPU/memory bounds of
# edc-control-plane-hpa (2 to 10 replicas, 70% CPU, 80% memory).
EDC_DATA_PLANE = Target(
    name="edc-data-plane-hpa",
    min_replicas=2,
    max_replicas=10,
    cpu_percent=70,
    memory_percent=80,
    behavior=EDC_CONTROL_PLANE.behavior,
)
# Playbook "Horizontal Scaling" (portal-hpa).
PORTAL = Target(
    name="portal-hpa",
    min_replicas=3,
    max_replicas=20,
    cpu_percent=60,
    custom={"http_requests_per_second": 100},
)

# While the connector stands by (pilot-light dr stack), its ScaledObjects hold it at 0
# replicas and stop scaling (KEDA "Pause autoscaling": this annotation scales the target
# to the given count and pauses).
PAUSED_REPLICAS_ANNOTATION = "autoscaling.keda.sh/paused-replicas"

# Disruption budgets of the scaled workloads: a node drain takes one pod at a time, and a
# pod that is not ready does not block the drain.
PDB_MAX_UNAVAILABLE = 1


# The playbook's custom metrics as the connector really exports them: its OpenTelemetry
# agent's HTTP server metrics (semantic conventions; Prometheus names), scraped as job
# tractus-x-edc (components/connector_values.py, components/edc.py).
# - contract_negotiations_per_second: DSP contract negotiation requests per second
#   (routes under the protocol path's /negotiations).
# - queue_depth: requests in flight (http_server_active_requests, the agent's experimental
#   HTTP server telemetry); the connector exports no queue of its own.
EDC_METRIC_SERIES = {
    "contract_negotiations_per_second": (
        'sum(rate(http_server_request_duration_seconds_count{{{pods},http_route=~".*/negotiations.*"}}[2m]))'
    ),
    "queue_depth": "sum(http_server_active_requests{{{pods}}})",
}


def prometheus_query(metric: str, deployment: str, namespace: str = WORKLOAD_NAMESPACE) -> str:
    """The total of ``metric`` over the Deployment's pods; KEDA divides it by the replica
    count (metricType AverageValue), which gives the playbook's per-pod average.

    ``http_requests_per_second`` is what prometheus-adapter derived from the
    ``http_requests_total`` counter; the EDC metrics are in EDC_METRIC_SERIES.
    """
    pods = f'namespace="{namespace}",pod=~"{deployment}-[a-z0-9]+-[a-z0-9]+"'
    if metric in EDC_METRIC_SERIES:
        return EDC_METRIC_SERIES[metric].format(pods=f'job="{edc.JOB}",{pods}')
    if metric == "http_requests_per_second":
        return f"sum(rate(http_requests_total{{{pods}}}[2m]))"
    raise ValueError(f"no Prometheus query for the metric {metric!r}")


def scaled_object_spec(
    target: Target, deployment: str, prometheus_url: str, namespace: str = WORKLOAD_NAMESPACE
) -> dict[str, Any]:
    triggers: list[dict[str, Any]] = [
        {"type": resource, "metricType": "Utilization", "metadata": {"value": str(percent)}}
        for resource, percent in (("cpu", target.cpu_percent), ("memory", target.memory_percent))
        if percent is not None
    ]
    for metric, average in (target.custom or {}).items():
        triggers.append(
            {
                "type": "prometheus",
                "name": metric.replace("_", "-"),
                "metricType": "AverageValue",
                "metadata": {
                    "serverAddress": prometheus_url,
                    "query": prometheus_query(metric, deployment, namespace),
                    "threshold": str(average),
                    # No data is an error, not zero: KEDA keeps the replicas instead of
                    # scaling in when Prometheus is down.
                    "ignoreNullValues": "false",
                },
            }
        )
    hpa: dict[str, Any] = {"name": target.name}
    if target.behavior:
        hpa["behavior"] = dict(target.behavior)
    return {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": deployment},
        "minReplicaCount": target.min_replicas,
        "maxReplicaCount": target.max_replicas,
        "advanced": {"horizontalPodAutoscalerConfig": hpa},
        "triggers": triggers,
    }


def _restricted(read_only_root: bool = True) -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": read_only_root,
        "runAsNonRoot": True,
        "capabilities": {"drop": ["ALL"]},
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def _spread(labels: Mapping[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": dict(labels)},
        }
    ]


def metrics_server_values(images: ImageRegistry) -> dict[str, Any]:
    return {
        "image": {
            "repository": images.image("registry.k8s.io/metrics-server/metrics-server"),
            "tag": METRICS_SERVER_IMAGE_TAG,
        },
        "replicas": REPLICAS,
        "podDisruptionBudget": {"enabled": True, "maxUnavailable": 1},
        "securityContext": {**_restricted(), "runAsUser": 1000},
        "resources": {"requests": {"cpu": "100m", "memory": "200Mi"}, "limits": {"cpu": "500m", "memory": "400Mi"}},
        "topologySpreadConstraints": _spread({"app.kubernetes.io/name": "metrics-server"}),
    }


def keda_values(images: ImageRegistry) -> dict[str, Any]:
    components = ("operator", "metricServer", "webhooks")
    resources = {"requests": {"cpu": "100m", "memory": "100Mi"}, "limits": {"cpu": "1", "memory": "1000Mi"}}
    names = {
        "operator": "keda-operator",
        "metricServer": "keda-operator-metrics-apiserver",
        "webhooks": "keda-admission-webhooks",
    }
    return {
        "image": {
            "keda": {"registry": images.registry("ghcr.io"), "repository": "kedacore/keda", "tag": KEDA_IMAGE_TAG},
            "metricsApiServer": {
                "registry": images.registry("ghcr.io"),
                "repository": "kedacore/keda-metrics-apiserver",
                "tag": KEDA_IMAGE_TAG,
            },
            "webhooks": {
                "registry": images.registry("ghcr.io"),
                "repository": "kedacore/keda-admission-webhooks",
                "tag": KEDA_IMAGE_TAG,
            },
            "pullPolicy": "IfNotPresent",
        },
        # Only the scaled workloads' namespaces are watched; the operator reads Secrets only
        # in its own namespace (the Prometheus triggers need none).
        "watchNamespace": ",".join(SCALED_NAMESPACES),
        "permissions": {"operator": {"restrict": {"secret": True}}},
        "operator": {"replicaCount": REPLICAS},
        "metricsServer": {"replicaCount": REPLICAS},
        "webhooks": {"enabled": True, "replicaCount": REPLICAS, "failurePolicy": "Ignore"},
        "podDisruptionBudget": {component: {"maxUnavailable": 1} for component in components},
        "resources": {component: resources for component in components},
        "podSecurityContext": {
            component: {"runAsNonRoot": True, "seccompProfile": {"type": "RuntimeDefault"}} for component in components
        },
        # The metrics API server's serving certificate is generated by the operator into
        # a Secret mounted read-only (certificates.autoGenerated), so its root filesystem
        # stays read-only as well.
        "securityContext": {component: _restricted() for component in components},
        "certificates": {"autoGenerated": True},
        "topologySpreadConstraints": {
            ("metricsServer" if component == "metricServer" else component): _spread({"app": names[component]})
            for component in components
        },
        "prometheus": {component: {"enabled": True} for component in components},
    }


@dataclass(frozen=True)
class ScaledDeployment:
    """A Deployment, the labels of its pods (the budget's selector) and its namespace (one
    of SCALED_NAMESPACES)."""

    name: str
    labels: Mapping[str, str]
    namespace: str = WORKLOAD_NAMESPACE

    def __post_init__(self) -> None:
        if self.namespace not in SCALED_NAMESPACES:
            raise ValueError(f"{self.name}: KEDA watches {SCALED_NAMESPACES}, not {self.namespace}")


@dataclass(frozen=True)
class AutoscalingArgs:
    prometheus_url: str
    # The connector stands by (pilot-light dr stack): its autoscalers hold it at 0.
    connector_standby: bool
    namespaces: Namespaces
    provider: k8s.Provider
    depends_on: Sequence[pulumi.Resource]
    images: ImageRegistry
    # The portal chart's frontend Deployment while the portal runs; None: no portal, and
    # so no autoscaler or budget pointing at a Deployment that does not exist.
    portal: ScaledDeployment | None = None


class Autoscaling(pulumi.ComponentResource):
    def __init__(self, name: str, args: AutoscalingArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:autoscaling:Autoscaling", name, None, opts)
        self._name = name
        self._args = args
        self.metrics_server = self._release(
            METRICS_SERVER, METRICS_SERVER_NAMESPACE, metrics_server_values(args.images), list(args.depends_on)
        )
        self.keda = self._release(
            KEDA,
            KEDA_NAMESPACE,
            keda_values(args.images),
            [*args.depends_on, args.namespaces.namespace(KEDA_NAMESPACE)],
        )
        standby = args.connector_standby
        control_plane = ScaledDeployment(edc.CONTROL_PLANE_DEPLOYMENT, edc.CONTROL_PLANE_LABELS)
        data_plane = ScaledDeployment(edc.DATA_PLANE_DEPLOYMENT, edc.DATA_PLANE_LABELS)
        self._scaled("edc-control-plane", EDC_CONTROL_PLANE, control_plane, standby)
        self._scaled("edc-data-plane", EDC_DATA_PLANE, data_plane, standby)
        if args.portal is not None:
            self._scaled("portal", PORTAL, args.portal, False)
        self.register_outputs({"metrics_server": self.metrics_server.name, "keda": self.keda.name})

    def _release(
        self, chart: charts.Chart, namespace: str, values: Mapping[str, Any], depends_on: list[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        return chart_release(
            f"{self._name}-{chart.name}",
            release=chart.name,
            chart=chart,
            namespace=namespace,
            values=values,
            parent=self,
            provider=self._args.provider,
            depends_on=depends_on,
        )

    def _scaled(self, role: str, target: Target, scaled: ScaledDeployment, paused: bool) -> None:
        deployment, namespace = scaled.name, scaled.namespace
        opts = pulumi.ResourceOptions(
            parent=self,
            provider=self._args.provider,
            depends_on=[self._args.namespaces.namespace(namespace), self.keda, self.metrics_server],
        )
        k8s.apiextensions.CustomResource(
            f"{self._name}-{role}-scaler",
            api_version="keda.sh/v1alpha1",
            kind="ScaledObject",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=deployment,
                namespace=namespace,
                annotations={PAUSED_REPLICAS_ANNOTATION: "0"} if paused else None,
            ),
            spec=scaled_object_spec(target, deployment, self._args.prometheus_url, namespace),
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-{role}-pdb",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=deployment, namespace=namespace),
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(
                max_unavailable=PDB_MAX_UNAVAILABLE,
                selector=k8s.meta.v1.LabelSelectorArgs(match_labels=dict(scaled.labels)),
                unhealthy_pod_eviction_policy="AlwaysAllow",
            ),
            opts=opts,
        )


def flows() -> tuple[Need, ...]:
    """KEDA: its operator queries Prometheus through Thanos Query; the API server calls its
    metrics API (aggregated) and its admission webhooks. metrics-server (in kube-system,
    where no namespace-wide default covers it): the API server calls it (aggregated API), it
    reads every kubelet."""
    operator = Pods(KEDA_NAMESPACE, {"app": "keda-operator"})
    metrics_api = Pods(KEDA_NAMESPACE, {"app": "keda-operator-metrics-apiserver"})
    webhooks = Pods(KEDA_NAMESPACE, {"app": "keda-admission-webhooks"})
    metrics_server = Pods(METRICS_SERVER_NAMESPACE, {"app.kubernetes.io/name": "metrics-server"})
    return (
        Need(
            operator,
            monitoring.THANOS_QUERY_SERVICE,
            monitoring.THANOS_QUERY_HTTP_PORT,
            "KEDA's Prometheus triggers query Thanos Query",
        ),
        Need(
            metrics_api,
            ServiceRef(KEDA_NAMESPACE, "keda-operator", {"app": "keda-operator"}),
            9666,
            "the metrics API reads the scalers' metrics from the operator",
        ),
        Need(CONTROL_PLANE, metrics_api, 6443, "the API server calls KEDA's external metrics API"),
        Need(CONTROL_PLANE, webhooks, 9443, "the API server calls KEDA's admission webhooks"),
        *(api_client(pods, "KEDA") for pods in (operator, metrics_api, webhooks)),
        Need(CONTROL_PLANE, metrics_server, 10250, "the API server calls metrics-server's resource metrics API"),
        Need(metrics_server, VPC, 10250, "metrics-server reads every kubelet's resource metrics"),
        api_client(metrics_server, "metrics-server"),
        *name_resolution(metrics_server, "metrics-server"),
    )
