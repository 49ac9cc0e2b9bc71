"""backup: storage that keeps backups 30 days (playbook RETENTION_DAYS), private and TLS
only; scheduled jobs that each reach only their own prefix; the image they run."""

from __future__ import annotations

import hashlib
import json
import os
import stat
from pathlib import Path
from typing import Any

import pytest

from components.backup import JOBS, RETENTION_DAYS, VAULT_RESTORE_JOB, job_policy
from components.backup_image import (
    DOCKERFILE,
    IGNORE_FILE,
    IMAGE_SOURCES,
    KEEP_IMAGES,
    PROJECT_DIR,
    REPOSITORY,
    SOURCE_DATE_EPOCH,
    image_files,
    source_tag,
    stage_context,
)
from components.schedules import SCHEDULED_JOBS, VAULT_RESTORE
from offline.checks import plain, s3_buckets_private_encrypted_tls_only
from offline.harness import StackRun
from tests.conftest import policy

BUCKET = "aws:s3/bucket:Bucket"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
CRON_JOB = "kubernetes:batch/v1:CronJob"


def attached(run: StackRun, type_: str, bucket_resource: str) -> dict[str, Any]:
    (found,) = [r for r in run.of_type(type_) if r.inputs["bucket"] == f"{bucket_resource}-id"]
    return dict(plain(found.inputs))


def statements_of(run: StackRun, job_name: str) -> list[dict[str, Any]]:
    document = run.one(ROLE_POLICY, f"tractusx-backup-{job_name}-policy").inputs["policy"]
    return list(policy(document)["Statement"])


def allowed(statements: list[dict[str, Any]], action: str, resource: str) -> bool:
    """Whether an Allow statement names the action on exactly this resource (or pattern)."""
    for s in statements:
        actions = s["Action"] if isinstance(s["Action"], list) else [s["Action"]]
        resources = s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]]
        if s["Effect"] == "Allow" and action in actions and resource in resources:
            return True
    return False


def cron_jobs(run: StackRun) -> dict[str, dict[str, Any]]:
    return {plain(c.inputs)["metadata"]["name"]: plain(c.inputs) for c in run.of_type(CRON_JOB)}


def test_backup_bucket_names_are_globally_unique_and_exported(stack: StackRun) -> None:
    bucket = stack.one(BUCKET, "tractusx-backup-bucket").inputs
    region = stack.exports["region"]
    assert bucket["bucket"] == f"tx-{stack.exports['environment']}-backup-123456789012-{region}"
    assert bucket["forceDestroy"] is False
    assert stack.exports["backupBucketName"] == bucket["bucket"]
    assert stack.exports["backupBucketArn"] == f"arn:aws:s3:::{bucket['bucket']}"


def test_backups_are_encrypted_with_the_rotating_backup_key(stack: StackRun) -> None:
    (rule,) = attached(
        stack,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "tractusx-backup-bucket",
    )["rules"]
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    key_arn = rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert key_arn == stack.exports["backupKmsKeyArn"]
    assert rule["bucketKeyEnabled"] is True
    assert stack.one("aws:kms/key:Key", "tractusx-backup-key").inputs["enableKeyRotation"] is True


def test_backups_are_versioned_and_expire_after_the_playbooks_30_days(stack: StackRun) -> None:
    versioning = attached(stack, "aws:s3/bucketVersioning:BucketVersioning", "tractusx-backup-bucket")
    assert versioning["versioningConfiguration"]["status"] == "Enabled"
    (rule,) = attached(
        stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "tractusx-backup-bucket"
    )["rules"]
    assert RETENTION_DAYS == 30
    assert rule["status"] == "Enabled"
    assert rule["filter"] == {"prefix": ""}  # every prefix: database/, config/, certificates/
    assert rule["expiration"]["days"] == 30
    assert rule["noncurrentVersionExpiration"]["noncurrentDays"] == 7
    assert rule["abortIncompleteMultipartUpload"]["daysAfterInitiation"] == 1


