"""Backup storage and the scheduled backup and restore-test jobs (playbook "Backup Strategy").

Storage: one S3 bucket with the prefixes ``database/``, ``config/`` and ``certificates/``,
encrypted with a customer KMS key (S3 bucket key on), versioned, public access blocked,
objects owned by the bucket owner, TLS 1.2+ only, access-logged to a separate bucket.
Retention lives in the bucket's lifecycle rule (the playbook's ``RETENTION_DAYS=30``),
not in a cleanup loop of a script.

Jobs: one CronJob per schedule of ``components.schedules``, each with its own service
account and IRSA role that reaches only its own prefix; the restore test only reads.
They run the ``txbackup`` programs from the backup image, referenced by digest.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws
import pulumi_kubernetes as k8s

from components.aws_context import AwsContext
from components.backup_image import RDS_CA_BUNDLE, program_pod
from components.cluster import Cluster
from components.database import MASTER_ENV, MASTER_SECRET, DatabaseSpec, secret_env
from components.iam import policy_document
from components.keys import customer_key, replica_key
from components.namespaces import Namespaces
from components.schedules import (
    BACKUP_NAMESPACE,
    CERTIFICATE_BACKUP,
    CONFIG_BACKUP,
    DATABASE_BACKUP,
    RESTORE_TEST,
    VAULT_BACKUP,
    VAULT_RESTORE,
    VAULT_SNAPSHOT_DEADLINE_MINUTES,
    ScheduledJob,
)
from components.traffic import INTERNET, VPC, Need, Pods, api_client
from components.vault_spec import API_SERVICE as VAULT_API
from components.vault_spec import BACKUP_CA_SECRET, CA_KEY, CA_MOUNT, RESTORE_POLICY, SNAPSHOT_POLICY, vault_client_env

# txbackup.vault_snapshot.RESTORED: the Vault restore's markers, ``vault/restored/``.
VAULT_RESTORED = "restored"
# Playbook "Backup Strategy" > "Database Backups": RETENTION_DAYS=30.
RETENTION_DAYS = 30
# A version replaced or deleted (by the expiry above or by mistake) stays recoverable
# this long before it is gone.
NONCURRENT_VERSION_DAYS = 7
# Uploads interrupted mid-way leave parts that cost storage and are never a backup.
ABORT_INCOMPLETE_UPLOAD_DAYS = 1
PREFIXES = ("database", "config", "certificates", "vault")

# The KMS encryption context key under which the programs bind an envelope's data key
# to ``<prefix>/<backup id>`` (txbackup.config.encryption_context).
ENVELOPE_CONTEXT_KEY = "tractusx-backup"

# Failed Jobs are kept (failedJobsHistoryLimit) so kube-state-metrics reports
# ``kube_job_status_failed`` until the alert is handled; the time to live is longer
# than the weekly restore test's interval, so its last result is always visible.
FAILED_JOBS_KEPT = 3
SUCCESSFUL_JOBS_KEPT = 3
JOB_TTL_SECONDS = 8 * 24 * 3600
# A run missed by more than this (controller down, cluster upgrade) is skipped, and the
# missed-backup alert fires; a late backup is not started on top of the next one.
STARTING_DEADLINE_SECONDS = 3600
BACKOFF_LIMIT = 2


@dataclass(frozen=True)
class JobSpec:
    """How one scheduled job runs: its program, its S3 prefix and its rights."""

    schedule: ScheduledJob
    command: str  # `python3 -m txbackup <command>`
    prefix: str
    writes: bool  # uploads to its prefix (the restore test only reads)
    envelope_encryption: bool  # encrypts with the backup key itself before upload
    database: bool  # connects to PostgreSQL with the master credentials
    kubernetes_rules: tuple[Mapping[str, Sequence[str]], ...]  # read-only, cluster-wide
    deadline_seconds: int
    requests: Mapping[str, str]
    limits: Mapping[str, str]
    tmp_size: str
    # Logs in to Vault (Kubernetes auth) with this role; trusts Vault's CA from BACKUP_CA_SECRET.
    vault_role: str | None = None
    args: tuple[str, ...] = ()  # after the command
    # Never runs on schedule: started by hand from the CronJob (the dr stack's Vault restore).
    always_suspended: bool = False
    # A sub-prefix of a read-only job's prefix it may write to (the Vault restore's markers).
    writes_under: str | None = None


# The configuration backup reads every resource of every API group (Secrets, CRDs,
# Helm release Secrets, Argo CD applications when installed); only get and list.
READ_EVERYTHING = ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["get", "list"]},)
READ_CERTIFICATES = (
    {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get", "list"]},
    {"apiGroups": ["cert-manager.io"], "resources": ["certificates"], "verbs": ["get", "list"]},
)

JOBS = (
    JobSpec(
        DATABASE_BACKUP,
        "database",
        "database",
        writes=True,
        envelope_encryption=False,
        database=True,
        kubernetes_rules=(),
        deadline_seconds=3 * 3600,
        requests={"cpu": "500m", "memory": "512Mi"},
        limits={"cpu": "2", "memory": "1Gi"},
        tmp_size="2Gi",
    ),
    JobSpec(
        CONFIG_BACKUP,
        "config",
        "config",
        writes=True,
        envelope_encryption=True,
        database=False,
        kubernetes_rules=READ_EVERYTHING,
        deadline_seconds=3600,
        requests={"cpu": "100m", "memory": "256Mi"},
        limits={"cpu": "500m", "memory": "512Mi"},
        tmp_size="1Gi",
    ),
    JobSpec(
        CERTIFICATE_BACKUP,
        "certificates",
        "certificates",
        writes=True,
        envelope_encryption=True,
        database=False,
        kubernetes_rules=READ_CERTIFICATES,
        deadline_seconds=1800,
        requests={"cpu": "100m", "memory": "128Mi"},
        limits={"cpu": "500m", "memory": "256Mi"},
        tmp_size="256Mi",
    ),
    # Playbook RTO "Full system restore: 4 hours": a restore that takes longer fails.
    JobSpec(
        RESTORE_TEST,
        "restore-test",
        "database",
        writes=False,
        envelope_encryption=False,
        database=True,
        kubernetes_rules=(),
        deadline_seconds=4 * 3600,
        requests={"cpu": "500m", "memory": "512Mi"},
        limits={"cpu": "2", "memory": "1Gi"},
        tmp_size="2Gi",
    ),
    # A raft snapshot is Vault's storage as is: every secret in it stays encrypted by
    # Vault's barrier key, which only the unseal key (KMS) opens, so it is uploaded
    # without a second envelope; S3 encrypts the object with the backup key.
    JobSpec(
        VAULT_BACKUP,
        "vault-snapshot",
        "vault",
        writes=True,
        envelope_encryption=False,
        database=False,
        kubernetes_rules=(),
        # Shorter than the 15-minute schedule (concurrencyPolicy Forbid skips a run while
        # one is active): a hung run never costs the next one. txbackup waits at most
        # 5 minutes for Vault; a raft snapshot of the platform's Vault streams in seconds.
        deadline_seconds=VAULT_SNAPSHOT_DEADLINE_MINUTES * 60,
        requests={"cpu": "100m", "memory": "128Mi"},
        limits={"cpu": "500m", "memory": "256Mi"},
        tmp_size="1Gi",
        vault_role=SNAPSHOT_POLICY,
    ),
)

# On the dr stack only: restores the primary's newest snapshot (replicated into this
# stack's bucket; never one this stack wrote) into this stack's Vault during activation;
# read-only on ``vault/`` but for its markers under ``vault/restored/``, which the dr
# stack's snapshot job waits for (txbackup.vault_snapshot).
VAULT_RESTORE_JOB = JobSpec(
    VAULT_RESTORE,
    "vault-restore",
    "vault",
    writes=False,
    envelope_encryption=False,
    database=False,
    kubernetes_rules=(),
    deadline_seconds=1800,
    requests={"cpu": "100m", "memory": "128Mi"},
    limits={"cpu": "500m", "memory": "256Mi"},
    tmp_size="1Gi",
    vault_role=RESTORE_POLICY,
    args=("--backup-id", "latest"),
    always_suspended=True,
    writes_under=VAULT_RESTORED,
)


def bucket_names(name_prefix: str, account_id: str, region: str) -> tuple[str, str]:
    """Globally unique names: the account and region are part of every name."""
    names = (f"{name_prefix}-backup-{account_id}-{region}", f"{name_prefix}-backup-logs-{account_id}-{region}")
    for name in names:
        if len(name) > 63:
            raise pulumi.RunError(
                f"tractusx-platform:environment: the backup bucket name {name} is longer than S3's 63 "
                "characters; use a shorter environment name"
            )
    return names


def tls_only_statements(bucket_arn: str) -> list[dict[str, Any]]:
    """Deny any request without TLS, or with TLS older than 1.2."""
    resources = [bucket_arn, f"{bucket_arn}/*"]
    return [
        {
            "Sid": "DenyInsecureTransport",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
        {
            "Sid": "DenyTlsOlderThan12",
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": resources,
            "Condition": {"NumericLessThan": {"s3:TlsVersion": "1.2"}},
        },
    ]


def backup_bucket_policy(bucket_arn: str) -> str:
    return policy_document(tls_only_statements(bucket_arn))


def log_bucket_policy(log_bucket_arn: str, source_bucket_arn: str, account_id: str) -> str:
    """TLS only, and S3 server access logging may write the source bucket's logs."""
    return policy_document(
        [
            *tls_only_statements(log_bucket_arn),
            {
                "Sid": "S3ServerAccessLogs",
                "Effect": "Allow",
                "Principal": {"Service": "logging.s3.amazonaws.com"},
                "Action": "s3:PutObject",
                "Resource": f"{log_bucket_arn}/*",
                "Condition": {
                    "ArnLike": {"aws:SourceArn": source_bucket_arn},
                    "StringEquals": {"aws:SourceAccount": account_id},
                },
            },
        ]
    )


