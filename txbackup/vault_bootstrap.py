"""``vault-bootstrap``: brings Vault to the state the platform's spec describes; safe to re-run.

The Job of the secrets component runs it after every change of its spec (ConfigMap
``vault-bootstrap``, key ``spec.json``) or of a seed Secret. Environment: VAULT_ADDR,
VAULT_CACERT, VAULT_AUTH_ROLE, VAULT_AUTH_MOUNT, BOOTSTRAP_SPEC, SEED_DIR, POD_NAMESPACE.

1. Waits (bounded) until Vault answers, and reads the Secret ``recovery.secret`` of
   POD_NAMESPACE, whose annotation ``tractusx-platform/vault-bootstrap`` records how far
   the first bootstrap got: ``reserved`` (created empty before ``init``), ``initialised``
   (holds the recovery keys; Vault not configured yet) or ``complete``.
2. Not initialised: reserves the Secret (an existing one with keys stops the run before
   ``init``: they are an earlier Vault's), initialises Vault with recovery keys (the KMS
   seal unseals it, so there are no unseal keys), writes the keys into the reserved Secret
   before anything else, and waits until the node is unsealed and active. The root token
   of ``init`` serves this run only.
   Initialised, first bootstrap unfinished (``initialised``): generates a root token for
   this run from the stored recovery keys (sys/generate-root), so a run that failed or was
   killed at any step after ``init`` is finished by the next one.
   Initialised otherwise: logs in through Kubernetes auth with VAULT_AUTH_ROLE.
3. Ensures, changing only what differs: the file audit device, the KV v2 mount, Kubernetes
   auth and its configuration, every policy and role, every seed (a new KV version only
   when the values differ) and every periodic token (kept while it still looks up with
   its policy and period).
4. With a root token: revokes every other root token (those of runs that were killed
   before they could revoke theirs), then its own; only then marks the Secret
   ``complete``, so no root token exists anywhere afterwards and a later run logs in
   through the Kubernetes auth this run configured. A run that fails revokes its token.

The one window no program can close is between Vault's answer to ``init`` and the write of
the keys: Vault returns the recovery keys once, in that answer (Vault API docs,
sys/init). The Secret is created before ``init`` so that this write is an update of an
object the run has just proven it can write. A Vault initialised while its Secret is still
``reserved`` lost its keys: the run stops and says so.
Values of seeds, tokens and recovery keys are never logged.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from txbackup.errors import BackupError
from txbackup.kube import KubeClient
from txbackup.vault import VaultClient, VaultError, duration_seconds

log = logging.getLogger(__name__)

# Vault resolves kubernetes.default.svc from its own pod. With no CA certificate and no
# reviewer JWT in the configuration, Vault reads both from its pod's ServiceAccount files
# at every TokenReview (disable_local_ca_jwt false). Nothing cluster-specific is stored,
# so a raft snapshot restored into another cluster (the dr stack's) validates that
# cluster's ServiceAccount tokens without any change.
KUBERNETES_HOST = "https://kubernetes.default.svc"
AUDIT_DEVICE = "file"
RECOVERY_KEY_ATTEMPTS = 5
RECOVERY_KEY_BACKOFF_SECONDS = 2.0
# The annotation of the recovery-key Secret that records the first bootstrap's progress.
PROGRESS = "tractusx-platform/vault-bootstrap"
RESERVED, INITIALISED, COMPLETE = "reserved", "initialised", "complete"
# "Not initialised" must be the answer this many more times before the bootstrap runs init.
UNINITIALISED_CONFIRMATIONS = 5
_NAME = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?$")
_PATH = re.compile(r"^[a-z0-9]([a-z0-9_-]*[a-z0-9])?(/[a-z0-9]([a-z0-9_-]*[a-z0-9])?)*$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


@dataclass(frozen=True)
class Recovery:
    shares: int
    threshold: int
    secret: str


@dataclass(frozen=True)
class Role:
    service_accounts: list[str]
    namespaces: list[str]
    policies: list[str]
    ttl: str


@dataclass(frozen=True)
class Seed:
    secret: str
    path: str
    keys: list[str]


@dataclass(frozen=True)
class PeriodicToken:
    policy: str
    period: str
    path: str


@dataclass(frozen=True)
class Spec:
    kv_mount: str
    kubernetes_auth_mount: str
    audit_file_path: str
    recovery: Recovery
    policies: dict[str, str] = field(default_factory=dict)
    roles: dict[str, Role] = field(default_factory=dict)
    seeds: list[Seed] = field(default_factory=list)
    tokens: list[PeriodicToken] = field(default_factory=list)


class _Fields:
    """Typed access to one JSON object of the spec; errors name the field."""

    def __init__(self, document: Any, where: str) -> None:
        if not isinstance(document, dict):
            raise BackupError(f"{where} is not a JSON object")
        self.document = document
        self.where = where

    def _get(self, key: str, kind: type, kind_name: str) -> Any:
        if key not in self.document:
            raise BackupError(f"{self.where}.{key} is missing")
        value = self.document[key]
        if not isinstance(value, kind) or isinstance(value, bool):
            raise BackupError(f"{self.where}.{key} must be {kind_name}")
        return value

    def text(self, key: str, pattern: re.Pattern[str] | None = None) -> str:
        value: str = self._get(key, str, "a string")
        if not value or (pattern is not None and not pattern.match(value)):
            raise BackupError(f"{self.where}.{key}: {value!r} is not a valid name or path")
        return value

    def number(self, key: str) -> int:
        value: int = self._get(key, int, "an integer")
        return value

    def names(self, key: str, pattern: re.Pattern[str]) -> list[str]:
        values = self._get(key, list, "a list of strings")
        if not values or not all(isinstance(value, str) and (value == "*" or pattern.match(value)) for value in values):
            raise BackupError(f"{self.where}.{key} must be a non-empty list of names")
        return list(values)

    def child(self, key: str) -> _Fields:
        return _Fields(self._get(key, dict, "an object"), f"{self.where}.{key}")

    def items(self, key: str) -> list[_Fields]:
        values = self._get(key, list, "a list")
        return [_Fields(value, f"{self.where}.{key}[{index}]") for index, value in enumerate(values)]


def parse_spec(document: Any, where: str = "spec") -> Spec:
    top = _Fields(document, where)
    recovery_fields = top.child("recovery")
    recovery = Recovery(
        shares=recovery_fields.number("shares"),
        threshold=recovery_fields.number("threshold"),
        secret=recovery_fields.text("secret", _NAME),
    )
    if not 1 <= recovery.threshold <= recovery.shares:
        raise BackupError(f"{where}.recovery: threshold must be between 1 and shares ({recovery.shares})")
    policies_fields = top.child("policies")
    policies: dict[str, str] = {}
    for name in policies_fields.document:
        if not _NAME.match(name) or name in ("root", "default"):
            raise BackupError(f"{where}.policies: {name!r} is not a policy name the platform may write")
        policies[name] = policies_fields.text(name)
    roles_fields = top.child("roles")
    roles = {}
    for name in roles_fields.document:
        if not _NAME.match(name):
            raise BackupError(f"{where}.roles: {name!r} is not a role name")
        role = roles_fields.child(name)
        roles[name] = Role(
            service_accounts=role.names("service_accounts", _NAME),
            namespaces=role.names("namespaces", _NAME),
            policies=role.names("policies", _NAME),
            ttl=role.text("ttl"),
        )
        duration_seconds(roles[name].ttl, f"{where}.roles.{name}.ttl")
    seeds = [
        Seed(secret=seed.text("secret", _NAME), path=seed.text("path", _PATH), keys=seed.names("keys", _SECRET_KEY))
        for seed in top.items("seeds")
    ]
    tokens = []
    for entry in top.items("tokens"):
        token = PeriodicToken(
            policy=entry.text("policy", _NAME), period=entry.text("period"), path=entry.text("path", _PATH)
        )
        duration_seconds(token.period, f"{entry.where}.period")
        if token.policy not in policies:
            raise BackupError(f"{entry.where}.policy: {token.policy!r} is not one of the spec's policies")
        tokens.append(token)
    audit_file_path = top.text("audit_file_path")
    if not audit_file_path.startswith("/"):
        raise BackupError(f"{where}.audit_file_path must be an absolute path")
    return Spec(
        kv_mount=top.text("kv_mount", _NAME),
        kubernetes_auth_mount=top.text("kubernetes_auth_mount", _NAME),
        audit_file_path=audit_file_path,
        recovery=recovery,
        policies=policies,
        roles=roles,
        seeds=seeds,
        tokens=tokens,
    )


def load_spec(path: Path) -> Spec:
    try:
        document = json.loads(path.read_text())
    except OSError as error:
        raise BackupError(f"cannot read the bootstrap spec BOOTSTRAP_SPEC={path}: {error}") from None
    except ValueError as error:
        raise BackupError(f"bootstrap spec {path} is not valid JSON: {error}") from None
    return parse_spec(document, f"bootstrap spec {path}")


def _progress(secret: dict[str, Any] | None) -> str | None:
    """How far the first bootstrap got, from the recovery-key Secret (None: no Secret)."""
    if secret is None:
        return None
    # A Secret written before the progress was recorded holds keys of a finished bootstrap.
    return str(((secret.get("metadata") or {}).get("annotations") or {}).get(PROGRESS, COMPLETE))


def _recovery_keys(secret: dict[str, Any] | None) -> list[str]:
    data = (secret or {}).get("data") or {}
    keys = [base64.b64decode(data[name]).decode() for name in sorted(data) if name.startswith("recovery-key-")]
    if not keys:
        raise BackupError("the recovery-key Secret records an initialised Vault but holds no keys")
    return keys


@dataclass
class Bootstrap:
    vault: VaultClient
    spec: Spec
    seed_dir: Path
    auth_role: str
    login: Callable[[], None]
    kube: Callable[[], KubeClient]
    namespace: str
    changes: list[str] = field(default_factory=list)

    def run(self) -> list[str]:
        if self.auth_role not in self.spec.roles:
            # Without it, no later run could log in once the root token is revoked.
            raise BackupError(f"the bootstrap spec has no role {self.auth_role!r} (VAULT_AUTH_ROLE) to log in with")
        health = self.vault.wait_until_answering()
        uninitialised = not health.initialized and self._uninitialised_everywhere()
        kube = self.kube()
        recovery = kube.get(self._recovery_path())
        progress = _progress(recovery)
        as_root = uninitialised or progress == INITIALISED
        try:
            if uninitialised:
                self._initialise(kube, recovery)
            else:
                if progress == RESERVED:
                    raise BackupError(
                        f"Vault is initialised but Secret {self.namespace}/{self.spec.recovery.secret} never "
                        "received its recovery keys (the answer to init was lost, or Vault was initialised by "
                        "hand): without them no root token can be made; keep the Secret, restore Vault's raft "
                        "volumes from a snapshot or delete them, then run again"
                    )
                if not health.active:
                    self.vault.wait_until_active()
                if as_root:
                    self._generate_root(_recovery_keys(recovery))
                else:
                    self.login()
            self._configure()
            if as_root:
                self._revoke_other_roots()
        except BaseException:
            self._revoke(failing=True)
            raise
        self._revoke(failing=False)
        if as_root:
            self._store_progress(kube, COMPLETE)
        log.info("vault bootstrap complete: %d changes", len(self.changes))
        return self.changes

    def _uninitialised_everywhere(self) -> bool:
        """Asks again before ``init``: the Service spreads requests over the raft pods, and a
        pod that has just started (a replaced node, a lost volume) answers "not initialised"
        until it joins. Initialising that pod would start a second, empty Vault."""
        return self.vault.stays_uninitialised(UNINITIALISED_CONFIRMATIONS)

    def _revoke(self, *, failing: bool) -> None:
        try:
            self.vault.revoke_self()
        except BackupError as error:
            if not failing:
                raise BackupError(f"could not revoke this run's token: {error}") from None
            log.warning("could not revoke this run's token: %s", error)

    def _change(self, message: str) -> None:
        self.changes.append(message)
        log.info("%s", message)

    # -- init ----------------------------------------------------------------------------

    def _recovery_path(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/secrets/{self.spec.recovery.secret}"

    def _initialise(self, kube: KubeClient, existing: dict[str, Any] | None) -> None:
        recovery = self.spec.recovery
        if existing is not None and (_progress(existing) != RESERVED or existing.get("data")):
            raise BackupError(
                f"Vault is not initialised but Secret {self.namespace}/{recovery.secret} exists: it holds the "
                "recovery keys of an earlier Vault; keep a copy elsewhere and delete it, then run again"
            )
        # Reserved before init: the keys' write right after init is then an update of an
        # object this run has just written, not its first contact with the API.
        reserved = existing or kube.create(
            f"/api/v1/namespaces/{self.namespace}/secrets", self._recovery_secret(RESERVED, {})
        )
        answer = self.vault.request(
            "PUT", "sys/init", {"recovery_shares": recovery.shares, "recovery_threshold": recovery.threshold}
        )
        answer = answer or {}
        root_token = answer.get("root_token")
        keys = answer.get("recovery_keys_base64")
        if not isinstance(root_token, str) or not isinstance(keys, list) or len(keys) != recovery.shares:
            raise BackupError("Vault init: the answer has no root token or not the expected recovery keys")
        self.vault.use_token(root_token)
        data = {
            f"recovery-key-{number}": base64.b64encode(str(key).encode()).decode()
            for number, key in enumerate(keys, start=1)
        }
        self._store_keys(kube, reserved, data)
        self._change(
            f"initialised Vault ({recovery.shares} recovery keys, threshold {recovery.threshold}); "
            f"recovery keys stored in Secret {self.namespace}/{recovery.secret}"
        )
        self.vault.wait_until_active()

    def _recovery_secret(self, progress: str, data: dict[str, str]) -> dict[str, Any]:
        recovery = self.spec.recovery
        return {
            "apiVersion": "v1",
            "kind": "Secret",
            "type": "Opaque",
            "metadata": {
                "name": recovery.secret,
                "namespace": self.namespace,
                "labels": {"app.kubernetes.io/part-of": "vault-bootstrap"},
                "annotations": {"vault.hashicorp.com/recovery-threshold": str(recovery.threshold), PROGRESS: progress},
            },
            "data": data,
        }

    def _store_keys(self, kube: KubeClient, reserved: dict[str, Any], data: dict[str, str]) -> None:
        """Writes the keys into the reserved Secret: first at once (no request between init's
        answer and this write), then retrying, each retry reading the Secret again, so an
        update that was applied but whose answer was lost is recognised, not repeated."""
        current: dict[str, Any] | None = reserved
        for attempt in range(1, RECOVERY_KEY_ATTEMPTS + 1):
            try:
                if attempt > 1:
                    current = kube.get(self._recovery_path())
                if current is not None and current.get("data") == data:
                    return
                if current is None or _progress(current) != RESERVED or current.get("data"):
                    raise BackupError("it is no longer the empty Secret this run reserved")
                secret = self._recovery_secret(INITIALISED, data)
                secret["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
                kube.update(self._recovery_path(), secret)
                return
            except BackupError as error:
                if attempt == RECOVERY_KEY_ATTEMPTS:
                    raise BackupError(
                        f"Vault was initialised but its recovery keys could not be stored in Secret "
                        f"{self.namespace}/{self.spec.recovery.secret}: {error}"
                    ) from None
                time.sleep(RECOVERY_KEY_BACKOFF_SECONDS * attempt)

    def _store_progress(self, kube: KubeClient, progress: str) -> None:
        current = kube.get(self._recovery_path())
        if current is None:
            raise BackupError(f"Secret {self.namespace}/{self.spec.recovery.secret} disappeared during the bootstrap")
        current["metadata"].setdefault("annotations", {})[PROGRESS] = progress
        kube.update(self._recovery_path(), current)
        log.info("Secret %s/%s: first bootstrap %s", self.namespace, self.spec.recovery.secret, progress)

    # -- root tokens ----------------------------------------------------------------------

    def _generate_root(self, keys: list[str]) -> None:
        """A root token for this run from the recovery keys (Vault API docs, sys/generate-root):
        an attempt left by a killed run is cancelled (its OTP died with it), a new one is
        started, key shares are given until Vault completes it, and the token is decoded as
        Vault's sdk/helper/roottoken DecodeToken does: base64 without padding, XOR the OTP."""
        log.info("the first bootstrap did not finish: generating a root token from the recovery keys")
        if (self.vault.request("GET", "sys/generate-root/attempt") or {}).get("started"):
            self.vault.request("DELETE", "sys/generate-root/attempt")
        attempt = self.vault.request("POST", "sys/generate-root/attempt", {}) or {}
        nonce, otp = attempt.get("nonce"), attempt.get("otp")
        if not isinstance(nonce, str) or not isinstance(otp, str) or not otp:
            raise BackupError("Vault sys/generate-root/attempt: the answer has no nonce or OTP")
        encoded = None
        for key in keys:
            answer = self.vault.request("POST", "sys/generate-root/update", {"key": key, "nonce": nonce}) or {}
            if answer.get("complete"):
                encoded = answer.get("encoded_token")
                break
        if not isinstance(encoded, str) or not encoded:
            raise BackupError("Vault sys/generate-root: the stored recovery keys did not complete the attempt")
        raw = base64.b64decode(encoded + "=" * (-len(encoded) % 4))
        if len(raw) != len(otp):
            raise BackupError("Vault sys/generate-root: the encoded token does not match the OTP's length")
        self.vault.use_token(bytes(a ^ b for a, b in zip(raw, otp.encode(), strict=True)).decode())

    def _revoke_other_roots(self) -> None:
        """Revokes every root token but this run's: a run killed before its end leaves its
        own (from init or generate-root) alive, and root tokens never expire."""
        own = ((self.vault.request("GET", "auth/token/lookup-self") or {}).get("data") or {}).get("accessor")
        listed = ((self.vault.request("LIST", "auth/token/accessors") or {}).get("data") or {}).get("keys") or []
        roots = []
        for accessor in sorted(str(a) for a in listed if a != own):
            info = self.vault.request("POST", "auth/token/lookup-accessor", {"accessor": accessor}) or {}
            if "root" in ((info.get("data") or {}).get("policies") or []):
                roots.append(accessor)
        for accessor in roots:
            self.vault.request("POST", "auth/token/revoke-accessor", {"accessor": accessor})
            self._change("revoked a root token an earlier run left")

    # -- configuration -------------------------------------------------------------------

    def _configure(self) -> None:
        self._audit()
        self._kv_mount()
        self._kubernetes_auth()
        for name, text in sorted(self.spec.policies.items()):
            self._policy(name, text)
        for name, role in sorted(self.spec.roles.items()):
            self._role(name, role)
        for seed in self.spec.seeds:
            self._seed(seed)
        for token in self.spec.tokens:
            self._token(token)

    @staticmethod
    def _table(answer: dict[str, Any] | None) -> dict[str, Any]:
        # sys/mounts, sys/auth and sys/audit answer with the table at the top level and in "data".
        answer = answer or {}
        data = answer.get("data")
        return dict(data) if isinstance(data, dict) else answer

    def _audit(self) -> None:
        path = self.spec.audit_file_path
        devices = self._table(self.vault.request("GET", "sys/audit"))
        for device in devices.values():
            if not isinstance(device, dict) or device.get("type") != "file":
                continue
            if (device.get("options") or {}).get("file_path") == path:
                return
        if f"{AUDIT_DEVICE}/" in devices:
            raise BackupError(
                f"the audit device {AUDIT_DEVICE}/ writes elsewhere than {path}; disable it (vault audit disable "
                f"{AUDIT_DEVICE}) to let the bootstrap enable it with the platform's path"
            )
        self.vault.request("PUT", f"sys/audit/{AUDIT_DEVICE}", {"type": "file", "options": {"file_path": path}})
        self._change(f"enabled the file audit device {AUDIT_DEVICE}/ ({path})")

    def _kv_mount(self) -> None:
        mount = self.spec.kv_mount
        existing = self._table(self.vault.request("GET", "sys/mounts")).get(f"{mount}/")
        if isinstance(existing, dict):
            version = str((existing.get("options") or {}).get("version", "1"))
            if existing.get("type") != "kv" or version != "2":
                raise BackupError(f"the mount {mount}/ is {existing.get('type')} version {version}, not kv version 2")
            return
        self.vault.request("POST", f"sys/mounts/{mount}", {"type": "kv", "options": {"version": "2"}})
        self._change(f"mounted the KV version 2 engine at {mount}/")

    def _kubernetes_auth(self) -> None:
        mount = self.spec.kubernetes_auth_mount
        existing = self._table(self.vault.request("GET", "sys/auth")).get(f"{mount}/")
        if isinstance(existing, dict):
            if existing.get("type") != "kubernetes":
                raise BackupError(f"the auth mount {mount}/ is {existing.get('type')}, not kubernetes")
        else:
            self.vault.request("POST", f"sys/auth/{mount}", {"type": "kubernetes"})
            self._change(f"enabled Kubernetes auth at auth/{mount}")
        config = (self.vault.request("GET", f"auth/{mount}/config", missing_ok=True) or {}).get("data") or {}
        wanted = {"kubernetes_host": KUBERNETES_HOST, "disable_local_ca_jwt": False}
        current = {
            "kubernetes_host": config.get("kubernetes_host"),
            "disable_local_ca_jwt": bool(config.get("disable_local_ca_jwt", False)),
        }
        if current != wanted or config.get("kubernetes_ca_cert") or config.get("token_reviewer_jwt_set"):
            self.vault.request("POST", f"auth/{mount}/config", wanted)
            self._change(f"configured auth/{mount} for {KUBERNETES_HOST} with Vault's own pod CA and token")

    def _policy(self, name: str, text: str) -> None:
        current = self.vault.request("GET", f"sys/policies/acl/{name}", missing_ok=True)
        if current is not None and (current.get("data") or {}).get("policy") == text:
            return
        self.vault.request("PUT", f"sys/policies/acl/{name}", {"policy": text})
        self._change(f"wrote policy {name}")

    def _role(self, name: str, role: Role) -> None:
        path = f"auth/{self.spec.kubernetes_auth_mount}/role/{name}"
        current = (self.vault.request("GET", path, missing_ok=True) or {}).get("data")
        ttl = duration_seconds(role.ttl, f"role {name} ttl")
        if isinstance(current, dict) and (
            sorted(current.get("bound_service_account_names") or []) == sorted(role.service_accounts)
            and sorted(current.get("bound_service_account_namespaces") or []) == sorted(role.namespaces)
            and sorted(current.get("token_policies") or []) == sorted(role.policies)
            and current.get("token_ttl") == ttl
        ):
            return
        self.vault.request(
            "POST",
            path,
            {
                "bound_service_account_names": role.service_accounts,
                "bound_service_account_namespaces": role.namespaces,
                "token_policies": role.policies,
                "token_ttl": role.ttl,
            },
        )
        self._change(f"wrote role {name} (auth/{self.spec.kubernetes_auth_mount})")

    # -- KV --------------------------------------------------------------------------------

    def _read_kv(self, path: str) -> tuple[dict[str, Any] | None, int]:
        """The current data at ``path`` and its version (None and 0 when there is none)."""
        answer = self.vault.request("GET", f"{self.spec.kv_mount}/data/{path}", missing_ok=True)
        data = (answer or {}).get("data") or {}
        version = int((data.get("metadata") or {}).get("version") or 0)
        values = data.get("data")
        return (dict(values) if isinstance(values, dict) else None), version

    def _write_kv(self, path: str, values: Mapping[str, str], version: int) -> None:
        # Check-and-set on the version read: a concurrent writer makes this run fail, not lose data.
        self.vault.request(
            "POST", f"{self.spec.kv_mount}/data/{path}", {"options": {"cas": version}, "data": dict(values)}
        )

    def _seed(self, seed: Seed) -> None:
        values = {}
        for key in seed.keys:
            file = self.seed_dir / seed.secret / key
            try:
                values[key] = file.read_text()
            except OSError as error:
                raise BackupError(
                    f"seed {seed.path}: cannot read {file} (Secret {seed.secret} key {key}): {error.strerror}"
                ) from None
        current, version = self._read_kv(seed.path)
        if current == values:
            return
        self._write_kv(seed.path, values, version)
        self._change(f"wrote seed {seed.path} from Secret {seed.secret} (version {version + 1})")

    def _token(self, entry: PeriodicToken) -> None:
        current, version = self._read_kv(entry.path)
        stored = (current or {}).get("token")
        if isinstance(stored, str) and stored and self._token_valid(stored, entry):
            return
        created = self.vault.request(
            "POST",
            "auth/token/create-orphan",
            {"policies": [entry.policy], "period": entry.period, "no_default_policy": True, "renewable": True},
        )
        token = ((created or {}).get("auth") or {}).get("client_token")
        if not isinstance(token, str) or not token:
            raise BackupError(f"Vault did not return a token for policy {entry.policy}")
        self._write_kv(entry.path, {"token": token}, version)
        self._change(f"created a periodic token ({entry.period}) for policy {entry.policy} at {entry.path}")

    def _token_valid(self, token: str, entry: PeriodicToken) -> bool:
        try:
            answer = self.vault.request("POST", "auth/token/lookup", {"token": token})
        except VaultError as error:
            # An expired, revoked or unknown token: Vault answers "bad token" (400 in old
            # versions, 403 in current ones). Any other error is a real failure.
            if error.status in (400, 403) and any("bad token" in e or "invalid token" in e for e in error.errors):
                log.info("the token at %s is no longer valid", entry.path)
                return False
            raise
        data = (answer or {}).get("data") or {}
        valid = (
            entry.policy in (data.get("policies") or [])
            and bool(data.get("renewable"))
            and data.get("period") == duration_seconds(entry.period, f"token {entry.path} period")
        )
        if not valid:
            log.info("the token at %s does not have policy %s with period %s", entry.path, entry.policy, entry.period)
        return valid
