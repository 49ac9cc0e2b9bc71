"""A Vault world for the tests of the Vault programs and the dr activation: the fake Vault
over TLS (tests/support/vault_server.py), the fake Kubernetes API, S3/KMS on loopback (moto
server) and the environment the platform gives the Vault Jobs; the Jobs are run for real
through the CronJobs' entry point (``python3 -m txbackup ...``)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

import txbackup.manifest
from tests.support import kube_api, vault_server
from tests.support.clock import distinct_seconds
from tests.support.faults import Faults
from tests.support.s3_server import DR_REGION, REGION, AwsApi, aws_api
from txbackup import kube, store, vault, vault_bootstrap
from txbackup.cli import main

NAMESPACE = "vault"
RECOVERY_SECRET = "vault-recovery-keys"
BOOTSTRAP = "vault-bootstrap"
SEED_SECRET = "vault-seed-edc-connector-database"
SEED_PATH = "tractus-x/edc/connector/database"
TOKEN_PATH = "tractus-x/edc/connector/vault-token"
CONNECTOR_POLICY = "edc-connector"
PERIOD_SECONDS = 768 * 3600
TEST_PART_SIZE = 5 * 1024 * 1024  # S3's smallest part: the test snapshot spans two parts

# The ServiceAccount token of each Job's pod; the fake Vault's TokenReview table maps it
# to the ServiceAccount the platform binds to each role.
JWTS = {
    "vault-bootstrap": ("jwt-of-vault-bootstrap", NAMESPACE, "vault-bootstrap"),
    "vault-snapshot": ("jwt-of-backup-vault", "backup", "backup-vault"),
    "vault-restore": ("jwt-of-restore-vault", "backup", "restore-vault"),
}


CRUDL = '"create", "read", "update", "delete", "list"'


def _policy(paths: dict[str, str]) -> str:
    return "\n".join(f'path "{path}" {{\n  capabilities = [{caps}]\n}}' for path, caps in paths.items()) + "\n"


# What the bootstrap needs after its first run (the first uses the root token), path by path.
BOOTSTRAP_POLICY = {
    "sys/policies/acl/*": CRUDL,
    "sys/auth": '"read"',
    "sys/auth/kubernetes": '"create", "read", "update", "sudo"',
    "auth/kubernetes/config": '"create", "read", "update"',
    "auth/kubernetes/role/*": CRUDL,
    "sys/mounts": '"read"',
    "sys/mounts/secret": '"create", "read", "update"',
    "sys/audit": '"read", "sudo"',
    "sys/audit/*": '"create", "read", "update", "sudo"',
    "secret/data/*": '"create", "read", "update"',
    "auth/token/create-orphan": '"create", "update", "sudo"',
    "auth/token/lookup": '"update"',
}

SPEC: dict[str, Any] = {
    "kv_mount": "secret",
    "kubernetes_auth_mount": "kubernetes",
    "audit_file_path": "/vault/audit/audit.log",
    "recovery": {"shares": 5, "threshold": 3, "secret": RECOVERY_SECRET},
    "policies": {
        "vault-bootstrap": _policy(BOOTSTRAP_POLICY),
        "external-secrets": _policy({f"secret/data/{SEED_PATH}": '"read"', f"secret/data/{TOKEN_PATH}": '"read"'}),
        CONNECTOR_POLICY: _policy({"secret/data/tractus-x/edc/connector/*": '"create", "read", "update"'}),
        "vault-snapshot": _policy({"sys/storage/raft/snapshot": '"read"'}),
        "vault-restore": _policy({"sys/storage/raft/snapshot-force": '"update", "sudo"'}),
    },
    "roles": {
        name: {"service_accounts": [account], "namespaces": [namespace], "policies": [name], "ttl": "1h"}
        for name, (_, namespace, account) in JWTS.items()
    }
    | {
        "external-secrets": {
            "service_accounts": ["external-secrets"],
            "namespaces": ["external-secrets"],
            "policies": ["external-secrets"],
            "ttl": "15m",
        }
    },
    "seeds": [{"secret": SEED_SECRET, "path": SEED_PATH, "keys": ["username", "password"]}],
    "tokens": [{"policy": CONNECTOR_POLICY, "period": "768h", "path": TOKEN_PATH}],
}
SEED_VALUES = {"username": "edc_connector", "password": "seed-password-0c7f1e9a"}


@pytest.fixture(scope="module")
def aws() -> Iterator[AwsApi]:
    with aws_api() as api:
        yield api


@dataclass
class World:
    vault: vault_server.FakeVault
    running: vault_server.RunningVault
    kube: kube_api.FakeApi
    tmp: Path
    monkeypatch: pytest.MonkeyPatch
    faults: Faults

    def secret_values(self) -> list[str]:
        """Every secret the programs handle: none may appear in their output."""
        recovery = self.vault.state.get("recovery_keys", [])
        values = [*recovery, *(base64.b64encode(bytes.fromhex(key)).decode() for key in recovery)]
        values += self.vault.every_token() + self.vault.otps + [jwt for jwt, _, _ in JWTS.values()]
        values += [self.kube.token]
        return values + [value for value in self.seeds().values() if len(value) > 8]

    def seeds(self) -> dict[str, str]:
        directory = self.tmp / "seeds" / SEED_SECRET
        return {file.name: file.read_text() for file in directory.iterdir()}

    def write_seed(self, key: str, value: str) -> None:
        (self.tmp / "seeds" / SEED_SECRET / key).write_text(value)

    def as_job(self, role: str) -> None:
        """The Job's pod: its ServiceAccount token and its VAULT_AUTH_ROLE."""
        account_dir = self.tmp / "accounts" / role
        account_dir.mkdir(parents=True, exist_ok=True)
        jwt = JWTS[role][0]
        (account_dir / "token").write_text(jwt)
        (account_dir / "ca.crt").write_bytes((self.tmp / "kube" / "ca.crt").read_bytes())
        self.monkeypatch.setattr(kube, "SERVICE_ACCOUNT_DIR", account_dir)
        self.monkeypatch.setenv("VAULT_AUTH_ROLE", role)

    def recovery_secret(self) -> dict[str, Any] | None:
        return self.kube.find("/api/v1/secrets", NAMESPACE, RECOVERY_SECRET)

    def stored_token(self) -> str:
        return self.vault.kv_versions("secret", TOKEN_PATH)[-1]["token"]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, aws: AwsApi) -> Iterator[World]:
    faults = Faults()  # one plan for both servers: requests are counted across them
    fake = vault_server.FakeVault(
        service_accounts={jwt: (namespace, account) for jwt, namespace, account in JWTS.values()},
        snapshot_padding=6 * 1024 * 1024,
        faults=faults,
    )
    api = kube_api.FakeApi(token="kube-api-token-4d2c", faults=faults)
    api.add("v1", "secrets", "Secret", True, [])
    spec_file = tmp_path / "spec.json"
    spec_file.write_text(json.dumps(SPEC))
    seed_dir = tmp_path / "seeds" / SEED_SECRET
    seed_dir.mkdir(parents=True)
    for key, value in SEED_VALUES.items():
        (seed_dir / key).write_text(value)
    monkeypatch.setattr(vault, "POLL_SECONDS", 0.01)
    monkeypatch.setattr(vault, "WAIT_SECONDS", 5.0)
    # A 503 is retried for a minute in production; a refused request in a test gives up sooner.
    monkeypatch.setattr(vault, "UNAVAILABLE_RETRY_SECONDS", 2.0)
    monkeypatch.setattr(vault_bootstrap, "RECOVERY_KEY_BACKOFF_SECONDS", 0.0)
    monkeypatch.setattr(store, "PART_SIZE", TEST_PART_SIZE)
    monkeypatch.setattr(txbackup.manifest, "utc_now", distinct_seconds)
    with vault_server.serve(fake, tmp_path / "vault") as running, kube_api.serve(api, tmp_path / "kube") as cluster:
        env = {
            **aws.env(),
            **running.env(),
            **cluster.env(),
            "VAULT_AUTH_MOUNT": "kubernetes",
            "BOOTSTRAP_SPEC": str(spec_file),
            "SEED_DIR": str(tmp_path / "seeds"),
            "POD_NAMESPACE": NAMESPACE,
            "STACK_ROLE": "primary",
        }
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        world = World(fake, running, api, tmp_path, monkeypatch, faults)
        # The bootstrap pod's token is also its Kubernetes API credential.
        api.token = JWTS["vault-bootstrap"][0]
        world.as_job("vault-bootstrap")
        yield world