def access_log_key_statement(source_bucket_name: str, ctx: AwsContext) -> dict[str, Any]:
    """Lets S3 server access logging encrypt the backup bucket's access logs with the key."""
    return {
        "Sid": "S3ServerAccessLogDelivery",
        "Effect": "Allow",
        "Principal": {"Service": "logging.s3.amazonaws.com"},
        "Action": "kms:GenerateDataKey",
        "Resource": "*",
        "Condition": {
            "ArnLike": {"aws:SourceArn": f"arn:{ctx.partition}:s3:::{source_bucket_name}"},
            "StringEquals": {"aws:SourceAccount": ctx.account_id},
        },
    }


def job_policy(job: JobSpec, bucket_arn: str, key_arn: str, region: str, envelope_key_arn: str | None = None) -> str:
    """Least privilege for one job: its own prefix, the bucket key only through S3.

    Jobs that seal Secrets get data keys from ``envelope_key_arn`` (default: the bucket
    key), only under their own prefix's encryption context.

    Writers may put, abort and list the parts of their multipart uploads and read back
    what they wrote (to verify it); nobody may delete: old backups leave by the lifecycle
    rule alone. The restore test only reads ``database/``.
    """
    object_actions = ["s3:GetObject"]
    kms_via_s3 = ["kms:Decrypt"]
    if job.writes:
        object_actions += ["s3:PutObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"]
    if job.writes or job.writes_under:
        kms_via_s3 += ["kms:GenerateDataKey"]
    statements: list[dict[str, Any]] = [
        {
            "Sid": "OwnPrefixObjects",
            "Effect": "Allow",
            "Action": sorted(object_actions),
            "Resource": f"{bucket_arn}/{job.prefix}/*",
        },
        {
            "Sid": "ListOwnPrefix",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": bucket_arn,
            "Condition": {"StringLike": {"s3:prefix": [f"{job.prefix}/", f"{job.prefix}/*"]}},
        },
        {
            "Sid": "BucketKeyThroughS3",
            "Effect": "Allow",
            "Action": sorted(kms_via_s3),
            "Resource": key_arn,
            "Condition": {
                "StringEquals": {
                    "kms:ViaService": f"s3.{region}.amazonaws.com",
                    # With an S3 bucket key the encryption context is the bucket's ARN.
                    "kms:EncryptionContext:aws:s3:arn": bucket_arn,
                }
            },
        },
    ]
    if job.writes_under:
        statements.append(
            {
                "Sid": "OwnMarkers",
                "Effect": "Allow",
                "Action": "s3:PutObject",
                "Resource": f"{bucket_arn}/{job.prefix}/{job.writes_under}/*",
            }
        )
    if job.envelope_encryption:
        statements.append(
            {
                "Sid": "EnvelopeEncryption",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": envelope_key_arn or key_arn,
                # Data keys only for this job's own backups.
                "Condition": {"StringLike": {f"kms:EncryptionContext:{ENVELOPE_CONTEXT_KEY}": f"{job.prefix}/*"}},
            }
        )
    return policy_document(statements)


