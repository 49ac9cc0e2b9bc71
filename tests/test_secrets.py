"""secrets: Vault (HA raft, KMS auto-unseal, TLS, audit, metrics) and External Secrets,
and how an application's secrets flow: seed Secret -> Vault -> ExternalSecret -> Secret."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest

from components import platform as platform_module
from components import secrets, vault_spec
from components.applications import ChildApplication, SyncedSecret, VaultPolicy, VaultSeed
from components.charts import Chart
from offline.checks import is_secret, plain, run_checks
from offline.harness import StackRun, run_stacks
from tests.conftest import IMAGE_REGISTRIES, policy, release, stack_copy
from tests.support import vault_world

RELEASE = "kubernetes:helm.sh/v3:Release"
SECRET = "kubernetes:core/v1:Secret"
EXTERNAL_SECRET = "kubernetes:external-secrets.io/v1:ExternalSecret"
CRON_JOB = "kubernetes:batch/v1:CronJob"
TEST_PASSWORD = "test-only-database-password-7f3a"

# An application as a product component hands it to the platform.
APP = ChildApplication(
    name="test-connector",
    project="edc",
    namespace="tractus-x",
    chart=Chart("https://charts.example.org", "test-connector", "1.0.0"),
    release="test-connector",
    values={"postgresql": {"existingSecret": "test-connector-db"}},
    seeds=(VaultSeed("tractus-x/test/database", {"password": TEST_PASSWORD, "username": "edc"}),),
    secrets=(
        SyncedSecret("test-connector-db", "tractus-x", "tractus-x/test/database", {"password": "password"}),
        SyncedSecret("test-connector-vault", "tractus-x", "tractus-x/test/vault-token", {"token": "token"}),
    ),
    vault_policies=(VaultPolicy("test-connector", ("tractus-x/test/connector",), "tractus-x/test/vault-token"),),
)


@pytest.fixture(scope="module")
def with_app() -> Iterator[dict[str, StackRun]]:
    """Both stacks with APP among the platform's applications."""
    original = secrets.SecretsArgs

    def args_with_app(**kwargs: Any) -> secrets.SecretsArgs:
        return original(**{**kwargs, "applications": [*kwargs["applications"], APP]})

    with mock.patch.object(platform_module, "SecretsArgs", args_with_app):
        yield run_stacks()


def vault_values(run: StackRun) -> dict[str, Any]:
    return dict(plain(release(run, "vault").inputs["values"]))


def vault_config(run: StackRun) -> str:
    return str(vault_values(run)["server"]["ha"]["raft"]["config"])


def objects(run: StackRun, type_: str) -> dict[tuple[str, str], dict[str, Any]]:
    found = {}
    for r in run.of_type(type_):
        manifest = plain(r.inputs)
        found[(manifest["metadata"].get("namespace", ""), manifest["metadata"]["name"])] = manifest
    return found


def hcl_paths(policy_text: str) -> dict[str, str]:
    """A policy as path -> capabilities (as written in the HCL list)."""
    return dict(re.findall(r'path "([^"]+)" \{\n  capabilities = \[([^\]]*)\]\n\}', policy_text))


def bootstrap_spec(run: StackRun) -> dict[str, Any]:
    config_map = objects(run, "kubernetes:core/v1:ConfigMap")[("vault", "vault-bootstrap")]
    return dict(json.loads(config_map["data"]["spec.json"]))


# --- charts ------------------------------------------------------------------------------


def test_vault_and_external_secrets_are_pinned_releases_of_the_program(stack: StackRun) -> None:
    vault = release(stack, "vault")
    assert vault.inputs["version"] == "0.34.1"
    assert vault.inputs["chart"] == stack_copy(stack, "vault")
    assert vault.inputs["namespace"] == "vault" and vault.inputs["name"] == "vault"
    image = vault_values(stack)["server"]["image"]
    assert image == {"repository": f"{IMAGE_REGISTRIES[stack.stack]}/docker-hub/hashicorp/vault", "tag": "2.0.4"}
    eso = release(stack, "external-secrets")
    assert eso.inputs["version"] == "2.9.0"
    assert eso.inputs["chart"] == stack_copy(stack, "external-secrets")
    assert eso.inputs["namespace"] == "external-secrets"
    for r in (vault, eso):
        assert r.inputs["atomic"] is True and r.inputs["createNamespace"] is False


