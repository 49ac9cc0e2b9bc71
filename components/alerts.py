"""The platform's alert and recording rules, as data: one source for the PrometheusRule
objects the monitoring component creates and the rule file ``promtool`` checks and tests.

The seven alerts of the playbook ("Monitoring and Alerting" > "Alert Configuration") keep
their names, thresholds, durations, severities and annotations. Where the playbook's
expression misfires on the series a real cluster produces, the rule says why next to the
corrected expression (tests/test_alert_rules.py shows each case with promtool). The rules
the playbook implies but lacks follow: backups and the restore test, certificates, the
database, HPAs at their maximum, and multi-window multi-burn-rate alerts for the SLA table.

Prometheus runs sharded (playbook "Horizontal Scaling": shards 2), and the operator
evaluates every rule on every shard over that shard's share of the targets. So no rule
relies on ``absent()`` (a shard that does not scrape a job would fire forever), and the
ratios below are per-shard samples of the load-balanced traffic.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml

from components import edc
from components.schedules import BACKUP_NAMESPACE, RESTORE_TEST, SCHEDULED_JOBS, ScheduledJob

CRITICAL = "critical"
WARNING = "warning"
SEVERITIES = (CRITICAL, WARNING)

# The playbook's runbook link (PodCrashLooping); every alert gets one under the same base.
RUNBOOK_BASE_URL = "https://runbooks.tractus-x.org"

# Playbook "Alert Configuration" thresholds and durations.
CRASH_LOOP_RESTARTS = 3  # ">3 restarts in 15 minutes"
CRASH_LOOP_WINDOW = "15m"
RESOURCE_USAGE_RATIO = 0.9  # ">90% CPU/memory for >10 minutes"
CERTIFICATE_WARNING_DAYS = 30  # "30 days before expiry"
ERROR_RATE_RATIO = 0.05  # ">5% for >15 minutes"
SLOW_RESPONSE_SECONDS = 2  # ">2s ... for >10 minutes" (95th percentile)
DISK_USAGE_RATIO = 0.8  # ">80% for >5 minutes"

# Added here: a certificate a week from expiry pages (the warning has been ignored for 23
# days, or renewal is broken); cert-manager renews a 90-day certificate 30 days ahead.
CERTIFICATE_CRITICAL_DAYS = 7
DATABASE_FREE_STORAGE_RATIO = 0.1
# Playbook "Recovery Point Objectives": database 1 hour (last backup). The dr stack's
# replica holds the data it would lose to its lag, so the platform keeps that lag within
# a 5-minute RPO: a page at 5 minutes behind, a warning at 1, each after 2 minutes (the
# lag is sampled every minute: YACE reads ReplicaLag at 60-second periods).
REPLICA_LAG_WARNING_SECONDS = 60
REPLICA_LAG_CRITICAL_SECONDS = 300
REPLICA_LAG_FOR = "2m"
DATABASE_RPO = "5 minutes"
HPA_AT_MAX_FOR = "15m"
# Argo CD (components/gitops.py): a child's sync retries with backoff for about an hour
# (gitops.SYNC_RETRY), so an Application still out of sync after that has stopped trying.
APPLICATION_DEGRADED_FOR = "15m"
APPLICATION_OUT_OF_SYNC_FOR = "1h"

# Traefik's Ingress NGINX provider names the service of an Ingress backend
# "<namespace>-<service>-<port>" (pkg/provider/kubernetes/ingress-nginx), and the metrics
# add "@<provider>"; Traefik's own services end in "@internal" and carry no user traffic.
EDGE_SERVICES = 'service!~".*@internal"'
# The connector behind the edge (Traefik services) and its Deployments and scrape job
# (components/edc.py).
EDC_SERVICES = 'service=~"tractus-x-.*-(controlplane|dataplane)-.*"'
EDC_DEPLOYMENTS = f'namespace="{edc.NAMESPACE}",deployment=~"{"|".join(edc.DEPLOYMENTS)}"'
EDC_JOB: str = edc.JOB
WRITABLE = 'fstype=~"ext4|xfs"'
LATENCY_BUCKET = r'le=~"2|2\\.0"'  # Prometheus 3 writes classic-histogram bounds as "2.0"


@dataclass(frozen=True)
class Slo:
    """One row of the playbook's "Service Level Agreements" as an error budget."""

    name: str
    objective: float  # fraction of good requests over the 30-day period
    selector: str  # Traefik service series of the requests it covers
    kind: str  # "availability" (5xx are bad), "latency" (slower than 2 s is bad)
    description: str


