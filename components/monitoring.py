"""The monitoring stack: kube-prometheus-stack (Prometheus as the playbook sizes it,
Alertmanager, Grafana, node exporter, kube-state-metrics), Thanos Query over the Thanos
sidecars of every Prometheus shard (what KEDA and Grafana query), the blackbox exporter probing
the platform's HTTPS endpoints, a CloudWatch exporter for the database's RDS metrics,
the platform's alert rules (components/alerts.py) and Alertmanager routing
(components/alerting.py).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from components import alerting, alerts, charts
from components.aws_context import AwsContext
from components.cluster import Cluster
from components.helm import chart_release
from components.hosts import ServedHost
from components.iam import policy_document
from components.namespaces import Namespaces
from components.passwords import generated_password
from components.registry import ImageRegistry
from components.settings import AlertingSettings
from components.traffic import (
    CONTROL_PLANE,
    INTERNET,
    PROMETHEUS_PODS,
    VPC,
    Need,
    Pods,
    ServiceRef,
    api_client,
    scraped,
)

NAMESPACE = "monitoring"
# kube-prometheus-stack (components/charts.py) ships prometheus-operator v0.93.1;
# prometheus-blackbox-exporter ships blackbox_exporter v0.28.0.
# The cloudwatch exporter chart (components/charts.py) always renders the Service its
# ServiceMonitor selects.
STACK_RELEASE = "kube-prometheus-stack"
BLACKBOX_RELEASE = "prometheus-blackbox-exporter"
YACE_RELEASE = "cloudwatch-exporter"
YACE_SERVICE_ACCOUNT = "cloudwatch-exporter"

STORAGE_CLASS = "gp3-encrypted"  # the cluster's KMS-encrypted gp3 class

# Playbook "Horizontal Scaling" > "Monitoring Components": Prometheus with sharding.
PROMETHEUS_REPLICAS = 3
PROMETHEUS_SHARDS = 2
PROMETHEUS_RETENTION = "30d"
PROMETHEUS_RESOURCES = {
    "requests": {"memory": "2Gi", "cpu": "1000m"},
    "limits": {"memory": "4Gi", "cpu": "2000m"},
}
# 30 days of one shard's series; the size cap keeps a full volume from stopping ingestion.
PROMETHEUS_VOLUME = "100Gi"
PROMETHEUS_RETENTION_SIZE = "90GB"
# Three Alertmanagers gossip and deduplicate: one lost zone loses no notification.
ALERTMANAGER_REPLICAS = 3
ALERTMANAGER_VOLUME = "10Gi"
BLACKBOX_REPLICAS = 2
# The probes' module: over HTTPS with the certificate verified (blackbox_exporter's
# http prober: tls_config defaults to verifying; fail_if_not_ssl), and "served" means the
# edge routed the request to the product, whatever the product answers to an anonymous
# GET (the connector's APIs answer 401): any status below 500 but Traefik's own "404 page
# not found", which it answers when no route matches the host and path (traefik
# pkg/server/router: http.NotFoundHandler); 502/503/504 are the edge finding no live
# backend. Redirects are not followed: a redirect is the host's own answer.
BLACKBOX_MODULE = "https_served"
SERVED_HTTP: dict[str, Any] = {
    "valid_http_versions": ["HTTP/1.1", "HTTP/2.0"],
    "valid_status_codes": [*range(200, 209), *range(300, 309), *range(400, 452)],
    "follow_redirects": False,
    "fail_if_not_ssl": True,
    "fail_if_body_matches_regexp": ["^404 page not found"],
    "preferred_ip_protocol": "ip4",
}
BLACKBOX_MODULE_CONFIG: dict[str, Any] = {"prober": "http", "timeout": "5s", "http": SERVED_HTTP}

# The query layer (README "Query layer over the shards"): each Prometheus shard scrapes only part of the
# targets, so KEDA and Grafana query Thanos Query, which fans every query out to the Thanos
# sidecars of all shards and replicas. Query fan-out only: no object storage, no upload,
# Prometheus keeps its own 30 days. Thanos v0.40.1 is the release deployed beside
# prometheus-operator v0.88 (this chart generation's operator) in published image lists;
# pinned by tag, its digest not verified here.
THANOS_VERSION = "v0.40.1"
THANOS_IMAGE = f"quay.io/thanos/thanos:{THANOS_VERSION}"
THANOS_QUERY = "thanos-query"
THANOS_QUERY_REPLICAS = 2
THANOS_QUERY_HTTP_PORT = 9090  # the port clients of a Prometheus API expect
THANOS_GRPC_PORT = 10901  # StoreAPI of the sidecars (and of Query itself)
THANOS_QUERY_LABELS = {"app.kubernetes.io/name": THANOS_QUERY, "app.kubernetes.io/component": "query-layer"}
THANOS_QUERY_URL = f"http://{THANOS_QUERY}.{NAMESPACE}.svc:{THANOS_QUERY_HTTP_PORT}"
# kube-prometheus-stack's `prometheus.thanosService`: a headless Service named
# <fullname>-thanos-discovery over every Prometheus pod, gRPC port named `grpc`, so its SRV
# record _grpc._tcp lists every sidecar (fullname is the release name, which holds the
# chart's name).
THANOS_DISCOVERY_SERVICE = f"{STACK_RELEASE}-thanos-discovery"
THANOS_SIDECARS = f"dnssrv+_grpc._tcp.{THANOS_DISCOVERY_SERVICE}.{NAMESPACE}.svc.cluster.local"
# prometheus-operator gives every Prometheus pod the external label prometheus_replica=<pod
# name>. Query drops it to merge the 3 replicas of a shard. Shards are told apart by
# prometheus_shard (the operator's SHARD variable, expanded by its config reloader;
# prometheus-operator issue #4621): without it a recording rule evaluated on both shards
# yields the same label set twice and deduplication would keep one shard's partial value.
REPLICA_LABEL = "prometheus_replica"
SHARD_LABEL = "prometheus_shard"
THANOS_SIDECAR_RESOURCES = {
    "requests": {"cpu": "50m", "memory": "64Mi"},
    "limits": {"cpu": "500m", "memory": "256Mi"},
}
THANOS_QUERY_RESOURCES = {
    "requests": {"cpu": "200m", "memory": "256Mi"},
    "limits": {"cpu": "1000m", "memory": "1Gi"},
}
THANOS_USER = 65534  # the image's `nobody`, as a number runAsNonRoot can verify

GRAFANA_ADMIN_SECRET = "grafana-admin"
DASHBOARD_LABEL = "grafana_dashboard"  # what the Grafana chart's dashboard sidecar watches

RESTRICTED_CONTAINER = {
    "allowPrivilegeEscalation": False,
    "readOnlyRootFilesystem": True,
    "runAsNonRoot": True,
    "capabilities": {"drop": ["ALL"]},
    "seccompProfile": {"type": "RuntimeDefault"},
}


@dataclass(frozen=True)
class ReplicationMetrics:
    """The S3 replication whose metrics YACE exports (dr stack): the primary's backup
    bucket, this stack's and the rule between them (components.replication)."""

    source_bucket: pulumi.Input[str]
    destination_bucket: pulumi.Input[str]
    rule_id: str
    region: pulumi.Input[str]  # the source bucket's region, where S3 publishes the metrics