def test_vault_runs_ha_raft_with_three_replicas_spread_over_nodes_and_zones(stack: StackRun) -> None:
    server = vault_values(stack)["server"]
    ha = server["ha"]
    assert ha["enabled"] is True and ha["replicas"] == 3
    assert ha["raft"]["enabled"] is True and ha["raft"]["setNodeId"] is True
    # One pod at a time may be evicted: raft keeps its quorum of 2.
    assert ha["disruptionBudget"] == {"enabled": True, "maxUnavailable": 1}
    anti = server["affinity"]["podAntiAffinity"]["requiredDuringSchedulingIgnoredDuringExecution"]
    assert anti[0]["topologyKey"] == "kubernetes.io/hostname"
    (zones,) = server["topologySpreadConstraints"]
    assert zones["topologyKey"] == "topology.kubernetes.io/zone" and zones["whenUnsatisfiable"] == "DoNotSchedule"
    config = vault_config(stack)
    for i in range(3):
        assert f'leader_api_addr     = "https://vault-{i}.vault-internal:8200"' in config
    assert config.count("leader_ca_cert_file") == 3
    assert 'service_registration "kubernetes" {}' in config
    # The injector and the UI are off: workloads get Vault data through External Secrets.
    values = vault_values(stack)
    assert values["injector"]["enabled"] is False and values["ui"]["enabled"] is False


def test_vault_pods_are_restricted_with_resources(stack: StackRun) -> None:
    server = vault_values(stack)["server"]
    container = server["statefulSet"]["securityContext"]["container"]
    assert container["readOnlyRootFilesystem"] is True and container["allowPrivilegeEscalation"] is False
    assert container["capabilities"] == {"drop": ["ALL"]}
    assert server["statefulSet"]["securityContext"]["pod"]["runAsNonRoot"] is True
    assert server["resources"]["requests"] and server["resources"]["limits"]
    assert "disable_mlock = true" in vault_config(stack)  # no IPC_LOCK under restricted
    assert {"name": "tmp", "mountPath": "/tmp"} in server["volumeMounts"]


# --- auto-unseal -------------------------------------------------------------------------


def test_prod_unseals_with_its_own_rotating_multi_region_key(prod: StackRun) -> None:
    key = prod.one("aws:kms/key:Key", "tractusx-secrets-unseal")
    assert key.inputs["multiRegion"] is True and key.inputs["enableKeyRotation"] is True
    alias = prod.one("aws:kms/alias:Alias", "tractusx-secrets-unseal-alias")
    assert alias.inputs["name"] == "alias/tx-prod-vault-unseal"
    arn = prod.exports["vaultUnsealKeyArn"]
    assert ":key/mrk-" in arn and ":eu-central-1:" in arn
    assert 'seal "awskms"' in vault_config(prod)
    assert f'kms_key_id = "{arn}"' in vault_config(prod)
    assert 'region     = "eu-central-1"' in vault_config(prod)


def test_dr_unseals_with_the_replica_of_prods_key_in_its_own_region(dr: StackRun, prod: StackRun) -> None:
    assert [k for k in dr.of_type("aws:kms/key:Key") if k.name == "tractusx-secrets-unseal"] == []
    replica = dr.one("aws:kms/replicaKey:ReplicaKey", "tractusx-secrets-unseal")
    assert replica.inputs["primaryKeyArn"] == prod.exports["vaultUnsealKeyArn"]
    arn = dr.exports["vaultUnsealKeyArn"]
    region = dr.exports["region"]
    # Same key id (so it decrypts what prod's key sealed), in the dr region.
    assert arn.rsplit("/", 1)[-1] == prod.exports["vaultUnsealKeyArn"].rsplit("/", 1)[-1]
    assert f":{region}:" in arn
    assert f'kms_key_id = "{arn}"' in vault_config(dr)
    assert f'region     = "{region}"' in vault_config(dr)