SLOS: tuple[Slo, ...] = (
    Slo("portal-availability", 0.999, 'service=~"tractus-x-.*portal.*"', "availability", "Tractus-X Portal 99.9%"),
    # The platform's connector in tractus-x (the chart's Services "<release>-controlplane"
    # / "<release>-dataplane"; Traefik names a service "<namespace>-<service>-<port>@<provider>").
    Slo(
        "edc-availability",
        0.9995,
        EDC_SERVICES,
        "availability",
        "EDC connectors 99.95%",
    ),
    # "API Response Time: 95th percentile < 2s": at most 5% of requests slower than 2 s.
    Slo("api-latency", 0.95, EDGE_SERVICES, "latency", "95th percentile response time under 2 s"),
    Slo("error-rate", 0.99, EDGE_SERVICES, "availability", "error rate under 1%"),
)

# Google SRE Workbook, "Alerting on SLOs", multiwindow multi-burn-rate alerts for a 30-day
# budget: (long window, short window, burn rate, severity, for).
BURN_RATE_WINDOWS: tuple[tuple[str, str, float, str, str], ...] = (
    ("1h", "5m", 14.4, CRITICAL, "2m"),  # 2% of the budget in one hour
    ("6h", "30m", 6.0, CRITICAL, "15m"),  # 5% in six hours
    ("1d", "2h", 3.0, WARNING, "1h"),  # 10% in a day
    ("3d", "6h", 1.0, WARNING, "3h"),  # 10% in three days
)
SLO_WINDOWS = ("5m", "30m", "1h", "2h", "6h", "1d", "3d")


@dataclass(frozen=True)
class Alert:
    alert: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    runbook: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def as_rule(self) -> dict[str, Any]:
        return {
            "alert": self.alert,
            "expr": self.expr,
            **({"for": self.for_} if self.for_ else {}),
            "labels": {"severity": self.severity, **self.labels},
            "annotations": {
                "summary": self.summary,
                "description": self.description,
                "runbook_url": f"{RUNBOOK_BASE_URL}/{self.runbook}",
            },
        }


@dataclass(frozen=True)
class Record:
    record: str
    expr: str
    labels: Mapping[str, str] = field(default_factory=dict)

    def as_rule(self) -> dict[str, Any]:
        rule: dict[str, Any] = {"record": self.record, "expr": self.expr}
        if self.labels:
            rule["labels"] = dict(self.labels)
        return rule


@dataclass(frozen=True)
class RuleGroup:
    name: str
    rules: tuple[Alert | Record, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "rules": [rule.as_rule() for rule in self.rules]}


@dataclass(frozen=True)
class AlertParameters:
    database_identifier: str  # the RDS instance, Settings.database_identifier
    database_allocated_storage_gib: int
    # A pilot-light dr stack keeps its backup CronJobs suspended (the primary's backups
    # replicate into its bucket); their age alerts would page for a run that is not due.
    # Activation resumes the jobs and brings the alerts back.
    scheduled_jobs_suspended: bool = False
    # On the dr stack, the id of the S3 replication rule that copies the primary's backups
    # into its bucket (components.replication.RULE_ID), whose metrics YACE exports from the
    # primary region (components.monitoring); None where nothing replicates.
    replication_rule_id: str | None = None
    # On the dr stack: its blackbox exporter probes the primary's edge (job PRIMARY_EDGE_JOB,
    # components.monitoring), so a primary that is gone pages from the dr region.
    watches_primary_edge: bool = False


def _one_line(expr: str) -> str:
    return " ".join(expr.split())