@dataclass(frozen=True)
class MonitoringArgs:
    cluster: Cluster
    namespaces: Namespaces
    hosts: Sequence[ServedHost]  # what the blackbox exporter probes (components/hosts.py)
    name_prefix: str
    environment: str
    alerting: AlertingSettings
    alert_parameters: alerts.AlertParameters
    secret_rotation: int
    ctx: AwsContext
    depends_on: Sequence[pulumi.Resource]
    images: ImageRegistry
    replication: ReplicationMetrics | None = None
    # On the dr stack: the primary's load balancer (its ingressHostname output), which the
    # blackbox exporter probes from this region (alerts.PRIMARY_EDGE_JOB).
    primary_edge: pulumi.Input[str] | None = None


def _zone_spread(selector: dict[str, str]) -> list[dict[str, Any]]:
    return [
        {
            "maxSkew": 1,
            "topologyKey": "topology.kubernetes.io/zone",
            "whenUnsatisfiable": "ScheduleAnyway",
            "labelSelector": {"matchLabels": selector},
        }
    ]


# kube-prometheus-stack default rule -> the platform alert that replaces it (components/alerts.py).
REPLACED_DEFAULT_RULES = {
    "KubePodCrashLooping": "PodCrashLooping",
    "KubeHpaMaxedOut": "HPAAtMaximum",
}


# What EKS does not let Prometheus scrape, by the scrape job the chart would give it.
EKS_UNSCRAPED: Mapping[str, str] = {
    "kube-scheduler": "EKS runs the scheduler in its control plane, out of the nodes' reach",
    "kube-controller-manager": "EKS runs the controller manager in its control plane, out of the nodes' reach",
    "kube-etcd": "EKS runs etcd in its control plane, out of the nodes' reach",
    # The EKS kube-proxy add-on's configuration sets metricsBindAddress 127.0.0.1:10249.
    "kube-proxy": "EKS's kube-proxy serves its metrics on 127.0.0.1 only",
}


