"""The dr activation (``python3 -m txdr activate``) against the harness: the fake Kubernetes
API with the Job controller played by running the real ``txbackup vault-restore`` against
the fake Vault, S3 and CloudWatch on loopback (moto server), HTTPS from a local server with
a certificate for the served hosts, and a Pulumi CLI and RDS API that behave as their
documentation says (moto's RDS keeps a promoted replica's source, so RDS is played here).

Playbook "Disaster Recovery": the runbook as one command that checks before each step,
stops at a failed check, never restores a snapshot dr wrote, and times every step."""

from __future__ import annotations

import copy
import datetime
import http.server
import io
import json
import logging
import os
import ssl
import stat
import sys
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager, redirect_stderr
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from offline.crd_schemas import CrdIndex
from offline.render import StackRendering
from tests.support import kube_api
from tests.support.clock import distinct_seconds
from tests.support.s3_server import DR_REGION, AwsApi
from tests.support.vault_world import World, bootstrap, newest_snapshot, on_stack, replicate, snapshot
from txbackup import cli as txbackup_cli
from txbackup.errors import BackupError
from txbackup.kube import KubeClient
from txdr import activation, cli, eks
from txdr.errors import ActivationError
from txdr.pulumi_cli import DR_ACTIVE, PRIMARY_STACK, PulumiCli

HOSTS = ["edc.tractus-x.example.com", "edc-data.tractus-x.example.com"]
BALANCER = "dr-edge-0123.elb.eu-west-1.amazonaws.com"
DATABASE = "tx-dr-postgres"
PROD_ARN = "arn:aws:rds:eu-central-1:123456789012:db:tx-prod-postgres"


class FakeRds:
    """RDS's DescribeDBInstances for the dr database (RDS API Reference: DBInstance's
    DBInstanceStatus, ReadReplicaSourceDBInstanceIdentifier, MultiAZ, DeletionProtection,
    PreferredBackupWindow); ``statuses`` are answered first, one per call."""

    class exceptions:  # noqa: N801 (botocore's client.exceptions)
        class DBInstanceNotFoundFault(Exception):  # noqa: N818 (the RDS error name)
            pass

    def __init__(self) -> None:
        self.instance: dict[str, Any] | None = {
            "DBInstanceIdentifier": DATABASE,
            "DBInstanceStatus": "available",
            "ReadReplicaSourceDBInstanceIdentifier": PROD_ARN,
            "MultiAZ": True,
            "DeletionProtection": False,
            "PreferredBackupWindow": "00:30-01:30",
        }
        self.statuses: list[str] = []

    def describe_db_instances(self, DBInstanceIdentifier: str) -> dict[str, Any]:  # noqa: N803
        if self.instance is None or DBInstanceIdentifier != DATABASE:
            raise self.exceptions.DBInstanceNotFoundFault(DBInstanceIdentifier)
        answer = dict(self.instance)
        if self.statuses:
            answer["DBInstanceStatus"] = self.statuses.pop(0)
        return {"DBInstances": [answer]}

    def promote(self) -> None:
        """What `pulumi up` of the activated stack leaves: a standalone, protected database."""
        assert self.instance is not None
        if self.statuses and self.statuses[0] == "backing-up":
            raise ActivationError("InvalidDBInstanceState: the replica is backing-up")
        self.instance.pop("ReadReplicaSourceDBInstanceIdentifier", None)
        self.instance["DeletionProtection"] = True