def test_only_vaults_service_account_may_use_the_unseal_key_and_only_for_the_seal(stack: StackRun) -> None:
    statements = policy(stack.one("aws:iam/rolePolicy:RolePolicy", "tractusx-secrets-vault-policy").inputs["policy"])
    assert statements["Statement"] == [
        {
            "Sid": "VaultAutoUnseal",
            "Effect": "Allow",
            "Action": ["kms:Decrypt", "kms:DescribeKey", "kms:Encrypt"],
            "Resource": stack.exports["vaultUnsealKeyArn"],
        }
    ]
    trust = policy(stack.one("aws:iam/role:Role", "tractusx-secrets-vault").inputs["assumeRolePolicy"])
    host = stack.exports["oidcIssuerUrl"].removeprefix("https://")
    assert trust["Statement"][0]["Condition"]["StringEquals"][f"{host}:sub"] == "system:serviceaccount:vault:vault"
    account = vault_values(stack)["server"]["serviceAccount"]
    assert account["name"] == "vault"
    assert account["annotations"]["eks.amazonaws.com/role-arn"].endswith("/tractusx-secrets-vault")


# --- TLS, audit, metrics -------------------------------------------------------------------


def test_vault_serves_tls_from_a_private_ca_issued_by_cert_manager(stack: StackRun) -> None:
    issuers = objects(stack, "kubernetes:cert-manager.io/v1:Issuer")
    certificates = objects(stack, "kubernetes:cert-manager.io/v1:Certificate")
    assert issuers[("vault", "vault-selfsigned")]["spec"] == {"selfSigned": {}}
    ca = certificates[("vault", "vault-ca")]["spec"]
    assert ca["isCA"] is True and ca["issuerRef"]["name"] == "vault-selfsigned"
    assert issuers[("vault", "vault-ca")]["spec"] == {"ca": {"secretName": "vault-ca"}}
    server = certificates[("vault", "vault-server-tls")]["spec"]
    assert server["secretName"] == "vault-server-tls" and server["issuerRef"]["name"] == "vault-ca"
    assert set(server["dnsNames"]) == {
        "vault",
        "vault.vault",
        "vault.vault.svc",
        "vault.vault.svc.cluster.local",
        "*.vault-internal",
        "*.vault-internal.vault.svc",
        "*.vault-internal.vault.svc.cluster.local",
        "vault-active.vault.svc",
    }
    assert server["ipAddresses"] == ["127.0.0.1"]
    values = vault_values(stack)
    assert values["global"]["tlsDisable"] is False
    config = vault_config(stack)
    assert 'tls_cert_file   = "/vault/userconfig/vault-server-tls/tls.crt"' in config
    assert "tls_disable" not in config
    assert {"name": "vault-server-tls", "secret": {"secretName": "vault-server-tls", "defaultMode": 0o440}} in values[
        "server"
    ]["volumes"]


def test_audit_log_and_raft_data_are_on_encrypted_volumes(stack: StackRun) -> None:
    server = vault_values(stack)["server"]
    for storage in ("dataStorage", "auditStorage"):
        assert server[storage]["enabled"] is True and server[storage]["storageClass"] == "gp3-encrypted"
    # The bootstrap enables the file audit device on the audit volume (mounted at /vault/audit).
    assert bootstrap_spec(stack)["audit_file_path"] == "/vault/audit/audit.log"