def playbook_alerts() -> tuple[Alert, ...]:
    """The seven alerts of "Alert Configuration", corrected where they misfire."""
    containers = 'container!="", container!="POD"'
    by_container = "namespace, pod, container"
    return (
        Alert(
            "PodCrashLooping",
            # Playbook: rate(...[15m]) > 0.2. rate() is per second, so 0.2 means 180
            # restarts in 15 minutes, not 3: the alert never fired. increase() counts the
            # restarts; round() undoes its extrapolation to the window's edges (3 restarts
            # seen over 14 of 15 minutes read as 3.2). Under the kubelet's back-off a pod
            # settles at one restart per 5 minutes, i.e. exactly 3 per 15 minutes, so a
            # container waiting in CrashLoopBackOff fires as well.
            _one_line(f"""
                round(increase(kube_pod_container_status_restarts_total[{CRASH_LOOP_WINDOW}]))
                  > {CRASH_LOOP_RESTARTS}
                or on ({by_container})
                max by ({by_container}) (
                  max_over_time(kube_pod_container_status_waiting_reason{{reason="CrashLoopBackOff"}}[5m])
                ) >= 1
            """),
            "5m",
            CRITICAL,
            "Pod {{ $labels.pod }} is crash looping",
            "Pod {{ $labels.pod }} in namespace {{ $labels.namespace }} is restarting frequently",
            "pod-crash-looping",
        ),
        Alert(
            "HighResourceUsage",
            # Playbook: working_set / spec_memory_limit > 0.9 over raw cAdvisor series. A
            # container without a limit has limit 0, so the ratio is +Inf and fired for
            # every unlimited container; the pod-level (container="") and pause ("POD")
            # cgroups doubled each pod. Only containers with a limit count now.
            _one_line(f"""
                max by ({by_container}) (container_memory_working_set_bytes{{{containers}}})
                / max by ({by_container}) (container_spec_memory_limit_bytes{{{containers}}} > 0)
                > {RESOURCE_USAGE_RATIO}
            """),
            "10m",
            CRITICAL,
            "High memory usage in {{ $labels.pod }}",
            "Container {{ $labels.container }} in pod {{ $labels.pod }} is using more than 90% of its memory limit",
            "high-resource-usage",
            {"resource": "memory"},
        ),
        Alert(
            "HighResourceUsage",
            # The playbook's heading says CPU or memory but its rule only covers memory:
            # CPU use against the limit kube-state-metrics reports (no limit, no alert).
            _one_line(f"""
                sum by ({by_container}) (rate(container_cpu_usage_seconds_total{{{containers}}}[5m]))
                / sum by ({by_container}) (kube_pod_container_resource_limits{{resource="cpu", unit="core"}} > 0)
                > {RESOURCE_USAGE_RATIO}
            """),
            "10m",
            CRITICAL,
            "High CPU usage in {{ $labels.pod }}",
            "Container {{ $labels.container }} in pod {{ $labels.pod }} is using more than 90% of its CPU limit",
            "high-resource-usage",
            {"resource": "cpu"},
        ),
        Alert(
            "EDCConnectorDown",
            # Playbook: up{job="tractus-x-edc"} == 0 alone stays silent when every
            # connector pod is gone (no target, no `up` series). A connector Deployment
            # with replicas wanted and none available fires too. absent() is not used:
            # a shard that does not scrape the connector would fire forever.
            _one_line(f"""
                up{{job="{EDC_JOB}"}} == 0
                or on (namespace, deployment)
                (kube_deployment_status_replicas_available{{{EDC_DEPLOYMENTS}}} == 0
                  and on (namespace, deployment) kube_deployment_spec_replicas{{{EDC_DEPLOYMENTS}}} > 0)
            """),
            "5m",
            CRITICAL,
            "EDC Connector is down",
            "EDC Connector {{ $labels.instance }}{{ $labels.deployment }} has been down for more than 5 minutes",
            "edc-connector-down",
        ),
        _certificate_expiry(CERTIFICATE_WARNING_DAYS, WARNING),
        _certificate_expiry(CERTIFICATE_CRITICAL_DAYS, CRITICAL),
        Alert(
            "HighErrorRate",
            # Playbook: rate(http_requests_total{status=~"5.."}) / rate(http_requests_total).
            # Division matches series label for label, so each 5xx series was divided by
            # itself: any single 5xx read as a 100% error rate. The ratio is now summed per
            # service, on the series the edge produces (Traefik, label `code`).
            _one_line(f"""
                sum by (service) (rate(traefik_service_requests_total{{{EDGE_SERVICES}, code=~"5.."}}[5m]))
                / sum by (service) (rate(traefik_service_requests_total{{{EDGE_SERVICES}}}[5m]))
                > {ERROR_RATE_RATIO}
            """),
            "15m",
            WARNING,
            "High error rate for {{ $labels.service }}",
            "Service {{ $labels.service }} has an error rate above 5%",
            "high-error-rate",
        ),
        Alert(
            "SlowResponseTimes",
            # Playbook: histogram_quantile(0.95, rate(..._bucket[5m])) without summing the
            # buckets: one quantile per pod, method and status code, so a single slow
            # request on a quiet pod fired. Buckets are summed per service (keeping `le`).
            _one_line(f"""
                histogram_quantile(0.95,
                  sum by (service, le) (rate(traefik_service_request_duration_seconds_bucket{{{EDGE_SERVICES}}}[5m])))
                > {SLOW_RESPONSE_SECONDS}
            """),
            "10m",
            WARNING,
            "Slow response times for {{ $labels.service }}",
            "95th percentile response time for {{ $labels.service }} is above 2 seconds",
            "slow-response-times",
        ),
        Alert(
            "HighDiskUsage",
            # Playbook: (size - free) / size over every filesystem. `free` counts the
            # blocks reserved for root, so usage read low next to df; and read-only images
            # (squashfs, the container overlay, tmpfs) sit at 100% and fired forever. Use
            # `avail` as df does, on writable ext4/xfs volumes (node disks and mounted PVs).
            _one_line(f"""
                (1 - node_filesystem_avail_bytes{{{WRITABLE}}} / node_filesystem_size_bytes{{{WRITABLE}}})
                > {DISK_USAGE_RATIO}
                and on (instance, device, mountpoint) node_filesystem_readonly{{{WRITABLE}}} == 0
            """),
            "5m",
            WARNING,
            "High disk usage on {{ $labels.instance }}",
            "Disk usage on {{ $labels.instance }} is above 80%",
            "high-disk-usage",
        ),
    )


