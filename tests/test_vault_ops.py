"""The Vault programs, run for real through the CronJobs' entry point (``python3 -m
txbackup vault-bootstrap|vault-snapshot|vault-restore``) against a fake Vault over TLS
(tests/support/vault_server.py, whose docstring says what a fake cannot prove), the fake
Kubernetes API for the recovery-key Secret, and S3/KMS on loopback (moto server).

Playbook "Backup Strategy" and "Disaster Recovery": Vault is initialised once, its
recovery keys kept in a Secret, no root token survives the bootstrap, re-runs change
nothing, a first bootstrap that fails or is killed at any step is finished by the next
run, raft snapshots go to the backup bucket verified and come back byte for byte, and no
token or secret value ever reaches the logs."""

from __future__ import annotations

import base64
import datetime
import json
from pathlib import Path
from typing import Any

import pytest

from offline.checks import plain
from offline.harness import StackRun
from tests.support import kube_api
from tests.support.faults import KILLED, REFUSED
from tests.support.s3_server import DR_REGION, REGION, AwsApi
from tests.support.vault_world import (
    BOOTSTRAP,
    BOOTSTRAP_POLICY,
    CONNECTOR_POLICY,
    NAMESPACE,
    PERIOD_SECONDS,
    RECOVERY_SECRET,
    SEED_PATH,
    SEED_VALUES,
    SPEC,
    TEST_PART_SIZE,
    TOKEN_PATH,
    World,
    _policy,
    _snapshot_objects,
    bootstrap,
    newest_snapshot,
    on_stack,
    replicate,
    restore,
    run,
    snapshot,
)
from txbackup import vault, vault_bootstrap


