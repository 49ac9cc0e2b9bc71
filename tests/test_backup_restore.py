"""The backup and restore programs, run for real (playbook "Backup Strategy", "Disaster
Recovery", "Weekly Tasks" 3): a PostgreSQL server and an S3/KMS API on loopback, and the
very entry point the CronJobs run (``python3 -m txbackup <command>``)."""

from __future__ import annotations

import base64
import datetime
import gzip
import json
import os
import signal
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import txbackup.manifest
from tests.support import kube_api
from tests.support.clock import distinct_seconds
from tests.support.postgres_server import (
    DATABASES,
    PostgresServer,
    load_databases,
    start_server,
    table_checksums,
)
from tests.support.s3_server import DR_BUCKET, DR_REGION, AwsApi, aws_api
from txbackup import cli, kube, store
from txbackup.cli import main
from txbackup.envelope import Envelope
from txbackup.records import read_json_lines, unseal_secret

REPOSITORY = Path(__file__).resolve().parent.parent
TEST_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part: each dump of the test data spans two parts


@pytest.fixture(scope="module")
def pg() -> Iterator[PostgresServer]:
    server = start_server()
    try:
        load_databases(server)
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsApi]:
    with aws_api() as api:
        yield api


@pytest.fixture
def job_env(monkeypatch: pytest.MonkeyPatch, pg: PostgresServer, aws: AwsApi) -> dict[str, str]:
    """The environment of the CronJobs; each backup gets a later id than the one before."""
    env = {**pg.env(), **aws.env(), "DATABASES": ",".join(DATABASES)}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(store, "PART_SIZE", TEST_PART_SIZE)
    monkeypatch.setattr(txbackup.manifest, "utc_now", distinct_seconds)
    return env


def run(*argv: str) -> int:
    return main(list(argv))


def objects(aws: AwsApi) -> dict[str, str]:
    listing = aws.client("s3").list_objects_v2(Bucket=aws.bucket).get("Contents", [])
    return {entry["Key"]: entry["ETag"] for entry in listing}


def manifest(aws: AwsApi, prefix: str, backup_id: str) -> dict[str, Any]:
    body = aws.client("s3").get_object(Bucket=aws.bucket, Key=f"{prefix}/{backup_id}/manifest.json")["Body"]
    return dict(json.load(body))


def latest_id(aws: AwsApi, prefix: str = "database") -> str:
    keys = [key for key in objects(aws) if key.startswith(f"{prefix}/") and key.endswith("/manifest.json")]
    return sorted(keys)[-1].split("/")[1]


def backup(aws: AwsApi) -> str:
    assert run("database") == 0
    return latest_id(aws)


def all_checksums(pg: PostgresServer, prefix: str = "") -> dict[str, dict[str, tuple[int, str]]]:
    return {database: table_checksums(pg, prefix + database) for database in DATABASES}