def stack_values(args: MonitoringArgs) -> dict[str, Any]:
    """kube-prometheus-stack values carrying the playbook's numbers."""
    volume = {"storageClassName": STORAGE_CLASS, "accessModes": ["ReadWriteOnce"]}
    quay = {"registry": args.images.registry("quay.io")}
    return {
        "crds": {"enabled": True},
        # Every image of the chart and its subcharts from the stack's cache (the chart's
        # own registry keys; global.imageRegistry would give all of them one registry).
        "prometheusOperator": {
            "image": quay,
            "prometheusConfigReloader": {"image": quay},
            "thanosImage": quay,
            "admissionWebhooks": {"patch": {"image": {"registry": args.images.registry("ghcr.io")}}},
        },
        "kube-state-metrics": {"image": {"registry": args.images.registry("registry.k8s.io")}},
        "prometheus-node-exporter": {"image": quay},
        # The chart's default rules stay on (node, kubelet, etcd...), except the ones that
        # page for exactly what a platform alert covers with the playbook's thresholds:
        # each incident would otherwise arrive twice under two names.
        "defaultRules": {"disabled": {rule: True for rule in REPLACED_DEFAULT_RULES}},
        "prometheus": {
            "thanosService": {"enabled": True},
            # The chart's ServiceMonitor over the same Service scrapes the sidecars' metrics.
            "thanosServiceMonitor": {"enabled": True},
            # A drain takes one Prometheus pod of the six (3 replicas x 2 shards) at a time.
            "podDisruptionBudget": {"enabled": True, "minAvailable": PROMETHEUS_REPLICAS * PROMETHEUS_SHARDS - 1},
            "prometheusSpec": {
                "image": quay,
                "replicas": PROMETHEUS_REPLICAS,
                "shards": PROMETHEUS_SHARDS,
                "retention": PROMETHEUS_RETENTION,
                "retentionSize": PROMETHEUS_RETENTION_SIZE,
                "resources": PROMETHEUS_RESOURCES,
                "storageSpec": {
                    "volumeClaimTemplate": {
                        "spec": {**volume, "resources": {"requests": {"storage": PROMETHEUS_VOLUME}}}
                    }
                },
                "externalLabels": {
                    "cluster": args.name_prefix,
                    "environment": args.environment,
                    SHARD_LABEL: "$(SHARD)",
                },
                # Alerts leave without the shard label, as the operator strips the replica
                # label: Alertmanager merges the same alert from either shard, as before.
                "additionalAlertRelabelConfigs": [{"action": "labeldrop", "regex": SHARD_LABEL}],
                # Sidecar only (no objectStorageConfig): it serves the StoreAPI over gRPC
                # to Thanos Query; nothing is uploaded.
                "thanos": {
                    "image": args.images.image(THANOS_IMAGE),
                    "version": THANOS_VERSION,
                    "resources": THANOS_SIDECAR_RESOURCES,
                },
                # Pick up every rule, ServiceMonitor, PodMonitor and Probe of the cluster,
                # not only those labelled for this release.
                "ruleSelectorNilUsesHelmValues": False,
                "serviceMonitorSelectorNilUsesHelmValues": False,
                "podMonitorSelectorNilUsesHelmValues": False,
                "probeSelectorNilUsesHelmValues": False,
                "podAntiAffinity": "soft",
                "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone",
            },
        },
        "alertmanager": {
            "podDisruptionBudget": {"enabled": True, "minAvailable": ALERTMANAGER_REPLICAS - 1},
            "alertmanagerSpec": {
                "image": quay,
                "replicas": ALERTMANAGER_REPLICAS,
                # The whole configuration comes from the Secret this component writes;
                # the credentials it names are mounted from their own Secret.
                "configSecret": alerting.CONFIG_SECRET,
                # Without it the chart also renders its own default Alertmanager config
                # Secret (alertmanager-<release>-alertmanager), which nothing would use.
                "useExistingSecret": True,
                "secrets": [alerting.CREDENTIALS_SECRET],
                "storage": {
                    "volumeClaimTemplate": {
                        "spec": {**volume, "resources": {"requests": {"storage": ALERTMANAGER_VOLUME}}}
                    }
                },
                "resources": {
                    "requests": {"cpu": "100m", "memory": "256Mi"},
                    "limits": {"cpu": "500m", "memory": "512Mi"},
                },
                "podAntiAffinity": "soft",
                "podAntiAffinityTopologyKey": "topology.kubernetes.io/zone",
            },
        },
        "grafana": {
            "image": {"registry": args.images.registry("docker.io")},
            "admin": {
                "existingSecret": GRAFANA_ADMIN_SECRET,
                "userKey": "admin-user",
                "passwordKey": "admin-password",
            },
            "sidecar": {
                "image": quay,
                "dashboards": {"enabled": True, "label": DASHBOARD_LABEL, "searchNamespace": "ALL"},
                # The chart's default Prometheus datasource, pointed at the query layer.
                "datasources": {"url": THANOS_QUERY_URL},
            },
            "resources": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}},
        },
        "kubeStateMetrics": {"enabled": True},
        "nodeExporter": {"enabled": True},
        # Targets EKS does not expose (EKS_UNSCRAPED): their scrape jobs would only report
        # targets down, and the chart's rules for them (KubeProxyDown, KubeSchedulerDown...)
        # would page from the first day.
        "kubeControllerManager": {"enabled": False},
        "kubeScheduler": {"enabled": False},
        "kubeEtcd": {"enabled": False},
        "kubeProxy": {"enabled": False},
    }


def thanos_query_args() -> list[str]:
    """Thanos Query: every sidecar found through the headless Service's SRV record, the
    replicas of a shard merged, the shards kept apart (see SHARD_LABEL)."""
    return [
        "query",
        f"--http-address=0.0.0.0:{THANOS_QUERY_HTTP_PORT}",
        f"--grpc-address=0.0.0.0:{THANOS_GRPC_PORT}",
        f"--endpoint={THANOS_SIDECARS}",
        f"--query.replica-label={REPLICA_LABEL}",
        "--log.format=logfmt",
    ]