def _certificate_expiry(days: int, severity: str) -> Alert:
    return Alert(
        "CertificateExpiringSoon",
        # Playbook expression kept: the blackbox exporter's probes of the platform's
        # HTTPS endpoints give probe_ssl_earliest_cert_expiry (an expired one is negative).
        f"probe_ssl_earliest_cert_expiry - time() < {days} * 24 * 3600",
        "1h",
        severity,
        "Certificate expiring soon",
        f"Certificate for {{{{ $labels.instance }}}} expires in less than {days} days",
        "certificate-expiring-soon",
    )


def _job_label(job: ScheduledJob) -> str:
    return f'namespace="{BACKUP_NAMESPACE}", cronjob="{job.name}"'


def _minutes_text(minutes: int) -> str:
    return f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes} minutes"


def scheduled_job_alerts() -> tuple[Alert, ...]:
    """A backup or restore test that failed, or has not succeeded within its max age."""
    alerts: list[Alert] = []
    for job in SCHEDULED_JOBS:
        is_restore = job == RESTORE_TEST
        selector = _job_label(job)
        alerts.append(
            Alert(
                "RestoreTestFailed" if is_restore else "BackupJobFailed",
                # The newest failed Job of the CronJob started after its last success
                # (or it never succeeded): a failed Job kept by the history limit after a
                # later success does not fire.
                _one_line(f"""
                    max by (namespace, cronjob) (label_replace(
                      (kube_job_status_start_time{{namespace="{BACKUP_NAMESPACE}"}}
                        and on (namespace, job_name) (kube_job_status_failed{{namespace="{BACKUP_NAMESPACE}"}} > 0))
                      * on (namespace, job_name) group_left (owner_name)
                        kube_job_owner{{namespace="{BACKUP_NAMESPACE}", owner_kind="CronJob", owner_name="{job.name}"}},
                      "cronjob", "$1", "owner_name", "(.+)"))
                    > on (namespace, cronjob) (
                      max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{{selector}}})
                      or on (namespace, cronjob) (max by (namespace, cronjob) (kube_cronjob_created{{{selector}}}) * 0))
                """),
                "",
                WARNING,
                f"{job.name} failed",
                f"The latest run of CronJob {{{{ $labels.namespace }}}}/{job.name} failed ({job.purpose})",
                "restore-test-failed" if is_restore else "backup-job-failed",
                {"cronjob": job.name},
            )
        )
        max_age = job.max_age_minutes * 60
        age = _minutes_text(job.max_age_minutes)
        alerts.append(
            Alert(
                "RestoreTestTooOld" if is_restore else "BackupTooOld",
                # kube-state-metrics exposes the last successful time only after a first
                # success: a CronJob older than the max age that never succeeded fires too.
                _one_line(f"""
                    time() - max by (namespace, cronjob) (kube_cronjob_status_last_successful_time{{{selector}}})
                      > {max_age}
                    or on (namespace, cronjob) (
                      time() - max by (namespace, cronjob) (kube_cronjob_created{{{selector}}}) > {max_age}
                      unless on (namespace, cronjob) kube_cronjob_status_last_successful_time{{{selector}}})
                """),
                "",
                WARNING if is_restore else CRITICAL,
                f"No successful {job.name} in {age}",
                f"CronJob {{{{ $labels.namespace }}}}/{job.name} has not succeeded for more than {age} ({job.purpose})",
                "restore-test-too-old" if is_restore else "backup-too-old",
                {"cronjob": job.name},
            )
        )
    return tuple(alerts)


