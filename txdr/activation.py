"""The dr stack's activation: the runbook (README, "Disaster recovery") as one command.

Each step checks what it needs before it acts and checks its result after, and the
activation stops at the first check that fails, saying what was found and what to do.
Every step is safe to repeat: a step whose result is already there (the replica promoted,
Vault restored from prod's newest snapshot, ...) says so and moves on, so after a stop the
same command continues where it stopped. The timeline (each step's start, duration and
outcome) is printed as it goes and at the end, so a drill measures the RTO's mechanics.

Nothing here calls prod's region: the database, CloudWatch, EKS and S3 are asked in dr's
region, Kubernetes is dr's cluster, and prod's Pulumi state is only read and rewritten in
the backend (which is outside prod's region: components/state_backend.py).
"""

from __future__ import annotations

import datetime
import http.client
import json
import logging
import socket
import ssl
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from txbackup.errors import BackupError
from txbackup.kube import ApiResource, KubeClient
from txbackup.store import BackupStore
from txbackup.vault_snapshot import PREFIX as VAULT_PREFIX
from txbackup.vault_snapshot import primary_snapshot, require_restored
from txdr.errors import ActivationError
from txdr.pulumi_cli import CHART_SOURCE, DR_ACTIVE, PRIMARY_STACK, PulumiCli

log = logging.getLogger("txdr")

# What the program names (kept equal to it by tests/test_activation.py, which reads the plan).
BACKUP_NAMESPACE = "backup"
RESTORE_CRONJOB = "restore-vault"
VAULT_NAMESPACE = "vault"
VAULT_STATEFULSET = "vault"
VAULT_BOOTSTRAP_JOB = "vault-bootstrap"
JOB_TYPE = "kubernetes:batch/v1:Job"
CONNECTOR_NAMESPACE = "tractus-x"
CONNECTOR_DEPLOYMENTS = ("edc-controlplane", "edc-dataplane")
EXTERNAL_SECRETS = ApiResource("external-secrets.io/v1", "externalsecrets", "ExternalSecret", namespaced=True)
APPLICATIONS = ApiResource("argoproj.io/v1alpha1", "applications", "Application", namespaced=True)
CERTIFICATES = ApiResource("cert-manager.io/v1", "certificates", "Certificate", namespaced=True)
# A sync as the argocd CLI asks for one: the Application's `operation` (fields of the
# Application CRD's operation.sync and operation.initiatedBy; tests/test_activation.py
# validates it against the pinned argo-cd chart's CRD).
SYNC_OPERATION = {"initiatedBy": {"username": "txdr activate"}, "sync": {"syncStrategy": {"hook": {}}}}
# The line `txbackup vault-restore` logs when Vault is back (txbackup/vault_snapshot.py).
RESTORED_LINE = "Vault restored from snapshot "

# RDS statuses (RDS User Guide, "Viewing Amazon RDS DB instance status") that pass by
# themselves; the activation waits them out. PromoteReadReplica refuses a replica in
# `backing-up` (RDS API Reference, PromoteReadReplica: "a read replica cannot be promoted to
# a standalone instance when it is in the backing-up status"), and any status but
# `available` with InvalidDBInstanceState.
PASSING_STATUSES = frozenset(
    {
        "backing-up",
        "modifying",
        "rebooting",
        "maintenance",
        "configuring-enhanced-monitoring",
        "configuring-iam-database-auth",
        "configuring-log-exports",
        "renaming",
        "resetting-master-credentials",
        "upgrading",
    }
)


@dataclass(frozen=True)
class Waits:
    """How long each wait may take, and how often it looks (seconds)."""

    poll: float = 15.0
    database: float = 45 * 60  # a backup window is 30-60 minutes (database.BACKUP_WINDOW)
    job: float = 30 * 60
    rollout: float = 10 * 60
    applications: float = 15 * 60
    certificates: float = 10 * 60
    dns: float = 5 * 60