@dataclass
class FakePulumi(PulumiCli):
    """The Pulumi CLI's effects on the dr stack: outputs, config and what `up` changes."""

    world: World | None = None
    rds: FakeRds = field(default_factory=FakeRds)
    config: dict[str, str] = field(default_factory=lambda: {PRIMARY_STACK: "organization/tractusx-platform/prod"})
    primary_state: dict[str, Any] = field(default_factory=dict)
    calls: list[str] = field(default_factory=list)
    stack: str = "dr"

    def outputs(self) -> dict[str, Any]:
        assert self.world is not None
        return {
            "role": "dr",
            "region": DR_REGION,
            "primaryRegion": "eu-central-1",
            "clusterName": "tx-dr-eks",
            "databaseIdentifier": DATABASE,
            "backupBucketName": os.environ["BACKUP_BUCKET"],
            "servedHosts": HOSTS,
            "ingressHostname": BALANCER,
            "argocdNamespace": "argocd",
            "rootApplication": "tractus-x-umbrella",
            "drActive": self.config.get(DR_ACTIVE) == "true" and any(c.startswith("up") for c in self.calls),
        }

    def config_get(self, key: str) -> str | None:
        return self.config.get(key)

    def chart_login(self, ctx: activation.Context) -> str:
        """What `make chart-login` does to helm's registry config, recorded."""
        self.calls.append("chart login")
        return "helm logged in"

    def config_set(self, key: str, value: str) -> None:
        self.calls.append(f"config set {key} {value}")
        self.config[key] = value

    def up(self, refresh: bool, replace: Sequence[str] = ()) -> None:
        self.calls.append("up" + (" --refresh" if refresh else "") + "".join(f" --replace={u}" for u in replace))
        assert self.world is not None
        if self.config.get(DR_ACTIVE) == "true":
            self.rds.promote()
        if any("bootstrap" in urn for urn in replace):
            now = distinct_seconds().isoformat(timespec="seconds")  # after the restore, on the tests' clock
            job = self.world.kube.find("/apis/batch/v1/jobs", "vault", "vault-bootstrap")
            assert job is not None
            job["status"] = {"completionTime": now, "conditions": [{"type": "Complete", "status": "True"}]}

    def export(self, stack: str) -> dict[str, Any]:
        self.calls.append(f"export {stack}")
        if stack == self.stack:
            job = "urn:pulumi:dr::tractusx-platform::tractusx:secrets:Secrets$kubernetes:batch/v1:Job::x-bootstrap"
            resources = [
                {"urn": job, "type": "kubernetes:batch/v1:Job", "outputs": _meta("vault", "vault-bootstrap")},
                {"urn": "urn:other", "type": "kubernetes:batch/v1:Job", "outputs": _meta("backup", "vault-bootstrap")},
            ]
            return {"deployment": {"resources": resources}}
        return copy.deepcopy(self.primary_state)

    def import_(self, stack: str, deployment: dict[str, Any], directory: Path) -> None:
        self.calls.append(f"import {stack}")
        self.primary_state = copy.deepcopy(deployment)


def _meta(namespace: str, name: str) -> dict[str, Any]:
    return {"metadata": {"namespace": namespace, "name": name}}