def test_every_bucket_blocks_public_access_and_denies_non_tls(stack: StackRun) -> None:
    assert len(stack.of_type(BUCKET)) == 2
    assert s3_buckets_private_encrypted_tls_only(stack) == []
    for bucket in ("tractusx-backup-bucket", "tractusx-backup-logs"):
        block = attached(stack, "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", bucket)
        assert all(
            block[flag] is True
            for flag in ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        )
        ownership = attached(stack, "aws:s3/bucketOwnershipControls:BucketOwnershipControls", bucket)
        assert ownership["rule"]["objectOwnership"] == "BucketOwnerEnforced"
        statements = json.loads(attached(stack, "aws:s3/bucketPolicy:BucketPolicy", bucket)["policy"])["Statement"]
        denies = {s["Sid"]: s for s in statements if s["Effect"] == "Deny"}
        assert denies["DenyInsecureTransport"]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
        assert denies["DenyTlsOlderThan12"]["Condition"] == {"NumericLessThan": {"s3:TlsVersion": "1.2"}}


def test_the_plan_check_catches_a_bucket_without_protection(prod: StackRun) -> None:
    bare = [
        r
        for r in prod.resources
        if not (r.type.startswith("aws:s3/bucketP") and r.name.startswith("tractusx-backup-policy"))
    ]
    run = StackRun(stack="prod", resources=bare, exports={})
    assert s3_buckets_private_encrypted_tls_only(run) == [
        f"{BUCKET} tractusx-backup-bucket: the bucket policy does not deny requests without TLS"
    ]


def test_access_logs_go_to_a_kms_encrypted_bucket_that_only_s3_logging_may_write(stack: StackRun) -> None:
    logging = attached(stack, "aws:s3/bucketLogging:BucketLogging", "tractusx-backup-bucket")
    assert logging["targetBucket"] == "tractusx-backup-logs-id"
    (rule,) = attached(
        stack,
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "tractusx-backup-logs",
    )["rules"]
    # Playbook "Data Protection Compliance": the log bucket is KMS-encrypted too, with the
    # backup key, whose policy lets the logging service generate data keys for these logs.
    assert rule["applyServerSideEncryptionByDefault"]["sseAlgorithm"] == "aws:kms"
    key_arn = rule["applyServerSideEncryptionByDefault"]["kmsMasterKeyId"]
    assert key_arn == stack.exports["backupKmsKeyArn"]
    key = stack.one("aws:kms/key:Key", "tractusx-backup-key").inputs
    delivery = {s["Sid"]: s for s in json.loads(key["policy"])["Statement"]}["S3ServerAccessLogDelivery"]
    assert delivery["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert delivery["Action"] == "kms:GenerateDataKey"
    assert delivery["Condition"]["ArnLike"] == {"aws:SourceArn": stack.exports["backupBucketArn"]}
    assert delivery["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    statements = json.loads(attached(stack, "aws:s3/bucketPolicy:BucketPolicy", "tractusx-backup-logs")["policy"])[
        "Statement"
    ]
    (grant,) = [s for s in statements if s["Effect"] == "Allow"]
    assert grant["Principal"] == {"Service": "logging.s3.amazonaws.com"}
    assert grant["Action"] == "s3:PutObject"
    assert grant["Condition"]["ArnLike"] == {"aws:SourceArn": stack.exports["backupBucketArn"]}
    assert grant["Condition"]["StringEquals"] == {"aws:SourceAccount": "123456789012"}
    (rule,) = attached(
        stack, "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "tractusx-backup-logs"
    )["rules"]
    assert rule["expiration"]["days"] == 365


@pytest.mark.parametrize(
    ("job_name", "prefix"),
    [("backup-database", "database"), ("backup-config", "config"), ("backup-certificates", "certificates")],
)
def test_each_backup_job_writes_only_its_own_prefix(stack: StackRun, job_name: str, prefix: str) -> None:
    statements = statements_of(stack, job_name)
    bucket = stack.exports["backupBucketArn"]
    for action in ("s3:PutObject", "s3:GetObject", "s3:AbortMultipartUpload", "s3:ListMultipartUploadParts"):
        assert allowed(statements, action, f"{bucket}/{prefix}/*")
    for other in {"database", "config", "certificates"} - {prefix}:
        assert not any(other in json.dumps(s["Resource"]) + json.dumps(s.get("Condition", {})) for s in statements)
    listing = next(s for s in statements if s["Action"] == "s3:ListBucket")
    assert listing["Resource"] == bucket
    assert listing["Condition"] == {"StringLike": {"s3:prefix": [f"{prefix}/", f"{prefix}/*"]}}
    assert not any("Delete" in action for s in statements for action in s["Action"])


def test_the_restore_test_only_reads_database_backups(stack: StackRun) -> None:
    statements = statements_of(stack, "restore-test")
    bucket = stack.exports["backupBucketArn"]
    assert allowed(statements, "s3:GetObject", f"{bucket}/database/*")
    actions = {a for s in statements for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])}
    assert actions == {"s3:GetObject", "s3:ListBucket", "kms:Decrypt"}