@dataclass(frozen=True)
class Edge:
    """How the served hosts are reached from here: the resolver, the HTTPS port and the TLS
    context that verifies them (the system's CAs, which trust Let's Encrypt)."""

    resolve: Callable[[str], frozenset[str]]
    port: int = 443
    tls: ssl.SSLContext = field(default_factory=ssl.create_default_context)


def resolve(host: str) -> frozenset[str]:
    try:
        return frozenset(str(info[4][0]) for info in socket.getaddrinfo(host, 443, type=socket.SOCK_STREAM))
    except OSError:
        return frozenset()


@dataclass
class Context:
    pulumi: PulumiCli
    aws: Callable[[str, str], Any]  # (service, region) -> a boto3 client
    kube: Callable[[Context], KubeClient]  # dr's cluster, once its outputs are known
    chart_login: Callable[[Context], str]  # logs helm in to the stack's chart copy (chartmirror)
    edge: Edge
    work_dir: Path
    primary_fenced: bool
    primary_region_down: bool
    waits: Waits = field(default_factory=Waits)
    clock: Callable[[], float] = time.monotonic
    sleep: Callable[[float], None] = time.sleep
    outputs: dict[str, Any] = field(default_factory=dict)
    _kube: KubeClient | None = None
    _clients: dict[str, Any] = field(default_factory=dict)

    @property
    def k8s(self) -> KubeClient:
        if self._kube is None:
            self._kube = self.kube(self)
        return self._kube

    def client(self, service: str) -> Any:
        """A client of ``service`` in dr's region (the stack's output ``region``)."""
        if service not in self._clients:
            self._clients[service] = self.aws(service, str(self.output("region")))
        return self._clients[service]

    def output(self, name: str) -> Any:
        if name not in self.outputs:
            raise ActivationError(
                f"stack {self.pulumi.stack} has no output {name!r}: run `pulumi up` of this program first"
            )
        return self.outputs[name]

    def wait(self, what: str, limit: float, probe: Callable[[], str | None]) -> None:
        """Calls ``probe`` until it answers None (done), for at most ``limit`` seconds; it
        answers what it still waits for otherwise."""
        deadline = self.clock() + limit
        while True:
            pending = probe()
            if pending is None:
                return
            if self.clock() >= deadline:
                raise ActivationError(f"{what}: still {pending} after {limit / 60:.0f} minutes")
            log.info("waiting: %s", pending)
            self.sleep(self.waits.poll)


@dataclass
class Entry:
    step: str
    started: float
    seconds: float
    outcome: str  # done, already, failed
    detail: str


@dataclass
class Timeline:
    started_at: datetime.datetime
    entries: list[Entry] = field(default_factory=list)

    def render(self) -> str:
        lines = [f"dr activation started {self.started_at.isoformat(timespec='seconds')}"]
        for entry in self.entries:
            lines.append(
                f"  +{_minutes(entry.started)}  {_minutes(entry.seconds)}  {entry.step:<20} {entry.outcome:<8} "
                f"{entry.detail}"
            )
        total = sum(entry.seconds for entry in self.entries)
        lines.append(f"  total {_minutes(total)}")
        return "\n".join(lines)

    def to_json(self) -> dict[str, Any]:
        return {
            "started_at": self.started_at.isoformat(timespec="seconds"),
            "steps": [entry.__dict__ for entry in self.entries],
            "total_seconds": sum(entry.seconds for entry in self.entries),
        }


def _minutes(seconds: float) -> str:
    whole = round(seconds)
    return f"{whole // 60:02d}:{whole % 60:02d}"


class AlreadyDoneError(Exception):
    """The step's result is already there; the message says what was found."""


# --- the steps ------------------------------------------------------------------------


def stack_outputs(ctx: Context) -> str:
    ctx.outputs = ctx.pulumi.outputs()
    if ctx.output("role") != "dr":
        raise ActivationError(
            f"stack {ctx.pulumi.stack} has role {ctx.outputs['role']!r}: only a dr stack is activated"
        )
    return (
        f"cluster {ctx.output('clusterName')} and database {ctx.output('databaseIdentifier')} in {ctx.output('region')}"
    )