def test_prometheus_scrapes_vault_over_tls_without_a_token(stack: StackRun) -> None:
    values = vault_values(stack)
    assert values["global"]["serverTelemetry"]["prometheusOperator"] is True
    monitor = values["serverTelemetry"]["serviceMonitor"]
    assert monitor["enabled"] is True
    assert monitor["tlsConfig"]["ca"] == {"secret": {"name": "vault-server-tls", "key": "ca.crt"}}
    config = vault_config(stack)
    assert "unauthenticated_metrics_access = true" in config
    assert 'prometheus_retention_time = "30s"' in config and "disable_hostname          = true" in config
    # An uninitialised pod is Ready, so the release completes before the bootstrap runs.
    assert values["server"]["readinessProbe"]["path"] == "/v1/sys/health?standbyok=true&uninitcode=204"
    vault = release(stack, "vault")
    monitoring = stack.one(RELEASE, "tractusx-monitoring-stack")
    assert monitoring.urn in vault.dependencies


def test_external_secrets_runs_two_replicas_with_metrics_and_installs_its_crds(stack: StackRun) -> None:
    values = plain(release(stack, "external-secrets").inputs["values"])
    assert values["installCRDs"] is True and values["leaderElect"] is True
    assert values["serviceAccount"]["name"] == "external-secrets"
    assert values["serviceMonitor"]["enabled"] is True
    for component in (values, values["webhook"], values["certController"]):
        assert component["replicaCount"] == 2
        assert component["podDisruptionBudget"]["enabled"] is True
        assert component["resources"]["limits"]
        assert component["securityContext"]["readOnlyRootFilesystem"] is True
        assert component["metrics"]["service"]["enabled"] is True
    # Two cert controllers elect one, so only one rotates the webhook's certificate.
    assert values["certController"]["extraArgs"] == {"enable-leader-election": True}


def test_cluster_secret_store_reads_vault_over_tls_with_kubernetes_auth(stack: StackRun) -> None:
    (store,) = objects(stack, "kubernetes:external-secrets.io/v1:ClusterSecretStore").values()
    assert store["metadata"]["name"] == "vault"
    assert store["spec"]["provider"]["vault"] == {
        "server": "https://vault.vault.svc:8200",
        "path": "secret",
        "version": "v2",
        "caProvider": {"type": "Secret", "name": "vault-server-tls", "key": "ca.crt", "namespace": "vault"},
        "auth": {
            "kubernetes": {
                "mountPath": "kubernetes",
                "role": "external-secrets",
                "serviceAccountRef": {"name": "external-secrets", "namespace": "external-secrets"},
            }
        },
    }
    assert stack.exports["vaultAddress"] == "https://vault.vault.svc:8200"


# --- an application's secrets ----------------------------------------------------------------


def test_each_synced_secret_becomes_an_external_secret_in_its_namespace(
    with_app: dict[str, StackRun], runs: dict[str, StackRun]
) -> None:
    for stack, run in with_app.items():
        found = objects(run, EXTERNAL_SECRET)
        assert found[("tractus-x", "test-connector-db")]["spec"] == {
            "refreshInterval": "1h",
            "secretStoreRef": {"kind": "ClusterSecretStore", "name": "vault"},
            "target": {"name": "test-connector-db", "creationPolicy": "Owner", "deletionPolicy": "Retain"},
            "data": [
                {"secretKey": "password", "remoteRef": {"key": "tractus-x/test/database", "property": "password"}}
            ],
        }
        token = found[("tractus-x", "test-connector-vault")]
        assert token["spec"]["data"][0]["remoteRef"] == {"key": "tractus-x/test/vault-token", "property": "token"}
        assert token["metadata"]["annotations"] == {"pulumi.com/waitFor": "condition=Ready"}
        # The app's two beside what the stack has without it (the copies of Vault's CA,
        # the products' Secrets), and a copy of Vault's CA in its namespace, as it talks to
        # Vault itself (it has a Vault policy).
        assert set(found) == set(objects(runs[stack], EXTERNAL_SECRET)) | {
            ("tractus-x", "test-connector-db"),
            ("tractus-x", "test-connector-vault"),
            ("tractus-x", "vault-ca"),
        }
        assert ("backup", "vault-ca") in found