def certificate_alerts() -> tuple[Alert, ...]:
    return (
        Alert(
            "CertificateNotReady",
            # "Certificate Monitoring": every Certificate's Ready condition, from
            # cert-manager's own metrics instead of a kubectl loop. An ACME HTTP-01
            # issuance takes a minute or two; 15 minutes not Ready means it is stuck.
            _one_line("""
                max by (namespace, name) (certmanager_certificate_ready_status{condition=~"False|Unknown"}) == 1
            """),
            "15m",
            WARNING,
            "Certificate {{ $labels.namespace }}/{{ $labels.name }} is not Ready",
            "cert-manager cannot issue or renew Certificate {{ $labels.namespace }}/{{ $labels.name }}",
            "certificate-not-ready",
        ),
    )


def database_alerts(params: AlertParameters) -> tuple[Alert, ...]:
    """RDS metrics exported from CloudWatch by YACE (aws_rds_*_average per instance)."""
    instance = f'dimension_DBInstanceIdentifier=~"{params.database_identifier}.*"'
    allocated_bytes = params.database_allocated_storage_gib * 1024**3
    lag = [
        Alert(
            "DatabaseReplicaLag",
            f"max by (dimension_DBInstanceIdentifier) (aws_rds_replica_lag_average{{{instance}}}) > {seconds}",
            REPLICA_LAG_FOR,
            severity,
            "Database replica {{ $labels.dimension_DBInstanceIdentifier }} is lagging",
            f"Replica {{{{ $labels.dimension_DBInstanceIdentifier }}}} is more than {seconds} seconds behind "
            f"its primary (database RPO: {DATABASE_RPO})",
            "database-replica-lag",
        )
        for seconds, severity in ((REPLICA_LAG_WARNING_SECONDS, WARNING), (REPLICA_LAG_CRITICAL_SECONDS, CRITICAL))
    ]
    return (
        Alert(
            "DatabaseStorageLow",
            # CloudWatch has no allocated-storage metric, so the ratio uses the allocated
            # size from the stack's settings (databaseAllocatedStorageGiB).
            _one_line(f"""
                max by (dimension_DBInstanceIdentifier) (aws_rds_free_storage_space_average{{{instance}}})
                / {allocated_bytes} < {DATABASE_FREE_STORAGE_RATIO}
            """),
            "15m",
            CRITICAL,
            "Database {{ $labels.dimension_DBInstanceIdentifier }} is running out of storage",
            f"Less than 10% of the {params.database_allocated_storage_gib} GiB of "
            "{{ $labels.dimension_DBInstanceIdentifier }} is free",
            "database-storage-low",
        ),
        *lag,
    )