def primary_fenced(ctx: Context) -> str:
    if not ctx.primary_fenced:
        raise ActivationError(
            "promotion is one-way: first make sure prod's applications can no longer write to prod's database "
            "(scale them to 0 if prod's cluster still answers; two writable databases would diverge), "
            "then run again with --primary-fenced"
        )
    return "the operator confirmed prod can no longer write"


def primary_state_key(ctx: Context) -> str:
    """With prod's region down, prod's state must decrypt with the key's replica in dr's
    region: the StackReference to prod decrypts prod's data key with the URL prod's state
    records (pulumi/pulumi pkg/resource/stack/secrets.go; #11109), which names prod's region."""
    if not ctx.primary_region_down:
        raise AlreadyDoneError("prod's region answers: its state's key URL is used as it is")
    primary = ctx.pulumi.config_get(PRIMARY_STACK)
    if not primary:
        raise ActivationError(f"stack {ctx.pulumi.stack} has no {PRIMARY_STACK}")
    primary_region, region = ctx.output("primaryRegion"), ctx.output("region")
    exported = ctx.pulumi.export(primary)
    url = _secrets_url(exported, primary)
    found = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query).get("region", [""])[0]
    if found == region:
        raise AlreadyDoneError(f"{primary}'s state already decrypts with the key in {region}")
    if not url.startswith("awskms://mrk-") or found != primary_region:
        raise ActivationError(
            f"{primary}'s state names the secrets provider {url.split('?')[0]} in {found or 'no region'}: "
            f"not a multi-Region key in {primary_region}, so its replica in {region} cannot stand in for it"
        )
    _set_secrets_url(exported, url.replace(f"region={primary_region}", f"region={region}"))
    ctx.pulumi.import_(primary, exported, ctx.work_dir)
    again = _secrets_url(ctx.pulumi.export(primary), primary)
    if f"region={region}" not in again:
        raise ActivationError(
            f"{primary}'s state still names {again.split('?')[0]} in {primary_region} after the import"
        )
    return f"{primary}'s state now decrypts with the key's replica in {region}"


def _secrets_url(exported: Mapping[str, Any], stack: str) -> str:
    url = exported.get("deployment", {}).get("secrets_providers", {}).get("state", {}).get("url")
    if not isinstance(url, str):
        raise ActivationError(f"{stack}'s exported state records no secrets provider URL")
    return url


def _set_secrets_url(exported: dict[str, Any], url: str) -> None:
    exported["deployment"]["secrets_providers"]["state"]["url"] = url


def _database(ctx: Context) -> dict[str, Any]:
    identifier = ctx.output("databaseIdentifier")
    try:
        found = ctx.client("rds").describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"]
    except ctx.client("rds").exceptions.DBInstanceNotFoundFault:
        raise ActivationError(f"database {identifier} does not exist in {ctx.output('region')}") from None
    return dict(found[0])


def _replica_lag(ctx: Context) -> str:
    now = datetime.datetime.now(datetime.UTC)
    answer = ctx.client("cloudwatch").get_metric_statistics(
        Namespace="AWS/RDS",
        MetricName="ReplicaLag",
        Dimensions=[{"Name": "DBInstanceIdentifier", "Value": ctx.output("databaseIdentifier")}],
        StartTime=now - datetime.timedelta(minutes=15),
        EndTime=now + datetime.timedelta(minutes=1),  # a clock behind CloudWatch's still sees the newest
        Period=60,
        Statistics=["Maximum"],
    )
    points = sorted(answer.get("Datapoints", []), key=lambda point: point["Timestamp"])
    if not points:
        return "no ReplicaLag in the last 15 minutes (replication stops with prod's region; the data since is lost)"
    newest = points[-1]
    return f"replica lag {newest['Maximum']:.0f} s at {newest['Timestamp']:%H:%M} UTC (the data given up)"


