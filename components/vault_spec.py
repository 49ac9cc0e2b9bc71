"""What the Vault bootstrap applies, as data: policies, Kubernetes auth roles, seeds, tokens.

The bootstrap Job (``python3 -m txbackup vault-bootstrap``) reads this document from the
ConfigMap ``vault-bootstrap`` (key ``spec.json``). It holds names, paths and policy text,
never a secret value: seed values come from the seed Secrets mounted beside it.

Every policy grants exactly what its holder does and nothing else:

- ``external-secrets`` reads exactly the Vault paths of the Secrets it makes;
- an application's own policy (``VaultPolicy``) manages its paths and nothing else;
- ``vault-bootstrap`` is what the bootstrap needs on every run after the first (the first
  run initialises Vault and uses the initial root token, which it revokes);
- ``vault-snapshot`` reads a raft snapshot, ``vault-restore`` (dr stack only) restores one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

from components.applications import VAULT_KV_MOUNT, ChildApplication, VaultSeed
from components.schedules import BACKUP_NAMESPACE, VAULT_BACKUP, VAULT_RESTORE
from components.traffic import ServiceRef

NAMESPACE = "vault"
# Vault's API Service (the chart's, named after the release): what its clients declare
# they reach (components/traffic.py), and what Vault's NetworkPolicy admits them to.
# The chart's server pod labels (selectors of its Services, PDB and anti-affinity).
SERVER_LABELS = {"app.kubernetes.io/name": "vault", "app.kubernetes.io/instance": "vault", "component": "server"}
API_SERVICE = ServiceRef(NAMESPACE, "vault", SERVER_LABELS)
KUBERNETES_AUTH_MOUNT = "kubernetes"
AUDIT_FILE_PATH = "/vault/audit/audit.log"  # on the chart's auditStorage volume
RECOVERY_SECRET = "vault-recovery-keys"
# Recovery keys (auto-unseal): 5 shares, any 3 of them authorise a root token generation.
RECOVERY_SHARES = 5
RECOVERY_THRESHOLD = 3
# Kubernetes auth logins last an hour: the jobs run for minutes and External Secrets
# logs in again when its token expires.
ROLE_TTL = "1h"
# A workload's periodic token (``VaultPolicy``) lives as long as it is renewed within
# this period; 32 days, so a month-long outage of the renewer does not kill it.
TOKEN_PERIOD = "768h"

BOOTSTRAP = "vault-bootstrap"
EXTERNAL_SECRETS = "external-secrets"
ESO_NAMESPACE = "external-secrets"
ESO_SERVICE_ACCOUNT = "external-secrets"  # the chart's controller account (fullname of release external-secrets)
SNAPSHOT_POLICY = "vault-snapshot"
RESTORE_POLICY = "vault-restore"
SEED_PREFIX = "vault-seed-"
_MAX_NAME = 63

CRUDL = ["create", "read", "update", "delete", "list"]


def hcl(rules: Sequence[tuple[str, Sequence[str]]]) -> str:
    """A Vault ACL policy: one ``path`` block per rule, in the given order."""
    blocks = []
    for path, capabilities in rules:
        listed = ", ".join(f'"{capability}"' for capability in capabilities)
        blocks.append(f'path "{path}" {{\n  capabilities = [{listed}]\n}}\n')
    return "\n".join(blocks)


def kv_data(path: str) -> str:
    return f"{VAULT_KV_MOUNT}/data/{path}"


def kv_metadata(path: str) -> str:
    return f"{VAULT_KV_MOUNT}/metadata/{path}"


def application_policy(paths: Sequence[str]) -> str:
    """A workload's own paths (and below): create, read, update, delete, list; nothing else."""
    rules: list[tuple[str, Sequence[str]]] = []
    for path in paths:
        rules += [(kv_data(f"{path}/*"), CRUDL), (kv_data(path), CRUDL), (kv_metadata(f"{path}/*"), CRUDL)]
    return hcl(rules)


def external_secrets_policy(paths: Sequence[str]) -> str:
    """Read on exactly the paths External Secrets syncs; no list, no wildcard."""
    return hcl([(kv_data(path), ["read"]) for path in sorted(set(paths))])


# What the bootstrap does on every run after the first: write policies and roles,
# configure Kubernetes auth, enable the audit device and the KV mount if missing, write
# seeds, check the periodic tokens it keeps (lookup) and mint missing ones (orphans, so
# they outlive the bootstrap's login). Exactly the paths txbackup's tests show it needs
# (tests/test_vault_ops.py runs it against a Vault that evaluates this policy).
BOOTSTRAP_POLICY = hcl(
    [
        ("sys/policies/acl/*", CRUDL),
        ("sys/auth", ["read"]),
        (f"sys/auth/{KUBERNETES_AUTH_MOUNT}", ["create", "read", "update", "sudo"]),
        (f"auth/{KUBERNETES_AUTH_MOUNT}/config", ["create", "read", "update"]),
        (f"auth/{KUBERNETES_AUTH_MOUNT}/role/*", CRUDL),
        ("sys/mounts", ["read"]),
        (f"sys/mounts/{VAULT_KV_MOUNT}", ["create", "read", "update"]),
        ("sys/audit", ["read", "sudo"]),
        ("sys/audit/*", ["create", "read", "update", "sudo"]),
        (kv_data("*"), ["create", "read", "update"]),
        ("auth/token/create-orphan", ["create", "update", "sudo"]),
        ("auth/token/lookup", ["update"]),
    ]
)
SNAPSHOT_POLICY_HCL = hcl([("sys/storage/raft/snapshot", ["read"])])
RESTORE_POLICY_HCL = hcl([("sys/storage/raft/snapshot-force", ["update", "sudo"])])


