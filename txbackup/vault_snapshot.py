"""``vault-snapshot`` and ``vault-restore``: raft snapshots of Vault in the backup bucket.

Vault's open-source edition has no cross-region replication: the dr stack restores the
primary's latest snapshot and unseals it with its replica of the primary's multi-Region
KMS key (same key material), playbook "Disaster Recovery".

Both stacks' snapshots meet in the dr stack's bucket under ``vault/``: the primary's arrive
by S3 replication (which copies objects, manifests included, as they are), an activated
dr stack writes its own. Every manifest therefore records its ``origin``: the stack role
(STACK_ROLE), bucket and region that wrote it. A restore takes only a snapshot the primary
wrote into another bucket; ``latest`` is the newest of those, never a newer one of dr's.
A successful restore leaves a marker under ``vault/restored/``, and a dr stack's snapshot
job refuses to run until a marker names the primary's newest snapshot: before that, its
Vault is not the primary's data and a snapshot of it would be a backup of the wrong Vault.

- snapshot: ``GET /v1/sys/storage/raft/snapshot`` streamed straight into a multipart
  upload under ``vault/<backup id>/raft.snap`` (SHA-256 and size while streaming, no
  local copy), read back and verified, then ``manifest.json`` (the completeness marker),
  exactly like the database backups. A failure or SIGTERM aborts the upload.
- restore: the snapshot is re-read from S3 and checked against the manifest's SHA-256
  and size BEFORE Vault is contacted at all; only then ``POST
  /v1/sys/storage/raft/snapshot-force`` streams it (pinned to the verified version by
  ETag and hashed again), and the program waits until Vault is unsealed and active.
  A forced restore replaces everything, tokens included: this run's own token is gone
  afterwards, and the restored Vault holds the primary's recovery keys (kept in the
  primary's Secret ``vault-recovery-keys``, which the configuration backup seals).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from txbackup.errors import BackupError
from txbackup.manifest import Entry, Manifest, begin, new_backup_id, resolve, utc_now, write_manifest
from txbackup.restore import checked_stream
from txbackup.store import BackupStore
from txbackup.vault import VaultClient

log = logging.getLogger(__name__)

PREFIX = "vault"
SNAPSHOT = "raft.snap"
SNAPSHOT_PATH = "sys/storage/raft/snapshot"
RESTORE_PATH = "sys/storage/raft/snapshot-force"
PRIMARY, DR = "primary", "dr"
# ``vault/restored/<restore id>.json``: which snapshot a restore brought into this Vault.
RESTORED = "restored"


@dataclass(frozen=True)
class Origin:
    """Where a snapshot was written: the stack role, its bucket and region."""

    role: str
    bucket: str
    region: str

    def to_json(self) -> dict[str, str]:
        return {"role": self.role, "bucket": self.bucket, "region": self.region}

    @classmethod
    def of(cls, manifest: Manifest) -> Origin | None:
        origin: Any = manifest.details.get("origin")
        if not isinstance(origin, dict) or not all(
            isinstance(origin.get(k), str) for k in ("role", "bucket", "region")
        ):
            return None
        return cls(role=origin["role"], bucket=origin["bucket"], region=origin["region"])


def _primary_refusal(manifest: Manifest, store: BackupStore) -> str | None:
    """Why ``manifest`` is not a snapshot of the primary's Vault, or None when it is."""
    origin = Origin.of(manifest)
    if origin is None:
        return "its manifest does not record which stack wrote it"
    where = f"s3://{origin.bucket} ({origin.region})"
    if origin.bucket == store.bucket:
        return f"it was written by the {origin.role} stack into this bucket, {where}, not replicated from the primary"
    if origin.role != PRIMARY:
        return f"it was written by the {origin.role} stack into {where}, not by the primary"
    return None