@dataclass(frozen=True)
class BackupArgs:
    name_prefix: str
    cluster: Cluster
    namespaces: Namespaces
    image: pulumi.Input[str]  # the backup image by digest
    database_dependencies: Sequence[pulumi.Resource]  # the master Secret the jobs read
    databases: Sequence[DatabaseSpec]  # what the database backup and restore test cover
    log_retention_days: int
    ctx: AwsContext
    tags: Mapping[str, str]
    # The dr stack's jobs wait suspended while its database is a read-only replica of the
    # primary, whose own backups replicate into this stack's bucket; activation resumes them.
    suspended: bool = False
    # On a dr stack: the primary's backup key (a multi-Region primary key). Its replica in
    # this region seals and unseals the Secrets of the config and certificates backups, so
    # the primary's replicated backups decrypt here without a call to the primary's region.
    # None on the primary, whose backup key is itself multi-Region for that replica.
    primary_key_arn: pulumi.Input[str] | None = None
    # The dr stack's suspended Vault restore job (VAULT_RESTORE_JOB).
    vault_restore: bool = False


class Backup(pulumi.ComponentResource):
    bucket: aws.s3.Bucket
    log_bucket: aws.s3.Bucket
    key: aws.kms.Key
    # The key of the Secrets sealed in config and certificates backups (BACKUP_KMS_KEY_ARN):
    # the backup key on the primary, its multi-Region replica on a dr stack.
    envelope_key_arn: pulumi.Output[str]
    bucket_versioning: aws.s3.BucketVersioning
    cron_jobs: dict[str, k8s.batch.v1.CronJob]

    def __init__(self, name: str, args: BackupArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:backup:Backup", name, None, opts)
        self._name = name
        self._args = args
        bucket_name, log_bucket_name = bucket_names(args.name_prefix, args.ctx.account_id, args.ctx.region)
        self.key = customer_key(
            f"{name}-key",
            alias=f"{args.name_prefix}-backup",
            description=f"Backups of {args.name_prefix}: S3 objects and envelope-encrypted secrets",
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
            service_statements=[access_log_key_statement(bucket_name, args.ctx)],
            multi_region=args.primary_key_arn is None,
        )
        self.envelope_key_arn = self._envelope_key_arn(name)
        self.log_bucket = self._log_bucket(log_bucket_name)
        self.bucket = self._backup_bucket(bucket_name)
        jobs = (*JOBS, VAULT_RESTORE_JOB) if args.vault_restore else JOBS
        self.cron_jobs = {job.schedule.name: self._cron_job(job) for job in jobs}
        self.register_outputs(
            {
                "bucket_name": self.bucket.bucket,
                "bucket_arn": self.bucket.arn,
                "kms_key_arn": self.key.arn,
                "envelope_key_arn": self.envelope_key_arn,
                "log_bucket_name": self.log_bucket.bucket,
            }
        )

    def _envelope_key_arn(self, name: str) -> pulumi.Output[str]:
        args = self._args
        if args.primary_key_arn is None:
            return self.key.arn
        replica = replica_key(
            f"{name}-envelope-key",
            primary_key_arn=args.primary_key_arn,
            alias=f"{args.name_prefix}-backup-envelope",
            description=(
                f"Backups of {args.name_prefix}: replica of the primary's backup key, for the Secrets sealed in "
                "config and certificates backups"
            ),
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
        )
        return replica.arn

    # --- storage ---------------------------------------------------------------------

    def _bucket(
        self, role_name: str, bucket_name: str, *, expire_days: int, noncurrent_days: int | None = None
    ) -> aws.s3.Bucket:
        """A bucket with public access blocked, ownership enforced (ACLs off), SSE-KMS with
        the backup key and a lifecycle rule that expires objects after ``expire_days``;
        versioned when ``noncurrent_days`` says how long replaced versions stay."""
        tags = self._args.tags
        bucket = aws.s3.Bucket(
            f"{self._name}-{role_name}",
            bucket=bucket_name,
            force_destroy=False,
            tags={**tags, "Name": bucket_name},
            opts=pulumi.ResourceOptions(parent=self),
        )
        child = pulumi.ResourceOptions(parent=bucket)
        aws.s3.BucketPublicAccessBlock(
            f"{self._name}-{role_name}-public-access",
            bucket=bucket.id,
            block_public_acls=True,
            block_public_policy=True,
            ignore_public_acls=True,
            restrict_public_buckets=True,
            opts=child,
        )
        aws.s3.BucketOwnershipControls(
            f"{self._name}-{role_name}-ownership",
            bucket=bucket.id,
            rule=aws.s3.BucketOwnershipControlsRuleArgs(object_ownership="BucketOwnerEnforced"),
            opts=child,
        )
        if noncurrent_days is not None:
            # Replication needs versioning on the source and destination bucket.
            self.bucket_versioning = aws.s3.BucketVersioning(
                f"{self._name}-{role_name}-versioning",
                bucket=bucket.id,
                versioning_configuration=aws.s3.BucketVersioningVersioningConfigurationArgs(status="Enabled"),
                opts=child,
            )
        # S3 server access logging also delivers into an SSE-KMS bucket when the key is a
        # customer managed key whose policy lets the logging service generate data keys
        # (access_log_key_statement); only the AWS managed aws/s3 key is not supported.
        aws.s3.BucketServerSideEncryptionConfiguration(
            f"{self._name}-{role_name}-encryption",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketServerSideEncryptionConfigurationRuleArgs(
                    apply_server_side_encryption_by_default=aws.s3.BucketServerSideEncryptionConfigurationRuleApplyServerSideEncryptionByDefaultArgs(
                        sse_algorithm="aws:kms", kms_master_key_id=self.key.arn
                    ),
                    # One data key per bucket instead of a KMS call per object.
                    bucket_key_enabled=True,
                )
            ],
            opts=child,
        )
        aws.s3.BucketLifecycleConfiguration(
            f"{self._name}-{role_name}-lifecycle",
            bucket=bucket.id,
            rules=[
                aws.s3.BucketLifecycleConfigurationRuleArgs(
                    id="retention",
                    status="Enabled",
                    filter=aws.s3.BucketLifecycleConfigurationRuleFilterArgs(prefix=""),
                    expiration=aws.s3.BucketLifecycleConfigurationRuleExpirationArgs(days=expire_days),
                    noncurrent_version_expiration=(
                        aws.s3.BucketLifecycleConfigurationRuleNoncurrentVersionExpirationArgs(
                            noncurrent_days=noncurrent_days
                        )
                        if noncurrent_days is not None
                        else None
                    ),
                    abort_incomplete_multipart_upload=aws.s3.BucketLifecycleConfigurationRuleAbortIncompleteMultipartUploadArgs(
                        days_after_initiation=ABORT_INCOMPLETE_UPLOAD_DAYS
                    ),
                )
            ],
            opts=child,
        )
        return bucket

    def _log_bucket(self, bucket_name: str) -> aws.s3.Bucket:
        """The access logs, encrypted with the backup key like the backups they record."""
        return self._bucket("logs", bucket_name, expire_days=self._args.log_retention_days)

    def _backup_bucket(self, bucket_name: str) -> aws.s3.Bucket:
        args = self._args
        bucket = self._bucket(
            "bucket", bucket_name, expire_days=RETENTION_DAYS, noncurrent_days=NONCURRENT_VERSION_DAYS
        )
        child = pulumi.ResourceOptions(parent=bucket)
        aws.s3.BucketPolicy(
            f"{self._name}-policy",
            bucket=bucket.id,
            policy=bucket.arn.apply(backup_bucket_policy),
            opts=child,
        )
        log_policy = aws.s3.BucketPolicy(
            f"{self._name}-logs-policy",
            bucket=self.log_bucket.id,
            policy=pulumi.Output.all(self.log_bucket.arn, bucket.arn).apply(
                lambda arns: log_bucket_policy(arns[0], arns[1], args.ctx.account_id)
            ),
            opts=pulumi.ResourceOptions(parent=self.log_bucket),
        )
        aws.s3.BucketLogging(
            f"{self._name}-access-logging",
            bucket=bucket.id,
            target_bucket=self.log_bucket.id,
            target_prefix=f"{bucket_name}/",
            opts=pulumi.ResourceOptions(parent=bucket, depends_on=[log_policy]),
        )
        return bucket

    # --- jobs ------------------------------------------------------------------------

    def _cron_job(self, job: JobSpec) -> k8s.batch.v1.CronJob:
        args = self._args
        job_name = job.schedule.name
        provider = args.cluster.k8s_provider
        namespace = args.namespaces.namespace(BACKUP_NAMESPACE)
        iam_role = args.cluster.irsa_role(
            f"{self._name}-{job_name}",
            namespace=BACKUP_NAMESPACE,
            service_account=job_name,
            description=f"{job_name}: {job.schedule.purpose}",
            inline_policy=pulumi.Output.all(self.bucket.arn, self.key.arn, self.envelope_key_arn).apply(
                lambda arns: job_policy(job, arns[0], arns[1], args.ctx.region, envelope_key_arn=arns[2])
            ),
            parent=self,
        )
        labels = {
            "app.kubernetes.io/name": job_name,
            "app.kubernetes.io/component": "backup",
            "app.kubernetes.io/part-of": "tractusx-platform",
        }
        account = k8s.core.v1.ServiceAccount(
            f"{self._name}-{job_name}-sa",
            metadata=k8s.meta.v1.ObjectMetaArgs(
                name=job_name,
                namespace=BACKUP_NAMESPACE,
                labels=labels,
                annotations={
                    "eks.amazonaws.com/role-arn": iam_role.arn,
                    "eks.amazonaws.com/sts-regional-endpoints": "true",
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[namespace]),
        )
        if job.kubernetes_rules:
            self._read_access(job_name, job.kubernetes_rules, labels)
        return k8s.batch.v1.CronJob(
            f"{self._name}-{job_name}",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=job_name, namespace=BACKUP_NAMESPACE, labels=labels),
            spec=k8s.batch.v1.CronJobSpecArgs(
                schedule=job.schedule.schedule,
                suspend=args.suspended or job.always_suspended,
                time_zone="Etc/UTC",
                concurrency_policy="Forbid",
                starting_deadline_seconds=STARTING_DEADLINE_SECONDS,
                successful_jobs_history_limit=SUCCESSFUL_JOBS_KEPT,
                failed_jobs_history_limit=FAILED_JOBS_KEPT,
                job_template=k8s.batch.v1.JobTemplateSpecArgs(
                    metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                    spec=k8s.batch.v1.JobSpecArgs(
                        backoff_limit=BACKOFF_LIMIT,
                        active_deadline_seconds=job.deadline_seconds,
                        ttl_seconds_after_finished=JOB_TTL_SECONDS,
                        template=k8s.core.v1.PodTemplateSpecArgs(
                            metadata=k8s.meta.v1.ObjectMetaArgs(labels=labels),
                            spec=self._pod_spec(job, job_name),
                        ),
                    ),
                ),
            ),
            opts=pulumi.ResourceOptions(
                parent=self, provider=provider, depends_on=[account, *args.database_dependencies]
            ),
        )

    def _read_access(
        self, job_name: str, rules: Sequence[Mapping[str, Sequence[str]]], labels: Mapping[str, str]
    ) -> None:
        provider = self._args.cluster.k8s_provider
        cluster_role = k8s.rbac.v1.ClusterRole(
            f"{self._name}-{job_name}-reader",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{job_name}-reader", labels=dict(labels)),
            rules=[
                k8s.rbac.v1.PolicyRuleArgs(
                    api_groups=list(rule["apiGroups"]), resources=list(rule["resources"]), verbs=list(rule["verbs"])
                )
                for rule in rules
            ],
            opts=pulumi.ResourceOptions(parent=self, provider=provider),
        )
        k8s.rbac.v1.ClusterRoleBinding(
            f"{self._name}-{job_name}-reader-binding",
            metadata=k8s.meta.v1.ObjectMetaArgs(name=f"{job_name}-reader", labels=dict(labels)),
            role_ref=k8s.rbac.v1.RoleRefArgs(
                api_group="rbac.authorization.k8s.io", kind="ClusterRole", name=f"{job_name}-reader"
            ),
            subjects=[k8s.rbac.v1.SubjectArgs(kind="ServiceAccount", name=job_name, namespace=BACKUP_NAMESPACE)],
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=[cluster_role]),
        )

    def _env(self, job: JobSpec) -> list[k8s.core.v1.EnvVarArgs]:
        args = self._args
        env = [
            k8s.core.v1.EnvVarArgs(name="BACKUP_BUCKET", value=self.bucket.bucket),
            # The key that seals Secrets (the S3 objects use the bucket's default key).
            k8s.core.v1.EnvVarArgs(name="BACKUP_KMS_KEY_ARN", value=self.envelope_key_arn),
            k8s.core.v1.EnvVarArgs(name="AWS_REGION", value=args.ctx.region),
            k8s.core.v1.EnvVarArgs(name="AWS_STS_REGIONAL_ENDPOINTS", value="regional"),
        ]
        if job.vault_role is not None:
            env += [k8s.core.v1.EnvVarArgs(name=k, value=v) for k, v in vault_client_env(job.vault_role).items()]
            # Recorded in every snapshot's manifest: a dr stack restores only the primary's.
            env.append(k8s.core.v1.EnvVarArgs(name="STACK_ROLE", value="dr" if args.vault_restore else "primary"))
        if job.database:
            env += [
                k8s.core.v1.EnvVarArgs(name="DATABASES", value=",".join(db.name for db in args.databases)),
                *[secret_env(name, MASTER_SECRET, key) for name, key in MASTER_ENV.items()],
                k8s.core.v1.EnvVarArgs(name="PGSSLMODE", value="verify-full"),
                k8s.core.v1.EnvVarArgs(name="PGSSLROOTCERT", value=RDS_CA_BUNDLE),
                k8s.core.v1.EnvVarArgs(name="PGDATABASE", value="postgres"),
            ]
        return env

    def _pod_spec(self, job: JobSpec, job_name: str) -> k8s.core.v1.PodSpecArgs:
        return program_pod(
            image=self._args.image,
            service_account=job_name,
            container=job.command,
            args=[job.command, *job.args],
            env=self._env(job),
            requests=job.requests,
            limits=job.limits,
            volumes=[
                k8s.core.v1.VolumeArgs(
                    name="tmp", empty_dir=k8s.core.v1.EmptyDirVolumeSourceArgs(size_limit=job.tmp_size)
                ),
                *self._vault_ca_volumes(job),
            ],
            volume_mounts=[k8s.core.v1.VolumeMountArgs(name="tmp", mount_path="/tmp"), *self._vault_ca_mounts(job)],
        )

    @staticmethod
    def _vault_ca_mounts(job: JobSpec) -> list[k8s.core.v1.VolumeMountArgs]:
        if job.vault_role is None:
            return []
        return [k8s.core.v1.VolumeMountArgs(name="vault-ca", mount_path=CA_MOUNT, read_only=True)]

    @staticmethod
    def _vault_ca_volumes(job: JobSpec) -> list[k8s.core.v1.VolumeArgs]:
        """Vault's CA certificate (copied into this namespace by the secrets component)."""
        if job.vault_role is None:
            return []
        return [
            k8s.core.v1.VolumeArgs(
                name="vault-ca",
                secret=k8s.core.v1.SecretVolumeSourceArgs(
                    secret_name=BACKUP_CA_SECRET,
                    items=[k8s.core.v1.KeyToPathArgs(key=CA_KEY, path=CA_KEY)],
                    default_mode=0o444,
                ),
            )
        ]


