"""What a Tractus-X application needs from the platform, as data.

A product component (the EDC connector, the portal, the identity provider) describes its
Argo CD Application and the secrets it needs as a ``ChildApplication``. The gitops
component renders the Applications under the root Application; the secrets component
writes the program's secret values into Vault and has External Secrets make the
Kubernetes Secrets the application reads. Neither side imports the other, and no secret
value is ever part of an Application: only the names of Secrets and Vault paths are.

Vault paths are paths in the KV version 2 engine (mount ``VAULT_KV_MOUNT``), written
without the mount and without ``data/``: ``tractus-x/edc/connector/database``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pulumi

from components.charts import Chart

VAULT_KV_MOUNT = "secret"

_VAULT_PATH = re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?(/[a-z0-9]([a-z0-9-]*[a-z0-9])?)*$")
_K8S_NAME = re.compile(r"^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")
_SECRET_KEY = re.compile(r"^[-._a-zA-Z0-9]+$")


def _check_path(path: str, what: str) -> None:
    if not _VAULT_PATH.match(path):
        raise ValueError(f"{what}: {path!r} is not a Vault KV path (lower-case segments separated by '/')")


def _check_name(name: str, what: str) -> None:
    if not _K8S_NAME.match(name):
        raise ValueError(f"{what}: {name!r} is not a Kubernetes object name (DNS-1123 label)")


@dataclass(frozen=True)
class VaultSeed:
    """Values the program owns (generated passwords, credentials from encrypted config),
    written into Vault at ``path``. Each value is a secret Output."""

    path: str
    data: Mapping[str, pulumi.Input[str]]

    def __post_init__(self) -> None:
        _check_path(self.path, "vault seed")
        if not self.data:
            raise ValueError(f"vault seed {self.path}: no values")
        for key in self.data:
            if not _SECRET_KEY.match(key):
                raise ValueError(f"vault seed {self.path}: {key!r} is not a valid property name")


@dataclass(frozen=True)
class SyncedSecret:
    """A Kubernetes Secret ``name`` in ``namespace`` that External Secrets makes from the
    Vault path ``path``: ``keys`` maps each key of the Secret to a property at the path."""

    name: str
    namespace: str
    path: str
    keys: Mapping[str, str]
    # The chart renders a Secret of this name itself, filling every value it is not given
    # with a random one at each render (Helm's randAlphaNum; `lookup` finds nothing under
    # Argo CD), and its workloads read that name. External Secrets then creates the Secret
    # with the Vault values or merges them into the chart's (ExternalSecret target
    # creationPolicy CreateOrMerge) instead of owning it, and Argo CD leaves its data to it
    # (ignoreDifferences on /data and /stringData with the RespectIgnoreDifferences sync
    # option), so a sync neither fights External Secrets nor rotates the values.
    chart_renders: bool = False

    def __post_init__(self) -> None:
        _check_name(self.name, "synced secret")
        _check_name(self.namespace, f"synced secret {self.name}")
        _check_path(self.path, f"synced secret {self.name}")
        if not self.keys:
            raise ValueError(f"synced secret {self.name}: no keys")
        for key in self.keys:
            if not _SECRET_KEY.match(key):
                raise ValueError(f"synced secret {self.name}: {key!r} is not a valid Secret key")


@dataclass(frozen=True)
class VaultPolicy:
    """A workload that uses Vault itself (the connector keeps its keys and tokens there).

    The policy ``name`` grants create, read, update, delete and list on ``paths`` (and
    below) and nothing else. A periodic, renewable token with this one policy is minted
    once and kept at ``token_path`` (property ``token``), so a ``SyncedSecret`` hands it
    to the workload."""

    name: str
    paths: Sequence[str]
    token_path: str

    def __post_init__(self) -> None:
        _check_name(self.name, "vault policy")
        if not self.paths:
            raise ValueError(f"vault policy {self.name}: no paths")
        for path in self.paths:
            _check_path(path, f"vault policy {self.name}")
        _check_path(self.token_path, f"vault policy {self.name}")


@dataclass(frozen=True)
class ChildApplication:
    """One Argo CD Application under the root Application.

    ``values`` are the chart's Helm values: names of Secrets and Vault paths, never a
    secret value. ``scaled_deployments`` are Deployments whose replicas KEDA owns: Argo CD
    ignores their ``spec.replicas``. ``sync_wave`` orders the children within a sync.
    """

    name: str
    project: str
    namespace: str
    chart: Chart
    release: str
    values: pulumi.Input[Mapping[str, Any]]
    sync_wave: int = 0
    scaled_deployments: Sequence[str] = ()
    seeds: Sequence[VaultSeed] = ()
    secrets: Sequence[SyncedSecret] = ()
    vault_policies: Sequence[VaultPolicy] = ()
    labels: Mapping[str, str] = field(default_factory=dict)
    # Argo CD applies the chart with server-side apply, which refuses an object with two
    # entries of one key in a keyed list (env, ports, volumes...). A chart that renders
    # such an object is applied client-side instead, with the reason here; the plan
    # reports the reason as stale once the chart renders nothing server-side apply refuses.
    client_side_apply_reason: str = ""

    @property
    def server_side_apply(self) -> bool:
        return not self.client_side_apply_reason

    @property
    def chart_rendered_secrets(self) -> tuple[str, ...]:
        """The Secrets the chart renders and External Secrets fills (``chart_renders``):
        Argo CD must leave their data alone."""
        return tuple(secret.name for secret in self.secrets if secret.chart_renders)

    def __post_init__(self) -> None:
        _check_name(self.name, "application")
        _check_name(self.project, f"application {self.name}")
        _check_name(self.namespace, f"application {self.name}")
        _check_name(self.release, f"application {self.name}")
        for secret in self.secrets:
            if secret.namespace != self.namespace:
                raise ValueError(
                    f"application {self.name}: secret {secret.name} is in {secret.namespace}, "
                    f"not in the application's namespace {self.namespace}"
                )