def primary_snapshot(store: BackupStore, backup_id: str) -> Manifest:
    """The primary's snapshot ``backup_id``, or for ``latest`` the primary's newest one."""
    if backup_id != "latest":
        manifest = resolve(store, backup_id)
        if reason := _primary_refusal(manifest, store):
            raise BackupError(f"refusing to restore snapshot {backup_id}: {reason}")
        return manifest
    store.check_access()
    for candidate in reversed(store.complete_backups()):
        manifest = resolve(store, candidate)
        if (reason := _primary_refusal(manifest, store)) is None:
            return manifest
        log.info("skipping snapshot %s: %s", candidate, reason)
    raise BackupError(f"no complete snapshot written by the primary stack under {store.url()}")


def _restore_markers(store: BackupStore) -> list[str]:
    """Keys of the restore markers, oldest first (named by the restore's UTC time)."""
    return sorted(key for key in store.keys(f"{store.prefix}/{RESTORED}/") if key.endswith(".json"))


def require_restored(store: BackupStore) -> None:
    """On a dr stack: refuses unless this Vault is a restore of the primary's newest snapshot."""
    newest = primary_snapshot(store, "latest").backup_id
    markers = _restore_markers(store)
    restored = str(store.get_json(markers[-1]).get("backup_id", "")) if markers else None
    if restored is None or restored < newest:
        state = f"the last restore took {restored}" if restored else "no restore has run here"
        raise BackupError(
            f"this dr stack's Vault is not a restore of the primary's newest snapshot {newest} ({state}): "
            "run the restore-vault Job first (README, Disaster recovery); snapshots of this Vault start after it"
        )


def backup_snapshot(store: BackupStore, vault: VaultClient, login: Callable[[], None], origin: Origin) -> Manifest:
    if origin.role not in (PRIMARY, DR):
        raise BackupError(f"STACK_ROLE {origin.role!r} is neither {PRIMARY!r} nor {DR!r}")
    if origin.role == DR:
        require_restored(store)
    backup_id, started = begin(store)
    health = vault.wait_until_active()
    login()
    key = store.key(backup_id, SNAPSHOT)
    log.info("snapshot %s of Vault %s (%s) to %s", backup_id, health.cluster_name, health.version, store.url())
    with vault.stream(SNAPSHOT_PATH) as chunks:
        stored = store.upload_stream(key, chunks)
    if stored.size == 0:
        raise BackupError(f"Vault returned an empty snapshot; {store.url(key)} is not a backup")
    store.verify(stored)
    manifest = Manifest(
        kind=PREFIX,
        backup_id=backup_id,
        started_at=started.isoformat(),
        completed_at=utc_now().isoformat(),
        objects=[Entry.of(SNAPSHOT, stored)],
        details={
            "vault_version": health.version,
            "cluster_name": health.cluster_name,
            "origin": origin.to_json(),
        },
    )
    write_manifest(store, manifest)
    log.info("snapshot %s complete: %d bytes, sha256 %s", backup_id, stored.size, stored.sha256)
    return manifest


def restore_snapshot(store: BackupStore, vault: VaultClient, backup_id: str, login: Callable[[], None]) -> Manifest:
    manifest = primary_snapshot(store, backup_id)
    entries = [entry for entry in manifest.objects if entry.name == SNAPSHOT]
    if manifest.kind != PREFIX or len(entries) != 1:
        raise BackupError(f"backup {manifest.backup_id} under {store.url()} holds no Vault snapshot")
    entry = entries[0]
    url = store.url(entry.key)
    etag = store.verify(entry.stored())
    log.info("verified %s (%d bytes, sha256 %s)", url, entry.size, entry.sha256)

    vault.wait_until_active()
    login()
    log.info("restoring Vault from snapshot %s (taken %s)", manifest.backup_id, manifest.completed_at)
    vault.post_stream(RESTORE_PATH, checked_stream(store.read(entry.key, etag=etag), entry, url), entry.size)
    vault.use_token(None)  # the restored Vault does not know this run's token
    health = vault.wait_until_active()
    log.info("Vault restored from snapshot %s and %s", manifest.backup_id, health.describe())
    restored_at = utc_now()
    store.put_json(
        f"{store.prefix}/{RESTORED}/{new_backup_id(restored_at)}.json",
        {"backup_id": manifest.backup_id, "origin": manifest.details["origin"], "restored_at": restored_at.isoformat()},
    )
    return manifest