def _thanos_query_pod(images: ImageRegistry) -> k8s.core.v1.PodSpecArgs:
    def probe(path: str) -> k8s.core.v1.ProbeArgs:
        return k8s.core.v1.ProbeArgs(
            http_get=k8s.core.v1.HTTPGetActionArgs(path=path, port="http"), period_seconds=10, failure_threshold=3
        )

    container = k8s.core.v1.ContainerArgs(
        name=THANOS_QUERY,
        image=images.image(THANOS_IMAGE),
        args=thanos_query_args(),
        ports=[
            k8s.core.v1.ContainerPortArgs(name="http", container_port=THANOS_QUERY_HTTP_PORT),
            k8s.core.v1.ContainerPortArgs(name="grpc", container_port=THANOS_GRPC_PORT),
        ],
        readiness_probe=probe("/-/ready"),
        liveness_probe=probe("/-/healthy"),
        resources=k8s.core.v1.ResourceRequirementsArgs(
            requests=THANOS_QUERY_RESOURCES["requests"], limits=THANOS_QUERY_RESOURCES["limits"]
        ),
        security_context=k8s.core.v1.SecurityContextArgs(
            allow_privilege_escalation=False,
            read_only_root_filesystem=True,
            run_as_non_root=True,
            run_as_user=THANOS_USER,
            run_as_group=THANOS_USER,
            capabilities=k8s.core.v1.CapabilitiesArgs(drop=["ALL"]),
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
    )
    return k8s.core.v1.PodSpecArgs(
        containers=[container],
        # Query talks only to the sidecars and its clients: no Kubernetes API access.
        automount_service_account_token=False,
        security_context=k8s.core.v1.PodSecurityContextArgs(
            run_as_non_root=True,
            run_as_user=THANOS_USER,
            seccomp_profile=k8s.core.v1.SeccompProfileArgs(type="RuntimeDefault"),
        ),
        topology_spread_constraints=[
            k8s.core.v1.TopologySpreadConstraintArgs(
                max_skew=1,
                topology_key="topology.kubernetes.io/zone",
                # Two replicas in two zones: a zone outage leaves one answering.
                when_unsatisfiable="DoNotSchedule",
                label_selector=k8s.meta.v1.LabelSelectorArgs(match_labels=THANOS_QUERY_LABELS),
            )
        ],
    )


PRIMARY_EDGE_MODULE = "primary_edge"


def primary_edge_module(host: ServedHost) -> dict[str, Any]:
    """The served module, asked at the primary's load balancer by name with a served host's
    Host header and TLS server name, so the answer is the primary's own route and
    certificate for that host whatever DNS points at (blackbox_exporter http prober:
    ``headers``, ``tls_config.server_name``)."""
    return {
        **BLACKBOX_MODULE_CONFIG,
        "http": {**SERVED_HTTP, "headers": {"Host": host.name}, "tls_config": {"server_name": host.name}},
    }


def blackbox_values(images: ImageRegistry, primary_host: ServedHost | None = None) -> dict[str, Any]:
    modules = {BLACKBOX_MODULE: BLACKBOX_MODULE_CONFIG}
    if primary_host is not None:
        modules[PRIMARY_EDGE_MODULE] = primary_edge_module(primary_host)
    return {
        "image": {"registry": images.registry("quay.io")},
        "config": {"modules": modules},
        "replicas": BLACKBOX_REPLICAS,
        "podDisruptionBudget": {"maxUnavailable": 1},
        "topologySpreadConstraints": _zone_spread({"app.kubernetes.io/name": "prometheus-blackbox-exporter"}),
        # The chart's user 1000: the image's user is a name, which runAsNonRoot cannot verify.
        "securityContext": {**RESTRICTED_CONTAINER, "runAsUser": 1000, "runAsGroup": 1000},
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
    }


def probe_targets(hosts: Sequence[ServedHost]) -> list[str]:
    """Every host the platform serves, at a path its Ingress routes to the product."""
    return [host.url for host in hosts]


def cloudwatch_policy() -> str:
    """What YACE needs: discover resources by tag and read their metrics.

    cloudwatch:GetMetricData, cloudwatch:ListMetrics and tag:GetResources support no
    resource-level permission (Service Authorization Reference), so "*" is the narrowest
    resource; the actions are read-only.
    """
    return policy_document(
        [
            {
                "Sid": "ReadCloudWatchMetrics",
                "Effect": "Allow",
                "Action": ["cloudwatch:GetMetricData", "cloudwatch:ListMetrics", "tag:GetResources"],
                "Resource": "*",
            }
        ]
    )


# S3 Replication Metrics (AWS S3 User Guide, "Monitoring replication with Amazon S3
# Replication Metrics"): per rule, in the source bucket's region, namespace AWS/S3 with
# dimensions SourceBucket, DestinationBucket and RuleId. YACE names a static job's series
# aws_s3_<metric>_<statistic> with labels dimension_<Name> (its promutil.BuildMetricName and
# createPrometheusLabels): aws_s3_replication_latency_maximum and
# aws_s3_operations_failed_replication_sum, which components/alerts.py alerts on.
REPLICATION_METRICS = (("ReplicationLatency", "Maximum"), ("OperationsFailedReplication", "Sum"))
REPLICATION_JOB = "backup-replication"


@dataclass(frozen=True)
class ReplicationJob:
    """Plain values of ReplicationMetrics, once the bucket names are known."""

    source_bucket: str
    destination_bucket: str
    rule_id: str
    region: str


def yace_config(region: str, environment: str, replication: ReplicationJob | None = None) -> str:
    """AWS/RDS metrics of this stack's database instances, found by their environment tag,
    and on the dr stack the S3 replication metrics of the backup bucket (a static job: the
    buckets and rule are known, nothing to discover)."""
    config: dict[str, Any] = {
        "apiVersion": "v1alpha1",
        "discovery": {
            "jobs": [
                {
                    "type": "AWS/RDS",
                    "regions": [region],
                    "searchTags": [{"key": "environment", "value": f"^{environment}$"}],
                    "dimensionNameRequirements": ["DBInstanceIdentifier"],
                    "period": 300,
                    "length": 300,
                    "metrics": [
                        *(
                            {"name": name, "statistics": ["Average"]}
                            for name in ("FreeStorageSpace", "CPUUtilization", "DatabaseConnections")
                        ),
                        # RDS publishes ReplicaLag every minute; the RPO alert needs each one.
                        {"name": "ReplicaLag", "statistics": ["Average"], "period": 60, "length": 300},
                    ],
                }
            ]
        },
    }
    if replication is not None:
        config["static"] = [
            {
                "name": REPLICATION_JOB,
                "namespace": "AWS/S3",
                "regions": [replication.region],
                "dimensions": [
                    {"name": "SourceBucket", "value": replication.source_bucket},
                    {"name": "DestinationBucket", "value": replication.destination_bucket},
                    {"name": "RuleId", "value": replication.rule_id},
                ],
                # S3 publishes replication metrics every minute; 5-minute statistics match
                # the exporter's scrape interval.
                "metrics": [
                    {"name": name, "statistics": [statistic], "period": 300, "length": 300}
                    for name, statistic in REPLICATION_METRICS
                ],
            }
        ]
    return yaml.safe_dump(config, sort_keys=False)


def _yace_config_input(region: str, environment: str, replication: ReplicationMetrics | None) -> pulumi.Input[str]:
    if replication is None:
        return yace_config(region, environment)
    rule_id = replication.rule_id
    return pulumi.Output.all(replication.source_bucket, replication.destination_bucket, replication.region).apply(
        lambda v: yace_config(
            region,
            environment,
            ReplicationJob(source_bucket=v[0], destination_bucket=v[1], rule_id=rule_id, region=v[2]),
        )
    )


YACE_INTERVAL_SECONDS = 60


def yace_values(
    region: str,
    environment: str,
    role_arn: Any,
    images: ImageRegistry,
    replication: ReplicationMetrics | None = None,
) -> dict[str, Any]:
    return {
        "image": {"registry": images.registry("quay.io")},
        "serviceAccount": {
            "create": True,
            "name": YACE_SERVICE_ACCOUNT,
            "annotations": {"eks.amazonaws.com/role-arn": role_arn},
        },
        "config": _yace_config_input(region, environment, replication),
        # YACE asks CloudWatch every `scraping-interval` seconds and serves what it got
        # between (its default is 300: yace cmd/yace/main.go); ReplicaLag, the database RPO's
        # alert, is published every minute, so both YACE and Prometheus read it every minute.
        # Prometheus would otherwise see a lag up to ten minutes late.
        "extraArgs": {"scraping-interval": YACE_INTERVAL_SECONDS},
        "serviceMonitor": {"enabled": True, "interval": f"{YACE_INTERVAL_SECONDS}s"},
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 65534, "seccompProfile": {"type": "RuntimeDefault"}},
        "securityContext": RESTRICTED_CONTAINER,
        "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "256Mi"}},
    }


