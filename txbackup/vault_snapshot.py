"""``vault-snapshot`` and ``vault-restore``: raft snapshots of Vault in the backup bucket.

Vault's open-source edition has no cross-region replication: the dr stack restores the
primary's latest snapshot and unseals it with its replica of the primary's multi-Region
KMS key (same key material), playbook "Disaster Recovery".

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

from txbackup.errors import BackupError
from txbackup.manifest import Entry, Manifest, begin, resolve, utc_now, write_manifest
from txbackup.restore import checked_stream
from txbackup.store import BackupStore
from txbackup.vault import VaultClient

log = logging.getLogger(__name__)

PREFIX = "vault"
SNAPSHOT = "raft.snap"
SNAPSHOT_PATH = "sys/storage/raft/snapshot"
RESTORE_PATH = "sys/storage/raft/snapshot-force"


def backup_snapshot(store: BackupStore, vault: VaultClient, login: Callable[[], None]) -> Manifest:
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
        details={"vault_version": health.version, "cluster_name": health.cluster_name},
    )
    write_manifest(store, manifest)
    log.info("snapshot %s complete: %d bytes, sha256 %s", backup_id, stored.size, stored.sha256)
    return manifest


def restore_snapshot(store: BackupStore, vault: VaultClient, backup_id: str, login: Callable[[], None]) -> Manifest:
    manifest = resolve(store, backup_id)
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
    return manifest