def test_seed_values_are_secrets_only_in_namespace_vault(with_app: dict[str, StackRun]) -> None:
    for run in with_app.values():
        seeds = [r for r in run.of_type(SECRET) if plain(r.inputs)["metadata"]["name"].startswith("vault-seed-")]
        assert {plain(r.inputs)["metadata"]["namespace"] for r in seeds} == {"vault"}
        (seed,) = [r for r in seeds if plain(r.inputs)["metadata"]["name"] == "vault-seed-tractus-x-test-database"]
        metadata = plain(seed.inputs)["metadata"]
        assert metadata["namespace"] == "vault"
        assert metadata["name"] == "vault-seed-tractus-x-test-database"
        assert metadata["labels"]["app.kubernetes.io/part-of"] == "vault-bootstrap"
        data = seed.inputs["stringData"]
        assert is_secret(data) or all(is_secret(value) for value in data.values())
        assert plain(seed.inputs)["stringData"] == {"password": TEST_PASSWORD, "username": "edc"}
        # Nowhere else in plain text: not in the bootstrap spec, Helm values or the Job.
        for r in run.resources:
            if r is seed:
                continue
            assert TEST_PASSWORD not in json.dumps(plain(r.inputs), default=str), r.name
        assert run_checks(run) == []


def synced_paths(run: StackRun) -> set[str]:
    """The Vault paths of every ExternalSecret that reads the ClusterSecretStore vault (not
    those filled by a generator, such as the chart copy's ECR token)."""
    return {
        item["remoteRef"]["key"]
        for es in objects(run, EXTERNAL_SECRET).values()
        if es["spec"].get("secretStoreRef") == {"kind": "ClusterSecretStore", "name": "vault"}
        for item in es["spec"]["data"]
    }


def test_bootstrap_spec_scopes_every_policy_exactly(with_app: dict[str, StackRun], runs: dict[str, StackRun]) -> None:
    spec = bootstrap_spec(with_app["prod"])
    baseline = bootstrap_spec(runs["prod"])
    assert spec["kv_mount"] == "secret" and spec["kubernetes_auth_mount"] == "kubernetes"
    assert spec["recovery"] == {"shares": 5, "threshold": 3, "secret": "vault-recovery-keys"}
    policies = spec["policies"]
    assert set(policies) == set(baseline["policies"]) | {"test-connector"}
    assert {"external-secrets", "vault-bootstrap", "vault-snapshot"} <= set(policies)
    # External Secrets reads exactly the synced paths: no wildcard, no write, no list.
    synced = synced_paths(with_app["prod"])
    assert {"tractus-x/test/database", "tractus-x/test/vault-token"} <= synced
    assert hcl_paths(policies["external-secrets"]) == {f"secret/data/{path}": '"read"' for path in synced}
    crudl = '["create", "read", "update", "delete", "list"]'
    assert policies["test-connector"] == (
        f'path "secret/data/tractus-x/test/connector/*" {{\n  capabilities = {crudl}\n}}\n\n'
        f'path "secret/data/tractus-x/test/connector" {{\n  capabilities = {crudl}\n}}\n\n'
        f'path "secret/metadata/tractus-x/test/connector/*" {{\n  capabilities = {crudl}\n}}\n'
    )
    assert policies["vault-snapshot"] == 'path "sys/storage/raft/snapshot" {\n  capabilities = ["read"]\n}\n'
    # The bootstrap's later runs: exactly the paths txbackup's tests show it needs.
    assert hcl_paths(policies["vault-bootstrap"]) == vault_world.BOOTSTRAP_POLICY
    assert (
        spec["roles"]
        == baseline["roles"]
        == {
            "external-secrets": {
                "service_accounts": ["external-secrets"],
                "namespaces": ["external-secrets"],
                "policies": ["external-secrets"],
                "ttl": "1h",
            },
            "vault-bootstrap": {
                "service_accounts": ["vault-bootstrap"],
                "namespaces": ["vault"],
                "policies": ["vault-bootstrap"],
                "ttl": "1h",
            },
            "vault-snapshot": {
                "service_accounts": ["backup-vault"],
                "namespaces": ["backup"],
                "policies": ["vault-snapshot"],
                "ttl": "1h",
            },
        }
    )
    assert spec["seeds"] == [
        *baseline["seeds"],
        {
            "secret": "vault-seed-tractus-x-test-database",
            "path": "tractus-x/test/database",
            "keys": ["password", "username"],
        },
    ]
    assert spec["tokens"] == [
        *baseline["tokens"],
        {"policy": "test-connector", "period": "768h", "path": "tractus-x/test/vault-token"},
    ]