def test_every_table_of_every_database_is_identical_after_backup_and_restore(
    job_env: dict[str, str], pg: PostgresServer, aws: AwsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    # The CronJob's own command line, in a child process with the CronJob's environment.
    child = subprocess.run(
        [sys.executable, "-m", "txbackup", "database"],
        cwd=REPOSITORY,
        env={**os.environ, **job_env},
        capture_output=True,
        text=True,
        check=False,
    )
    assert child.returncode == 0, child.stderr
    backup_id = latest_id(aws)
    recorded = manifest(aws, "database", backup_id)
    assert [entry["name"] for entry in recorded["objects"]] == ["globals.sql", *[f"{db}.dump" for db in DATABASES]]
    s3 = aws.client("s3")
    globals_sql = s3.get_object(Bucket=aws.bucket, Key=f"database/{backup_id}/globals.sql")["Body"].read()
    assert b"CREATE ROLE tractus_x_owner" in globals_sql and b"SCRAM-SHA-256" not in globals_sql

    for database in DATABASES:
        assert (
            run("restore", "--backup-id", backup_id, "--database", database, "--target-database", f"r_{database}") == 0
        )
    try:
        source, restored = all_checksums(pg), all_checksums(pg, "r_")
        assert restored == source
        with capsys.disabled():
            for database in DATABASES:
                for table, (rows, md5) in source[database].items():
                    print(f"\nrestore evidence: {database} {table}: {rows} rows, md5 {md5} identical", end="")
        assert all(len(tables) == 3 for tables in source.values())
        for database in DATABASES:  # owners restored: the database's and every table's
            with pg.connect(f"r_{database}") as conn:
                owners = conn.execute(
                    "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname IN ('app', 'public')"
                    " UNION SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = current_database()"
                ).fetchall()
            assert owners == [(f"{database}_owner",)]
        assert {table: count for table, (count, _) in source["edc"].items()} == recorded["details"]["tables"]["edc"]
    finally:
        for database in DATABASES:
            pg.drop(f"r_{database}")


def test_a_backup_interrupted_mid_upload_is_not_latest_and_the_previous_one_restores(
    job_env: dict[str, str], pg: PostgresServer, aws: AwsApi, monkeypatch: pytest.MonkeyPatch
) -> None:
    good = backup(aws)
    uploads = {"parts": 0}
    real_upload_part = store.BackupStore._upload_part

    def killed_after_first_part(self: store.BackupStore, key: str, upload_id: str, number: int, body: bytes) -> Any:
        if key.endswith("edc.dump") and uploads["parts"] >= 1:
            raise SystemExit(143)  # what the SIGTERM handler raises when the Job is killed
        uploads["parts"] += key.endswith("edc.dump")
        return real_upload_part(self, key, upload_id, number, body)

    with monkeypatch.context() as patched:
        patched.setattr(store.BackupStore, "_upload_part", killed_after_first_part)
        with pytest.raises(SystemExit):
            run("database")

    assert uploads["parts"] == 1
    s3 = aws.client("s3")
    assert s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []
    interrupted = sorted({key.split("/")[1] for key in objects(aws) if key.startswith("database/")})[-1]
    assert interrupted != good and f"database/{interrupted}/manifest.json" not in objects(aws)
    assert latest_id(aws) == good

    assert run("restore", "--backup-id", "latest", "--database", "edc", "--target-database", "r_latest") == 0
    try:
        assert table_checksums(pg, "r_latest") == table_checksums(pg, "edc")
    finally:
        pg.drop("r_latest")


def test_a_job_terminated_mid_upload_aborts_it_and_leaves_no_backup(
    job_env: dict[str, str], aws: AwsApi, tmp_path: Path
) -> None:
    # Kubernetes stops a Job with SIGTERM (deadline, deletion, node drain). A pg_dump that
    # writes one 32 MiB part and then stalls makes the moment certain.
    shim = tmp_path / "pg_dump"
    shim.write_text("#!/bin/sh\nhead -c 34000000 /dev/urandom\nexec sleep 60\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    env = {**os.environ, **job_env, "PATH": f"{tmp_path}:{os.environ['PATH']}"}
    before = objects(aws)
    s3 = aws.client("s3")
    job = subprocess.Popen(
        [sys.executable, "-m", "txbackup", "database"], cwd=REPOSITORY, env=env, stderr=subprocess.PIPE, text=True
    )
    try:
        deadline = time.monotonic() + 30
        while not any(
            s3.list_parts(Bucket=aws.bucket, Key=u["Key"], UploadId=u["UploadId"]).get("Parts")
            for u in s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", [])
            if u["Key"].endswith(".dump")
        ):
            assert time.monotonic() < deadline and job.poll() is None, "no part was uploaded"
            time.sleep(0.05)
        job.send_signal(signal.SIGTERM)
        _, stderr = job.communicate(timeout=30)
    finally:
        job.kill()
    assert job.returncode == 128 + signal.SIGTERM, stderr
    assert "aborted the upload of" in stderr
    assert s3.list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []
    assert [key for key in set(objects(aws)) - set(before) if not key.endswith("globals.sql")] == []


def test_a_failing_pg_dump_aborts_its_upload_and_fails_the_run(
    job_env: dict[str, str],
    aws: AwsApi,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shim = tmp_path / "pg_dump"
    shim.write_text("#!/bin/sh\nhead -c 7000000 /dev/urandom\necho 'pg_dump: error: connection lost' >&2\nexit 3\n")
    shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", f"{tmp_path}:{os.environ['PATH']}")
    before = objects(aws)

    assert run("database") == 1
    error = capsys.readouterr().err.strip().splitlines()[-1]
    assert error == "txbackup database: pg_dump of tractus_x failed (exit 3): pg_dump: error: connection lost"
    assert aws.client("s3").list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []
    new = set(objects(aws)) - set(before)
    assert not [key for key in new if key.endswith(("manifest.json", ".dump"))]


def test_a_corrupted_object_is_detected_before_anything_is_restored(
    job_env: dict[str, str], pg: PostgresServer, aws: AwsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_id = backup(aws)
    key = f"database/{backup_id}/edc.dump"
    s3 = aws.client("s3")
    data = bytearray(s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read())
    data[len(data) // 2] ^= 0xFF
    s3.put_object(Bucket=aws.bucket, Key=key, Body=bytes(data))
    # A target with data: --clean would replace its objects, if the backup were sound.
    assert run("restore", "--backup-id", backup_id, "--database", "edc", "--target-database", "c_copy") == 1
    assert "is corrupt: SHA-256" in capsys.readouterr().err
    assert "c_copy" not in pg.databases()

    with pg.connect() as conn:
        conn.execute("CREATE DATABASE c_copy TEMPLATE edc")
    try:
        before = table_checksums(pg, "c_copy")
        args = ["--database", "edc", "--target-database", "c_copy", "--clean"]
        assert run("restore", "--backup-id", backup_id, *args) == 1
        assert f"s3://{aws.bucket}/{key} is corrupt" in capsys.readouterr().err
        assert table_checksums(pg, "c_copy") == before
    finally:
        pg.drop("c_copy")


def test_a_non_empty_target_is_refused_without_clean_and_replaced_with_it(
    job_env: dict[str, str], pg: PostgresServer, aws: AwsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_id = backup(aws)
    with pg.connect() as conn:
        conn.execute("CREATE DATABASE t_copy TEMPLATE tractus_x")
    try:
        with pg.connect("t_copy") as conn:
            conn.execute("DELETE FROM public.events WHERE id % 2 = 0")
        args = ["--backup-id", backup_id, "--database", "tractus_x", "--target-database", "t_copy"]
        assert run("restore", *args) == 1
        assert "target database 't_copy' is not empty" in capsys.readouterr().err
        assert run("restore", *args, "--clean") == 0
        assert table_checksums(pg, "t_copy") == table_checksums(pg, "tractus_x")
    finally:
        pg.drop("t_copy")


@pytest.mark.parametrize(
    ("argv", "override", "message"),
    [
        (
            ["restore", "--backup-id", "20200101T000000Z"],
            {},
            "backup '20200101T000000Z' not found under s3://tractusx-backups-test/database/",
        ),
        (
            ["restore", "--backup-id", "latest"],
            {"BACKUP_BUCKET": "no-such-bucket"},
            "bucket 'no-such-bucket' does not exist",
        ),
        (["database"], {"BACKUP_BUCKET": "no-such-bucket"}, "bucket 'no-such-bucket' does not exist"),
        (["database"], {"PGPORT": "1"}, "cannot connect to PostgreSQL database 'postgres' as postgres@127.0.0.1:1"),
        (["database"], {"PGPASSWORD": "wrong"}, 'password authentication failed for user "postgres"'),
        (["restore", "--backup-id", "latest"], {"PGPASSWORD": "wrong"}, "password authentication failed"),
        (["restore-test"], {"PGHOST": "127.0.0.2", "PGCONNECT_TIMEOUT": "2"}, "cannot connect to PostgreSQL"),
        (["database"], {"DATABASES": "tractus_x,no_such_db"}, "database 'no_such_db' does not exist"),
        (["database"], {"DATABASES": "tractus-x; DROP"}, "DATABASES: 'tractus-x; DROP' is not a plain database name"),
        (["restore", "--backup-id", "latest", "--database", "nope"], {}, "has no database 'nope'"),
    ],
)
def test_bad_input_gives_one_clear_line_and_changes_nothing(
    job_env: dict[str, str],
    pg: PostgresServer,
    aws: AwsApi,
    *,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    override: dict[str, str],
    message: str,
) -> None:
    if "database/" not in " ".join(objects(aws)):
        backup(aws)
    capsys.readouterr()
    for name, value in override.items():
        monkeypatch.setenv(name, value)
    s3_before, databases_before = objects(aws), pg.databases()

    assert run(*argv) == 1
    lines = capsys.readouterr().err.strip().splitlines()
    assert lines[-1].startswith(f"txbackup {argv[0]}: ") and message in lines[-1], lines
    assert objects(aws) == s3_before
    assert pg.databases() == databases_before


def test_the_weekly_restore_test_passes_on_a_good_backup_and_fails_on_a_broken_one(
    job_env: dict[str, str], pg: PostgresServer, aws: AwsApi, capsys: pytest.CaptureFixture[str]
) -> None:
    backup_id = backup(aws)
    assert run("restore-test") == 0
    assert f"restore test of backup {backup_id} passed: 2 databases, 6 tables" in capsys.readouterr().err
    assert not [name for name in pg.databases() if name.startswith("restore_test_")]

    # Rows the backup did not hold: the recorded count no longer matches what restores.
    s3 = aws.client("s3")
    key = f"database/{backup_id}/manifest.json"
    document = manifest(aws, "database", backup_id)
    document["details"]["tables"]["edc"]["public.events"] += 1
    s3.put_object(Bucket=aws.bucket, Key=key, Body=json.dumps(document).encode())
    assert run("restore-test") == 1
    assert "edc: public.events has 2000 rows, the backup recorded 2001" in capsys.readouterr().err
    assert not [name for name in pg.databases() if name.startswith("restore_test_")]

    # A dump that no longer matches its checksum.
    s3.put_object(Bucket=aws.bucket, Key=f"database/{backup_id}/tractus_x.dump", Body=b"PGDMP truncated")
    assert run("restore-test") == 1
    assert "tractus_x.dump has 15 bytes, expected" in capsys.readouterr().err


# --- configuration and certificates through the Kubernetes API ------------------------------


def _secret(
    namespace: str, name: str, kind: str, data: dict[str, bytes], labels: dict[str, str] | None = None
) -> dict[str, Any]:
    return {
        "metadata": {
            "namespace": namespace,
            "name": name,
            "labels": labels or {},
            "managedFields": [{"manager": "kubectl"}],
            "annotations": {"kubectl.kubernetes.io/last-applied-configuration": "{...secret...}"},
        },
        "type": kind,
        "data": {key: base64.b64encode(value).decode() for key, value in data.items()},
    }


@pytest.fixture
def cluster(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[kube_api.FakeApi, kube_api.RunningApi]]:
    now = datetime.datetime.now(datetime.UTC)
    soon_crt, soon_key = kube_api.certificate(
        "portal", now + datetime.timedelta(days=10, hours=1), ["portal.example.com", "api.example.com"]
    )
    later_crt, later_key = kube_api.certificate("edc", now + datetime.timedelta(days=200, hours=1), ["edc.example.com"])
    secrets = [
        _secret("tractus-x", "db-credentials", "Opaque", {"password": b"s3cr3t-\x00-bytes"}),
        _secret("tractus-x", "tractus-x-tls", "kubernetes.io/tls", {"tls.crt": soon_crt, "tls.key": soon_key}),
        _secret("edc", "edc-tls", "kubernetes.io/tls", {"tls.crt": later_crt, "tls.key": later_key}),
        _secret("edc", "broken-tls", "kubernetes.io/tls", {"tls.crt": b"not a certificate", "tls.key": b""}),
        _secret(
            "edc",
            "sh.helm.release.v1.edc.v3",
            "helm.sh/release.v1",
            {"release": b"H4sI..."},
            {"name": "edc", "owner": "helm", "status": "deployed", "version": "3"},
        ),
    ]
    api = kube_api.FakeApi(token="service-account-token")
    api.add("v1", "secrets", "Secret", True, secrets)
    api.add(
        "v1", "configmaps", "ConfigMap", True, [{"metadata": {"namespace": "edc", "name": f"cm{i}"}} for i in range(5)]
    )
    api.add("v1", "persistentvolumes", "PersistentVolume", False, [{"metadata": {"name": "pv-1"}}])
    api.add(
        "v1",
        "persistentvolumeclaims",
        "PersistentVolumeClaim",
        True,
        [{"metadata": {"namespace": "edc", "name": "data"}}],
    )
    api.add("v1", "events", "Event", True, [{"metadata": {"namespace": "edc", "name": "noise"}}])
    api.add("v1", "pods/log", "Pod", True, [])
    api.add("metrics.k8s.io/v1beta1", "pods", "PodMetrics", True, [{"metadata": {"namespace": "edc", "name": "p"}}])
    api.unavailable.add("metrics.k8s.io/v1beta1")  # not configuration: never asked
    api.add(
        "networking.k8s.io/v1",
        "ingresses",
        "Ingress",
        True,
        [{"metadata": {"namespace": "tractus-x", "name": "portal"}}],
    )
    api.add(
        "apiextensions.k8s.io/v1",
        "customresourcedefinitions",
        "CustomResourceDefinition",
        False,
        [
            {"metadata": {"name": "applications.argoproj.io"}},
            {"metadata": {"name": "certificates.cert-manager.io"}},
        ],
    )
    api.add(
        "argoproj.io/v1alpha1",
        "applications",
        "Application",
        True,
        [{"metadata": {"namespace": "argocd", "name": "edc"}}],
    )
    api.add(
        "argoproj.io/v1alpha1",
        "appprojects",
        "AppProject",
        True,
        [{"metadata": {"namespace": "argocd", "name": "default"}}],
    )
    api.add(
        "cert-manager.io/v1",
        "certificates",
        "Certificate",
        True,
        [
            {
                "metadata": {"namespace": "tractus-x", "name": "tractus-x-tls"},
                "status": {"conditions": [{"type": "Ready", "status": "True"}]},
            },
        ],
    )
    with kube_api.serve(api, tmp_path / "serviceaccount") as running:
        monkeypatch.setattr(kube, "SERVICE_ACCOUNT_DIR", running.account_dir)
        for name, value in running.env().items():
            monkeypatch.setenv(name, value)
        yield api, running


def _records(aws: AwsApi, prefix: str, name: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    backup_id = latest_id(aws, prefix)
    document = manifest(aws, prefix, backup_id)
    body = aws.client("s3").get_object(Bucket=aws.bucket, Key=f"{prefix}/{backup_id}/{name}")["Body"].read()
    return document, read_json_lines(body)


def _unsealed(aws: AwsApi, document: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    envelope = Envelope.open(aws.client("kms"), document["details"]["encryption"], aws.key_arn)
    return {
        f"{r['metadata']['namespace']}/{r['metadata']['name']}": unseal_secret(r, envelope)
        for r in records
        if r["kind"] == "Secret"
    }


def test_config_backup_holds_every_resource_with_secrets_sealed_by_kms(
    job_env: dict[str, str],
    aws: AwsApi,
    cluster: tuple[kube_api.FakeApi, kube_api.RunningApi],
    capsys: pytest.CaptureFixture[str],
) -> None:
    api, _ = cluster
    assert run("config") == 0
    document, records = _records(aws, "config", "resources.jsonl.gz")

    assert document["details"]["resources"] == {
        "appprojects.argoproj.io": 1,
        "applications.argoproj.io": 1,
        "certificates.cert-manager.io": 1,
        "configmaps": 5,
        "customresourcedefinitions.apiextensions.k8s.io": 2,
        "ingresses.networking.k8s.io": 1,
        "persistentvolumeclaims": 1,
        "persistentvolumes": 1,
        "secrets": 5,
    }
    assert document["details"]["helm_releases"] == [
        {"namespace": "edc", "name": "edc", "revision": "3", "status": "deployed"}
    ]
    raw = gzip.decompress(
        aws.client("s3").get_object(Bucket=aws.bucket, Key=document["objects"][0]["key"])["Body"].read()
    )
    assert b"s3cr3t" not in raw and base64.b64encode(b"s3cr3t-\x00-bytes") not in raw and b"last-applied" not in raw
    originals = {
        f"{s['metadata']['namespace']}/{s['metadata']['name']}": json.loads(json.dumps(s))
        for s in api.objects["/api/v1/secrets"]
    }
    for secret in originals.values():
        secret["metadata"] = {k: v for k, v in secret["metadata"].items() if k != "managedFields"}
    unsealed = _unsealed(aws, document, records)
    # Every Secret decrypts back to the original (less managedFields, dropped from all objects).
    assert unsealed == {ref: {"apiVersion": "v1", "kind": "Secret", **secret} for ref, secret in originals.items()}
    assert not [r for r in records if "managedFields" in r.get("metadata", {})]

    # The operator's way back: the decrypted Secrets as a List for `kubectl apply -f -`.
    capsys.readouterr()
    assert run("secrets", "--from", "config", "--backup-id", "latest") == 0
    exported = json.loads(capsys.readouterr().out)
    assert exported["kind"] == "List"
    assert exported["items"] == [
        unsealed[ref]
        for ref in (f"{r['metadata']['namespace']}/{r['metadata']['name']}" for r in records if r["kind"] == "Secret")
    ]


def test_certificate_backup_seals_tls_secrets_and_reports_days_left(
    job_env: dict[str, str], aws: AwsApi, cluster: tuple[kube_api.FakeApi, kube_api.RunningApi]
) -> None:
    api, _ = cluster
    assert run("certificates") == 0
    document, records = _records(aws, "certificates", "tls-secrets.jsonl.gz")
    unsealed = _unsealed(aws, document, records)
    assert sorted(unsealed) == ["edc/broken-tls", "edc/edc-tls", "tractus-x/tractus-x-tls"]
    assert unsealed["edc/edc-tls"]["data"] == next(
        s["data"] for s in api.objects["/api/v1/secrets"] if s["metadata"]["name"] == "edc-tls"
    )
    report_key = next(o["key"] for o in document["objects"] if o["name"] == "expiry-report.json")
    report = json.load(aws.client("s3").get_object(Bucket=aws.bucket, Key=report_key)["Body"])
    by_name = {entry["name"]: entry for entry in report["certificates"]}
    # Playbook "Certificate Monitoring": days left, a warning under 30 days.
    assert by_name["tractus-x-tls"]["days_left"] == 10 and by_name["tractus-x-tls"]["expiring_soon"] is True
    assert by_name["tractus-x-tls"]["sans"] == ["portal.example.com", "api.example.com"]
    assert by_name["tractus-x-tls"]["subject"] == "CN=portal"
    assert by_name["edc-tls"]["days_left"] == 200 and by_name["edc-tls"]["expiring_soon"] is False
    assert "error" in by_name["broken-tls"]
    assert report["cert_manager_certificates"] == [{"reference": "tractus-x/tractus-x-tls", "ready": True}]
    assert document["details"]["expiring_soon"] == ["tractus-x/tractus-x-tls (10 days)"]


def test_the_dr_region_decrypts_replicated_secrets_with_its_replica_of_the_backup_key(
    job_env: dict[str, str],
    aws: AwsApi,
    cluster: tuple[kube_api.FakeApi, kube_api.RunningApi],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """DR: prod's config backup, replicated into the dr bucket, decrypts in the dr region
    with the replica of prod's multi-Region backup key, which the dr stack configures as
    BACKUP_KMS_KEY_ARN; the program never uses the prod-region ARN the manifest records."""
    assert run("config") == 0
    backup_id = latest_id(aws, "config")
    key_id = aws.key_arn.rsplit("/", 1)[-1]  # moto's ReplicateKey takes the key id only
    replica_arn = aws.client("kms").replicate_key(KeyId=key_id, ReplicaRegion=DR_REGION)["ReplicaKeyMetadata"]["Arn"]
    # Same key id (mrk-...), another region in the ARN.
    assert replica_arn != aws.key_arn and f":{DR_REGION}:" in replica_arn
    assert replica_arn.rsplit("/", 1)[-1] == key_id and key_id.startswith("mrk-")
    # S3 replication's copy of the backup in the dr region's bucket.
    prod_s3, dr_s3 = aws.client("s3"), aws.client("s3", DR_REGION)
    dr_s3.create_bucket(Bucket=DR_BUCKET, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
    for entry in prod_s3.list_objects_v2(Bucket=aws.bucket, Prefix=f"config/{backup_id}/")["Contents"]:
        body = prod_s3.get_object(Bucket=aws.bucket, Key=entry["Key"])["Body"].read()
        dr_s3.put_object(Bucket=DR_BUCKET, Key=entry["Key"], Body=body)
    recorded = manifest(aws, "config", backup_id)["details"]["encryption"]["kms_key_id"]
    assert recorded == aws.key_arn  # the prod-region ARN

    decrypts: list[dict[str, Any]] = []
    make_client = cli._kms

    def recording_kms(environ: Any) -> Any:
        client = make_client(environ)
        decrypt = client.decrypt

        def recorded_decrypt(**kwargs: Any) -> Any:
            decrypts.append({"region": client.meta.region_name, "KeyId": kwargs.get("KeyId")})
            return decrypt(**kwargs)

        monkeypatch.setattr(client, "decrypt", recorded_decrypt)
        return client

    monkeypatch.setattr(cli, "_kms", recording_kms)
    for name, value in aws.env(AWS_REGION=DR_REGION, BACKUP_BUCKET=DR_BUCKET, BACKUP_KMS_KEY_ARN=replica_arn).items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    assert run("secrets", "--from", "config", "--backup-id", backup_id) == 0
    exported = json.loads(capsys.readouterr().out)
    assert len(exported["items"]) == 5
    # moto matches Decrypt's KeyId by key id only, so the recorded prod-region ARN would
    # pass there too; real KMS in the dr region does not know that ARN. Hence the check
    # that the program asks the dr region's KMS for the configured replica.
    assert decrypts == [{"region": DR_REGION, "KeyId": replica_arn}]

    # A key that is neither the sealing key nor a replica of it is refused by name.
    other = aws.client("kms", DR_REGION).create_key(Description="dr bucket key", MultiRegion=True)["KeyMetadata"]["Arn"]
    monkeypatch.setenv("BACKUP_KMS_KEY_ARN", other)
    assert run("secrets", "--from", "config", "--backup-id", backup_id) == 1
    assert "neither that key nor a multi-Region replica of it" in capsys.readouterr().err
