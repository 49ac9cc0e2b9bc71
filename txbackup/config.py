"""``config``: playbook "Backup Strategy" 2, through the Kubernetes API.

Every listable resource type the API serves, both scopes, in each group's preferred
version: workloads, ConfigMaps, Secrets (sealed, see ``envelope``), PersistentVolumes and
claims, Ingresses, CRDs and every custom resource (Argo CD Applications and AppProjects,
cert-manager objects, ...) and Helm releases (Secrets of type ``helm.sh/release.v1``).
Events and the metrics APIs are left out: they are not configuration. One object,
``config/<id>/resources.jsonl.gz``, streamed; the manifest counts objects per type.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from txbackup.envelope import Envelope
from txbackup.kube import ApiResource, KubeClient
from txbackup.manifest import Entry, Manifest, begin, utc_now, write_manifest
from txbackup.records import gzip_json_lines, seal_secret
from txbackup.store import BackupStore

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

log = logging.getLogger(__name__)

PREFIX = "config"
RESOURCES = "resources.jsonl.gz"
SKIPPED_TYPES = frozenset({"events", "events.events.k8s.io"})
# Metrics, not configuration (metrics-server and KEDA serve them).
SKIPPED_GROUPS = frozenset({"metrics.k8s.io", "custom.metrics.k8s.io", "external.metrics.k8s.io"})
HELM_RELEASE = "helm.sh/release.v1"


def encryption_context(prefix: str, backup_id: str) -> dict[str, str]:
    return {"tractusx-backup": f"{prefix}/{backup_id}"}


def backup_config(store: BackupStore, kube: KubeClient, kms: KMSClient, key_arn: str) -> Manifest:
    backup_id, started = begin(store)
    resources = [r for r in kube.resources(SKIPPED_GROUPS) if str(r) not in SKIPPED_TYPES]
    envelope = Envelope.create(kms, key_arn, encryption_context(PREFIX, backup_id))
    counts: Counter[str] = Counter()
    helm_releases: list[dict[str, str]] = []

    def records() -> Iterator[dict[str, Any]]:
        for resource in resources:
            for item in kube.list(resource):
                counts[str(resource)] += 1
                yield _protected(resource, item, envelope, helm_releases)

    log.info("config backup %s: %d resource types", backup_id, len(resources))
    stored = store.upload_stream(store.key(backup_id, RESOURCES), gzip_json_lines(records()))
    store.verify(stored)
    manifest = Manifest(
        kind=PREFIX,
        backup_id=backup_id,
        started_at=started.isoformat(),
        completed_at=utc_now().isoformat(),
        objects=[Entry.of(RESOURCES, stored)],
        details={
            "encryption": envelope.header(),
            "resources": dict(sorted(counts.items())),
            "helm_releases": helm_releases,
        },
    )
    write_manifest(store, manifest)
    log.info("config backup %s complete: %d objects", backup_id, sum(counts.values()))
    return manifest


def _protected(
    resource: ApiResource, item: dict[str, Any], envelope: Envelope, helm_releases: list[dict[str, str]]
) -> dict[str, Any]:
    item.get("metadata", {}).pop("managedFields", None)
    if resource.group_version != "v1" or resource.name != "secrets":
        return item
    if item.get("type") == HELM_RELEASE:
        labels = item.get("metadata", {}).get("labels", {})
        helm_releases.append(
            {
                "namespace": item.get("metadata", {}).get("namespace", ""),
                "name": labels.get("name", ""),
                "revision": labels.get("version", ""),
                "status": labels.get("status", ""),
            }
        )
    return seal_secret(item, envelope)