def replica_ready(ctx: Context) -> str:
    """The replica can be promoted now: `available`, Multi-AZ, not in a backup."""
    database = _database(ctx)
    if not database.get("ReadReplicaSourceDBInstanceIdentifier"):
        raise AlreadyDoneError(f"{database['DBInstanceIdentifier']} is already a standalone database")
    if not database.get("MultiAZ"):
        raise ActivationError(
            f"{database['DBInstanceIdentifier']} is not Multi-AZ: promotion would build its standby on the RTO's "
            "path; the program creates it Multi-AZ (components/database.py), so check what changed it"
        )

    def promotable() -> str | None:
        status = str(_database(ctx)["DBInstanceStatus"])
        if status == "available":
            return None
        if status in PASSING_STATUSES:
            window = database.get("PreferredBackupWindow", "?")
            return f"in status {status} (backup window {window} UTC); promotion waits for `available`"
        raise ActivationError(f"{database['DBInstanceIdentifier']} is in status {status}: it cannot be promoted")

    ctx.wait(f"database {database['DBInstanceIdentifier']}", ctx.waits.database, promotable)
    return f"{database['DBInstanceIdentifier']} available, Multi-AZ; {_replica_lag(ctx)}"


def activate_config(ctx: Context) -> str:
    if ctx.pulumi.config_get(DR_ACTIVE) == "true":
        raise AlreadyDoneError(f"{DR_ACTIVE} is already true")
    ctx.pulumi.config_set(DR_ACTIVE, "true")
    if ctx.pulumi.config_get(DR_ACTIVE) != "true":
        raise ActivationError(f"{DR_ACTIVE} is not true after `pulumi config set`")
    return f"{DR_ACTIVE} set to true"


def chart_login(ctx: Context) -> str:
    """``pulumi up`` reads the stack's charts from its copy in dr's ECR with helm's registry
    credentials (README "Charts"; pulumi/pulumi-kubernetes#1914): an ECR token, valid 12 hours."""
    if ctx.pulumi.config_get(CHART_SOURCE) == "upstream":
        raise AlreadyDoneError(f"{CHART_SOURCE} is upstream: the charts come from their public repositories")
    return ctx.chart_login(ctx)


def _promoted(ctx: Context) -> str | None:
    """What the promoted database still lacks, or None."""
    database = _database(ctx)
    identifier = database["DBInstanceIdentifier"]
    if database.get("ReadReplicaSourceDBInstanceIdentifier"):
        return f"{identifier} is still a read replica"
    if database["DBInstanceStatus"] != "available":
        return f"{identifier} is in status {database['DBInstanceStatus']}"
    if not database.get("MultiAZ"):
        return f"{identifier} is not Multi-AZ"
    if not database.get("DeletionProtection"):
        return f"{identifier} has no deletion protection"
    return None


def pulumi_up(ctx: Context) -> str:
    """`pulumi up --refresh` of dr: promotes the replica, scales the node groups to prod's
    sizes, resumes the backups and adds what only runs activated. With prod's region down
    there is no refresh: it reads every resource of the stack, and the S3 replication
    configuration the dr stack keeps on prod's bucket (components/replication.py) is read in
    prod's region; an update without a refresh calls only what changes."""
    if ctx.outputs.get("drActive") is True and _promoted(ctx) is None:
        raise AlreadyDoneError("the stack is activated and its database promoted")
    refresh = not ctx.primary_region_down
    try:
        ctx.pulumi.up(refresh=refresh)
    except ActivationError:
        # A backup that began since the check refuses PromoteReadReplica: wait it out, once.
        if _database(ctx)["DBInstanceStatus"] not in PASSING_STATUSES:
            raise
        log.info("the database entered a backup during the update: waiting for it, then updating again")
        replica_ready(ctx)
        ctx.pulumi.up(refresh=refresh)
    ctx.outputs = ctx.pulumi.outputs()
    if ctx.outputs.get("drActive") is not True:
        raise ActivationError("the stack's output drActive is not true after `pulumi up`")
    ctx.wait("promotion", ctx.waits.database, lambda: _promoted(ctx))
    return f"{ctx.output('databaseIdentifier')} promoted (Multi-AZ, deletion protection on)"


def _dr_store(ctx: Context) -> BackupStore:
    return BackupStore(ctx.client("s3"), str(ctx.output("backupBucketName")), VAULT_PREFIX)