def flows(vault_restore: bool) -> tuple[Need, ...]:
    """The backup and restore-test jobs: the database in the VPC, the backup bucket (S3,
    over HTTPS), Vault for its snapshots (and, on a dr stack, the restore of prod's), the
    API for the configuration backup."""

    def job(scheduled: ScheduledJob) -> Pods:
        return Pods(BACKUP_NAMESPACE, {"app.kubernetes.io/name": scheduled.name})

    database, config, certificates = job(DATABASE_BACKUP), job(CONFIG_BACKUP), job(CERTIFICATE_BACKUP)
    restore, vault = job(RESTORE_TEST), job(VAULT_BACKUP)
    vault_jobs = (vault, job(VAULT_RESTORE)) if vault_restore else (vault,)
    jobs = (database, config, certificates, restore, *vault_jobs)
    return (
        Need(database, VPC, 5432, "the database backup reads every database (RDS)"),
        Need(restore, VPC, 5432, "the restore test restores into a scratch database (RDS)"),
        *(Need(pods, VAULT_API, 8200, "a Vault job takes or restores raft snapshots") for pods in vault_jobs),
        api_client(config, "the configuration backup"),
        api_client(certificates, "the certificate backup"),
        *(Need(pods, INTERNET, 443, "a backup job reads and writes the backup bucket (S3) and KMS") for pods in jobs),
    )