def _panel(title: str, expr: str, index: int, unit: str = "short") -> dict[str, Any]:
    return {
        "id": index + 1,
        "type": "timeseries",
        "title": title,
        "gridPos": {"h": 8, "w": 12, "x": 12 * (index % 2), "y": 8 * (index // 2)},
        "fieldConfig": {"defaults": {"unit": unit}, "overrides": []},
        "targets": [{"expr": expr, "refId": "A"}],
    }


# Playbook "Key Metrics to Monitor", one dashboard per area: (title, unit, expression).
DASHBOARDS: dict[str, list[tuple[str, str, str]]] = {
    "cluster-health": [
        ("Nodes ready", "short", 'sum(kube_node_status_condition{condition="Ready", status="true"})'),
        ("Pod restarts (15m)", "short", "sum by (namespace) (increase(kube_pod_container_status_restarts_total[15m]))"),
        (
            "CPU used / allocatable",
            "percentunit",
            'sum(rate(container_cpu_usage_seconds_total{container!=""}[5m]))'
            ' / sum(kube_node_status_allocatable{resource="cpu"})',
        ),
        (
            "Disk used",
            "percentunit",
            f"1 - node_filesystem_avail_bytes{{{alerts.WRITABLE}}} / node_filesystem_size_bytes{{{alerts.WRITABLE}}}",
        ),
    ],
    "edc-connector": [
        ("Connector targets up", "short", f'sum(up{{job="{alerts.EDC_JOB}"}})'),
        (
            "Requests by code",
            "reqps",
            f"sum by (code) (rate(traefik_service_requests_total{{{alerts.EDC_SERVICES}}}[5m]))",
        ),
        (
            "p95 response time",
            "s",
            "histogram_quantile(0.95, sum by (le) ("
            f"rate(traefik_service_request_duration_seconds_bucket{{{alerts.EDC_SERVICES}}}[5m])))",
        ),
        ("Error ratio", "percentunit", 'slo:sli_error:ratio_rate5m{slo="edc-availability"}'),
    ],
    "databases": [
        ("Free storage", "bytes", "aws_rds_free_storage_space_average"),
        ("Replica lag", "s", "aws_rds_replica_lag_average"),
        ("CPU", "percent", "aws_rds_cpuutilization_average"),
        ("Connections", "short", "aws_rds_database_connections_average"),
    ],
    "backups": [
        (
            "Hours since last success",
            "h",
            '(time() - kube_cronjob_status_last_successful_time{namespace="backup"}) / 3600',
        ),
        ("Failed jobs", "short", 'sum by (job_name) (kube_job_status_failed{namespace="backup"})'),
    ],
    "certificates": [
        ("Days to expiry (probed)", "d", "(probe_ssl_earliest_cert_expiry - time()) / 86400"),
        ("Certificates not Ready", "short", 'sum(certmanager_certificate_ready_status{condition!="True"})'),
    ],
    "slas": [
        ("Error ratio (1h) per SLO", "percentunit", "slo:sli_error:ratio_rate1h"),
        ("Error ratio (1d) per SLO", "percentunit", "slo:sli_error:ratio_rate1d"),
    ],
}


def dashboard_json(name: str, panels: list[tuple[str, str, str]]) -> str:
    return json.dumps(
        {
            "title": f"Tractus-X / {name.replace('-', ' ').title()}",
            "uid": f"tractusx-{name}",
            "schemaVersion": 39,
            "time": {"from": "now-24h", "to": "now"},
            "panels": [_panel(title, expr, i, unit) for i, (title, unit, expr) in enumerate(panels)],
        },
        indent=1,
    )


class Monitoring(pulumi.ComponentResource):
    stack: k8s.helm.v3.Release

    def __init__(self, name: str, args: MonitoringArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:monitoring:Monitoring", name, None, opts)
        self._name = name
        self._args = args
        namespace = args.namespaces.namespace(NAMESPACE)
        k8s_opts = pulumi.ResourceOptions(parent=self, provider=args.cluster.k8s_provider, depends_on=[namespace])
        secrets = [self._grafana_admin(k8s_opts), *self._alertmanager_secrets(k8s_opts)]
        self.stack = self._release(
            "stack",
            (STACK_RELEASE, charts.KUBE_PROMETHEUS_STACK),
            stack_values(args),
            [namespace, *secrets, *args.depends_on],
        )
        after_crds = pulumi.ResourceOptions(parent=self, provider=args.cluster.k8s_provider, depends_on=[self.stack])
        self.rules = k8s.apiextensions.CustomResource(
            f"{name}-rules",
            api_version="monitoring.coreos.com/v1",
            kind="PrometheusRule",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="tractus-x-platform", namespace=NAMESPACE),
            spec=alerts.prometheus_rule_spec(alerts.rule_groups(args.alert_parameters)),
            opts=after_crds,
        )
        blackbox = self._release(
            "blackbox",
            (BLACKBOX_RELEASE, charts.BLACKBOX_EXPORTER),
            blackbox_values(args.images, args.hosts[0] if args.primary_edge is not None else None),
            [namespace],
        )
        k8s.apiextensions.CustomResource(
            f"{name}-endpoints-probe",
            api_version="monitoring.coreos.com/v1",
            kind="Probe",
            metadata=k8s.meta.v1.ObjectMetaArgs(name="platform-endpoints", namespace=NAMESPACE),
            spec={
                "jobName": "blackbox",
                "interval": "60s",
                "module": BLACKBOX_MODULE,
                "prober": {"url": f"{BLACKBOX_RELEASE}.{NAMESPACE}.svc:9115"},
                "targets": {"staticConfig": {"static": probe_targets(args.hosts)}},
            },
            opts=pulumi.ResourceOptions(
                parent=self, provider=args.cluster.k8s_provider, depends_on=[self.stack, blackbox]
            ),
        )
        if args.primary_edge is not None:
            host = args.hosts[0]  # the connector's DSP endpoint, served on every stack
            k8s.apiextensions.CustomResource(
                f"{name}-primary-edge-probe",
                api_version="monitoring.coreos.com/v1",
                kind="Probe",
                metadata=k8s.meta.v1.ObjectMetaArgs(name=alerts.PRIMARY_EDGE_JOB, namespace=NAMESPACE),
                spec={
                    "jobName": alerts.PRIMARY_EDGE_JOB,
                    "interval": "30s",
                    "module": PRIMARY_EDGE_MODULE,
                    "prober": {"url": f"{BLACKBOX_RELEASE}.{NAMESPACE}.svc:9115"},
                    "targets": {
                        "staticConfig": {"static": [pulumi.Output.concat("https://", args.primary_edge, host.path)]}
                    },
                },
                opts=pulumi.ResourceOptions(
                    parent=self, provider=args.cluster.k8s_provider, depends_on=[self.stack, blackbox]
                ),
            )
        role = args.cluster.irsa_role(
            f"{name}-cloudwatch-role",
            namespace=NAMESPACE,
            service_account=YACE_SERVICE_ACCOUNT,
            description=f"CloudWatch exporter of {args.name_prefix}: reads RDS and S3 replication metrics",
            inline_policy=cloudwatch_policy(),
            parent=self,
        )
        self._release(
            "cloudwatch",
            (YACE_RELEASE, charts.CLOUDWATCH_EXPORTER),
            yace_values(args.ctx.region, args.environment, role.arn, args.images, args.replication),
            [namespace, self.stack],
        )
        for dashboard, panels in DASHBOARDS.items():
            k8s.core.v1.ConfigMap(
                f"{name}-dashboard-{dashboard}",
                metadata=k8s.meta.v1.ObjectMetaArgs(
                    name=f"dashboard-{dashboard}", namespace=NAMESPACE, labels={DASHBOARD_LABEL: "1"}
                ),
                data={f"{dashboard}.json": dashboard_json(dashboard, panels)},
                opts=k8s_opts,
            )
        self._thanos_query(k8s_opts, after_crds)
        self.register_outputs({"release": self.stack.name, "rules": self.rules.urn})

    def _release(
        self, role: str, chart: tuple[str, charts.Chart], values: Any, depends_on: Sequence[pulumi.Resource]
    ) -> k8s.helm.v3.Release:
        """``chart`` is (release name, chart)."""
        release, pinned = chart
        return chart_release(
            f"{self._name}-{role}",
            release=release,
            chart=pinned,
            namespace=NAMESPACE,
            values=values,
            parent=self,
            provider=self._args.cluster.k8s_provider,
            depends_on=depends_on,
            timeout=900,
        )

    def _thanos_query(self, opts: pulumi.ResourceOptions, after_crds: pulumi.ResourceOptions) -> None:
        """Thanos Query as plain objects: a Deployment, its Service and disruption budget.
        The Thanos project publishes no Helm chart of its own (kube-thanos is jsonnet; the
        charts around are Bitnami's, which the platform does not use, or individuals'), and
        Query is one stateless container."""
        metadata = k8s.meta.v1.ObjectMetaArgs(name=THANOS_QUERY, namespace=NAMESPACE, labels=THANOS_QUERY_LABELS)
        selector = k8s.meta.v1.LabelSelectorArgs(match_labels=THANOS_QUERY_LABELS)
        k8s.apps.v1.Deployment(
            f"{self._name}-thanos-query",
            metadata=metadata,
            spec=k8s.apps.v1.DeploymentSpecArgs(
                replicas=THANOS_QUERY_REPLICAS,
                selector=selector,
                template=k8s.core.v1.PodTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=THANOS_QUERY_LABELS),
                    spec=_thanos_query_pod(self._args.images),
                ),
            ),
            opts=opts,
        )
        k8s.core.v1.Service(
            f"{self._name}-thanos-query-service",
            metadata=metadata,
            spec=k8s.core.v1.ServiceSpecArgs(
                selector=THANOS_QUERY_LABELS,
                ports=[
                    k8s.core.v1.ServicePortArgs(name="http", port=THANOS_QUERY_HTTP_PORT, target_port="http"),
                    k8s.core.v1.ServicePortArgs(name="grpc", port=THANOS_GRPC_PORT, target_port="grpc"),
                ],
            ),
            opts=opts,
        )
        k8s.policy.v1.PodDisruptionBudget(
            f"{self._name}-thanos-query-pdb",
            metadata=metadata,
            spec=k8s.policy.v1.PodDisruptionBudgetSpecArgs(min_available=THANOS_QUERY_REPLICAS - 1, selector=selector),
            opts=opts,
        )
        k8s.apiextensions.CustomResource(
            f"{self._name}-thanos-query-monitor",
            api_version="monitoring.coreos.com/v1",
            kind="ServiceMonitor",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=THANOS_QUERY, namespace=NAMESPACE),
            spec={
                "selector": {"matchLabels": THANOS_QUERY_LABELS},
                "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
            },
            opts=after_crds,
        )

    def _grafana_admin(self, opts: pulumi.ResourceOptions) -> k8s.core.v1.Secret:
        password = generated_password(f"{self._name}-grafana-admin", self._args.secret_rotation, parent=self)
        return k8s.core.v1.Secret(
            f"{self._name}-grafana-admin",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=GRAFANA_ADMIN_SECRET, namespace=NAMESPACE),
            type="Opaque",
            string_data={"admin-user": "admin", "admin-password": password},
            opts=opts,
        )

    def _alertmanager_secrets(self, opts: pulumi.ResourceOptions) -> list[k8s.core.v1.Secret]:
        settings = self._args.alerting
        credentials = k8s.core.v1.Secret(
            f"{self._name}-alertmanager-credentials",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=alerting.CREDENTIALS_SECRET, namespace=NAMESPACE),
            type="Opaque",
            string_data={key: secret.output() for key, secret in alerting.credentials(settings).items()},
            opts=opts,
        )
        config = k8s.core.v1.Secret(
            f"{self._name}-alertmanager-config",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=alerting.CONFIG_SECRET, namespace=NAMESPACE),
            type="Opaque",
            string_data={alerting.CONFIG_KEY: alerting.alertmanager_yaml(settings)},
            opts=opts,
        )
        return [credentials, config]