def test_the_bucket_key_is_usable_only_through_s3_except_for_envelope_encryption(stack: StackRun) -> None:
    region = stack.exports["region"]
    key = stack.exports["backupKmsKeyArn"]
    for job in JOBS:
        statements = statements_of(stack, job.schedule.name)
        via_s3 = next(s for s in statements if s["Sid"] == "BucketKeyThroughS3")
        assert via_s3["Resource"] == key
        assert via_s3["Condition"]["StringEquals"]["kms:ViaService"] == f"s3.{region}.amazonaws.com"
        envelope = [s for s in statements if s["Sid"] == "EnvelopeEncryption"]
        # Configuration and certificates encrypt secrets before they leave the cluster,
        # with the envelope key: prod's backup key, or its replica on the dr stack.
        assert bool(envelope) == (job.command in ("config", "certificates"))
        for s in envelope:
            assert s["Resource"] == stack.exports["backupEnvelopeKeyArn"] and set(s["Action"]) == {
                "kms:Encrypt",
                "kms:GenerateDataKey",
            }
            assert s["Condition"] == {"StringLike": {"kms:EncryptionContext:tractusx-backup": f"{job.prefix}/*"}}


def test_job_policy_is_what_the_plan_attaches(prod: StackRun) -> None:
    job = JOBS[0]
    expected = job_policy(job, prod.exports["backupBucketArn"], prod.exports["backupKmsKeyArn"], "eu-central-1")
    assert prod.one(ROLE_POLICY, f"tractusx-backup-{job.schedule.name}-policy").inputs["policy"] == expected


def test_each_job_has_its_own_service_account_and_role(stack: StackRun) -> None:
    host = stack.exports["oidcIssuerUrl"].removeprefix("https://")
    accounts = {
        plain(a.inputs)["metadata"]["name"]: plain(a.inputs)["metadata"]
        for a in stack.of_type("kubernetes:core/v1:ServiceAccount")
        if plain(a.inputs)["metadata"]["namespace"] == "backup"
    }
    for scheduled in SCHEDULED_JOBS:
        role_arn = accounts[scheduled.name]["annotations"]["eks.amazonaws.com/role-arn"]
        assert role_arn.endswith(f"/tractusx-backup-{scheduled.name}")
        trust = policy(stack.one("aws:iam/role:Role", f"tractusx-backup-{scheduled.name}").inputs["assumeRolePolicy"])
        subject = trust["Statement"][0]["Condition"]["StringEquals"][f"{host}:sub"]
        assert subject == f"system:serviceaccount:backup:{scheduled.name}"
        assert (
            cron_jobs(stack)[scheduled.name]["spec"]["jobTemplate"]["spec"]["template"]["spec"]["serviceAccountName"]
            == scheduled.name
        )


def test_only_the_config_and_certificate_backups_read_the_kubernetes_api(stack: StackRun) -> None:
    roles = {
        plain(r.inputs)["metadata"]["name"]: plain(r.inputs)["rules"]
        for r in stack.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRole")
    }
    bindings = {
        plain(b.inputs)["subjects"][0]["name"]: plain(b.inputs)["roleRef"]["name"]
        for b in stack.of_type("kubernetes:rbac.authorization.k8s.io/v1:ClusterRoleBinding")
        if plain(b.inputs)["subjects"][0].get("namespace") == "backup"
    }
    assert bindings == {"backup-config": "backup-config-reader", "backup-certificates": "backup-certificates-reader"}
    for role_name in bindings.values():
        assert all(set(rule["verbs"]) == {"get", "list"} for rule in roles[role_name])
    certificate_rules = {
        (g, r) for rule in roles["backup-certificates-reader"] for g in rule["apiGroups"] for r in rule["resources"]
    }
    assert certificate_rules == {("", "secrets"), ("cert-manager.io", "certificates")}