# README "Disaster recovery", RPO of backups in S3: S3 Replication Time Control, 99.99% of
# objects within 15 minutes. ReplicationLatency above RTC's 900 s means backups reach the dr
# region later than that RPO promises.
REPLICATION_RTC_SECONDS = 900
REPLICATION_LAG_FOR = "30m"
REPLICATION_FAILED_FOR = "15m"
# YACE reads CloudWatch every 5 minutes and the daily backup uploads its objects within
# minutes, so failures show in one or two samples only; looking back an hour keeps them in
# view until `for` has elapsed. An object whose replication failed is not retried by S3.
REPLICATION_FAILED_LOOKBACK = "1h"
REPLICATION_LAG_LOOKBACK = "10m"


def replication_alerts(rule_id: str) -> tuple[Alert, ...]:
    """S3 replication metrics of the backup rule, exported by YACE's static job.

    CloudWatch publishes no datapoint while nothing replicates (YACE then exports NaN,
    which compares false), so an idle bucket is silent: the primary's backup CronJob alerts
    already page when the daily backup, the traffic replicated here, does not run.
    """
    rule = f'dimension_RuleId="{rule_id}"'
    by = "dimension_SourceBucket, dimension_DestinationBucket, dimension_RuleId"
    return (
        Alert(
            "BackupReplicationFailing",
            # Protects the backups' RPO (S3 RTC 15 min): a failed object never reaches the
            # dr region unless it is replicated again (S3 Batch Replication).
            _one_line(f"""
                max by ({by}) (
                  max_over_time(aws_s3_operations_failed_replication_sum{{{rule}}}[{REPLICATION_FAILED_LOOKBACK}])
                ) > 0
            """),
            REPLICATION_FAILED_FOR,
            CRITICAL,
            "Backups fail to replicate into the dr region",
            "S3 replication from {{ $labels.dimension_SourceBucket }} to {{ $labels.dimension_DestinationBucket }} "
            "(rule {{ $labels.dimension_RuleId }}) reports failed operations: backups stop reaching the dr region",
            "backup-replication-failing",
        ),
        Alert(
            "BackupReplicationLagging",
            # Protects the backups' RPO (S3 RTC 15 min): replication running behind RTC's
            # 900 s for half an hour. The exporter is scraped every 5 minutes, as long as
            # Prometheus looks back for a sample: a late scrape would leave a gap that
            # restarts `for`, so the rule reads the worst sample of the last 10 minutes.
            _one_line(f"""
                max by ({by}) (
                  max_over_time(aws_s3_replication_latency_maximum{{{rule}}}[{REPLICATION_LAG_LOOKBACK}])
                ) > {REPLICATION_RTC_SECONDS}
            """),
            REPLICATION_LAG_FOR,
            WARNING,
            "Backup replication is behind its 15-minute RTC",
            "S3 replication from {{ $labels.dimension_SourceBucket }} to {{ $labels.dimension_DestinationBucket }} "
            f"has been more than {REPLICATION_RTC_SECONDS} seconds behind for {REPLICATION_LAG_FOR} "
            "(backup RPO: S3 RTC 15 minutes)",
            "backup-replication-lagging",
        ),
    )