def seed_secret_name(seed: VaultSeed) -> str:
    """``vault-seed-<path with / as ->``; a path too long for a name keeps a hash of it."""
    short = seed.path.replace("/", "-")
    name = f"{SEED_PREFIX}{short}"
    if len(name) <= _MAX_NAME:
        return name
    digest = hashlib.sha256(seed.path.encode()).hexdigest()[:8]
    return f"{name[: _MAX_NAME - 9].rstrip('-')}-{digest}"


def _role(service_account: str, namespace: str, policy: str) -> dict[str, Any]:
    return {"service_accounts": [service_account], "namespaces": [namespace], "policies": [policy], "ttl": ROLE_TTL}


def _unique(applications: Sequence[ChildApplication]) -> None:
    """Two applications may not claim the same seed path, Secret or policy name."""
    seen: dict[str, str] = {}
    for app in applications:
        claims = [f"seed {s.path}" for s in app.seeds]
        claims += [f"secret {s.namespace}/{s.name}" for s in app.secrets]
        claims += [f"policy {p.name}" for p in app.vault_policies]
        for claim in claims:
            if claim in seen:
                raise ValueError(f"application {app.name}: {claim} is already declared by application {seen[claim]}")
            seen[claim] = app.name


def bootstrap_spec(applications: Sequence[ChildApplication], *, restore: bool) -> dict[str, Any]:
    """The spec.json document; ``restore`` adds the dr stack's restore role."""
    _unique(applications)
    reserved = {BOOTSTRAP, EXTERNAL_SECRETS, SNAPSHOT_POLICY, RESTORE_POLICY}
    synced_paths = [secret.path for app in applications for secret in app.secrets]
    policies: dict[str, str] = {
        EXTERNAL_SECRETS: external_secrets_policy(synced_paths),
        BOOTSTRAP: BOOTSTRAP_POLICY,
        SNAPSHOT_POLICY: SNAPSHOT_POLICY_HCL,
    }
    roles: dict[str, dict[str, Any]] = {
        EXTERNAL_SECRETS: _role(ESO_SERVICE_ACCOUNT, ESO_NAMESPACE, EXTERNAL_SECRETS),
        BOOTSTRAP: _role(BOOTSTRAP, NAMESPACE, BOOTSTRAP),
        SNAPSHOT_POLICY: _role(VAULT_BACKUP.name, BACKUP_NAMESPACE, SNAPSHOT_POLICY),
    }
    if restore:
        policies[RESTORE_POLICY] = RESTORE_POLICY_HCL
        roles[RESTORE_POLICY] = _role(VAULT_RESTORE.name, BACKUP_NAMESPACE, RESTORE_POLICY)
    tokens = []
    for app in applications:
        for vault_policy in app.vault_policies:
            if vault_policy.name in reserved:
                raise ValueError(f"application {app.name}: policy name {vault_policy.name!r} is the platform's own")
            policies[vault_policy.name] = application_policy(vault_policy.paths)
            tokens.append({"policy": vault_policy.name, "period": TOKEN_PERIOD, "path": vault_policy.token_path})
    seeds = [
        {"secret": seed_secret_name(seed), "path": seed.path, "keys": sorted(seed.data)}
        for app in applications
        for seed in app.seeds
    ]
    return {
        "kv_mount": VAULT_KV_MOUNT,
        "kubernetes_auth_mount": KUBERNETES_AUTH_MOUNT,
        "audit_file_path": AUDIT_FILE_PATH,
        "recovery": {"shares": RECOVERY_SHARES, "threshold": RECOVERY_THRESHOLD, "secret": RECOVERY_SECRET},
        "policies": policies,
        "roles": roles,
        "seeds": seeds,
        "tokens": tokens,
    }


def spec_json(spec: Mapping[str, Any]) -> str:
    return json.dumps(spec, indent=2, sort_keys=True) + "\n"


# The contract with the programs that talk to Vault (txbackup vault-bootstrap,
# vault-snapshot, vault-restore).
VAULT_ADDR = f"https://vault.{NAMESPACE}.svc:8200"
TLS_SECRET = "vault-server-tls"  # cert-manager's Secret: tls.crt, tls.key, ca.crt
CA_KEY = "ca.crt"
CA_MOUNT = "/etc/vault-tls"
CA_FILE = f"{CA_MOUNT}/{CA_KEY}"
# The CA certificate, copied into the backup namespace for the snapshot and restore jobs.
BACKUP_CA_SECRET = "vault-ca"


def vault_client_env(role: str) -> dict[str, str]:
    """Where Vault is, how to trust it and which Kubernetes auth role to log in with."""
    return {
        "VAULT_ADDR": VAULT_ADDR,
        "VAULT_CACERT": CA_FILE,
        "VAULT_AUTH_ROLE": role,
        "VAULT_AUTH_MOUNT": KUBERNETES_AUTH_MOUNT,
    }
