"""Names and schedules of the platform's scheduled jobs, shared by the jobs and their alerts.

The backup component creates these CronJobs; the monitoring component alerts on them
through kube-state-metrics (``kube_cronjob_status_last_successful_time``,
``kube_job_status_failed``), so both read the names from here.
"""

from __future__ import annotations

from dataclasses import dataclass

BACKUP_NAMESPACE = "backup"


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    schedule: str  # cron, UTC
    max_age_minutes: int  # no success for longer than this is an alert
    purpose: str


# Playbook "Backup Strategy" 1-3 (daily) and "Weekly Tasks" 3 (test backup recovery).
DATABASE_BACKUP = ScheduledJob(
    "backup-database", "0 2 * * *", 26 * 60, "pg_dumpall globals and pg_dump of each database"
)
CONFIG_BACKUP = ScheduledJob(
    "backup-config", "30 2 * * *", 26 * 60, "Kubernetes resources, Helm releases, Argo CD apps"
)
CERTIFICATE_BACKUP = ScheduledJob("backup-certificates", "0 3 * * *", 26 * 60, "TLS secrets and an expiry report")
RESTORE_TEST = ScheduledJob("restore-test", "0 5 * * 0", 8 * 24 * 60, "restore the latest database backup and check it")
# Vault's raft snapshot, every 15 minutes: Vault holds data the connector writes at run
# time (keys, tokens) and is restored next to a database whose RPO is minutes (the
# replica), so its snapshots follow the database's RPO class, not the daily configuration
# backups'. A run is bounded by VAULT_SNAPSHOT_DEADLINE_MINUTES (components/backup.py), so
# 15 + 10 minutes without a success means one run was missed: the alert fires before the
# next run is due, and a second missed run is never silent.
VAULT_SNAPSHOT_MINUTES = 15
VAULT_SNAPSHOT_DEADLINE_MINUTES = 10
VAULT_BACKUP = ScheduledJob(
    "backup-vault",
    f"*/{VAULT_SNAPSHOT_MINUTES} * * * *",
    VAULT_SNAPSHOT_MINUTES + VAULT_SNAPSHOT_DEADLINE_MINUTES,
    "Vault raft snapshot (secrets stay sealed by Vault)",
)

SCHEDULED_JOBS = (DATABASE_BACKUP, CONFIG_BACKUP, CERTIFICATE_BACKUP, RESTORE_TEST, VAULT_BACKUP)

# The dr stack's Vault restore: a CronJob that is always suspended, so activation runs it
# on demand (`kubectl -n backup create job restore-vault-now --from=cronjob/restore-vault`)
# from a definition the program keeps current. Not scheduled, so no backup alert watches it.
VAULT_RESTORE = ScheduledJob(
    "restore-vault", "0 0 1 1 *", 0, "restore the primary's newest Vault raft snapshot (dr activation)"
)