def test_only_the_dr_stack_may_restore_a_snapshot(with_app: dict[str, StackRun]) -> None:
    assert "vault-restore" not in bootstrap_spec(with_app["prod"])["roles"]
    dr = bootstrap_spec(with_app["dr"])
    assert dr["policies"]["vault-restore"] == (
        'path "sys/storage/raft/snapshot-force" {\n  capabilities = ["update", "sudo"]\n}\n'
    )
    assert dr["roles"]["vault-restore"]["service_accounts"] == ["restore-vault"]
    assert dr["roles"]["vault-restore"]["namespaces"] == ["backup"]


def test_bootstrap_job_follows_the_programs_contract(with_app: dict[str, StackRun]) -> None:
    run = with_app["prod"]
    job = run.one("kubernetes:batch/v1:Job", "tractusx-secrets-bootstrap")
    pod = plain(job.inputs)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python3", "-m", "txbackup", "vault-bootstrap"]
    assert container["image"] == run.exports["backupImage"]
    env = {e["name"]: e for e in container["env"]}
    assert {k: env[k]["value"] for k in ("VAULT_ADDR", "VAULT_CACERT", "VAULT_AUTH_ROLE", "VAULT_AUTH_MOUNT")} == {
        "VAULT_ADDR": "https://vault.vault.svc:8200",
        "VAULT_CACERT": "/etc/vault-tls/ca.crt",
        "VAULT_AUTH_ROLE": "vault-bootstrap",
        "VAULT_AUTH_MOUNT": "kubernetes",
    }
    assert env["BOOTSTRAP_SPEC"]["value"] == "/etc/vault-bootstrap/spec.json"
    assert env["SEED_DIR"]["value"] == "/var/run/vault-seeds"
    assert env["POD_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"
    mounts = {m["mountPath"]: m for m in container["volumeMounts"]}
    assert mounts["/var/run/vault-seeds/vault-seed-tractus-x-test-database"]["readOnly"] is True
    assert mounts["/etc/vault-tls"]["readOnly"] is True and mounts["/etc/vault-bootstrap"]["readOnly"] is True
    volumes = {v["name"]: v for v in pod["volumes"]}
    assert volumes["vault-tls"]["secret"] == {
        "secretName": "vault-server-tls",
        "items": [{"key": "ca.crt", "path": "ca.crt"}],
    }
    assert pod["serviceAccountName"] == "vault-bootstrap" and pod["automountServiceAccountToken"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["resources"]["limits"]
    # Replaced (old one deleted first) when the spec or a seed changes; after Vault.
    assert job.delete_before_replace is True and "spec" in job.replace_on_changes
    assert "metadata.annotations" in job.replace_on_changes
    # A digest of the seed values: secret like them (so the Job's metadata shows as secret).
    assert is_secret(job.inputs["metadata"])
    assert len(plain(job.inputs["metadata"])["annotations"]["tractusx-platform/seeds-sha256"]) == 64
    assert release(run, "vault").urn in job.dependencies
    roles = objects(run, "kubernetes:rbac.authorization.k8s.io/v1:Role")
    assert roles[("vault", "vault-bootstrap")]["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["create"]},
        {
            "apiGroups": [""],
            "resources": ["secrets"],
            "resourceNames": ["vault-recovery-keys"],
            "verbs": ["get", "update"],
        },
    ]


def test_application_secrets_are_checked_before_anything_is_created() -> None:
    clash = ChildApplication(
        name="other",
        project="edc",
        namespace="tractus-x",
        chart=APP.chart,
        release="other",
        values={},
        secrets=(SyncedSecret("test-connector-db", "tractus-x", "tractus-x/other", {"k": "k"}),),
    )
    with pytest.raises(ValueError, match="secret tractus-x/test-connector-db is already declared"):
        vault_spec.bootstrap_spec([APP, clash], restore=False)
    reserved = ChildApplication(
        name="sneaky",
        project="edc",
        namespace="tractus-x",
        chart=APP.chart,
        release="sneaky",
        values={},
        vault_policies=(VaultPolicy("vault-bootstrap", ("tractus-x/x",), "tractus-x/x-token"),),
    )
    with pytest.raises(ValueError, match="is the platform's own"):
        vault_spec.bootstrap_spec([reserved], restore=False)
    long_path = VaultSeed("tractus-x/" + "/".join(["segment"] * 10), {"k": "v"})
    name = vault_spec.seed_secret_name(long_path)
    assert len(name) <= 63 and name.startswith("vault-seed-tractus-x-segment")


# --- snapshots and restore -----------------------------------------------------------------


def cron_job(run: StackRun, name: str) -> dict[str, Any]:
    return objects(run, CRON_JOB)[("backup", name)]


def test_vault_is_snapshotted_every_15_minutes_into_the_vault_prefix_only(stack: StackRun) -> None:
    """Vault is restored next to the database, so its snapshots follow the database's RPO
    class: every 15 minutes, each run ending before the next is due (Forbid skips a run
    while one is active), with STACK_ROLE recorded so the dr stack restores only prod's."""
    job = cron_job(stack, "backup-vault")
    assert job["spec"]["schedule"] == "*/15 * * * *"
    assert job["spec"]["concurrencyPolicy"] == "Forbid"
    assert job["spec"]["jobTemplate"]["spec"]["activeDeadlineSeconds"] == 600
    pod = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert container["command"] == ["python3", "-m", "txbackup", "vault-snapshot"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["STACK_ROLE"] == {"prod": "primary", "dr": "dr"}[stack.stack]
    assert env["VAULT_AUTH_ROLE"] == "vault-snapshot" and env["VAULT_CACERT"] == "/etc/vault-tls/ca.crt"
    assert env["VAULT_ADDR"] == "https://vault.vault.svc:8200" and env["VAULT_AUTH_MOUNT"] == "kubernetes"
    assert env["BACKUP_BUCKET"] == stack.exports["backupBucketName"]
    statements = policy(
        stack.one("aws:iam/rolePolicy:RolePolicy", "tractusx-backup-backup-vault-policy").inputs["policy"]
    )
    bucket = stack.exports["backupBucketArn"]
    objects_statement = next(s for s in statements["Statement"] if s["Sid"] == "OwnPrefixObjects")
    assert objects_statement["Resource"] == f"{bucket}/vault/*"
    assert "s3:DeleteObject" not in objects_statement["Action"]
    listing = next(s for s in statements["Statement"] if s["Sid"] == "ListOwnPrefix")
    assert listing["Condition"]["StringLike"]["s3:prefix"] == ["vault/", "vault/*"]
    # The pilot-light dr stack's jobs wait for activation, like the other backups.
    assert job["spec"]["suspend"] is (stack.stack == "dr")


def test_the_restore_job_exists_on_dr_only_always_suspended_and_writes_only_its_markers(
    dr: StackRun, prod: StackRun
) -> None:
    assert ("backup", "restore-vault") not in objects(prod, CRON_JOB)
    job = cron_job(dr, "restore-vault")
    assert job["spec"]["suspend"] is True
    (container,) = job["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["python3", "-m", "txbackup", "vault-restore", "--backup-id", "latest"]
    env = {e["name"]: e.get("value") for e in container["env"]}
    assert env["VAULT_AUTH_ROLE"] == "vault-restore"
    statements = policy(
        dr.one("aws:iam/rolePolicy:RolePolicy", "tractusx-backup-restore-vault-policy").inputs["policy"]
    )
    actions = {
        a for s in statements["Statement"] for a in (s["Action"] if isinstance(s["Action"], list) else [s["Action"]])
    }
    assert not {a for a in actions if a.startswith("s3:Delete")}
    bucket = dr.exports["backupBucketArn"]
    puts = [s["Resource"] for s in statements["Statement"] if "s3:PutObject" in json.dumps(s["Action"])]
    assert puts == [f"{bucket}/vault/restored/*"]  # the markers dr's snapshot job waits for
    objects_statement = next(s for s in statements["Statement"] if s["Sid"] == "OwnPrefixObjects")
    assert objects_statement["Resource"] == f"{bucket}/vault/*" and objects_statement["Action"] == ["s3:GetObject"]


def test_vaults_ca_reaches_every_namespace_whose_pods_talk_to_vault_through_a_reader_of_one_secret(
    stack: StackRun,
) -> None:
    """The backup jobs (namespace backup) and the connector (tractus-x, it has a Vault
    policy) mount Secret vault-ca of their own namespace; nothing else gets a copy."""
    copies = {key: obj for key, obj in objects(stack, EXTERNAL_SECRET).items() if key[1] == "vault-ca"}
    assert set(copies) == {("backup", "vault-ca"), ("tractus-x", "vault-ca")}
    stores = objects(stack, "kubernetes:external-secrets.io/v1:SecretStore")
    assert set(stores) == {("backup", "vault-tls"), ("tractus-x", "vault-tls")}
    for (namespace, _), copy in copies.items():
        assert copy["spec"]["secretStoreRef"] == {"kind": "SecretStore", "name": "vault-tls"}
        assert copy["spec"]["data"] == [
            {"secretKey": "ca.crt", "remoteRef": {"key": "vault-server-tls", "property": "ca.crt"}}
        ]
        store = stores[(namespace, "vault-tls")]
        assert store["spec"]["provider"]["kubernetes"]["remoteNamespace"] == "vault"
        assert store["spec"]["provider"]["kubernetes"]["auth"] == {"serviceAccount": {"name": "vault-ca-reader"}}
    role = objects(stack, "kubernetes:rbac.authorization.k8s.io/v1:Role")[("vault", "vault-ca-reader")]
    assert role["rules"] == [
        {"apiGroups": [""], "resources": ["secrets"], "resourceNames": ["vault-server-tls"], "verbs": ["get"]}
    ]
    binding = objects(stack, "kubernetes:rbac.authorization.k8s.io/v1:RoleBinding")[("vault", "vault-ca-reader")]
    assert sorted((s["namespace"], s["name"]) for s in binding["subjects"]) == [
        ("backup", "vault-ca-reader"),
        ("tractus-x", "vault-ca-reader"),
    ]


def test_the_connectors_vault_ca_volumes_name_a_secret_the_secrets_component_makes_in_its_namespace(
    stack: StackRun,
) -> None:
    """Every Secret volume in the connector's values that holds Vault's CA is a copy
    External Secrets makes in the connector's namespace (else its pods never start)."""
    copies = {key for key, obj in objects(stack, EXTERNAL_SECRET).items() if key[1] == "vault-ca"}
    values = stack.application_values["tractusx-connector"]
    for plane in ("controlplane", "dataplane"):
        volumes = [v for v in values[plane]["volumes"] if "secret" in v and v["name"] == "vault-ca"]
        assert volumes, f"the connector's {plane} mounts no Vault CA"
        for volume in volumes:
            assert ("tractus-x", volume["secret"]["secretName"]) in copies