def vault_restore(ctx: Context) -> str:
    """prod's newest snapshot into dr's Vault, by dr's own restore-vault CronJob."""
    store = _dr_store(ctx)
    try:
        newest = primary_snapshot(store, "latest").backup_id
    except BackupError as error:
        raise ActivationError(f"nothing to restore: {error}") from None
    try:
        require_restored(store)
    except BackupError:
        pass  # not restored yet: restore now
    else:
        raise AlreadyDoneError(f"dr's Vault is a restore of prod's newest snapshot {newest}")
    kube = ctx.k8s
    cronjob = kube.get(_path("batch/v1", BACKUP_NAMESPACE, "cronjobs", RESTORE_CRONJOB))
    if cronjob is None:
        raise ActivationError(f"CronJob {BACKUP_NAMESPACE}/{RESTORE_CRONJOB} does not exist on the dr cluster")
    job = _job_from(cronjob, f"{RESTORE_CRONJOB}-{datetime.datetime.now(datetime.UTC):%Y%m%d%H%M%S}")
    created = kube.create(_path("batch/v1", BACKUP_NAMESPACE, "jobs"), job)
    name = created["metadata"]["name"]
    log.info("Job %s/%s restores prod's newest snapshot %s", BACKUP_NAMESPACE, name, newest)
    ctx.wait(f"Job {BACKUP_NAMESPACE}/{name}", ctx.waits.job, lambda: _job_pending(kube, BACKUP_NAMESPACE, name))
    said = _job_log(kube, BACKUP_NAMESPACE, name)
    restored = [line.split(RESTORED_LINE, 1)[1].split()[0] for line in said.splitlines() if RESTORED_LINE in line]
    if restored != [newest]:
        raise ActivationError(f"Job {BACKUP_NAMESPACE}/{name} did not report restoring {newest}: {_last_line(said)}")
    try:
        require_restored(store)
    except BackupError as error:
        raise ActivationError(f"after Job {name}: {error}") from None
    return f"snapshot {newest} restored by Job {BACKUP_NAMESPACE}/{name}"


def _job_from(cronjob: Mapping[str, Any], name: str) -> dict[str, Any]:
    """What ``kubectl create job --from=cronjob/<name>`` creates: the CronJob's jobTemplate,
    owned by the CronJob and marked as started by hand (kubectl ``create_job.go``)."""
    template = cronjob["spec"]["jobTemplate"]
    metadata = cronjob["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "labels": dict(template.get("metadata", {}).get("labels", {})),
            "annotations": {
                **template.get("metadata", {}).get("annotations", {}),
                "cronjob.kubernetes.io/instantiate": "manual",
            },
            "ownerReferences": [
                {
                    "apiVersion": "batch/v1",
                    "kind": "CronJob",
                    "name": metadata["name"],
                    "uid": metadata.get("uid", ""),
                    "controller": True,
                }
            ],
        },
        "spec": template["spec"],
    }


def _job_pending(kube: KubeClient, namespace: str, name: str) -> str | None:
    job = kube.get(_path("batch/v1", namespace, "jobs", name))
    if job is None:
        raise ActivationError(f"Job {namespace}/{name} disappeared")
    if _condition(job, "Complete"):
        return None
    if _condition(job, "Failed"):
        said = _job_log(kube, namespace, name)
        raise ActivationError(f"Job {namespace}/{name} failed: {_last_line(said)}")
    return f"Job {namespace}/{name} running"


def _job_log(kube: KubeClient, namespace: str, job: str) -> str:
    pods = kube.get(f"/api/v1/namespaces/{namespace}/pods", {"labelSelector": f"job-name={job}"}) or {}
    names = sorted(pod["metadata"]["name"] for pod in pods.get("items", []))
    return "".join(kube.text(f"/api/v1/namespaces/{namespace}/pods/{pod}/log") or "" for pod in names[-1:])