def test_cron_jobs_run_on_the_shared_schedules_and_keep_failures_visible(stack: StackRun) -> None:
    jobs = cron_jobs(stack)
    # Plus, on the dr stack, the Vault restore, which never runs on schedule.
    on_demand = {VAULT_RESTORE.name} if stack.stack == "dr" else set()
    assert set(jobs) == {scheduled.name for scheduled in SCHEDULED_JOBS} | on_demand
    for scheduled in SCHEDULED_JOBS:
        spec = jobs[scheduled.name]["spec"]
        assert jobs[scheduled.name]["metadata"]["namespace"] == "backup"
        assert spec["schedule"] == scheduled.schedule
        assert spec["timeZone"] == "Etc/UTC"
        assert spec["concurrencyPolicy"] == "Forbid"
        assert spec["startingDeadlineSeconds"] > 0
        assert spec["failedJobsHistoryLimit"] >= 1
        job = spec["jobTemplate"]["spec"]
        assert job["backoffLimit"] >= 1 and job["activeDeadlineSeconds"] > 0
        # A failed weekly restore test is still there for kube_job_status_failed a week later.
        assert job["ttlSecondsAfterFinished"] > 7 * 24 * 3600


def test_cron_job_pods_are_locked_down_and_run_the_image_by_digest(stack: StackRun) -> None:
    for name, cron_job in cron_jobs(stack).items():
        pod = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert pod["securityContext"] == {
            "runAsNonRoot": True,
            "runAsUser": 10001,
            "runAsGroup": 10001,
            "fsGroup": 10001,
            "seccompProfile": {"type": "RuntimeDefault"},
        }
        (container,) = pod["containers"]
        assert container["securityContext"] == {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "capabilities": {"drop": ["ALL"]},
        }
        assert container["resources"]["requests"] and container["resources"]["limits"]
        assert container["image"] == stack.exports["backupImage"]
        assert "@sha256:" in container["image"]
        job = next(job for job in (*JOBS, VAULT_RESTORE_JOB) if job.schedule.name == name)
        assert container["command"] == ["python3", "-m", "txbackup", job.command, *job.args]
        tmp_mount = {"name": "tmp", "mountPath": "/tmp"}
        if job.vault_role is None:
            assert container["volumeMounts"] == [tmp_mount]
            (tmp,) = pod["volumes"]
        else:
            # Vault's CA certificate, read-only, from the copy in this namespace.
            ca_mount = {"name": "vault-ca", "mountPath": "/etc/vault-tls", "readOnly": True}
            assert container["volumeMounts"] == [tmp_mount, ca_mount]
            tmp, ca = pod["volumes"]
            assert ca["secret"]["secretName"] == "vault-ca"
            assert ca["secret"]["items"] == [{"key": "ca.crt", "path": "ca.crt"}]
        assert "emptyDir" in tmp


def test_cron_job_environment_follows_the_programs_contract(stack: StackRun) -> None:
    jobs = cron_jobs(stack)
    for name, cron_job in jobs.items():
        (container,) = cron_job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
        env = {e["name"]: e for e in container["env"]}
        assert env["BACKUP_BUCKET"]["value"] == stack.exports["backupBucketName"]
        # The key that seals Secrets: prod's backup key, or its replica in the dr region.
        assert env["BACKUP_KMS_KEY_ARN"]["value"] == stack.exports["backupEnvelopeKeyArn"]
        assert env["AWS_REGION"]["value"] == stack.exports["region"]
        assert env["AWS_STS_REGIONAL_ENDPOINTS"]["value"] == "regional"
        database = name in ("backup-database", "restore-test")
        assert ("PGPASSWORD" in env) == database
        if database:
            assert env["DATABASES"]["value"] == "tractus_x,edc"
            assert env["PGPASSWORD"]["valueFrom"]["secretKeyRef"] == {"name": "database-master", "key": "password"}
            for variable, key in (("PGHOST", "host"), ("PGPORT", "port"), ("PGUSER", "username")):
                assert env[variable]["valueFrom"]["secretKeyRef"] == {"name": "database-master", "key": key}
            assert env["PGSSLMODE"]["value"] == "verify-full"
            assert env["PGSSLROOTCERT"]["value"] == "/etc/ssl/certs/rds-global-bundle.pem"
            assert env["PGDATABASE"]["value"] == "postgres"


