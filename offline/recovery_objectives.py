"""The RTO and RPO of the dr design, derived step by step from the plan and from sources.

What the platform decides (health-check interval and threshold, the us-east-1 alarm's
period, the dr probe's interval, alert ``for`` durations and thresholds, Alertmanager's
group wait, how often the replica's lag is read, the Vault snapshot schedule and its age
alert, the replica's backup window) is read from the plan of prod and dr as deployed with
a Route 53 hosted zone. What people and AWS take (the decision, the replica's promotion,
node start, ...) are estimates, each with its source; a drill measures them with the
activation command's timeline (``python3 -m txdr activate --timeline``).

``python3 -m offline.recovery_objectives --out docs/recovery-objectives.md`` writes the
derivation; tests/test_recovery_objectives.py fails when the file is stale or when the
derived typical RTO exceeds 30 minutes or the typical database RPO 5 minutes (playbook
"Disaster Recovery": RTO 30 minutes for critical services; the database RPO this design
targets, below the playbook's 1 hour).
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from offline.checks import duration_seconds
from offline.harness import StackRun, run_stack
from offline.observability import alertmanager_text, rules_document

RTO_TARGET_MINUTES = 30.0
DATABASE_RPO_TARGET_MINUTES = 5.0
# A zone id of the right form for the runs (Route 53 zone ids: "Z" and 1-32 letters/digits).
ZONE_ID = "Z0123456789ABCDEFGHIJ"
# Route 53 answers an alias record with the target's TTL; an NLB's records have 60 s
# (Route 53 developer guide, "Choosing between alias and non-alias records": "the TTL of
# the alias record is the TTL of the AWS resource"; ELB's DNS names have a 60 s TTL).
ALIAS_TTL_SECONDS = 60
# Prometheus's rule evaluation interval in kube-prometheus-stack (prometheusSpec
# evaluationInterval unset: the operator's default, 30 s).
RULE_EVALUATION_SECONDS = 30
# S3 Replication Time Control: 99.99% of objects within 15 minutes, most within seconds
# (S3 user guide, "Meeting compliance requirements with S3 Replication Time Control").
S3_RTC_MINUTES = 15.0


@dataclass(frozen=True)
class Facts:
    """What the plan decides, in seconds."""

    health_check_interval: int
    health_check_failures: int
    health_alarm_period: int
    health_alarm_periods: int
    edge_probe_interval: int
    edge_down_for: int
    group_wait: int
    replica_lag_warning: int
    replica_lag_page: int
    replica_lag_for: int
    lag_read_interval: int  # the slower of the exporter's CloudWatch reads and Prometheus's scrapes
    vault_snapshot_every: int
    vault_snapshot_alert: int
    backup_window: str


@dataclass(frozen=True)
class Estimate:
    """Minutes a step takes that the plan does not decide: best, typical, worst, and where
    the figure comes from."""

    best: float
    typical: float
    worst: float
    source: str


@dataclass(frozen=True)
class Row:
    step: str
    best: float
    typical: float
    worst: float
    source: str


# What people and AWS take. Each activation step is a step of `txdr activate`.
DECISION = Estimate(
    3,
    5,
    15,
    "people: confirm with the AWS Health Dashboard and prod's cluster, fence prod (README runbook step 2)",
)
ACTIVATION: tuple[tuple[str, Estimate], ...] = (
    ("stack-outputs, primary-fenced", Estimate(0.2, 0.3, 1, "the Pulumi CLI reading the state backend")),
    (
        "replica-ready",
        Estimate(
            0,
            0,
            30,
            "waits only while the replica is `backing-up` in its daily window (RDS API Reference, "
            "PromoteReadReplica); a backup of a Multi-AZ instance runs from its standby and takes minutes",
        ),
    ),
    (
        "pulumi-up (refresh, promotion, nodes)",
        Estimate(
            5,
            8,
            20,
            "refresh of the stack's resources 1-3 min; PromoteReadReplica: a reboot, 'several minutes or longer, "
            "depending on the size of the read replica' (RDS user guide, 'Promoting a read replica'); node groups "
            "to prod's sizes in parallel (EC2 launch and EKS join, 3-5 min)",
        ),
    ),
    (
        "vault-restore, vault-unsealed",
        Estimate(1, 2, 6, "the restore Job on a running node (backup image in the stack's ECR), a small raft snapshot"),
    ),
    (
        "vault-roles",
        Estimate(1.5, 2.5, 6, "`pulumi up --replace` of the bootstrap Job, without refresh, and the Job's run"),
    ),
    ("secrets-refresh", Estimate(0.3, 0.5, 2, "External Secrets re-reads Vault on the force-sync annotation")),
    (
        "connector-restart",
        Estimate(1, 2, 5, "the connector's rolling restart, its images already cached on the pilot-light nodes"),
    ),
    ("applications", Estimate(1, 2, 10, "Argo CD sync of the root Application and its waves")),
    (
        "certificates, dns-and-https",
        Estimate(
            0,
            0.3,
            3,
            "certificates issued on dr before failover (DNS-01); Route 53 moved at detection, so only the check",
        ),
    ),
)


def _seconds(duration: str) -> int:
    seconds = duration_seconds(duration)
    if seconds is None:
        raise ValueError(f"{duration!r} is not a duration such as 30s, 2m or 1h")
    return seconds


def _inputs(run: StackRun, kind: str, **match: Any) -> list[dict[str, Any]]:
    from offline.checks import plain

    found = [plain(r.inputs) for r in run.of_type(kind)]
    return [i for i in found if all(i.get(k) == v for k, v in match.items())]


def _one(items: Sequence[dict[str, Any]], what: str) -> dict[str, Any]:
    if len(items) != 1:
        raise ValueError(f"the plan has {len(items)} {what}, not one")
    return items[0]


def _rule(run: StackRun, alert: str, contains: str = "") -> dict[str, Any]:
    rules = [
        rule
        for group in (rules_document(run) or {}).get("groups", [])
        for rule in group["rules"]
        if rule.get("alert") == alert and contains in rule["expr"]
    ]
    return _one(rules, f"alert rules {alert} {contains}".strip())


def _threshold(rule: Mapping[str, Any]) -> int:
    """The number an alert compares with: the last ``> N`` of its expression."""
    found = re.findall(r">\s*(\d+)", rule["expr"])
    if not found:
        raise ValueError(f"alert {rule['alert']}: no `> N` in {rule['expr']!r}")
    return int(found[-1])


def _every(schedule: str) -> int:
    """Seconds between runs of a ``*/N * * * *`` schedule."""
    match = re.fullmatch(r"\*/(\d+) \* \* \* \*", schedule)
    if not match:
        raise ValueError(f"schedule {schedule!r} is not every N minutes")
    return int(match[1]) * 60


def _named(items: Sequence[dict[str, Any]], name: str) -> list[dict[str, Any]]:
    return [i for i in items if i.get("metadata", {}).get("name") == name]


def facts_from(prod: StackRun, dr: StackRun) -> Facts:
    health_check = _inputs(dr, "aws:route53/healthCheck:HealthCheck")
    check = _one(health_check, "Route 53 health checks on dr")
    alarm = _one(
        _inputs(prod, "aws:cloudwatch/metricAlarm:MetricAlarm", namespace="AWS/Route53"),
        "Route 53 health-check alarms on prod",
    )
    probe = _one(
        _named(_inputs(dr, "kubernetes:monitoring.coreos.com/v1:Probe"), "primary-edge"), "primary-edge Probes"
    )
    edge = _rule(dr, "PrimaryEdgeDown")
    warning = _rule(dr, "DatabaseReplicaLag", "> 60")
    page = _rule(dr, "DatabaseReplicaLag", "> 300")
    route = yaml.safe_load(alertmanager_text(dr) or "{}")["route"]
    yace = _one(
        [
            r
            for r in _inputs(dr, "kubernetes:helm.sh/v3:Release")
            if r.get("chart", "").endswith("prometheus-yet-another-cloudwatch-exporter")
        ],
        "CloudWatch exporter releases on dr",
    )
    read = max(
        int(yace["values"]["extraArgs"]["scraping-interval"]), _seconds(yace["values"]["serviceMonitor"]["interval"])
    )
    snapshots = _one(
        _named(_inputs(prod, "kubernetes:batch/v1:CronJob"), "backup-vault"), "backup-vault CronJobs on prod"
    )
    snapshot_age = _rule(prod, "BackupTooOld", 'cronjob="backup-vault"')
    database = _one(_inputs(dr, "aws:rds/instance:Instance"), "databases on dr")
    return Facts(
        health_check_interval=int(check["requestInterval"]),
        health_check_failures=int(check["failureThreshold"]),
        health_alarm_period=int(alarm["period"]),
        health_alarm_periods=int(alarm["evaluationPeriods"]),
        edge_probe_interval=_seconds(probe["spec"]["interval"]),
        edge_down_for=_seconds(edge["for"]),
        group_wait=_seconds(route["group_wait"]),
        replica_lag_warning=_threshold(warning),
        replica_lag_page=_threshold(page),
        replica_lag_for=_seconds(page["for"]),
        lag_read_interval=read,
        vault_snapshot_every=_every(snapshots["spec"]["schedule"]),
        vault_snapshot_alert=_threshold(snapshot_age),
        backup_window=str(database["backupWindow"]),
    )


@dataclass(frozen=True)
class Derivation:
    facts: Facts
    detection: tuple[Row, ...]
    rto: tuple[Row, ...]
    rpo: tuple[Row, ...]

    def total(self, which: str) -> float:
        return float(sum(getattr(row, which) for row in self.rto))

    @property
    def database_rpo(self) -> Row:
        return self.rpo[0]

    def problems(self) -> list[str]:
        """Where the derivation misses a target."""
        found = []
        if self.total("typical") > RTO_TARGET_MINUTES:
            found.append(f"typical RTO {self.total('typical'):.1f} min > {RTO_TARGET_MINUTES:.0f} min")
        if self.database_rpo.typical > DATABASE_RPO_TARGET_MINUTES:
            found.append(
                f"typical database RPO {self.database_rpo.typical:.1f} min > {DATABASE_RPO_TARGET_MINUTES:.0f} min"
            )
        return found


def _m(seconds: float) -> float:
    return seconds / 60


def derive(facts: Facts) -> Derivation:
    f = facts
    # Route 53 marks the endpoint unhealthy after `failures` checks `interval` apart; the
    # alarm needs its periods of data, which CloudWatch may evaluate up to a period late.
    route53 = f.health_check_interval * f.health_check_failures + f.health_alarm_period * f.health_alarm_periods
    route53_row = Row(
        "Route 53 alarm in us-east-1 pages (PagerDuty)",
        _m(route53),
        _m(route53 + f.health_alarm_period / 2),
        _m(route53 + f.health_alarm_period),
        f"health check every {f.health_check_interval} s, {f.health_check_failures} failures; alarm "
        f"{f.health_alarm_periods} x {f.health_alarm_period} s period",
    )
    # dr's probe: the first failed probe, `for` pending, rule evaluation, Alertmanager's group wait.
    probe = f.edge_probe_interval + f.edge_down_for + f.group_wait
    probe_row = Row(
        "PrimaryEdgeDown from dr's Prometheus pages",
        _m(probe),
        _m(probe + RULE_EVALUATION_SECONDS / 2 + f.edge_probe_interval / 2),
        _m(probe + RULE_EVALUATION_SECONDS + f.edge_probe_interval),
        f"probe every {f.edge_probe_interval} s, for {f.edge_down_for} s, evaluation {RULE_EVALUATION_SECONDS} s, "
        f"group wait {f.group_wait} s",
    )
    detection = (route53_row, probe_row)
    first = Row(
        "detection (the first page)",
        min(r.best for r in detection),
        min(r.typical for r in detection),
        min(r.worst for r in detection),
        "the earlier of the two pages above; both run outside prod's region",
    )
    rto = (
        first,
        Row("decision", DECISION.best, DECISION.typical, DECISION.worst, DECISION.source),
        *(Row(name, e.best, e.typical, e.worst, e.source) for name, e in ACTIVATION),
    )
    # The lag at the moment prod is lost is the data given up. A lag above the page
    # threshold pages after it is read, stays for `for`, and Alertmanager's group wait.
    lag_page = f.lag_read_interval + f.replica_lag_for + f.group_wait
    database = Row(
        "database (the replica's lag at the failure)",
        0,
        _m(f.replica_lag_warning),
        _m(f.replica_lag_page + lag_page),
        f"asynchronous replication, typically seconds: a lag above {f.replica_lag_warning} s warns, so the typical "
        f"figure is at most that; above {f.replica_lag_page} s pages {_m(lag_page):.1f} min after it is reached "
        f"(read every {f.lag_read_interval} s, for {f.replica_lag_for} s, group wait {f.group_wait} s), so the "
        "worst is a lag that crossed the page threshold just before the failure, growing until then; the "
        "activation prints the last lag",
    )
    vault = Row(
        "Vault (prod's newest snapshot in dr's bucket)",
        _m(f.vault_snapshot_every) / 2,
        _m(f.vault_snapshot_every),
        _m(f.vault_snapshot_every) + S3_RTC_MINUTES,
        f"snapshots every {_m(f.vault_snapshot_every):.0f} min, replicated by S3 RTC (seconds, 15 min SLA); one "
        f"missed snapshot pages after {_m(f.vault_snapshot_alert):.0f} min (BackupTooOld)",
    )
    backups = Row(
        "backups in S3 (dumps, config, certificates)",
        0,
        0.1,
        S3_RTC_MINUTES,
        "S3 Replication Time Control: 99.99% within 15 minutes, most within seconds",
    )
    return Derivation(facts, detection, rto, (database, vault, backups))


def _table(rows: Sequence[Row]) -> list[str]:
    lines = ["| step | best | typical | worst | from |", "|---|---:|---:|---:|---|"]
    lines += [f"| {r.step} | {r.best:.1f} | {r.typical:.1f} | {r.worst:.1f} | {r.source} |" for r in rows]
    return lines


def markdown(derivation: Derivation) -> str:
    f = derivation.facts
    total = {k: derivation.total(k) for k in ("best", "typical", "worst")}
    lines = [
        "# Recovery objectives of the dr design",
        "",
        "Generated by `make recovery-objectives` (offline/recovery_objectives.py) from the plan of prod and",
        "dr with a Route 53 hosted zone; tests/test_recovery_objectives.py fails when it is stale.",
        "Minutes. What the plan decides is read from it; what people and AWS take are estimates with",
        "their source, which a drill replaces with measurements: `python3 -m txdr activate --timeline",
        "activation.json` times every step.",
        "",
        "## Detection, from outside prod's region",
        "",
        *_table(derivation.detection),
        "",
        "## RTO: from the failure to dr serving",
        "",
        *_table(derivation.rto),
        f"| **total** | **{total['best']:.1f}** | **{total['typical']:.1f}** | **{total['worst']:.1f}** | "
        f"target {RTO_TARGET_MINUTES:.0f} (playbook, critical services) |",
        "",
        "DNS is not a step of its own: Route 53 answers with dr's records once prod's health check fails",
        f"(at detection), and resolvers follow within the alias records' TTL ({ALIAS_TTL_SECONDS} s).",
        f"The worst case is a replica in its daily backup window ({f.backup_window} UTC) and a large database's",
        "promotion; the activation waits the backup out (up to 45 minutes) rather than fail.",
        "",
        "## RPO: the data given up",
        "",
        *_table(derivation.rpo),
        "",
        f"Database: target {DATABASE_RPO_TARGET_MINUTES:.0f} min. Without a healthy replica the database falls "
        "back to the newest daily dump (up to 24 hours) plus its replication.",
    ]
    return "\n".join(lines) + "\n"


def derivation_of_the_plan() -> Derivation:
    """prod and dr run as tests/conftest.py's prod_with_zone and with_zone run them."""
    zone = {"dns": {"hostedZoneId": ZONE_ID}}
    prod = run_stack("prod", overrides=zone)
    dr = run_stack("dr", overrides=zone, references={"prod": prod})
    return derive(facts_from(prod, dr))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args(argv)
    derivation = derivation_of_the_plan()
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(markdown(derivation))
    for problem in derivation.problems():
        print(f"recovery objectives: {problem}", file=sys.stderr)
    return 1 if derivation.problems() else 0


if __name__ == "__main__":
    sys.exit(main())
