"""Playbook "Alert Configuration" and the rules it implies, run by ``promtool test rules``.

Every alert fires on series that break its threshold for longer than its ``for``, and stays
silent just under the threshold, before ``for`` has elapsed, and on the edge cases a real
cluster produces (each named after what it shows).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from components.alerts import SLOS, prometheus_rule_spec, rules_file
from components.schedules import RESTORE_TEST, SCHEDULED_JOBS
from tests.promtool import GROUPS, Case, require, run_rule_tests, series

KSM = {"job": "kube-state-metrics"}
POD = {"namespace": "tractus-x", "pod": "portal-7d9f-abcde", "container": "portal"}
PORTAL = "tractus-x-portal-8080@kubernetesingressnginx"
EDC = "tractus-x-edc-controlplane-8084@kubernetesingressnginx"  # the connector's DSP Ingress
GIB = 1024**3


def restarts(values: str, **labels: str) -> dict[str, str]:
    return {series("kube_pod_container_status_restarts_total", {**KSM, **POD, **labels}): values}


def requests(service: str, per_minute: dict[str, int], minutes: int = 120) -> dict[str, str]:
    """Traefik request counters of ``service``: per status code, requests per minute."""
    return {
        series(
            "traefik_service_requests_total",
            {"service": service, "code": code, "method": "GET", "protocol": "http"},
        ): f"0+{count}x{minutes}"
        for code, count in per_minute.items()
    }


BUCKETS = ("0.1", "0.25", "0.5", "1", "2", "5", "10", "+Inf")


def histogram(service: str, per_minute: dict[str, int], minutes: int = 60, **labels: str) -> dict[str, str]:
    """Traefik duration buckets: ``per_minute`` maps an upper bound to the requests that
    finished in the bucket ending there (not cumulative); the rest are derived."""
    out: dict[str, str] = {}
    cumulative = 0
    for bound in BUCKETS:
        cumulative += per_minute.get(bound, 0)
        name = series(
            "traefik_service_request_duration_seconds_bucket",
            {"service": service, "code": "200", "method": "GET", "protocol": "http", "le": bound, **labels},
        )
        out[name] = f"0+{cumulative}x{minutes}"
    count = series(
        "traefik_service_request_duration_seconds_count",
        {"service": service, "code": "200", "method": "GET", "protocol": "http", **labels},
    )
    out[count] = f"0+{cumulative}x{minutes}"
    return out


def firing(**labels: str) -> dict[str, str]:
    return dict(labels)


CRASH = {**POD, **KSM}
APP_LABELS = {"namespace": "argocd", "name": "edc-connector", "project": "edc"}
# argocd_app_info as Argo CD's metrics endpoint exports it (value 1, status in labels).
ARGOCD_APP = {
    **APP_LABELS,
    "job": "argocd-application-controller-metrics",
    "dest_namespace": "edc-standalone",
    "health_status": "Healthy",
    "sync_status": "Synced",
}
# A Vault server as the chart's ServiceMonitor scrapes it.
VAULT_TARGET = {"namespace": "vault", "job": "vault-internal", "service": "vault-internal"}
IDLE = " ".join(["NaN"] * 12)  # promtool expands no NaN series ("NaNx12" is refused)
REPLICATION = {
    "dimension_SourceBucket": "tx-prod-backups",
    "dimension_DestinationBucket": "tx-dr-backups",
    "dimension_RuleId": "backups-to-dr-region",
}
CASES: dict[str, list[Case]] = {
    "PodCrashLooping": [
        Case(
            "4 restarts in 15 minutes fire after 5 minutes",
            "PodCrashLooping",
            "12m",
            restarts("0 1 2 3 4 4x20"),
            [firing(**CRASH, severity="critical")],
        ),
        Case("4 restarts, but for has not elapsed", "PodCrashLooping", "6m", restarts("0 1 2 3 4 4x20")),
        Case("3 restarts in 15 minutes are not more than 3", "PodCrashLooping", "20m", restarts("0x10 1 2 3 3x20")),
        Case(
            "a steady crash loop at the 5-minute back-off cap (3 per 15 minutes) fires on the waiting reason",
            "PodCrashLooping",
            "30m",
            {
                **restarts("0x4 1x4 2x4 3x4 4x4 5x4 6x4"),
                series(
                    "kube_pod_container_status_waiting_reason", {**KSM, **POD, "reason": "CrashLoopBackOff"}
                ): "1x30",
            },
            [firing(**POD, severity="critical")],
        ),
        Case(
            "a container waiting for its image is not crash looping",
            "PodCrashLooping",
            "30m",
            {series("kube_pod_container_status_waiting_reason", {**KSM, **POD, "reason": "ImagePullBackOff"}): "1x30"},
        ),
        Case(
            "a counter reset (pod recreated under the same name) is not a restart",
            "PodCrashLooping",
            "30m",
            restarts("7x15 0x15"),
        ),
    ],
    "HighResourceUsage": [
        Case(
            "memory at 95% of the limit for 15 minutes fires",
            "HighResourceUsage",
            "15m",
            {
                series("container_memory_working_set_bytes", {**POD, "id": "/a"}): "950x15",
                series("container_spec_memory_limit_bytes", {**POD, "id": "/a"}): "1000x15",
            },
            [firing(**POD, resource="memory", severity="critical")],
        ),
        Case(
            "memory at 89% stays silent",
            "HighResourceUsage",
            "15m",
            {
                series("container_memory_working_set_bytes", POD): "890x15",
                series("container_spec_memory_limit_bytes", POD): "1000x15",
            },
        ),
        Case(
            "memory at 95% for 7 minutes: for (10m) has not elapsed",
            "HighResourceUsage",
            "13m",
            {
                series("container_memory_working_set_bytes", POD): "500x5 950x8",
                series("container_spec_memory_limit_bytes", POD): "1000x13",
            },
        ),
        Case(
            "a container without a memory limit (limit 0, ratio +Inf) does not fire",
            "HighResourceUsage",
            "15m",
            {
                series("container_memory_working_set_bytes", POD): "950x15",
                series("container_spec_memory_limit_bytes", POD): "0x15",
            },
        ),
        Case(
            'the pod-level cgroup (container="") is not a container',
            "HighResourceUsage",
            "15m",
            {
                series("container_memory_working_set_bytes", {**POD, "container": ""}): "950x15",
                series("container_spec_memory_limit_bytes", {**POD, "container": ""}): "1000x15",
            },
        ),
        Case(
            "CPU at 95% of the limit for 20 minutes fires",
            "HighResourceUsage",
            "20m",
            {
                series("container_cpu_usage_seconds_total", POD): "0+57x20",
                series("kube_pod_container_resource_limits", {**POD, **KSM, "resource": "cpu", "unit": "core"}): "1x20",
            },
            [firing(**POD, resource="cpu", severity="critical")],
        ),
        Case(
            "CPU at 85% stays silent",
            "HighResourceUsage",
            "20m",
            {
                series("container_cpu_usage_seconds_total", POD): "0+51x20",
                series("kube_pod_container_resource_limits", {**POD, **KSM, "resource": "cpu", "unit": "core"}): "1x20",
            },
        ),
    ],
    "EDCConnectorDown": [
        Case(
            "a connector target down for 10 minutes fires",
            "EDCConnectorDown",
            "10m",
            {series("up", {"job": "tractus-x-edc", "instance": "10.0.1.5:9090", "namespace": "tractus-x"}): "0x10"},
            [firing(job="tractus-x-edc", instance="10.0.1.5:9090", namespace="tractus-x", severity="critical")],
        ),
        Case(
            "down for 2 minutes: for (5m) has not elapsed",
            "EDCConnectorDown",
            "8m",
            {series("up", {"job": "tractus-x-edc", "instance": "10.0.1.5:8080"}): "1x5 0x3"},
        ),
        Case(
            "a healthy connector stays silent",
            "EDCConnectorDown",
            "10m",
            {series("up", {"job": "tractus-x-edc", "instance": "10.0.1.5:8080"}): "1x10"},
        ),
        Case(
            "every connector pod gone (no target, no `up`) fires from kube-state-metrics",
            "EDCConnectorDown",
            "10m",
            {
                series(
                    "kube_deployment_status_replicas_available",
                    {**KSM, "namespace": "tractus-x", "deployment": "edc-controlplane"},
                ): "0x10",
                series(
                    "kube_deployment_spec_replicas",
                    {**KSM, "namespace": "tractus-x", "deployment": "edc-controlplane"},
                ): "2x10",
            },
            [firing(**KSM, namespace="tractus-x", deployment="edc-controlplane", severity="critical")],
        ),
        Case(
            "another Deployment of the namespace without pods is not the connector",
            "EDCConnectorDown",
            "10m",
            {
                series(
                    "kube_deployment_status_replicas_available",
                    {**KSM, "namespace": "tractus-x", "deployment": "portal"},
                ): "0x10",
                series(
                    "kube_deployment_spec_replicas",
                    {**KSM, "namespace": "tractus-x", "deployment": "portal"},
                ): "2x10",
            },
        ),
        Case(
            "a connector scaled to zero on purpose (pilot-light dr stack) stays silent",
            "EDCConnectorDown",
            "10m",
            {
                series(
                    "kube_deployment_status_replicas_available",
                    {**KSM, "namespace": "tractus-x", "deployment": "edc-controlplane"},
                ): "0x10",
                series(
                    "kube_deployment_spec_replicas",
                    {**KSM, "namespace": "tractus-x", "deployment": "edc-controlplane"},
                ): "0x10",
            },
        ),
    ],
    "CertificateExpiringSoon": [
        Case(
            "20 days left fires the 30-day warning after an hour",
            "CertificateExpiringSoon",
            "2h",
            {
                series(
                    "probe_ssl_earliest_cert_expiry", {"job": "blackbox", "instance": "https://tractus-x.example.com"}
                ): f"{20 * 86400}x120"
            },
            [firing(job="blackbox", instance="https://tractus-x.example.com", severity="warning")],
        ),
        Case(
            "5 days left fires the warning and the critical alert",
            "CertificateExpiringSoon",
            "2h",
            {
                series(
                    "probe_ssl_earliest_cert_expiry",
                    {"job": "blackbox", "instance": "https://api.tractus-x.example.com"},
                ): f"{5 * 86400}x120"
            },
            [
                firing(job="blackbox", instance="https://api.tractus-x.example.com", severity="warning"),
                firing(job="blackbox", instance="https://api.tractus-x.example.com", severity="critical"),
            ],
        ),
        Case(
            "31 days left stays silent",
            "CertificateExpiringSoon",
            "2h",
            {
                series(
                    "probe_ssl_earliest_cert_expiry", {"job": "blackbox", "instance": "https://tractus-x.example.com"}
                ): f"{31 * 86400 + 7200}x120"
            },
        ),
        Case(
            "20 days left for 30 minutes: for (1h) has not elapsed",
            "CertificateExpiringSoon",
            "30m",
            {
                series(
                    "probe_ssl_earliest_cert_expiry", {"job": "blackbox", "instance": "https://tractus-x.example.com"}
                ): f"{20 * 86400}x120"
            },
        ),
        Case(
            "an already expired certificate fires both",
            "CertificateExpiringSoon",
            "2h",
            {
                series(
                    "probe_ssl_earliest_cert_expiry", {"job": "blackbox", "instance": "https://tractus-x.example.com"}
                ): "0x120"
            },
            [
                firing(job="blackbox", instance="https://tractus-x.example.com", severity="warning"),
                firing(job="blackbox", instance="https://tractus-x.example.com", severity="critical"),
            ],
        ),
    ],
    "HighErrorRate": [
        Case(
            "10% 5xx for 20 minutes fires",
            "HighErrorRate",
            "20m",
            requests(PORTAL, {"200": 900, "500": 100}),
            [firing(service=PORTAL, severity="warning")],
        ),
        Case("4.5% 5xx stays silent", "HighErrorRate", "20m", requests(PORTAL, {"200": 955, "502": 45})),
        Case(
            "10% 5xx for 10 minutes: for (15m) has not elapsed",
            "HighErrorRate",
            "10m",
            requests(PORTAL, {"200": 900, "500": 100}),
        ),
        Case(
            "one 5xx series among many 2xx is 0.1%, not 100% per series",
            "HighErrorRate",
            "20m",
            requests(PORTAL, {"200": 9990, "500": 10}),
        ),
        Case(
            "a service without traffic (0/0) stays silent",
            "HighErrorRate",
            "20m",
            requests(PORTAL, {"200": 0, "500": 0}),
        ),
        Case(
            "Traefik's own @internal services do not count",
            "HighErrorRate",
            "20m",
            requests("ping@internal", {"500": 100}),
        ),
    ],
    "SlowResponseTimes": [
        Case(
            "every request between 2 and 5 s fires",
            "SlowResponseTimes",
            "20m",
            histogram(PORTAL, {"5": 100}),
            [firing(service=PORTAL, severity="warning")],
        ),
        Case(
            "96% of requests within 2 s stays silent", "SlowResponseTimes", "20m", histogram(PORTAL, {"2": 96, "5": 4})
        ),
        Case("slow for 8 minutes: for (10m) has not elapsed", "SlowResponseTimes", "8m", histogram(PORTAL, {"5": 100})),
        Case(
            "one slow pod among busy fast pods: the service's 95th percentile is fast",
            "SlowResponseTimes",
            "20m",
            {
                **histogram(PORTAL, {"0.5": 1000}, instance="10.0.1.10:8080"),
                **histogram(PORTAL, {"5": 10}, instance="10.0.2.10:8080"),
            },
        ),
    ],
    "HighDiskUsage": [
        Case(
            "85% used of a node disk for 10 minutes fires (free still shows 75%)",
            "HighDiskUsage",
            "10m",
            {
                series(
                    "node_filesystem_size_bytes",
                    disk := {
                        "instance": "10.0.1.20:9100",
                        "device": "/dev/nvme0n1p1",
                        "mountpoint": "/",
                        "fstype": "xfs",
                    },
                ): "100x10",
                series("node_filesystem_avail_bytes", disk): "15x10",
                series("node_filesystem_free_bytes", disk): "25x10",
                series("node_filesystem_readonly", disk): "0x10",
            },
            [firing(**disk, severity="warning")],
        ),
        Case(
            "79% used stays silent",
            "HighDiskUsage",
            "10m",
            {
                series("node_filesystem_size_bytes", disk): "100x10",
                series("node_filesystem_avail_bytes", disk): "21x10",
                series("node_filesystem_readonly", disk): "0x10",
            },
        ),
        Case(
            "85% used for 3 minutes: for (5m) has not elapsed",
            "HighDiskUsage",
            "4m",
            {
                series("node_filesystem_size_bytes", disk): "100x10",
                series("node_filesystem_avail_bytes", disk): "50 50 15x8",
                series("node_filesystem_readonly", disk): "0x10",
            },
        ),
        Case(
            "a full squashfs image and a full read-only volume stay silent",
            "HighDiskUsage",
            "10m",
            {
                series(
                    "node_filesystem_size_bytes", squash := {**disk, "mountpoint": "/snap", "fstype": "squashfs"}
                ): "100x10",
                series("node_filesystem_avail_bytes", squash): "0x10",
                series("node_filesystem_readonly", squash): "1x10",
                series(
                    "node_filesystem_size_bytes", ro := {**disk, "mountpoint": "/ro", "device": "/dev/nvme1n1"}
                ): "100x10",
                series("node_filesystem_avail_bytes", ro): "0x10",
                series("node_filesystem_readonly", ro): "1x10",
            },
        ),
    ],
    "CertificateNotReady": [
        Case(
            "a Certificate not Ready for 20 minutes fires",
            "CertificateNotReady",
            "20m",
            {
                series(
                    "certmanager_certificate_ready_status",
                    cert := {"namespace": "tractus-x", "name": "tractus-x-tls", "condition": "False"},
                ): "1x30",
                series("certmanager_certificate_ready_status", {**cert, "condition": "True"}): "0x30",
            },
            [firing(namespace="tractus-x", name="tractus-x-tls", severity="warning")],
        ),
        Case(
            "not Ready for 10 minutes (an issuance in progress): for (15m) has not elapsed",
            "CertificateNotReady",
            "10m",
            {series("certmanager_certificate_ready_status", cert): "1x30"},
        ),
        Case(
            "a Ready Certificate stays silent",
            "CertificateNotReady",
            "20m",
            {
                series("certmanager_certificate_ready_status", cert): "0x30",
                series("certmanager_certificate_ready_status", {**cert, "condition": "True"}): "1x30",
            },
        ),
        Case(
            "a first issuance stuck in Unknown fires",
            "CertificateNotReady",
            "20m",
            {series("certmanager_certificate_ready_status", {**cert, "condition": "Unknown"}): "1x30"},
            [firing(namespace="tractus-x", name="tractus-x-tls", severity="warning")],
        ),
    ],
    "DatabaseStorageLow": [
        Case(
            "5 GiB free of 100 GiB for 20 minutes fires",
            "DatabaseStorageLow",
            "20m",
            {
                series(
                    "aws_rds_free_storage_space_average", db := {"dimension_DBInstanceIdentifier": "tx-prod-postgres"}
                ): f"{5 * GIB}x30"
            },
            [firing(**db, severity="critical")],
        ),
        Case(
            "11 GiB free stays silent",
            "DatabaseStorageLow",
            "20m",
            {series("aws_rds_free_storage_space_average", db): f"{11 * GIB}x30"},
        ),
        Case(
            "5 GiB free for 10 minutes: for (15m) has not elapsed",
            "DatabaseStorageLow",
            "10m",
            {series("aws_rds_free_storage_space_average", db): f"{5 * GIB}x30"},
        ),
        Case(
            "another account's database in the same region is not ours",
            "DatabaseStorageLow",
            "20m",
            {
                series(
                    "aws_rds_free_storage_space_average", {"dimension_DBInstanceIdentifier": "billing"}
                ): f"{1 * GIB}x30"
            },
        ),
    ],
    "DatabaseReplicaLag": [
        Case(
            "90 s behind for 3 minutes fires the warning",
            "DatabaseReplicaLag",
            "3m",
            {
                series(
                    "aws_rds_replica_lag_average", replica := {"dimension_DBInstanceIdentifier": "tx-prod-postgres-dr"}
                ): "90x20"
            },
            [firing(**replica, severity="warning")],
        ),
        Case(
            "beyond the 5-minute RPO pages too",
            "DatabaseReplicaLag",
            "3m",
            {series("aws_rds_replica_lag_average", replica): "400x20"},
            [firing(**replica, severity="warning"), firing(**replica, severity="critical")],
        ),
        Case(
            "30 s behind stays silent",
            "DatabaseReplicaLag",
            "15m",
            {series("aws_rds_replica_lag_average", replica): "30x20"},
        ),
        Case(
            "400 s behind for 1 minute: for (2m) has not elapsed",
            "DatabaseReplicaLag",
            "1m",
            {series("aws_rds_replica_lag_average", replica): "400x20"},
        ),
    ],
    # The dr stack's probe of prod's edge (components.monitoring, job primary-edge).
    "PrimaryEdgeDown": [
        Case(
            "prod's edge failing for 3 minutes pages from dr",
            "PrimaryEdgeDown",
            "4m",
            {
                series(
                    "probe_success", edge := {"job": "primary-edge", "instance": "https://prod-nlb/api/v1/dsp"}
                ): "0x10"
            },
            [firing(instance=edge["instance"], severity="critical")],
        ),
        Case(
            "a failure shorter than 3 minutes stays silent",
            "PrimaryEdgeDown",
            "4m",
            {series("probe_success", edge): "1 0 0 1 1 1 1 1 1 1"},
        ),
        Case(
            "a served-host probe failing is not the primary's edge",
            "PrimaryEdgeDown",
            "10m",
            {series("probe_success", {"job": "blackbox", "instance": "https://edc.x/api/v1/dsp"}): "0x12"},
        ),
    ],
    # S3 replication of prod's backups into the dr region (README DR: backup RPO, S3 RTC 15
    # minutes). YACE samples CloudWatch every 5 minutes; CloudWatch has no datapoint while
    # nothing replicates, which YACE exports as NaN.
    "BackupReplicationFailing": [
        Case(
            "one object failed in the daily backup pages after 15 minutes",
            "BackupReplicationFailing",
            "25m",
            {series("aws_s3_operations_failed_replication_sum", REPLICATION): "0 1 " + " ".join(["NaN"] * 5)},
            [firing(**REPLICATION, severity="critical")],
            interval="5m",
        ),
        Case(
            "the failure has not lasted 15 minutes yet",
            "BackupReplicationFailing",
            "10m",
            {series("aws_s3_operations_failed_replication_sum", REPLICATION): "0 1 " + " ".join(["NaN"] * 5)},
            interval="5m",
        ),
        Case(
            "every operation succeeded: zero failures stay silent",
            "BackupReplicationFailing",
            "30m",
            {series("aws_s3_operations_failed_replication_sum", REPLICATION): "0x12"},
            interval="5m",
        ),
        Case(
            "no replication traffic (no CloudWatch datapoints) stays silent",
            "BackupReplicationFailing",
            "30m",
            {series("aws_s3_operations_failed_replication_sum", REPLICATION): IDLE},
            interval="5m",
        ),
        Case(
            "another replication rule is not the backups'",
            "BackupReplicationFailing",
            "30m",
            {series("aws_s3_operations_failed_replication_sum", {**REPLICATION, "dimension_RuleId": "logs"}): "1x12"},
            interval="5m",
        ),
    ],
    "BackupReplicationLagging": [
        Case(
            "1200 s behind for 35 minutes fires the warning",
            "BackupReplicationLagging",
            "35m",
            {series("aws_s3_replication_latency_maximum", REPLICATION): "1200x12"},
            [firing(**REPLICATION, severity="warning")],
            interval="5m",
        ),
        Case(
            "900 s, RTC's limit itself, stays silent",
            "BackupReplicationLagging",
            "35m",
            {series("aws_s3_replication_latency_maximum", REPLICATION): "900x12"},
            interval="5m",
        ),
        Case(
            "1200 s behind for 20 minutes: for (30m) has not elapsed",
            "BackupReplicationLagging",
            "20m",
            {series("aws_s3_replication_latency_maximum", REPLICATION): "1200x12"},
            interval="5m",
        ),
        Case(
            "no replication traffic (no CloudWatch datapoints) stays silent",
            "BackupReplicationLagging",
            "35m",
            {series("aws_s3_replication_latency_maximum", REPLICATION): IDLE},
            interval="5m",
        ),
    ],
    "HPAAtMaximum": [
        Case(
            "an HPA at its maximum for 20 minutes fires",
            "HPAAtMaximum",
            "20m",
            {
                series(
                    "kube_horizontalpodautoscaler_status_current_replicas",
                    hpa := {**KSM, "namespace": "tractus-x", "horizontalpodautoscaler": "portal-hpa"},
                ): "20x30",
                series("kube_horizontalpodautoscaler_spec_max_replicas", hpa): "20x30",
                series("kube_horizontalpodautoscaler_spec_min_replicas", hpa): "3x30",
            },
            [firing(namespace="tractus-x", horizontalpodautoscaler="portal-hpa", severity="warning")],
        ),
        Case(
            "at its maximum for 10 minutes: for (15m) has not elapsed",
            "HPAAtMaximum",
            "10m",
            {
                series("kube_horizontalpodautoscaler_status_current_replicas", hpa): "20x30",
                series("kube_horizontalpodautoscaler_spec_max_replicas", hpa): "20x30",
                series("kube_horizontalpodautoscaler_spec_min_replicas", hpa): "3x30",
            },
        ),
        Case(
            "one replica below the maximum stays silent",
            "HPAAtMaximum",
            "20m",
            {
                series("kube_horizontalpodautoscaler_status_current_replicas", hpa): "19x30",
                series("kube_horizontalpodautoscaler_spec_max_replicas", hpa): "20x30",
                series("kube_horizontalpodautoscaler_spec_min_replicas", hpa): "3x30",
            },
        ),
        Case(
            "an HPA with min == max is a fixed size, not saturated",
            "HPAAtMaximum",
            "20m",
            {
                series("kube_horizontalpodautoscaler_status_current_replicas", hpa): "3x30",
                series("kube_horizontalpodautoscaler_spec_max_replicas", hpa): "3x30",
                series("kube_horizontalpodautoscaler_spec_min_replicas", hpa): "3x30",
            },
        ),
    ],
    "ArgoCDApplicationDegraded": [
        Case(
            "an Application Degraded for 20 minutes fires",
            "ArgoCDApplicationDegraded",
            "20m",
            {series("argocd_app_info", {**ARGOCD_APP, "health_status": "Degraded"}): "1x30"},
            [firing(**APP_LABELS, health_status="Degraded", severity="warning")],
        ),
        Case(
            "Degraded for 10 minutes: for (15m) has not elapsed",
            "ArgoCDApplicationDegraded",
            "10m",
            {series("argocd_app_info", {**ARGOCD_APP, "health_status": "Degraded"}): "1x30"},
        ),
        Case(
            "Progressing (a rollout, the connector waiting for its database) stays silent",
            "ArgoCDApplicationDegraded",
            "20m",
            {series("argocd_app_info", {**ARGOCD_APP, "health_status": "Progressing"}): "1x30"},
        ),
    ],
    "ArgoCDApplicationOutOfSync": [
        Case(
            "OutOfSync for 70 minutes (retries exhausted) fires",
            "ArgoCDApplicationOutOfSync",
            "70m",
            {series("argocd_app_info", {**ARGOCD_APP, "sync_status": "OutOfSync"}): "1x80"},
            [firing(**APP_LABELS, severity="warning")],
        ),
        Case(
            "OutOfSync for 30 minutes: still retrying",
            "ArgoCDApplicationOutOfSync",
            "30m",
            {series("argocd_app_info", {**ARGOCD_APP, "sync_status": "OutOfSync"}): "1x80"},
        ),
        Case(
            "Synced stays silent",
            "ArgoCDApplicationOutOfSync",
            "70m",
            {series("argocd_app_info", ARGOCD_APP): "1x80"},
        ),
    ],
    "VaultSealed": [
        Case(
            "a server sealed for 10 minutes pages",
            "VaultSealed",
            "10m",
            {
                series("vault_core_unsealed", {**VAULT_TARGET, "pod": "vault-0"}): "1x12",
                series("vault_core_unsealed", {**VAULT_TARGET, "pod": "vault-1"}): "0x12",
            },
            [firing(namespace="vault", pod="vault-1", severity="critical")],
        ),
        Case(
            "sealed for 3 minutes (a restart unsealing through KMS): for (5m) has not elapsed",
            "VaultSealed",
            "3m",
            {series("vault_core_unsealed", {**VAULT_TARGET, "pod": "vault-1"}): "0x12"},
        ),
        Case(
            "all servers unsealed stay silent",
            "VaultSealed",
            "10m",
            {series("vault_core_unsealed", {**VAULT_TARGET, "pod": f"vault-{i}"}): "1x12" for i in range(3)},
        ),
    ],
    "VaultQuorumLost": [
        Case(
            "two of three servers down for 10 minutes pages",
            "VaultQuorumLost",
            "10m",
            {
                series("up", {**VAULT_TARGET, "pod": "vault-0"}): "1x12",
                series("up", {**VAULT_TARGET, "pod": "vault-1"}): "0x12",
                series("up", {**VAULT_TARGET, "pod": "vault-2"}): "0x12",
            },
            [firing(severity="critical")],
        ),
        Case(
            "every target gone (the StatefulSet deleted) pages too",
            "VaultQuorumLost",
            "10m",
            {series("up", {"namespace": "monitoring", "job": "prometheus"}): "1x12"},
            [firing(severity="critical")],
        ),
        Case(
            "one server down (a rolling restart) keeps the quorum: silent",
            "VaultQuorumLost",
            "10m",
            {
                series("up", {**VAULT_TARGET, "pod": "vault-0"}): "1x12",
                series("up", {**VAULT_TARGET, "pod": "vault-1"}): "1x12",
                series("up", {**VAULT_TARGET, "pod": "vault-2"}): "0x12",
            },
        ),
    ],
    "SLOErrorBudgetBurn": [
        Case(
            "portal at 2% errors (20x the 0.1% budget) pages on the 1h and 6h windows",
            "SLOErrorBudgetBurn",
            "30m",
            requests(PORTAL, {"200": 980, "500": 20}),
            [
                firing(slo="portal-availability", window="1h", severity="critical"),
                firing(slo="portal-availability", window="6h", severity="critical"),
            ],
            promql=[
                {
                    "expr": 'slo:sli_error:ratio_rate5m{slo="portal-availability"}',
                    "eval_time": "10m",
                    "exp_samples": [{"labels": 'slo:sli_error:ratio_rate5m{slo="portal-availability"}', "value": 0.02}],
                }
            ],
        ),
        Case(
            "portal at 1.4% errors is under the 14.4x page of the 1h window, over the 6x of the 6h window",
            "SLOErrorBudgetBurn",
            "30m",
            requests(PORTAL, {"200": 986, "500": 14}),
            [firing(slo="portal-availability", window="6h", severity="critical")],
        ),
        Case(
            "errors stopped 10 minutes ago: the 5m window silences the 1h page",
            "SLOErrorBudgetBurn",
            "40m",
            {
                series(
                    "traefik_service_requests_total",
                    {"service": PORTAL, "code": "200", "method": "GET", "protocol": "http"},
                ): "0+980x30 29400+1000x30",
                series(
                    "traefik_service_requests_total",
                    {"service": PORTAL, "code": "500", "method": "GET", "protocol": "http"},
                ): "0+20x30 600x30",
            },
            [firing(slo="portal-availability", window="6h", severity="critical")],
        ),
        Case(
            "EDC at 1% errors (20x its 0.05% budget) pages",
            "SLOErrorBudgetBurn",
            "30m",
            requests(EDC, {"200": 990, "500": 10}),
            [
                firing(slo="edc-availability", window="1h", severity="critical"),
                firing(slo="edc-availability", window="6h", severity="critical"),
            ],
        ),
        Case(
            "a connector of the Tractus-X charts in tractus-x counts for the EDC SLO, not the portal's",
            "SLOErrorBudgetBurn",
            "30m",
            requests("tractus-x-edc-controlplane-8081@kubernetesingressnginx", {"200": 990, "500": 10}),
            [
                firing(slo="edc-availability", window="1h", severity="critical"),
                firing(slo="edc-availability", window="6h", severity="critical"),
            ],
        ),
        Case(
            "80% of requests slower than 2 s burns the latency budget",
            "SLOErrorBudgetBurn",
            "30m",
            histogram(PORTAL, {"1": 20, "5": 80}),
            [
                firing(slo="api-latency", window="1h", severity="critical"),
                firing(slo="api-latency", window="6h", severity="critical"),
            ],
        ),
        Case(
            "a burn for 1 minute: for (2m) has not elapsed",
            "SLOErrorBudgetBurn",
            "2m",
            requests(PORTAL, {"200": 980, "500": 20}),
        ),
        Case("no traffic at all stays silent", "SLOErrorBudgetBurn", "30m", requests(PORTAL, {"200": 0, "500": 0})),
    ],
}


MINUTE_CASES: dict[str, list[Case]] = {}


def _backup_cases() -> None:
    """BackupJobFailed / BackupTooOld / RestoreTest* for every CronJob of schedules.py."""
    for job in SCHEDULED_JOBS:
        restore = job == RESTORE_TEST
        failed, too_old = ("RestoreTestFailed", "RestoreTestTooOld") if restore else ("BackupJobFailed", "BackupTooOld")
        cron = {**KSM, "namespace": "backup", "cronjob": job.name}
        run = {**KSM, "namespace": "backup", "job_name": f"{job.name}-29400000"}
        owner = series(
            "kube_job_owner", {**run, "owner_kind": "CronJob", "owner_name": job.name, "owner_is_controller": "true"}
        )
        fired = {"namespace": "backup", "cronjob": job.name}
        CASES.setdefault(failed, []).extend(
            [
                Case(
                    f"{job.name}: the latest run failed",
                    failed,
                    "10m",
                    {
                        series("kube_cronjob_created", cron): "0x10",
                        series("kube_cronjob_status_last_successful_time", cron): "100x10",
                        series("kube_job_status_start_time", run): "300x10",
                        series("kube_job_status_failed", {**run, "reason": "BackoffLimitExceeded"}): "1x10",
                        owner: "1x10",
                    },
                    [firing(**fired, severity="warning")],
                ),
                Case(
                    f"{job.name}: a failed run kept by the history limit, older than the last success",
                    failed,
                    "10m",
                    {
                        series("kube_cronjob_created", cron): "0x10",
                        series("kube_cronjob_status_last_successful_time", cron): "100x10",
                        series("kube_job_status_start_time", run): "50x10",
                        series("kube_job_status_failed", run): "1x10",
                        owner: "1x10",
                    },
                ),
                Case(
                    f"{job.name}: a run that never succeeded and failed fires",
                    failed,
                    "10m",
                    {
                        series("kube_cronjob_created", cron): "0x10",
                        series("kube_job_status_start_time", run): "300x10",
                        series("kube_job_status_failed", run): "1x10",
                        owner: "1x10",
                    },
                    [firing(**fired, severity="warning")],
                ),
                Case(
                    f"{job.name}: a successful run stays silent",
                    failed,
                    "10m",
                    {
                        series("kube_cronjob_created", cron): "0x10",
                        series("kube_cronjob_status_last_successful_time", cron): "300x10",
                        series("kube_job_status_start_time", run): "300x10",
                        series("kube_job_status_failed", run): "0x10",
                        owner: "1x10",
                    },
                ),
            ]
        )
        minutes = job.max_age_minutes
        # Samples every 5 minutes (Prometheus' lookback) over the job's max age and a margin;
        # these rules have no `for`, so evaluating hourly keeps the day-long cases fast.
        margin = 5 if minutes < 60 else 60
        # promtool evaluates a file at its cases' coarsest interval: jobs measured in minutes
        # get a file of their own (test_minute_scale_backup_alerts).
        cases, step = (MINUTE_CASES, "1m") if margin < 60 else (CASES, f"{margin}m")
        samples = (minutes + margin) // 5
        over, under = f"{minutes + margin}m", f"{minutes - margin}m"
        severity = "warning" if restore else "critical"
        cases.setdefault(too_old, []).extend(
            [
                Case(
                    f"{job.name}: last success more than {minutes} min ago fires",
                    too_old,
                    over,
                    {
                        series("kube_cronjob_created", cron): f"0x{samples}",
                        series("kube_cronjob_status_last_successful_time", cron): f"0x{samples}",
                    },
                    [firing(**fired, severity=severity)],
                    interval="5m",
                    evaluation_interval=step,
                ),
                Case(
                    f"{job.name}: last success {minutes - margin} min ago stays silent",
                    too_old,
                    under,
                    {
                        series("kube_cronjob_created", cron): f"0x{samples}",
                        series("kube_cronjob_status_last_successful_time", cron): f"0x{samples}",
                    },
                    interval="5m",
                    evaluation_interval=step,
                ),
                Case(
                    f"{job.name}: never succeeded and created more than {minutes} min ago fires",
                    too_old,
                    over,
                    {series("kube_cronjob_created", cron): f"0x{samples}"},
                    [firing(**fired, severity=severity)],
                    interval="5m",
                    evaluation_interval=step,
                ),
                Case(
                    f"{job.name}: never succeeded but created {minutes - margin} min ago has not missed a run yet",
                    too_old,
                    under,
                    {series("kube_cronjob_created", cron): f"0x{samples}"},
                    interval="5m",
                    evaluation_interval=step,
                ),
            ]
        )


def _vault_snapshot_cases() -> None:
    """backup-vault runs every 15 minutes (00:00, 00:15, ...) and succeeds within a minute;
    a run may take up to its 10-minute deadline. One missed run fires before the run after
    it is due; a slow run within its deadline stays silent."""
    cron = {**KSM, "namespace": "backup", "cronjob": "backup-vault"}
    created = {series("kube_cronjob_created", cron): "0x60"}

    def last_success(done: dict[int, int]) -> dict[str, str]:
        """kube_cronjob_status_last_successful_time each minute to 01:00; ``done`` maps the
        minute a run was scheduled to the minute it succeeded (missing: it did not)."""
        values, last = [], 60
        for minute in range(61):
            last = 60 * minute if minute in done.values() else last
            values.append(str(last))
        return {series("kube_cronjob_status_last_successful_time", cron): " ".join(values)}

    MINUTE_CASES["BackupTooOld"].extend(
        [
            Case(
                "backup-vault: every run succeeds within a minute stays silent",
                "BackupTooOld",
                "60m",
                {**created, **last_success({0: 1, 15: 16, 30: 31, 45: 46})},
                interval="1m",
            ),
            Case(
                "backup-vault: the 00:30 run missed (last success 00:16) fires at 00:42, before the 00:45 run",
                "BackupTooOld",
                "42m",
                {**created, **last_success({0: 1, 15: 16})},
                [firing(namespace="backup", cronjob="backup-vault", severity="critical")],
                interval="1m",
            ),
            Case(
                "backup-vault: the 00:30 run succeeding at 00:39, within its deadline, stays silent",
                "BackupTooOld",
                "50m",
                {**created, **last_success({0: 1, 15: 16, 30: 39, 45: 46})},
                interval="1m",
            ),
        ]
    )


_backup_cases()
_vault_snapshot_cases()


def alert_names() -> list[str]:
    return sorted(
        {
            rule["alert"]
            for group in prometheus_rule_spec(GROUPS)["groups"]
            for rule in group["rules"]
            if "alert" in rule
        }
    )


def test_every_alert_has_firing_and_silent_cases() -> None:
    assert sorted(CASES) == alert_names()
    for name, cases in CASES.items():
        assert any(case.fires for case in cases), f"{name}: no case where it fires"
        assert any(not case.fires for case in cases), f"{name}: no case where it stays silent"


def test_rule_groups_pass_promtool_check(tmp_path: Path) -> None:
    (tmp_path / "rules.yaml").write_text(rules_file(GROUPS))
    result = subprocess.run(
        [require("promtool"), "check", "rules", str(tmp_path / "rules.yaml")],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_every_slo_of_the_sla_table_has_burn_rate_alerts() -> None:
    rules = [r for g in prometheus_rule_spec(GROUPS)["groups"] for r in g["rules"]]
    for slo in SLOS:
        windows = {
            r["labels"]["window"]
            for r in rules
            if r.get("alert") == "SLOErrorBudgetBurn" and r["labels"]["slo"] == slo.name
        }
        assert windows == {"1h", "6h", "1d", "3d"}, slo.name


@pytest.mark.parametrize("alertname", sorted(CASES))
def test_alert_behaves_as_the_playbook_says(alertname: str, tmp_path: Path) -> None:
    result = run_rule_tests(CASES[alertname], tmp_path)
    assert result.returncode == 0, f"{alertname}:\n{result.stdout}\n{result.stderr}"


@pytest.mark.parametrize("alertname", sorted(MINUTE_CASES))
def test_minute_scale_backup_alerts(alertname: str, tmp_path: Path) -> None:
    """The Vault snapshot's 15-minute schedule: a missed run pages within minutes."""
    assert any(case.fires for case in MINUTE_CASES[alertname]) and any(not c.fires for c in MINUTE_CASES[alertname])
    result = run_rule_tests(MINUTE_CASES[alertname], tmp_path)
    assert result.returncode == 0, f"{alertname}:\n{result.stdout}\n{result.stderr}"