THANOS_QUERY_SERVICE = ServiceRef(
    NAMESPACE, THANOS_QUERY, THANOS_QUERY_LABELS, {THANOS_QUERY_HTTP_PORT: THANOS_QUERY_HTTP_PORT}
)
# prometheus-operator adds a config-reloader container to every Prometheus and Alertmanager
# pod, serving its metrics on "reloader-web" (pkg/operator/config_reloader.go,
# configReloaderPort); the chart's ServiceMonitors scrape it.
RELOADER_PORT = 8080
ALERTMANAGER_PORT = 9093
ALERTMANAGER_MESH_PORT = 9094  # memberlist gossip among the replicas, over TCP and UDP
THANOS_SIDECAR_GRPC_PORT = 10901
THANOS_SIDECAR_HTTP_PORT = 10902


def flows() -> tuple[Need, ...]:
    """Prometheus, Alertmanager, Thanos Query, Grafana and the exporters. Prometheus scrapes
    the pods behind the ServiceMonitors of this stack's charts; what it scrapes in other
    namespaces, their components declare (``traffic.scraped``)."""
    grafana = Pods(NAMESPACE, {"app.kubernetes.io/name": "grafana"})
    thanos = Pods(NAMESPACE, THANOS_QUERY_LABELS)
    operator = Pods(NAMESPACE, {"app": f"{STACK_RELEASE}-operator"})
    admission_jobs = Pods(NAMESPACE, {"app.kubernetes.io/component": "prometheus-operator-webhook"})
    alertmanager = Pods(NAMESPACE, {"app.kubernetes.io/name": "alertmanager"})
    state_metrics = Pods(NAMESPACE, {"app.kubernetes.io/name": "kube-state-metrics"})
    cloudwatch = Pods(NAMESPACE, {"app.kubernetes.io/name": "prometheus-yet-another-cloudwatch-exporter"})
    blackbox = Pods(NAMESPACE, {"app.kubernetes.io/name": BLACKBOX_RELEASE})
    coredns = Pods("kube-system", {"k8s-app": "kube-dns"})
    return (
        api_client(PROMETHEUS_PODS, "Prometheus (service discovery, the API server's metrics)"),
        api_client(operator, "prometheus-operator"),
        api_client(admission_jobs, "the operator's webhook certificate Jobs"),
        api_client(state_metrics, "kube-state-metrics"),
        api_client(grafana, "Grafana's dashboard sidecar"),
        Need(PROMETHEUS_PODS, VPC, 10250, "Prometheus scrapes the kubelets (nodes in the VPC)"),
        Need(PROMETHEUS_PODS, VPC, 9100, "Prometheus scrapes the node exporters (host network)"),
        Need(PROMETHEUS_PODS, alertmanager, ALERTMANAGER_PORT, "Prometheus sends alerts to every Alertmanager"),
        Need(
            PROMETHEUS_PODS,
            ServiceRef(NAMESPACE, BLACKBOX_RELEASE, {"app.kubernetes.io/name": BLACKBOX_RELEASE}),
            9115,
            "Prometheus asks the blackbox exporter to probe the public endpoints",
        ),
        Need(blackbox, INTERNET, 443, "the blackbox exporter probes the platform's public endpoints"),
        Need(grafana, THANOS_QUERY_SERVICE, THANOS_QUERY_HTTP_PORT, "Grafana queries every shard through Thanos Query"),
        Need(thanos, PROMETHEUS_PODS, THANOS_SIDECAR_GRPC_PORT, "Thanos Query reads every shard's sidecar"),
        Need(alertmanager, INTERNET, 443, "Alertmanager notifies PagerDuty and Slack"),
        Need(alertmanager, INTERNET, 587, "Alertmanager sends mail through the SMTP relay"),
        *(
            Need(alertmanager, alertmanager, ALERTMANAGER_MESH_PORT, "the Alertmanager replicas gossip", protocol)
            for protocol in ("TCP", "UDP")
        ),
        Need(cloudwatch, INTERNET, 443, "the CloudWatch exporter reads CloudWatch (and STS for IRSA)"),
        Need(CONTROL_PLANE, operator, 10250, "the API server calls prometheus-operator's admission webhook"),
        scraped(PROMETHEUS_PODS, 9090, "Prometheus itself"),
        scraped(PROMETHEUS_PODS, RELOADER_PORT, "Prometheus's config reloader"),
        scraped(PROMETHEUS_PODS, THANOS_SIDECAR_HTTP_PORT, "the Thanos sidecars"),
        scraped(alertmanager, ALERTMANAGER_PORT, "Alertmanager"),
        scraped(alertmanager, RELOADER_PORT, "Alertmanager's config reloader"),
        scraped(thanos, THANOS_QUERY_HTTP_PORT, "Thanos Query"),
        scraped(grafana, 3000, "Grafana"),
        scraped(state_metrics, 8080, "kube-state-metrics"),
        scraped(operator, 10250, "prometheus-operator"),
        scraped(cloudwatch, 5000, "the CloudWatch exporter"),
        scraped(coredns, 9153, "CoreDNS"),
    )
