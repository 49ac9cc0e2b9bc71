"""The manifest of one backup: what it holds, with the size and SHA-256 of every object."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from txbackup.errors import BackupError
from txbackup.store import MANIFEST, BackupStore, StoredObject

FORMAT_VERSION = 1


def utc_now() -> datetime:
    return datetime.now(UTC)


def new_backup_id(now: datetime) -> str:
    """Sortable by time, so the newest complete backup is the greatest id."""
    return now.strftime("%Y%m%dT%H%M%SZ")


@dataclass(frozen=True)
class Entry:
    """One object of a backup; ``database`` names the database a dump belongs to."""

    name: str
    key: str
    size: int
    sha256: str
    database: str | None = None

    @classmethod
    def of(cls, name: str, stored: StoredObject, database: str | None = None) -> Entry:
        return cls(name=name, key=stored.key, size=stored.size, sha256=stored.sha256, database=database)

    def stored(self) -> StoredObject:
        return StoredObject(key=self.key, size=self.size, sha256=self.sha256)


@dataclass(frozen=True)
class Manifest:
    kind: str
    backup_id: str
    started_at: str
    completed_at: str
    objects: list[Entry]
    details: dict[str, Any] = field(default_factory=dict)
    format_version: int = FORMAT_VERSION

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, document: dict[str, Any], where: str) -> Manifest:
        try:
            if document["format_version"] != FORMAT_VERSION:
                raise BackupError(f"{where}: manifest format {document['format_version']} is not supported")
            objects = [Entry(**entry) for entry in document["objects"]]
            return cls(
                kind=str(document["kind"]),
                backup_id=str(document["backup_id"]),
                started_at=str(document["started_at"]),
                completed_at=str(document["completed_at"]),
                objects=objects,
                details=dict(document.get("details", {})),
            )
        except (KeyError, TypeError) as error:
            raise BackupError(f"{where}: malformed manifest ({error})") from None

    def object_for(self, database: str) -> Entry:
        for entry in self.objects:
            if entry.database == database:
                return entry
        known = ", ".join(sorted(self.databases())) or "none"
        raise BackupError(f"backup {self.backup_id} has no database {database!r} (it has: {known})")

    def databases(self) -> list[str]:
        return [entry.database for entry in self.objects if entry.database]


def begin(store: BackupStore) -> tuple[str, datetime]:
    """A new backup id under ``store`` and its start time; refuses an id that is already complete."""
    started = utc_now()
    backup_id = new_backup_id(started)
    store.check_access()
    if store.manifest_exists(backup_id):
        raise BackupError(f"backup {backup_id} already exists under {store.url()}")
    return backup_id, started


def write_manifest(store: BackupStore, manifest: Manifest) -> None:
    """Writes the manifest: the last step of a backup, which makes it complete."""
    store.put_json(store.key(manifest.backup_id, MANIFEST), manifest.to_json())


def resolve(store: BackupStore, backup_id: str) -> Manifest:
    """The manifest of ``backup_id``, or of the newest complete backup for ``latest``."""
    store.check_access()
    if backup_id == "latest":
        complete = store.complete_backups()
        if not complete:
            raise BackupError(f"no complete backup under {store.url()}")
        backup_id = complete[-1]
    elif not store.manifest_exists(backup_id):
        raise BackupError(f"backup {backup_id!r} not found under {store.url()} (no complete backup with that id)")
    key = store.key(backup_id, MANIFEST)
    manifest = Manifest.from_json(store.get_json(key), store.url(key))
    if manifest.backup_id != backup_id:
        raise BackupError(f"{store.url(key)} belongs to backup {manifest.backup_id}, not {backup_id}")
    return manifest