def _last_line(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else "(no log)"


def vault_unsealed(ctx: Context) -> str:
    """Every Vault pod ready. The rendered readiness probe is an HTTPS GET of
    ``/v1/sys/health?standbyok=true&uninitcode=204`` (build/plan/dr/rendered/pulumi-vault.yaml):
    a sealed server answers 503 (Vault API docs, sys/health), so for the restored, initialised
    Vault a ready pod is an unsealed one, active or standby."""

    def pending() -> str | None:
        vault = ctx.k8s.get(_path("apps/v1", VAULT_NAMESPACE, "statefulsets", VAULT_STATEFULSET))
        if vault is None:
            raise ActivationError(f"StatefulSet {VAULT_NAMESPACE}/{VAULT_STATEFULSET} does not exist")
        wanted, ready = vault["spec"].get("replicas", 1), vault.get("status", {}).get("readyReplicas", 0)
        return None if ready >= wanted else f"{ready} of {wanted} Vault pods ready (unsealed)"

    ctx.wait("Vault", ctx.waits.rollout, pending)
    return "every Vault pod unsealed and ready"


def vault_roles(ctx: Context) -> str:
    """The restored data carries prod's roles and policies; the bootstrap Job re-applies
    dr's spec. Deleting the Job would not do: Pulumi's state still has it, so an update
    without a refresh changes nothing; ``--replace`` of its URN runs it again, deleted first
    (components/secrets.py: delete_before_replace) and waited for."""
    kube = ctx.k8s
    job_path = _path("batch/v1", VAULT_NAMESPACE, "jobs", VAULT_BOOTSTRAP_JOB)
    job = kube.get(job_path)
    restored_at = _newest_restore(ctx)
    if job is not None and _finished_after(job, restored_at):
        raise AlreadyDoneError(f"Job {VAULT_NAMESPACE}/{VAULT_BOOTSTRAP_JOB} completed after the restore")
    urn = ctx.pulumi.urn(JOB_TYPE, VAULT_NAMESPACE, VAULT_BOOTSTRAP_JOB)
    ctx.pulumi.up(refresh=False, replace=[urn])
    job = kube.get(job_path)
    if job is None or not _finished_after(job, restored_at):
        raise ActivationError(f"Job {VAULT_NAMESPACE}/{VAULT_BOOTSTRAP_JOB} did not complete after `pulumi up`")
    return f"Job {VAULT_NAMESPACE}/{VAULT_BOOTSTRAP_JOB} re-applied dr's Vault spec"


def _newest_restore(ctx: Context) -> str:
    store = _dr_store(ctx)
    markers = sorted(key for key in store.keys(f"{VAULT_PREFIX}/restored/") if key.endswith(".json"))
    if not markers:
        raise ActivationError("no Vault restore is recorded: run the vault-restore step first")
    return str(store.get_json(markers[-1])["restored_at"])


def _finished_after(job: Mapping[str, Any], moment: str) -> bool:
    status = job.get("status", {})
    completed = status.get("completionTime")
    # Kubernetes records times to the second.
    return (
        _condition(job, "Complete")
        and completed is not None
        and _instant(completed) >= _instant(moment).replace(microsecond=0)
    )


def _condition(obj: Mapping[str, Any], kind: str) -> bool:
    """Whether the object's status has the condition ``kind`` with status True."""
    conditions = obj.get("status", {}).get("conditions", [])
    return any(c.get("type") == kind and c.get("status") == "True" for c in conditions)


def _instant(text: str) -> datetime.datetime:
    return datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))


def secrets_refresh(ctx: Context) -> str:
    """Every ExternalSecret reads the restored Vault now rather than within the hour."""
    kube, now = ctx.k8s, datetime.datetime.now(datetime.UTC).replace(microsecond=0)
    listed = list(kube.list(EXTERNAL_SECRETS))
    if not listed:
        raise ActivationError("no ExternalSecret on the dr cluster: is External Secrets installed?")
    for item in listed:
        metadata = item["metadata"]
        kube.patch(
            _path("external-secrets.io/v1", metadata["namespace"], "externalsecrets", metadata["name"]),
            {"metadata": {"annotations": {"force-sync": str(int(now.timestamp()))}}},
        )

    def pending() -> str | None:
        stale = []
        for item in kube.list(EXTERNAL_SECRETS):
            status = item.get("status", {})
            refreshed = status.get("refreshTime")
            if not _condition(item, "Ready") or refreshed is None or _instant(refreshed) < now:
                stale.append(f"{item['metadata']['namespace']}/{item['metadata']['name']}")
        return f"ExternalSecrets not refreshed: {', '.join(stale)}" if stale else None

    ctx.wait("ExternalSecrets", ctx.waits.rollout, pending)
    return f"{len(listed)} ExternalSecrets refreshed from the restored Vault"