def test_backup_image_repository_is_encrypted_scanned_and_immutable(stack: StackRun) -> None:
    (repository,) = [
        r.inputs
        for r in stack.of_type("aws:ecr/repository:Repository")
        if r.inputs["name"] == f"tx-{stack.exports['environment']}/{REPOSITORY}"
    ]
    assert repository["imageTagMutability"] == "IMMUTABLE"
    assert repository["imageScanningConfiguration"] == {"scanOnPush": True}
    (encryption,) = repository["encryptionConfigurations"]
    assert encryption["encryptionType"] == "KMS" and encryption["kmsKey"]
    rules = json.loads(stack.one("aws:ecr/lifecyclePolicy:LifecyclePolicy").inputs["policy"])["rules"]
    assert rules[0]["selection"]["countNumber"] == KEEP_IMAGES
    image = stack.one("docker-build:index:Image").inputs
    assert image["push"] is True
    # Built from the normalised copy of the sources, with the fixed build time.
    assert image["dockerfile"] == {"location": "build/backup-image/images/backup/Dockerfile"}
    assert image["context"] == {"location": "build/backup-image"}
    assert image["buildArgs"] == {"SOURCE_DATE_EPOCH": "315532800"}
    assert image["tags"] == [
        f"123456789012.dkr.ecr.{stack.exports['region']}.amazonaws.com/{repository['name']}:{source_tag()}"
    ]
    assert image["platforms"] == ["linux/amd64"]


def checkout(root: Path, file_mode: int, directory_mode: int, mtime: int) -> Path:
    """A copy of the project's image sources (and a file outside them) as another checkout
    leaves them: its umask's modes, its clone's times."""
    for name in [*image_files(), "README.md"]:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes((PROJECT_DIR / name).read_bytes())
    for path in sorted(root.rglob("*"), reverse=True):
        os.chmod(path, directory_mode if path.is_dir() else file_mode)
        os.utime(path, (mtime, mtime))
    return root


def docker_build_context_hash(context: Path, dockerfile: Path) -> str:
    """What pulumi-docker-build compares to decide a rebuild (pulumi/pulumi-docker-build
    provider/internal/context.go, hashBuildContext and hashFile): the Dockerfile's bytes,
    then per context file, in walk order, its bytes, its slash path and its Go FileMode
    string (stat.filemode prints the same ``-rw-r--r--``). The Dockerfile's ignore file
    lets only IMAGE_SOURCES in."""
    digest = hashlib.sha256(dockerfile.read_bytes())
    for name in image_files(context):
        path = context / name
        digest.update(path.read_bytes() + name.encode() + stat.filemode(path.stat().st_mode).encode())
    return digest.hexdigest()


def test_a_second_checkout_with_another_umask_and_times_gets_the_same_tag_and_no_rebuild(tmp_path: Path) -> None:
    # ECR refuses a second push of a tag in an IMMUTABLE repository: a checkout that the
    # builder sees as changed, under an unchanged tag, cannot deploy.
    first = checkout(tmp_path / "first", 0o644, 0o755, 1_700_000_000)
    second = checkout(tmp_path / "second", 0o600, 0o700, 1_750_000_000)  # umask 077, cloned later
    assert source_tag(first) == source_tag(second) == source_tag()

    # The checkouts themselves differ to the builder (the fault the copy exists for) ...
    raw = [docker_build_context_hash(root, root / "images/backup/Dockerfile") for root in (first, second)]
    assert raw[0] != raw[1]
    # ... their normalised copies do not.
    staged = [stage_context(first)]
    umask = os.umask(0o077)  # the second checkout's deployer runs the program with its umask
    try:
        staged.append(stage_context(second))
    finally:
        os.umask(umask)
    hashes = [docker_build_context_hash(root, root / "images/backup/Dockerfile") for root in staged]
    assert hashes[0] == hashes[1]
    assert staged[0] == first / "build/backup-image"
    for path in [staged[1], *staged[1].rglob("*")]:
        assert stat.S_IMODE(path.stat().st_mode) == (0o755 if path.is_dir() else 0o644), path
        assert path.stat().st_mtime == SOURCE_DATE_EPOCH, path
    assert sorted(p.relative_to(staged[1]).as_posix() for p in staged[1].rglob("*") if p.is_file()) == image_files()