def _now() -> str:
    return datetime.datetime.now(datetime.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _resources(api: kube_api.FakeApi) -> None:
    """The dr cluster as the platform leaves it at pilot light."""
    api.add("v1", "pods", "Pod", True, [])
    cronjob_template = {
        "metadata": {"labels": {"app.kubernetes.io/name": "restore-vault"}},
        "spec": {"template": {"spec": {"containers": [{"name": "restore", "args": ["vault-restore"]}]}}},
    }
    api.add(
        "batch/v1",
        "cronjobs",
        "CronJob",
        True,
        [
            {
                "metadata": {"name": "restore-vault", "namespace": "backup", "uid": "u-1"},
                "spec": {"suspend": True, "jobTemplate": cronjob_template},
            }
        ],
    )
    old = "2020-01-01T00:00:00Z"
    bootstrap_job = {
        "metadata": {"name": "vault-bootstrap", "namespace": "vault"},
        "status": {"completionTime": old, "conditions": [{"type": "Complete", "status": "True"}]},
    }
    api.add("batch/v1", "jobs", "Job", True, [bootstrap_job])
    vault = {
        "metadata": {"name": "vault", "namespace": "vault"},
        "spec": {"replicas": 3},
        "status": {"readyReplicas": 3},
    }
    api.add("apps/v1", "statefulsets", "StatefulSet", True, [vault])
    api.add(
        "apps/v1",
        "deployments",
        "Deployment",
        True,
        [
            {
                "metadata": {"name": name, "namespace": "tractus-x", "generation": 1},
                "spec": {"replicas": 2, "template": {"metadata": {}}},
                "status": {"observedGeneration": 1, "replicas": 2, "updatedReplicas": 2, "availableReplicas": 2},
            }
            for name in activation.CONNECTOR_DEPLOYMENTS
        ],
    )
    secret = {
        "metadata": {"name": "edc-vault-token", "namespace": "tractus-x"},
        "status": {"refreshTime": old, "conditions": [{"type": "Ready", "status": "True"}]},
    }
    api.add("external-secrets.io/v1", "externalsecrets", "ExternalSecret", True, [secret])
    apps = [
        {
            "metadata": {"name": name, "namespace": "argocd"},
            "status": {"sync": {"status": "Synced"}, "health": {"status": "Healthy"}},
        }
        for name in ("tractus-x-umbrella", "tractusx-connector")
    ]
    api.add("argoproj.io/v1alpha1", "applications", "Application", True, apps)
    certificates = [
        {
            "metadata": {"name": "edc-tls", "namespace": "tractus-x"},
            "spec": {"dnsNames": HOSTS},
            "status": {"conditions": [{"type": "Ready", "status": "True"}]},
        }
    ]
    api.add("cert-manager.io/v1", "certificates", "Certificate", True, certificates)


def _controllers(world: World) -> None:
    """What Kubernetes' controllers do with the objects the activation changes: the Job
    controller runs a restore-vault Job's pod (the real `txbackup vault-restore`), a patched
    ExternalSecret is refreshed, a restarted Deployment rolls out, a synced Application's
    operation finishes."""
    api = world.kube

    def run_job(job: dict[str, Any]) -> None:
        name = job["metadata"]["name"]
        assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["vault-restore"]
        world.as_job("vault-restore")
        said, failed = _run_restore()
        pod = f"{name}-x7k2p"
        api.objects["/api/v1/pods"].append(
            {"metadata": {"name": pod, "namespace": "backup", "labels": {"job-name": name}}}
        )
        api.logs[f"backup/{pod}"] = said
        job["status"] = {"conditions": [{"type": "Failed" if failed else "Complete", "status": "True"}]}

    api.on_create["/apis/batch/v1/jobs"] = run_job
    original_patch = api.patch

    def patch(path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        status, patched = original_patch(path, body)
        kind = path.split("/")[-2]
        if status == 200 and kind == "externalsecrets":
            patched["status"]["refreshTime"] = _now()
        if status == 200 and kind == "deployments":
            patched["status"]["observedGeneration"] = patched["metadata"]["generation"]
        if status == 200 and kind == "applications":
            patched.pop("operation")
        return status, patched

    api.patch = patch  # type: ignore[method-assign]


def _run_restore() -> tuple[str, bool]:
    """The restore Job's pod: ``txbackup vault-restore --backup-id latest``, its log and
    whether it failed (the entry point's own handling, without its signal handler, which
    only the main thread may install)."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    logger = logging.getLogger("txbackup")
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False  # the pod's log is this stream alone
    failed = False
    try:
        with redirect_stderr(stream):
            args = txbackup_cli._parser().parse_args(["vault-restore", "--backup-id", "latest"])
            txbackup_cli.run(args, os.environ)
    except BackupError as error:
        stream.write(f"txbackup vault-restore: {error}\n")
        failed = True
    finally:
        logger.removeHandler(handler)
        logger.propagate = True
    return stream.getvalue(), failed


@contextmanager
def _edge(tmp: Path, hosts: Sequence[str]) -> Iterator[activation.Edge]:
    """dr's edge: HTTPS for the served hosts with a certificate of a CA the client trusts."""
    cert, key = kube_api.certificate(
        hosts[0], datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1), list(hosts)
    )
    (tmp / "edge.crt").write_bytes(cert)
    (tmp / "edge.key").write_bytes(key)

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(404)  # the DSP API answers unauthenticated requests, not 5xx
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(tmp / "edge.crt", tmp / "edge.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        tls = ssl.create_default_context(cafile=str(tmp / "edge.crt"))
        addresses = {BALANCER: frozenset({"127.0.0.1"}), **{h: frozenset({"127.0.0.1"}) for h in hosts}}
        yield activation.Edge(resolve=lambda host: addresses.get(host, frozenset()), port=server.server_port, tls=tls)
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Drill:
    ctx: activation.Context
    pulumi: FakePulumi
    world: World
    prod_snapshot: str
    lines: list[str] = field(default_factory=list)

    def run(self) -> tuple[bool, activation.Timeline]:
        self.lines.clear()
        return activation.activate(self.ctx, self.lines.append)

    def outcomes(self, timeline: activation.Timeline) -> dict[str, str]:
        return {entry.step: entry.outcome for entry in timeline.entries}


@pytest.fixture
def drill(
    world: World, aws: AwsApi, dr_bucket: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> Iterator[Drill]:
    """prod's Vault snapshotted and replicated into dr's bucket; dr at pilot light."""
    bootstrap(world, capsys)
    assert snapshot(world, capsys)[0] == 0
    # The programs' entry point logged to the stream capsys captured; the activation logs anew.
    logging.basicConfig(stream=sys.stderr, level=logging.INFO, force=True)
    prod_snapshot = newest_snapshot(aws)
    replicate(aws, dr_bucket)
    on_stack(world, aws, "dr", dr_bucket)
    _resources(world.kube)
    _controllers(world)
    cloudwatch = aws.client("cloudwatch", DR_REGION)
    cloudwatch.put_metric_data(
        Namespace="AWS/RDS",
        MetricData=[
            {
                "MetricName": "ReplicaLag",
                "Dimensions": [{"Name": "DBInstanceIdentifier", "Value": DATABASE}],
                "Value": 4.0,
                "Unit": "Seconds",
            }
        ],
    )
    pulumi = FakePulumi(world=world)
    kube_dir = tmp_path / "kube"
    server = f"https://{os.environ['KUBERNETES_SERVICE_HOST']}:{os.environ['KUBERNETES_SERVICE_PORT']}"
    with _edge(tmp_path, HOSTS) as edge:
        ctx = activation.Context(
            pulumi=pulumi,
            aws=lambda service, region: pulumi.rds if service == "rds" else aws.client(service, region),
            chart_login=pulumi.chart_login,
            kube=lambda ctx: KubeClient(server, lambda: world.kube.token, str(kube_dir / "ca.crt")),
            edge=edge,
            work_dir=tmp_path,
            primary_fenced=True,
            primary_region_down=False,
            waits=activation.Waits(poll=0.01, database=1, job=30, rollout=1, applications=1, certificates=1, dns=1),
        )
        yield Drill(ctx, pulumi, world, prod_snapshot)


def test_an_activation_runs_the_runbook_in_order_restores_prods_newest_snapshot_and_times_each_step(
    drill: Drill,
) -> None:
    succeeded, timeline = drill.run()

    assert succeeded, "\n".join(drill.lines)
    assert [entry.step for entry in timeline.entries] == [name for name, _ in activation.STEPS]
    assert drill.outcomes(timeline) == {
        "stack-outputs": "done",
        "primary-fenced": "done",
        "primary-state-key": "already",  # prod's region answers
        "replica-ready": "done",
        "activate-config": "done",
        "chart-login": "done",
        "pulumi-up": "done",
        "vault-restore": "done",
        "vault-unsealed": "done",
        "vault-roles": "done",
        "secrets-refresh": "done",
        "connector-restart": "done",
        "applications": "done",
        "certificates": "done",
        "dns-and-https": "done",
    }
    details = {entry.step: entry.detail for entry in timeline.entries}
    assert "replica lag 4 s at" in details["replica-ready"]
    assert details["vault-restore"].startswith(f"snapshot {drill.prod_snapshot} restored by Job backup/restore-vault-")
    assert drill.world.vault.restored, "the fake Vault received no snapshot"
    assert drill.pulumi.calls == [
        f"config set {DR_ACTIVE} true",
        "chart login",
        "up --refresh",
        "export dr",
        "up --replace=urn:pulumi:dr::tractusx-platform::tractusx:secrets:Secrets$kubernetes:batch/v1:Job::x-bootstrap",
    ]
    api = drill.world.kube
    job = next(j for j in api.objects["/apis/batch/v1/jobs"] if j["metadata"]["name"].startswith("restore-vault-"))
    assert job["metadata"]["ownerReferences"][0]["name"] == "restore-vault"
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    for deployment in api.objects["/apis/apps/v1/deployments"]:
        assert "kubectl.kubernetes.io/restartedAt" in deployment["spec"]["template"]["metadata"]["annotations"]
        assert deployment["metadata"]["generation"] == 2
    assert "force-sync" in api.objects["/apis/external-secrets.io/v1/externalsecrets"][0]["metadata"]["annotations"]
    rendered = timeline.render().splitlines()
    assert rendered[0].startswith("dr activation started ")
    assert rendered[-1].startswith("  total 00:")
    assert json.loads(json.dumps(timeline.to_json()))["steps"][7]["step"] == "vault-restore"

    # Run again: what is done is recognised, nothing is restored or promoted a second time.
    restored = list(drill.world.vault.restored)
    succeeded, again = drill.run()
    assert succeeded, "\n".join(drill.lines)
    outcomes = drill.outcomes(again)
    assert [outcomes[s] for s in ("replica-ready", "activate-config", "pulumi-up", "vault-restore", "vault-roles")] == [
        "already"
    ] * 5
    assert drill.world.vault.restored == restored


def test_without_prods_fence_confirmed_nothing_is_changed(drill: Drill) -> None:
    drill.ctx.primary_fenced = False

    succeeded, timeline = drill.run()

    assert not succeeded
    assert timeline.entries[-1].step == "primary-fenced" and timeline.entries[-1].outcome == "failed"
    assert "--primary-fenced" in timeline.entries[-1].detail
    assert drill.pulumi.calls == [] and drill.pulumi.rds.instance is not None
    assert "ReadReplicaSourceDBInstanceIdentifier" in drill.pulumi.rds.instance


def test_when_dr_holds_only_its_own_snapshots_the_activation_stops_before_restoring_anything(
    drill: Drill, aws: AwsApi, dr_bucket: str
) -> None:
    s3 = aws.client("s3", DR_REGION)
    for key in [k["Key"] for k in s3.list_objects_v2(Bucket=dr_bucket, Prefix="vault/")["Contents"]]:
        if key.endswith("manifest.json"):
            manifest = json.load(s3.get_object(Bucket=dr_bucket, Key=key)["Body"])
            manifest["details"]["origin"] = {"role": "dr", "bucket": dr_bucket, "region": DR_REGION}
            s3.put_object(Bucket=dr_bucket, Key=key, Body=json.dumps(manifest).encode())

    succeeded, timeline = drill.run()

    assert not succeeded
    last = timeline.entries[-1]
    assert (last.step, last.outcome) == ("vault-restore", "failed")
    assert (
        last.detail
        == f"nothing to restore: no complete snapshot written by the primary stack under s3://{dr_bucket}/vault/"
    )
    assert drill.world.vault.restored == []
    assert not any(
        j["metadata"]["name"].startswith("restore-vault-") for j in drill.world.kube.objects["/apis/batch/v1/jobs"]
    )
    assert "up --replace" not in " ".join(drill.pulumi.calls)


def test_a_restore_job_that_fails_stops_the_activation_with_its_reason(
    drill: Drill, aws: AwsApi, dr_bucket: str
) -> None:
    s3 = aws.client("s3", DR_REGION)
    key = f"vault/{drill.prod_snapshot}/raft.snap"
    body = bytearray(s3.get_object(Bucket=dr_bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF
    s3.put_object(Bucket=dr_bucket, Key=key, Body=bytes(body))

    succeeded, timeline = drill.run()

    assert not succeeded
    last = timeline.entries[-1]
    assert (last.step, last.outcome) == ("vault-restore", "failed")
    assert last.detail.startswith("Job backup/restore-vault-")
    assert f"s3://{dr_bucket}/{key} is corrupt: SHA-256" in last.detail
    assert drill.world.vault.restored == []
    assert [entry.step for entry in timeline.entries][-1] == "vault-restore"  # no step after it ran


def test_promotion_waits_while_the_replica_is_backing_up(drill: Drill) -> None:
    drill.pulumi.rds.statuses = ["backing-up", "backing-up"]

    succeeded, timeline = drill.run()

    assert succeeded, "\n".join(drill.lines)
    assert drill.outcomes(timeline)["replica-ready"] == "done"
    assert drill.pulumi.rds.statuses == []


def test_a_backup_that_outlasts_the_wait_stops_the_activation_before_the_update(drill: Drill) -> None:
    drill.pulumi.rds.statuses = ["backing-up"] * 100_000

    succeeded, timeline = drill.run()

    assert not succeeded
    last = timeline.entries[-1]
    assert (last.step, last.outcome) == ("replica-ready", "failed")
    assert "in status backing-up (backup window 00:30-01:30 UTC)" in last.detail
    assert drill.pulumi.calls == []


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"MultiAZ": False}, "is not Multi-AZ: promotion would build its standby"),
        ({"DBInstanceStatus": "storage-full"}, "is in status storage-full: it cannot be promoted"),
    ],
)
def test_a_replica_that_cannot_be_promoted_at_once_is_refused(
    drill: Drill, change: Mapping[str, Any], reason: str
) -> None:
    assert drill.pulumi.rds.instance is not None
    drill.pulumi.rds.instance.update(change)

    succeeded, timeline = drill.run()

    assert not succeeded
    assert timeline.entries[-1].step == "replica-ready" and reason in timeline.entries[-1].detail
    assert drill.pulumi.calls == []


def test_a_host_that_still_resolves_to_prod_is_not_reported_served(drill: Drill) -> None:
    resolve = drill.ctx.edge.resolve
    drill.ctx.edge = activation.Edge(
        resolve=lambda host: frozenset({"192.0.2.10"}) if host == HOSTS[1] else resolve(host),
        port=drill.ctx.edge.port,
        tls=drill.ctx.edge.tls,
    )

    succeeded, timeline = drill.run()

    assert not succeeded
    last = timeline.entries[-1]
    assert (last.step, last.outcome) == ("dns-and-https", "failed")
    assert f"{HOSTS[1]} resolves to ['192.0.2.10'], not dr's load balancer" in last.detail


def test_a_certificate_the_client_does_not_trust_is_not_served(drill: Drill) -> None:
    drill.ctx.edge = activation.Edge(resolve=drill.ctx.edge.resolve, port=drill.ctx.edge.port)  # system CAs

    succeeded, timeline = drill.run()

    assert not succeeded
    last = timeline.entries[-1]
    assert (last.step, last.outcome) == ("dns-and-https", "failed")
    assert "CERTIFICATE_VERIFY_FAILED" in last.detail


def test_with_prods_region_down_prods_state_is_pointed_at_the_keys_replica_in_drs_region(drill: Drill) -> None:
    url = "awskms://mrk-1234abcd12ab34cd56ef1234567890ab?region=eu-central-1"
    drill.pulumi.primary_state = {"deployment": {"secrets_providers": {"type": "cloud", "state": {"url": url}}}}
    drill.ctx.primary_region_down = True

    succeeded, timeline = drill.run()

    assert succeeded, "\n".join(drill.lines)
    assert drill.outcomes(timeline)["primary-state-key"] == "done"
    state = drill.pulumi.primary_state["deployment"]["secrets_providers"]["state"]
    assert state["url"] == "awskms://mrk-1234abcd12ab34cd56ef1234567890ab?region=eu-west-1"
    assert drill.pulumi.calls[:3] == [
        "export organization/tractusx-platform/prod",
        "import organization/tractusx-platform/prod",
        "export organization/tractusx-platform/prod",
    ]
    # No refresh: it would read the replication configuration on prod's bucket, in prod's region.
    assert "up" in drill.pulumi.calls and "up --refresh" not in drill.pulumi.calls


def test_prods_state_under_a_single_region_key_cannot_be_pointed_at_dr(drill: Drill) -> None:
    url = "awskms://1234abcd-12ab-34cd-56ef-1234567890ab?region=eu-central-1"
    drill.pulumi.primary_state = {"deployment": {"secrets_providers": {"type": "cloud", "state": {"url": url}}}}
    drill.ctx.primary_region_down = True

    succeeded, timeline = drill.run()

    assert not succeeded
    last = timeline.entries[-1]
    assert (last.step, last.outcome) == ("primary-state-key", "failed")
    assert "not a multi-Region key in eu-central-1" in last.detail
    assert "import organization/tractusx-platform/prod" not in drill.pulumi.calls


FAKE_PULUMI = """#!/usr/bin/env python3
import json, os, sys
with open(os.environ["PULUMI_CALLS"], "a") as calls:
    calls.write(json.dumps(sys.argv[1:]) + "\\n")
if sys.argv[1:3] == ["stack", "output"]:
    print(json.dumps({"role": "dr"}))
if sys.argv[1:3] == ["config", "get"]:
    sys.exit(255 if sys.argv[3] not in os.environ.get("PULUMI_CONFIG", "") else print("true"))
if sys.argv[1] == "up" and os.environ.get("PULUMI_FAIL"):
    print("error: update failed: InvalidDBInstanceState", file=sys.stderr)
    sys.exit(255)
"""


def test_the_pulumi_cli_is_run_with_the_stack_named_and_without_prompts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    executable = tmp_path / "pulumi"
    executable.write_text(FAKE_PULUMI)
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    calls = tmp_path / "calls"
    monkeypatch.setenv("PULUMI_CALLS", str(calls))
    monkeypatch.setenv("PULUMI_CONFIG", DR_ACTIVE)
    pulumi = PulumiCli("dr", executable=str(executable))

    assert pulumi.outputs() == {"role": "dr"}
    assert pulumi.config_get(DR_ACTIVE) == "true"
    assert pulumi.config_get(PRIMARY_STACK) is None
    pulumi.config_set(DR_ACTIVE, "true")
    pulumi.up(refresh=True)
    pulumi.up(refresh=False, replace=["urn:a"])
    monkeypatch.setenv("PULUMI_FAIL", "1")
    with pytest.raises(ActivationError, match=r"failed with exit status 255 \(its output is above\)"):
        pulumi.up(refresh=True)

    ran = [json.loads(line) for line in calls.read_text().splitlines()]
    tail = ["--stack", "dr", "--non-interactive"]
    assert ran == [
        ["stack", "output", "--json", *tail],
        ["config", "get", DR_ACTIVE, *tail],
        ["config", "get", PRIMARY_STACK, *tail],
        ["config", "set", DR_ACTIVE, "true", *tail],  # the literal key, no --path
        ["up", "--yes", "--skip-preview", "--refresh", *tail],
        ["up", "--yes", "--skip-preview", "--replace=urn:a", *tail],
        ["up", "--yes", "--skip-preview", "--refresh", *tail],
    ]


def test_the_cluster_token_is_a_presigned_sts_call_of_drs_region_naming_the_cluster() -> None:
    import base64
    import urllib.parse

    import boto3

    sts = boto3.client("sts", region_name=DR_REGION, aws_access_key_id="AKIAEXAMPLE", aws_secret_access_key="example")
    token = eks.token(sts, "tx-dr-eks")

    assert token.startswith("k8s-aws-v1.") and not token.endswith("=")
    encoded = token.removeprefix("k8s-aws-v1.")
    url = urllib.parse.urlsplit(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode())
    query = urllib.parse.parse_qs(url.query)
    assert url.hostname == f"sts.{DR_REGION}.amazonaws.com"  # not prod's region, not the global endpoint
    assert query["Action"] == ["GetCallerIdentity"]
    assert "x-k8s-aws-id" in query["X-Amz-SignedHeaders"][0].split(";")
    assert query["X-Amz-Expires"] == ["60"]
    # The header is signed for this call only: another presigned call does not carry it.
    other = sts.generate_presigned_url("get_caller_identity", Params={}, ExpiresIn=60)
    assert "x-k8s-aws-id" not in other


def test_the_names_the_activation_acts_on_are_the_platforms(renderings: dict[str, StackRendering]) -> None:
    placed = {(p.obj.get("kind"), p.namespace, p.obj["metadata"]["name"]) for p in renderings["dr"].objects()}
    expected = {
        ("CronJob", activation.BACKUP_NAMESPACE, activation.RESTORE_CRONJOB),
        ("StatefulSet", activation.VAULT_NAMESPACE, activation.VAULT_STATEFULSET),
        ("Job", activation.VAULT_NAMESPACE, activation.VAULT_BOOTSTRAP_JOB),
        *(("Deployment", activation.CONNECTOR_NAMESPACE, name) for name in activation.CONNECTOR_DEPLOYMENTS),
    }
    assert expected <= placed, sorted(expected - placed)
    restore = next(
        p.obj
        for p in renderings["dr"].objects()
        if p.obj.get("kind") == "CronJob" and p.obj["metadata"]["name"] == activation.RESTORE_CRONJOB
    )
    container = restore["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"][0]
    assert [*container.get("command", []), *container.get("args", [])][-3:] == [
        "vault-restore",
        "--backup-id",
        "latest",
    ]


def test_the_command_stops_with_exit_status_1_and_writes_the_timeline(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    executable = tmp_path / "pulumi"
    executable.write_text(FAKE_PULUMI)
    executable.chmod(executable.stat().st_mode | stat.S_IXUSR)
    monkeypatch.setenv("PULUMI_CALLS", str(tmp_path / "calls"))
    timeline = tmp_path / "timeline.json"

    code = cli.main(["activate", "--stack", "dr", "--pulumi", str(executable), "--timeline", str(timeline)])

    assert code == 1
    out = capsys.readouterr().out
    assert "stack-outputs: failed in 00:0" in out and "dr activation started" in out
    steps = json.loads(timeline.read_text())["steps"]
    assert [(s["step"], s["outcome"]) for s in steps] == [("stack-outputs", "failed")]
    assert "has no output 'clusterName'" in steps[0]["detail"]


def test_helm_is_logged_in_to_the_chart_copy_unless_the_stack_reads_the_public_repositories(drill: Drill) -> None:
    drill.pulumi.config["tractusx-platform:chartSource"] = "upstream"

    succeeded, timeline = drill.run()

    assert succeeded, "\n".join(drill.lines)
    assert drill.outcomes(timeline)["chart-login"] == "already"
    assert "chart login" not in drill.pulumi.calls


def test_the_sync_the_activation_asks_argo_cd_for_is_a_valid_application_operation(
    renderings: dict[str, StackRendering], crds: CrdIndex
) -> None:
    (root,) = [
        p.obj
        for p in renderings["dr"].objects()
        if p.obj.get("kind") == "Application" and p.obj["metadata"]["name"] == "tractus-x-umbrella"
    ]
    assert crds.findings({**root, "operation": activation.SYNC_OPERATION}) == []
    misspelt = {**activation.SYNC_OPERATION, "sync": {"syncStrategey": {"hook": {}}}}
    assert crds.findings({**root, "operation": misspelt}) == ["operation.sync.syncStrategey: unknown field"]