def autoscaling_alerts() -> tuple[Alert, ...]:
    return (
        Alert(
            "HPAAtMaximum",
            # An HPA pinned at min == max is a fixed size, not a saturated one.
            _one_line("""
                kube_horizontalpodautoscaler_status_current_replicas
                  >= on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas
                unless on (namespace, horizontalpodautoscaler)
                  (kube_horizontalpodautoscaler_spec_min_replicas
                    == on (namespace, horizontalpodautoscaler) kube_horizontalpodautoscaler_spec_max_replicas)
            """),
            HPA_AT_MAX_FOR,
            WARNING,
            "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} is at its maximum",
            "HPA {{ $labels.namespace }}/{{ $labels.horizontalpodautoscaler }} has run at its maximum replicas "
            "for 15 minutes; demand may exceed capacity",
            "hpa-at-maximum",
        ),
    )


def application_alerts() -> tuple[Alert, ...]:
    """Argo CD's view of the Tractus-X Applications (argocd_app_info, one series per
    Application with its health and sync status)."""
    return (
        Alert(
            "ArgoCDApplicationDegraded",
            _one_line("""
                max by (namespace, name, project, health_status)
                  (argocd_app_info{health_status=~"Degraded|Missing"}) > 0
            """),
            APPLICATION_DEGRADED_FOR,
            WARNING,
            "Argo CD Application {{ $labels.name }} is {{ $labels.health_status }}",
            "Application {{ $labels.namespace }}/{{ $labels.name }} (project {{ $labels.project }}) has been "
            "{{ $labels.health_status }} for 15 minutes: `argocd app get {{ $labels.name }} --core` shows which "
            "object",
            "argocd-application-degraded",
        ),
        Alert(
            "ArgoCDApplicationOutOfSync",
            _one_line("""
                max by (namespace, name, project)
                  (argocd_app_info{sync_status="OutOfSync"}) > 0
            """),
            APPLICATION_OUT_OF_SYNC_FOR,
            WARNING,
            "Argo CD Application {{ $labels.name }} does not converge",
            "Application {{ $labels.namespace }}/{{ $labels.name }} has been OutOfSync for an hour although it "
            "syncs automatically with retries: its last sync failed for good (`argocd app get "
            "{{ $labels.name }} --core`)",
            "argocd-application-out-of-sync",
        ),
    )


# Vault (components/secrets.py): three raft voters, so two must answer for a quorum; a
# sealed server serves nothing. Both stop External Secrets' refreshes and the connector's
# own Vault reads, so both page.
VAULT_SERVERS = 3
VAULT_QUORUM = VAULT_SERVERS // 2 + 1
VAULT_FOR = "5m"


# The dr stack's probe of the primary's edge (components.monitoring): through prod's load
# balancer, a served host's TLS name and route, from dr's region.
PRIMARY_EDGE_JOB = "primary-edge"
PRIMARY_EDGE_DOWN_FOR = "3m"


def primary_alerts() -> tuple[Alert, ...]:
    """Detection that does not live in the primary's region: evaluated by dr's Prometheus,
    sent by dr's Alertmanager. The probe fails when prod's load balancer does not resolve
    or answer, its certificate or route is gone, or the product behind it is down (5xx)."""
    return (
        Alert(
            "PrimaryEdgeDown",
            f'max by (instance) (probe_success{{job="{PRIMARY_EDGE_JOB}"}}) == 0',
            PRIMARY_EDGE_DOWN_FOR,
            CRITICAL,
            "The primary stack's edge is unreachable from the dr region",
            "The dr stack's probe of {{ $labels.instance }} (the primary's load balancer, a served host's route) "
            f"has failed for {PRIMARY_EDGE_DOWN_FOR}: assess the primary region and decide on activation",
            "primary-edge-down",
        ),
    )


def vault_alerts() -> tuple[Alert, ...]:
    """Vault's own telemetry (``vault_core_unsealed``, 1 when unsealed) and its scrape
    targets (``up`` in namespace vault, the ServiceMonitor of the Vault chart)."""
    return (
        Alert(
            "VaultSealed",
            'max by (namespace, pod) (vault_core_unsealed{namespace="vault"}) == 0',
            VAULT_FOR,
            CRITICAL,
            "Vault server {{ $labels.pod }} is sealed",
            "Vault server {{ $labels.pod }} has been sealed for 5 minutes. It unseals itself with the KMS key "
            "(awskms seal): check the key and the server's IRSA role (kms:Decrypt) and the server's log",
            "vault-sealed",
        ),
        Alert(
            "VaultQuorumLost",
            f'(count(up{{namespace="vault"}} == 1) or vector(0)) < {VAULT_QUORUM}',
            VAULT_FOR,
            CRITICAL,
            "Vault has no raft quorum",
            f"Fewer than {VAULT_QUORUM} of the {VAULT_SERVERS} Vault servers have answered for 5 minutes: raft "
            "has no quorum, so External Secrets cannot refresh and the connector cannot read its keys",
            "vault-quorum-lost",
        ),
    )