@pytest.mark.parametrize("name", image_files())
def test_a_change_in_any_file_of_the_image_changes_its_tag_and_its_build_context(tmp_path: Path, name: str) -> None:
    root = checkout(tmp_path, 0o644, 0o755, 1_700_000_000)
    before = source_tag(root)
    (root / name).write_bytes((root / name).read_bytes() + b"\n")

    assert source_tag(root) != before
    assert (stage_context(root) / name).read_bytes() == (root / name).read_bytes()


def test_a_file_outside_the_build_context_changes_neither_the_tag_nor_the_context(tmp_path: Path) -> None:
    root = checkout(tmp_path, 0o644, 0o755, 1_700_000_000)
    before = source_tag(root)
    context_before = docker_build_context_hash(stage_context(root), root / DOCKERFILE)
    (root / "README.md").write_text("changed\n")
    (root / "components").mkdir()
    (root / "components" / "new.py").write_text("x = 1\n")
    (root / "txbackup" / "__pycache__").mkdir()
    (root / "txbackup" / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")

    assert source_tag(root) == before
    assert docker_build_context_hash(stage_context(root), root / DOCKERFILE) == context_before


def test_a_file_removed_from_the_sources_leaves_the_build_context(tmp_path: Path) -> None:
    root = checkout(tmp_path, 0o644, 0o755, 1_700_000_000)
    stage_context(root)
    (root / "txbackup" / "records.py").unlink()

    assert not (stage_context(root) / "txbackup" / "records.py").exists()


def test_the_build_context_is_exactly_what_the_tag_hashes() -> None:
    # The immutable repository refuses a second push of a tag: the builder's context (after
    # the Dockerfile's ignore file) must change only together with the tag.
    lines = [line.strip() for line in (PROJECT_DIR / IGNORE_FILE).read_text().splitlines()]
    rules = [line for line in lines if line and not line.startswith("#")]
    assert rules[0] == "*"
    assert {rule.removeprefix("!").rstrip("/") for rule in rules if rule.startswith("!")} == set(IMAGE_SOURCES)


def test_prods_backup_key_is_a_rotating_multi_region_key_that_seals_the_secrets(prod: StackRun) -> None:
    key = prod.one("aws:kms/key:Key", "tractusx-backup-key").inputs
    assert key["multiRegion"] is True and key["enableKeyRotation"] is True
    assert key["deletionWindowInDays"] == 30
    assert prod.exports["backupKmsKeyArn"].startswith("arn:aws:kms:eu-central-1:123456789012:key/mrk-")
    # On prod the bucket key and the envelope key are the same key.
    assert prod.exports["backupEnvelopeKeyArn"] == prod.exports["backupKmsKeyArn"]
    assert not prod.of_type("aws:kms/replicaKey:ReplicaKey")


def test_the_job_policy_names_the_envelope_key_only_for_sealing() -> None:
    config = next(job for job in JOBS if job.command == "config")
    bucket, bucket_key = "arn:aws:s3:::b", "arn:aws:kms:eu-west-1:1:key/dr-bucket"
    envelope_key = "arn:aws:kms:eu-west-1:1:key/mrk-0"
    statements = {
        s["Sid"]: s for s in policy(job_policy(config, bucket, bucket_key, "eu-west-1", envelope_key))["Statement"]
    }
    assert statements["BucketKeyThroughS3"]["Resource"] == bucket_key
    assert statements["EnvelopeEncryption"]["Resource"] == envelope_key
    # Without an envelope key of its own, a job seals with the bucket key.
    default = {s["Sid"]: s for s in policy(job_policy(config, bucket, bucket_key, "eu-west-1"))["Statement"]}
    assert default["EnvelopeEncryption"]["Resource"] == bucket_key