def run(world: World, capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str]:
    """Runs one command; asserts that no secret value reached stdout or stderr."""
    code = main(list(argv))
    captured = capsys.readouterr()
    output = captured.out + captured.err
    leaked = [value[:6] + "..." for value in world.secret_values() if value and value in output]
    assert not leaked, f"secret values in the output of {' '.join(argv)}: {leaked}"
    return code, output


def bootstrap(world: World, capsys: pytest.CaptureFixture[str]) -> str:
    world.as_job("vault-bootstrap")
    code, output = run(world, capsys, "vault-bootstrap")
    assert code == 0, output
    return output


def _snapshot_objects(aws: AwsApi, bucket: str | None = None) -> list[str]:
    listing = aws.client("s3").list_objects_v2(Bucket=bucket or aws.bucket, Prefix="vault/").get("Contents", [])
    return sorted(entry["Key"] for entry in listing)


def newest_snapshot(aws: AwsApi, bucket: str | None = None) -> str:
    return max(key.split("/")[1] for key in _snapshot_objects(aws, bucket) if key.endswith("/manifest.json"))


@pytest.fixture
def dr_bucket(aws: AwsApi, tmp_path: Path) -> str:
    """The dr stack's bucket: its own snapshots and, by S3 replication, the primary's."""
    name = f"tractusx-backups-dr-{abs(hash(tmp_path)) % 10**12}"
    aws.client("s3", DR_REGION).create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": DR_REGION})
    return name


def replicate(aws: AwsApi, dr_bucket: str) -> None:
    """What S3 replication does: every new object of the primary's bucket, as it is."""
    s3 = aws.client("s3")
    present = set(_snapshot_objects(aws, dr_bucket))
    for key in _snapshot_objects(aws):
        if key not in present:
            body = s3.get_object(Bucket=aws.bucket, Key=key)["Body"].read()
            s3.put_object(Bucket=dr_bucket, Key=key, Body=body)


def on_stack(world: World, aws: AwsApi, role: str, dr_bucket: str) -> None:
    """The environment the platform gives the Vault jobs of the primary or the dr stack."""
    bucket, region = (aws.bucket, REGION) if role == "primary" else (dr_bucket, DR_REGION)
    for name, value in {"STACK_ROLE": role, "BACKUP_BUCKET": bucket, "AWS_REGION": region}.items():
        world.monkeypatch.setenv(name, value)


def snapshot(world: World, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    world.as_job("vault-snapshot")
    return run(world, capsys, "vault-snapshot")


def restore(world: World, capsys: pytest.CaptureFixture[str], backup_id: str = "latest") -> tuple[int, str]:
    world.as_job("vault-restore")
    return run(world, capsys, "vault-restore", "--backup-id", backup_id)