def connector_restart(ctx: Context) -> str:
    """The connector reads its Vault token and database password at start: pods started
    before the restore restart (what `kubectl rollout restart` does: a template annotation)."""
    kube, now = ctx.k8s, datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds")
    for name in CONNECTOR_DEPLOYMENTS:
        patch = {"spec": {"template": {"metadata": {"annotations": {"kubectl.kubernetes.io/restartedAt": now}}}}}
        kube.patch(_path("apps/v1", CONNECTOR_NAMESPACE, "deployments", name), patch)
    ctx.wait("connector rollout", ctx.waits.rollout, lambda: _rollouts_pending(kube))
    return f"{', '.join(CONNECTOR_DEPLOYMENTS)} restarted and available"


def _rollouts_pending(kube: KubeClient) -> str | None:
    """`kubectl rollout status`'s test for a Deployment (kubectl ``rollout_status.go``)."""
    waiting = []
    for name in CONNECTOR_DEPLOYMENTS:
        deployment = kube.get(_path("apps/v1", CONNECTOR_NAMESPACE, "deployments", name))
        if deployment is None:
            raise ActivationError(f"Deployment {CONNECTOR_NAMESPACE}/{name} does not exist")
        spec, status = deployment["spec"], deployment.get("status", {})
        wanted = spec.get("replicas", 1)
        if (
            status.get("observedGeneration", 0) < deployment["metadata"].get("generation", 1)
            or status.get("updatedReplicas", 0) < wanted
            or status.get("replicas", 0) > status.get("updatedReplicas", 0)
            or status.get("availableReplicas", 0) < wanted
        ):
            waiting.append(f"{name} ({status.get('availableReplicas', 0)} of {wanted} available)")
    return f"rolling out: {', '.join(waiting)}" if waiting else None


def applications(ctx: Context) -> str:
    """Argo CD syncs the root Application now (its children follow in their waves) and
    every Application ends Synced and Healthy. A sync is asked for the way the argocd CLI
    does it: by setting the Application's ``operation`` (Argo CD docs, "Sync Options" /
    the Application CRD's ``operation.sync``)."""
    kube, namespace = ctx.k8s, str(ctx.output("argocdNamespace"))
    root = str(ctx.output("rootApplication"))
    kube.patch(_path("argoproj.io/v1alpha1", namespace, "applications", root), {"operation": SYNC_OPERATION})

    def pending() -> str | None:
        listed = [item for item in kube.list(APPLICATIONS) if item["metadata"].get("namespace") == namespace]
        if not any(item["metadata"]["name"] == root for item in listed):
            raise ActivationError(f"Application {namespace}/{root} does not exist")
        behind = [
            f"{item['metadata']['name']} ({status.get('sync', {}).get('status', '?')}, "
            f"{status.get('health', {}).get('status', '?')})"
            for item in listed
            if (status := item.get("status", {})).get("sync", {}).get("status") != "Synced"
            or status.get("health", {}).get("status") != "Healthy"
            or item.get("operation") is not None
        ]
        return f"Applications not Synced and Healthy: {', '.join(behind)}" if behind else None

    ctx.wait("Argo CD", ctx.waits.applications, pending)
    return "every Application Synced and Healthy"


def certificates(ctx: Context) -> str:
    """A Ready certificate covers every served host."""
    hosts = [str(host) for host in ctx.output("servedHosts")]

    def pending() -> str | None:
        listed = list(ctx.k8s.list(CERTIFICATES))
        ready = [certificate for certificate in listed if _condition(certificate, "Ready")]
        missing = [host for host in hosts if not any(host in c["spec"].get("dnsNames", []) for c in ready)]
        return f"no Ready certificate for {', '.join(missing)}" if missing else None

    ctx.wait("certificates", ctx.waits.certificates, pending)
    return f"Ready certificates for {len(hosts)} hosts"