def test_first_run_initialises_vault_keeps_the_recovery_keys_configures_everything_and_revokes_the_root_token(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    output = bootstrap(world, capsys)

    assert_bootstrapped(world)
    # No root token is left: the only live tokens are the connector's periodic token.
    assert [info["policies"] for info in world.vault.state["tokens"].values()] == [[CONNECTOR_POLICY]]
    assert ("POST", "auth/token/revoke-self") in world.vault.requests
    assert "initialised Vault (5 recovery keys, threshold 3)" in output


def stored_recovery_keys(world: World) -> list[str]:
    """The recovery keys in the Secret, as hex (the fake Vault's form); [] without any."""
    data = (world.recovery_secret() or {}).get("data") or {}
    return [base64.b64decode(base64.b64decode(data[f"recovery-key-{n}"])).hex() for n in range(1, 6) if data]


def progress(world: World) -> str | None:
    secret = world.recovery_secret()
    return None if secret is None else secret["metadata"]["annotations"][vault_bootstrap.PROGRESS]


def assert_bootstrapped(world: World) -> None:
    """Vault initialised and configured as SPEC says, the recovery keys in the Secret, the
    first bootstrap recorded complete, no root token alive."""
    state = world.vault.state
    # Auto-unseal: recovery keys, kept only in the Secret, which this bootstrap created.
    assert state["initialized"]
    secret = world.recovery_secret()
    assert secret is not None
    assert secret["metadata"]["labels"] == {"app.kubernetes.io/part-of": "vault-bootstrap"}
    assert stored_recovery_keys(world) == state["recovery_keys"]
    assert progress(world) == "complete"
    assert world.vault.root_tokens() == []
    assert world.vault.generate_root is None  # no root generation attempt left open

    assert state["audit"]["file/"] == {"type": "file", "options": {"file_path": "/vault/audit/audit.log"}}
    assert state["mounts"]["secret/"] == {"type": "kv", "options": {"version": "2"}}
    assert state["auth"]["kubernetes/"]["type"] == "kubernetes"
    # No CA or reviewer JWT stored: Vault uses its own pod's, in whichever cluster it runs.
    assert state["kubernetes_config"] == {
        "kubernetes_host": "https://kubernetes.default.svc",
        "disable_local_ca_jwt": False,
        "kubernetes_ca_cert": "",
    }
    assert {name: state["policies"][name] for name in SPEC["policies"]} == SPEC["policies"]
    assert state["roles"]["vault-bootstrap"] == {
        "bound_service_account_names": ["vault-bootstrap"],
        "bound_service_account_namespaces": [NAMESPACE],
        "token_policies": ["vault-bootstrap"],
        "token_ttl": 3600,
    }
    assert set(state["roles"]) == set(SPEC["roles"])
    assert world.vault.kv_versions("secret", SEED_PATH) == [SEED_VALUES]
    token = world.vault.token_info(world.stored_token())
    assert token == {"policies": [CONNECTOR_POLICY], "period": PERIOD_SECONDS, "renewable": True, "orphan": True}


def test_a_second_run_logs_in_through_kubernetes_auth_and_changes_nothing(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    token = world.stored_token()
    world.vault.requests.clear()

    output = bootstrap(world, capsys)

    assert world.vault.requests[:2] == [("GET", "sys/health"), ("POST", "auth/kubernetes/login")]
    assert world.vault.writes() == []
    assert world.vault.kv_versions("secret", SEED_PATH) == [SEED_VALUES]
    assert len(world.vault.kv_versions("secret", TOKEN_PATH)) == 1 and world.stored_token() == token
    assert "vault bootstrap complete: 0 changes" in output
    assert world.vault.denied == []  # the vault-bootstrap policy grants every request it made
    # The login token was revoked too: only the connector's token lives.
    assert list(world.vault.state["tokens"]) == [token]


def test_a_pod_that_has_not_joined_yet_does_not_make_the_bootstrap_initialise_a_second_vault(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    world.vault.unjoined_polls = 2  # the Service first reaches a new pod that answers 501
    world.vault.requests.clear()

    output = bootstrap(world, capsys)

    assert ("PUT", "sys/init") not in world.vault.requests
    assert "vault bootstrap complete: 0 changes" in output


def test_a_changed_seed_writes_exactly_one_new_version(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    bootstrap(world, capsys)
    world.write_seed("password", "rotated-password-5b1d22")
    world.vault.requests.clear()

    bootstrap(world, capsys)

    assert world.vault.writes() == [("POST", f"secret/data/{SEED_PATH}")]
    assert world.vault.kv_versions("secret", SEED_PATH) == [
        SEED_VALUES,
        {**SEED_VALUES, "password": "rotated-password-5b1d22"},
    ]


def test_an_expired_stored_token_is_replaced_by_a_new_periodic_token(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    expired = world.stored_token()
    world.vault.state["tokens"].pop(expired)  # not renewed within its period

    bootstrap(world, capsys)

    assert len(world.vault.kv_versions("secret", TOKEN_PATH)) == 2
    replacement = world.stored_token()
    assert replacement != expired
    assert world.vault.token_info(replacement) == {
        "policies": [CONNECTOR_POLICY],
        "period": PERIOD_SECONDS,
        "renewable": True,
        "orphan": True,
    }


def test_an_existing_recovery_secret_stops_the_bootstrap_before_vault_is_initialised(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.kube.objects["/api/v1/secrets"].append(
        {"metadata": {"namespace": NAMESPACE, "name": RECOVERY_SECRET}, "data": {"recovery-key-1": "b2xk"}}
    )
    code, output = run(world, capsys, "vault-bootstrap")
    assert code == 1
    assert f"Secret {NAMESPACE}/{RECOVERY_SECRET} exists" in output.strip().splitlines()[-1]
    assert not world.vault.state["initialized"]
    assert ("PUT", "sys/init") not in world.vault.requests


def test_a_snapshot_restores_the_exact_bytes_and_state_it_holds(
    world: World, aws: AwsApi, dr_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    code, output = snapshot(world, capsys)
    assert code == 0, output
    backup_id = newest_snapshot(aws)
    s3 = aws.client("s3")
    manifest = json.load(s3.get_object(Bucket=aws.bucket, Key=f"vault/{backup_id}/manifest.json")["Body"])
    snapshot_bytes = s3.get_object(Bucket=aws.bucket, Key=f"vault/{backup_id}/raft.snap")["Body"].read()
    assert snapshot_bytes == world.vault.served[-1] and len(snapshot_bytes) > TEST_PART_SIZE
    assert manifest["kind"] == "vault" and manifest["objects"][0]["size"] == len(snapshot_bytes)
    assert manifest["details"] == {
        "vault_version": "1.21.1",
        "cluster_name": "vault-cluster-fake",
        "origin": {"role": "primary", "bucket": aws.bucket, "region": REGION},
    }
    replicate(aws, dr_bucket)

    # Vault changes after the snapshot; the restore brings back the snapshot's state.
    world.write_seed("password", "changed-after-snapshot-77aa")
    bootstrap(world, capsys)
    assert len(world.vault.kv_versions("secret", SEED_PATH)) == 2
    world.vault.standby_polls = 2  # the restore waits through a standby answer too

    on_stack(world, aws, "dr", dr_bucket)
    code, output = restore(world, capsys)
    assert code == 0, output
    assert world.vault.restored == [snapshot_bytes]
    assert world.vault.kv_versions("secret", SEED_PATH) == [SEED_VALUES]
    assert f"Vault restored from snapshot {backup_id} and active" in output


def test_the_dr_restore_takes_the_primarys_newest_snapshot_never_one_dr_wrote(
    world: World, aws: AwsApi, dr_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """Playbook "Disaster Recovery": dr restores prod's data. An activated dr stack writes
    snapshots of its own into the same ``vault/`` prefix, newer than prod's last one."""
    bootstrap(world, capsys)
    assert snapshot(world, capsys)[0] == 0
    prods = world.vault.served[-1]
    prod_id = newest_snapshot(aws)
    replicate(aws, dr_bucket)
    replicated = _snapshot_objects(aws, dr_bucket)

    on_stack(world, aws, "dr", dr_bucket)
    code, output = snapshot(world, capsys)  # activated, not restored yet: dr's Vault is not prod's data
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        f"txbackup vault-snapshot: this dr stack's Vault is not a restore of the primary's newest snapshot {prod_id} "
        "(no restore has run here): run the restore-vault Job first (README, Disaster recovery); snapshots of "
        "this Vault start after it"
    )
    assert _snapshot_objects(aws, dr_bucket) == replicated

    assert restore(world, capsys)[0] == 0
    assert world.vault.restored == [prods]
    world.write_seed("password", "written-in-dr-after-activation-5b1c")
    bootstrap(world, capsys)
    code, output = snapshot(world, capsys)  # restored: dr's own snapshots run
    assert code == 0, output
    drs_id = newest_snapshot(aws, dr_bucket)
    assert drs_id > prod_id and world.vault.served[-1] != prods

    code, output = restore(world, capsys)  # latest: prod's newest, not dr's newer one
    assert code == 0, output
    assert world.vault.restored == [prods, prods]
    assert f"skipping snapshot {drs_id}: it was written by the dr stack into this bucket, s3://{dr_bucket}" in output

    world.vault.requests.clear()
    code, output = restore(world, capsys, drs_id)
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        f"txbackup vault-restore: refusing to restore snapshot {drs_id}: it was written by the dr stack into this "
        f"bucket, s3://{dr_bucket} ({DR_REGION}), not replicated from the primary"
    )
    assert world.vault.requests == [] and world.vault.restored == [prods, prods]


def test_dr_snapshots_stop_when_the_primary_has_a_newer_snapshot_than_the_one_restored(
    world: World, aws: AwsApi, dr_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """A restore marker from an earlier activation (a drill) does not count once prod has
    written newer data: dr's Vault is then not prod's newest, and its snapshots refuse."""
    bootstrap(world, capsys)
    assert snapshot(world, capsys)[0] == 0
    first = newest_snapshot(aws)
    replicate(aws, dr_bucket)
    on_stack(world, aws, "dr", dr_bucket)
    assert restore(world, capsys)[0] == 0

    on_stack(world, aws, "primary", dr_bucket)
    bootstrap(world, capsys)
    assert snapshot(world, capsys)[0] == 0
    second = newest_snapshot(aws)
    replicate(aws, dr_bucket)

    on_stack(world, aws, "dr", dr_bucket)
    code, output = snapshot(world, capsys)
    assert code == 1
    assert f"the primary's newest snapshot {second} (the last restore took {first})" in output


def test_a_snapshot_without_its_origin_is_not_restored(
    world: World, aws: AwsApi, dr_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    assert snapshot(world, capsys)[0] == 0
    backup_id = newest_snapshot(aws)
    replicate(aws, dr_bucket)
    s3, key = aws.client("s3"), f"vault/{backup_id}/manifest.json"
    manifest = json.load(s3.get_object(Bucket=dr_bucket, Key=key)["Body"])
    del manifest["details"]["origin"]
    s3.put_object(Bucket=dr_bucket, Key=key, Body=json.dumps(manifest).encode())

    on_stack(world, aws, "dr", dr_bucket)
    code, output = restore(world, capsys, backup_id)
    assert code == 1
    assert output.strip().splitlines()[-1] == (
        f"txbackup vault-restore: refusing to restore snapshot {backup_id}: "
        "its manifest does not record which stack wrote it"
    )
    assert world.vault.restored == []


@pytest.mark.parametrize("chunked", [True, False], ids=["chunked", "content-length"])
def test_a_snapshot_cut_off_mid_stream_aborts_its_upload_and_leaves_no_backup(
    world: World, aws: AwsApi, capsys: pytest.CaptureFixture[str], chunked: bool
) -> None:
    bootstrap(world, capsys)
    before = _snapshot_objects(aws)
    world.vault.snapshot_chunked = chunked
    world.vault.snapshot_cut_at = TEST_PART_SIZE + 1024 * 1024  # one part uploaded, then the stream breaks
    world.as_job("vault-snapshot")

    code, output = run(world, capsys, "vault-snapshot")

    assert code == 1
    assert "Vault GET /v1/sys/storage/raft/snapshot: the answer broke off" in output.strip().splitlines()[-1]
    assert _snapshot_objects(aws) == before  # no object, no manifest
    assert aws.client("s3").list_multipart_uploads(Bucket=aws.bucket).get("Uploads", []) == []


def test_a_corrupted_snapshot_is_refused_before_vault_is_touched(
    world: World, aws: AwsApi, dr_bucket: str, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    assert snapshot(world, capsys)[0] == 0
    replicate(aws, dr_bucket)
    key = [key for key in _snapshot_objects(aws, dr_bucket) if key.endswith("/raft.snap")][-1]
    s3 = aws.client("s3")
    body = bytearray(s3.get_object(Bucket=dr_bucket, Key=key)["Body"].read())
    body[len(body) // 2] ^= 0xFF  # same size, one byte flipped
    s3.put_object(Bucket=dr_bucket, Key=key, Body=bytes(body))
    world.vault.requests.clear()

    on_stack(world, aws, "dr", dr_bucket)
    code, output = restore(world, capsys, key.split("/")[1])

    assert code == 1
    assert f"s3://{dr_bucket}/{key} is corrupt: SHA-256" in output.strip().splitlines()[-1]
    assert world.vault.requests == [] and world.vault.restored == []


def test_an_unknown_backup_id_is_one_clear_line(world: World, capsys: pytest.CaptureFixture[str]) -> None:
    world.as_job("vault-restore")
    code, output = run(world, capsys, "vault-restore", "--backup-id", "20200101T000000Z")
    assert code == 1
    assert output.strip().splitlines()[-1].startswith("txbackup vault-restore: backup '20200101T000000Z' not found")
    assert world.vault.requests == []


def test_a_vault_certificate_from_another_ca_is_an_error(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    other_ca, _ = kube_api.certificate(
        "another-ca", datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1), ["localhost"], ["127.0.0.1"]
    )
    (tmp_path / "other-ca.crt").write_bytes(other_ca)
    world.monkeypatch.setenv("VAULT_CACERT", str(tmp_path / "other-ca.crt"))

    code, output = run(world, capsys, "vault-bootstrap")

    assert code == 1
    last = output.strip().splitlines()[-1]
    assert "TLS verification failed" in last and "CERTIFICATE_VERIFY_FAILED" in last
    assert world.vault.requests == [] and not world.vault.state["initialized"]


def test_a_vault_that_never_answers_fails_after_the_bounded_wait(
    world: World, capsys: pytest.CaptureFixture[str]
) -> None:
    world.monkeypatch.setattr(vault, "WAIT_SECONDS", 0.3)
    world.monkeypatch.setenv("VAULT_ADDR", "https://127.0.0.1:9")  # nothing listens on discard

    code, output = run(world, capsys, "vault-bootstrap")

    assert code == 1
    assert "is not answering after 0 s" in output.strip().splitlines()[-1]


def test_a_spec_without_the_bootstrap_role_is_refused_before_anything_changes(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = {**SPEC, "roles": {k: v for k, v in SPEC["roles"].items() if k != "vault-bootstrap"}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))

    code, output = run(world, capsys, "vault-bootstrap")

    assert code == 1
    assert "no role 'vault-bootstrap' (VAULT_AUTH_ROLE)" in output.strip().splitlines()[-1]
    assert world.vault.requests == []


def test_the_bootstrap_fails_with_one_line_when_its_policy_does_not_let_it_check_the_stored_tokens(
    world: World, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bootstrap(world, capsys)
    without_lookup = {path: caps for path, caps in BOOTSTRAP_POLICY.items() if path != "auth/token/lookup"}
    world.vault.state["policies"]["vault-bootstrap"] = _policy(without_lookup)
    spec = {**SPEC, "policies": {**SPEC["policies"], "vault-bootstrap": _policy(without_lookup)}}
    (tmp_path / "spec.json").write_text(json.dumps(spec))

    code, output = run(world, capsys, "vault-bootstrap")

    assert code == 1
    assert output.strip().splitlines()[-1].endswith("Vault POST /v1/auth/token/lookup: HTTP 403 permission denied")
    assert world.vault.denied == [("POST", "auth/token/lookup")]


def test_the_platform_spec_of_each_stack_bootstraps_vault_and_its_policies_grant_every_job_what_it_asks(
    world: World, aws: AwsApi, dr_bucket: str, stack: StackRun, capsys: pytest.CaptureFixture[str]
) -> None:
    # The spec.json the secrets component puts into the ConfigMap, with every seed mounted.
    manifests = [plain(r.inputs) for r in stack.of_type("kubernetes:core/v1:ConfigMap")]
    (config_map,) = [
        m for m in manifests if (m["metadata"].get("namespace"), m["metadata"]["name"]) == (NAMESPACE, BOOTSTRAP)
    ]
    spec = json.loads(config_map["data"]["spec.json"])
    (world.tmp / "spec.json").write_text(json.dumps(spec))
    for seed in spec["seeds"]:
        directory = world.tmp / "seeds" / seed["secret"]
        directory.mkdir(parents=True, exist_ok=True)
        for key in seed["keys"]:
            (directory / key).write_text(f"value-of-{seed['path']}-{key}")

    bootstrap(world, capsys)
    world.vault.requests.clear()
    assert "vault bootstrap complete: 0 changes" in bootstrap(world, capsys)
    assert world.vault.writes() == []
    assert {name for name in world.vault.state["roles"]} == set(spec["roles"])
    assert len(world.vault.kv_versions("secret", spec["tokens"][0]["path"])) == 1

    code, output = snapshot(world, capsys)
    assert code == 0, output
    if "vault-restore" in spec["roles"]:  # the dr stack's restore of the primary's snapshot, then its own
        replicate(aws, dr_bucket)
        on_stack(world, aws, "dr", dr_bucket)
        code, output = restore(world, capsys)
        assert code == 0, output
        bootstrap(world, capsys)  # README, Disaster recovery: the bootstrap re-applies dr's roles
        code, output = snapshot(world, capsys)
        assert code == 0, output
    assert world.vault.denied == []


# -- a first bootstrap that fails at any step --------------------------------------------

SECRET_PATH = f"/api/v1/namespaces/{NAMESPACE}/secrets/{RECOVERY_SECRET}"
HEALTH = ("vault", "GET", "sys/health")
# What a run configures (Vault empty): every read, then the write it finds missing.
CONFIGURE = [
    ("vault", "GET", "sys/audit"),
    ("vault", "PUT", "sys/audit/file"),
    ("vault", "GET", "sys/mounts"),
    ("vault", "POST", "sys/mounts/secret"),
    ("vault", "GET", "sys/auth"),
    ("vault", "POST", "sys/auth/kubernetes"),
    ("vault", "GET", "auth/kubernetes/config"),
    ("vault", "POST", "auth/kubernetes/config"),
    *[
        (("vault", method, f"sys/policies/acl/{name}"))
        for name in sorted(SPEC["policies"])
        for method in ("GET", "PUT")
    ],
    *[
        ("vault", method, f"auth/kubernetes/role/{name}")
        for name in sorted(SPEC["roles"])
        for method in ("GET", "POST")
    ],
    ("vault", "GET", f"secret/data/{SEED_PATH}"),
    ("vault", "POST", f"secret/data/{SEED_PATH}"),
    ("vault", "GET", f"secret/data/{TOKEN_PATH}"),
    ("vault", "POST", "auth/token/create-orphan"),
    ("vault", "POST", f"secret/data/{TOKEN_PATH}"),
]
FIRST_RUN = [
    HEALTH,
    *[HEALTH] * vault_bootstrap.UNINITIALISED_CONFIRMATIONS,
    ("kube", "GET", SECRET_PATH),
    ("kube", "POST", f"/api/v1/namespaces/{NAMESPACE}/secrets"),
    ("vault", "PUT", "sys/init"),
    ("kube", "PUT", SECRET_PATH),
    *[HEALTH] * 3,  # sealed twice after init (the fake's sealed_polls), then active
    *CONFIGURE,
    ("vault", "GET", "auth/token/lookup-self"),
    ("vault", "LIST", "auth/token/accessors"),
    ("vault", "POST", "auth/token/lookup-accessor"),  # the connector's token
    ("vault", "POST", "auth/token/revoke-self"),
    ("kube", "GET", SECRET_PATH),
    ("kube", "PUT", SECRET_PATH),
]
INIT = FIRST_RUN.index(("vault", "PUT", "sys/init"))
KEYS_STORED = INIT + 1
# The run after a first run killed just after the keys were stored: Vault initialised,
# nothing configured, the first run's root token alive.
RESCUE_RUN = [
    HEALTH,  # sealed
    ("kube", "GET", SECRET_PATH),
    *[HEALTH] * 2,  # sealed, then active
    ("vault", "GET", "sys/generate-root/attempt"),
    ("vault", "POST", "sys/generate-root/attempt"),
    *[("vault", "POST", "sys/generate-root/update")] * SPEC["recovery"]["threshold"],
    *CONFIGURE,
    ("vault", "GET", "auth/token/lookup-self"),
    ("vault", "LIST", "auth/token/accessors"),
    *[("vault", "POST", "auth/token/lookup-accessor")] * 2,  # the first run's root, the connector's
    ("vault", "POST", "auth/token/revoke-accessor"),
    ("vault", "POST", "auth/token/revoke-self"),
    ("kube", "GET", SECRET_PATH),
    ("kube", "PUT", SECRET_PATH),
]
# A new periodic token exists in Vault before its KV write: a run killed in between, or
# whose write fails, leaves it behind unused (never a root token; it expires one period
# after its creation, as nobody renews it).
_START = RESCUE_RUN.index(CONFIGURE[0])
OWN_CONFIGURE = [(index, mode) for index in range(_START, _START + len(CONFIGURE)) for mode in (REFUSED, KILLED)]
STRAY_TOKEN = {
    (("vault", "POST", "auth/token/create-orphan"), KILLED),
    (("vault", "POST", f"secret/data/{TOKEN_PATH}"), REFUSED),
}


def _cases(steps: list[tuple[str, str, str]], skip: set[tuple[int, str]]) -> list[Any]:
    return [
        pytest.param(index, mode, id=f"{index:02d}-{mode}-{method}-{path}")
        for index, (_, method, path) in enumerate(steps)
        for mode in (REFUSED, KILLED)
        if (index, mode) not in skip
    ]


def attempt(world: World, capsys: pytest.CaptureFixture[str], at: int | None = None, mode: str = REFUSED) -> int:
    """One bootstrap run with the request ``at`` failing; its exit code."""
    world.as_job("vault-bootstrap")
    world.faults.arm(at, mode)
    code, _ = run(world, capsys, "vault-bootstrap")
    world.faults.arm(None)
    return code


def assert_recoverable(world: World) -> None:
    """Whatever a failed run left: Vault either not initialised, or its recovery keys (what
    sys/generate-root needs to make a root token) in the Secret, exactly."""
    if world.vault.state["initialized"]:
        assert stored_recovery_keys(world) == world.vault.state["recovery_keys"]


def assert_finished(world: World, stray_token: bool) -> None:
    """The end state of a successful bootstrap, whatever failed before (see STRAY_TOKEN)."""
    assert_bootstrapped(world)
    live = world.vault.state["tokens"]
    extra = set(live) - {world.stored_token()}
    assert len(extra) == (1 if stray_token else 0)
    assert all(live[token]["policies"] == [CONNECTOR_POLICY] for token in extra)
    assert len(world.vault.kv_versions("secret", TOKEN_PATH)) == 1


@pytest.fixture
def quick_waits(world: World) -> None:
    # A killed run's polls get no answer; they give up after this instead of 5 s.
    world.monkeypatch.setattr(vault, "WAIT_SECONDS", 0.3)


@pytest.mark.parametrize(("steps", "before"), [(FIRST_RUN, []), (RESCUE_RUN, [(KEYS_STORED, KILLED)])])
def test_the_fault_tables_list_every_request_of_the_runs_they_fail(
    world: World, capsys: pytest.CaptureFixture[str], steps: list[tuple[str, str, str]], before: list[Any]
) -> None:
    for at, mode in before:
        assert attempt(world, capsys, at, mode) == 1
    world.faults.arm(None)
    world.as_job("vault-bootstrap")
    assert run(world, capsys, "vault-bootstrap")[0] == 0
    assert world.faults.log == steps


@pytest.mark.usefixtures("quick_waits")
@pytest.mark.parametrize(("at", "mode"), _cases(FIRST_RUN, skip={(INIT, KILLED)}))
def test_a_first_bootstrap_failing_at_any_step_keeps_a_way_in_and_the_next_run_finishes_it(
    world: World, capsys: pytest.CaptureFixture[str], at: int, mode: str
) -> None:
    attempt(world, capsys, at, mode)
    assert_recoverable(world)

    assert attempt(world, capsys) == 0

    assert_finished(world, stray_token=(FIRST_RUN[at], mode) in STRAY_TOKEN)


@pytest.mark.usefixtures("quick_waits")
# Its configuration steps are the first run's code, failed above; here the steps of its own.
@pytest.mark.parametrize(("at", "mode"), _cases(RESCUE_RUN, skip=set(OWN_CONFIGURE)))
def test_a_run_finishing_a_failed_first_bootstrap_can_fail_at_any_step_too(
    world: World, capsys: pytest.CaptureFixture[str], at: int, mode: str
) -> None:
    assert attempt(world, capsys, KEYS_STORED, KILLED) == 1  # Vault initialised, nothing configured
    attempt(world, capsys, at, mode)
    assert_recoverable(world)

    assert attempt(world, capsys) == 0

    assert_finished(world, stray_token=(RESCUE_RUN[at], mode) in STRAY_TOKEN)


def test_a_run_killed_before_init_answers_stops_the_next_one_with_the_reason(
    world: World, capsys: pytest.CaptureFixture[str], quick_waits: None
) -> None:
    # Vault returns the recovery keys once, in its answer to init (sys/init API docs): a
    # run killed before that answer arrives loses them, and nothing can make a root token.
    assert attempt(world, capsys, INIT, KILLED) == 1
    assert world.vault.state["initialized"] and progress(world) == "reserved"
    world.as_job("vault-bootstrap")

    code, output = run(world, capsys, "vault-bootstrap")

    assert code == 1
    assert "never received its recovery keys" in output.strip().splitlines()[-1]
    assert world.faults.log == [HEALTH, ("kube", "GET", SECRET_PATH)]  # nothing tried, nothing changed