def slo_record_name(window: str) -> str:
    return f"slo:sli_error:ratio_rate{window}"


def _sli_error_ratio(slo: Slo, window: str) -> str:
    if slo.kind == "latency":
        total = f"sum(rate(traefik_service_request_duration_seconds_count{{{slo.selector}}}[{window}]))"
        fast = (
            f"sum(rate(traefik_service_request_duration_seconds_bucket{{{slo.selector}, {LATENCY_BUCKET}}}[{window}]))"
        )
        bad = f"{total} - {fast}"
    else:
        bad = f'sum(rate(traefik_service_requests_total{{{slo.selector}, code=~"5.."}}[{window}]))'
        total = f"sum(rate(traefik_service_requests_total{{{slo.selector}}}[{window}]))"
    return f"({bad}) / ({total})"


def slo_rules() -> tuple[Record | Alert, ...]:
    """Error ratios per SLO and window, and the burn-rate alerts over them."""
    records = [
        Record(slo_record_name(window), _sli_error_ratio(slo, window), {"slo": slo.name})
        for slo in SLOS
        for window in SLO_WINDOWS
    ]
    alerts = []
    for slo in SLOS:
        budget = round(1 - slo.objective, 6)
        for long, short, burn, severity, for_ in BURN_RATE_WINDOWS:
            threshold = round(burn * budget, 6)
            alerts.append(
                Alert(
                    "SLOErrorBudgetBurn",
                    _one_line(f"""
                        {slo_record_name(long)}{{slo="{slo.name}"}} > {threshold}
                        and {slo_record_name(short)}{{slo="{slo.name}"}} > {threshold}
                    """),
                    for_,
                    severity,
                    f"{slo.description}: error budget burning {burn:g}x",
                    f"SLO {slo.name} ({slo.description}) is spending its 30-day error budget {burn:g} times "
                    f"too fast over the last {long} and {short}",
                    "slo-error-budget-burn",
                    {"slo": slo.name, "window": long},
                )
            )
    return (*records, *alerts)


def rule_groups(params: AlertParameters) -> tuple[RuleGroup, ...]:
    backups = () if params.scheduled_jobs_suspended else (RuleGroup("backups.alerts", scheduled_job_alerts()),)
    replication = (
        (RuleGroup("replication.alerts", replication_alerts(params.replication_rule_id)),)
        if params.replication_rule_id
        else ()
    )
    primary = (RuleGroup("primary.alerts", primary_alerts()),) if params.watches_primary_edge else ()
    return (
        RuleGroup("playbook.alerts", playbook_alerts()),
        *backups,
        *replication,
        *primary,
        RuleGroup("certificates.alerts", certificate_alerts()),
        RuleGroup("database.alerts", database_alerts(params)),
        RuleGroup("autoscaling.alerts", autoscaling_alerts()),
        RuleGroup("applications.alerts", application_alerts()),
        RuleGroup("vault.alerts", vault_alerts()),
        RuleGroup("slo.rules", slo_rules()),
    )


def prometheus_rule_spec(groups: Sequence[RuleGroup]) -> dict[str, Any]:
    """The ``spec`` of a monitoring.coreos.com/v1 PrometheusRule."""
    return {"groups": [group.as_dict() for group in groups]}


def rules_file(groups: Sequence[RuleGroup]) -> str:
    """The same groups as a Prometheus rule file (what ``promtool check rules`` reads)."""
    return yaml.safe_dump(prometheus_rule_spec(groups), sort_keys=False, width=200)