def dns_and_https(ctx: Context) -> str:
    """Every served host resolves to dr's load balancer and answers HTTPS with a certificate
    the system trusts (a 5xx, a refused connection or a TLS error is not served)."""
    hosts = [str(host) for host in ctx.output("servedHosts")]
    balancer = str(ctx.output("ingressHostname"))

    def pending() -> str | None:
        ours = ctx.edge.resolve(balancer)
        if not ours:
            return f"dr's load balancer {balancer} does not resolve"
        problems = []
        for host in hosts:
            addresses = ctx.edge.resolve(host)
            if not addresses or not addresses <= ours:
                problems.append(f"{host} resolves to {sorted(addresses) or 'nothing'}, not dr's load balancer")
                continue
            problem = _https_problem(ctx.edge, host, sorted(addresses)[0])
            if problem:
                problems.append(problem)
        return "; ".join(problems) or None

    ctx.wait("DNS and HTTPS", ctx.waits.dns, pending)
    return f"{len(hosts)} hosts resolve to dr and answer HTTPS"


class _PinnedHttps(http.client.HTTPSConnection):
    """HTTPS to ``host`` at a given address: SNI, Host header and certificate check for
    ``host``, the TCP connection to ``address``."""

    def __init__(self, host: str, address: str, port: int, tls: ssl.SSLContext) -> None:
        super().__init__(host, port, timeout=10, context=tls)
        self._address, self._tls = address, tls

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)


def _https_problem(edge: Edge, host: str, address: str) -> str | None:
    connection = _PinnedHttps(host, address, edge.port, edge.tls)
    try:
        connection.request("GET", "/", headers={"User-Agent": "txdr-activate"})
        status = connection.getresponse().status
    except (OSError, http.client.HTTPException) as error:
        return f"https://{host}/: {error}"
    finally:
        connection.close()
    return f"https://{host}/ answered {status}" if status >= 500 else None


def _path(group_version: str, namespace: str, plural: str, name: str | None = None) -> str:
    base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
    return f"{base}/namespaces/{namespace}/{plural}" + (f"/{name}" if name else "")


Step = Callable[[Context], str]

STEPS: Sequence[tuple[str, Step]] = (
    ("stack-outputs", stack_outputs),
    ("primary-fenced", primary_fenced),
    ("primary-state-key", primary_state_key),
    ("replica-ready", replica_ready),
    ("activate-config", activate_config),
    ("chart-login", chart_login),
    ("pulumi-up", pulumi_up),
    ("vault-restore", vault_restore),
    ("vault-unsealed", vault_unsealed),
    ("vault-roles", vault_roles),
    ("secrets-refresh", secrets_refresh),
    ("connector-restart", connector_restart),
    ("applications", applications),
    ("certificates", certificates),
    ("dns-and-https", dns_and_https),
)


def activate(ctx: Context, report: Callable[[str], None]) -> tuple[bool, Timeline]:
    """Runs the steps in order; stops at the first that fails. Returns (succeeded, timeline)."""
    timeline = Timeline(datetime.datetime.now(datetime.UTC))
    began = ctx.clock()
    for name, step in STEPS:
        started = ctx.clock()
        try:
            detail, outcome = step(ctx), "done"
        except AlreadyDoneError as already:
            detail, outcome = str(already), "already"
        except (ActivationError, BackupError) as error:
            detail, outcome = str(error), "failed"
        entry = Entry(name, started - began, ctx.clock() - started, outcome, detail)
        timeline.entries.append(entry)
        report(f"{name}: {outcome} in {_minutes(entry.seconds)}: {detail}")
        if outcome == "failed":
            return False, timeline
    return True, timeline


def write_timeline(timeline: Timeline, path: Path) -> None:
    path.write_text(json.dumps(timeline.to_json(), indent=2) + "\n")
