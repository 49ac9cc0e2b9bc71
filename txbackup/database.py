"""``database``: playbook "Backup Strategy" 1, streamed.

``pg_dumpall --globals-only`` (roles, tablespaces) and ``pg_dump -Fc`` of each database go
straight from the tool's stdout into S3 multipart uploads (no local copy), hashed on the
way. Each dump runs in a snapshot exported by a REPEATABLE READ transaction that also
counts the rows of every table, so the counts in the manifest are exactly what the dump
holds: the weekly restore test checks the restored tables against them.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict
from typing import Any

from psycopg import IsolationLevel

from txbackup import postgres
from txbackup.errors import BackupError
from txbackup.manifest import Entry, Manifest, begin, utc_now, write_manifest
from txbackup.store import BackupStore, StoredObject

log = logging.getLogger(__name__)

PREFIX = "database"
GLOBALS = "globals.sql"
MAINTENANCE_DATABASE = "postgres"

# RDS does not let its master user read pg_authid, so role passwords cannot be dumped
# (pg_dumpall reads pg_roles instead); restored roles get new passwords from the
# platform's password rotation.
GLOBALS_COMMAND = ["pg_dumpall", "--globals-only", "--no-role-passwords", "--no-password"]


def dump_file(database: str) -> str:
    return f"{database}.dump"


def backup_databases(store: BackupStore, databases: Sequence[str]) -> Manifest:
    """Backs up the globals and every database; writes the manifest only when all are verified."""
    with postgres.connect(MAINTENANCE_DATABASE) as conn:
        server_version = str(postgres.fetch_value(conn, "SHOW server_version"))
        infos = {}
        for database in databases:
            info = postgres.database_info(conn, database)
            if info is None:
                raise BackupError(f"database {database!r} does not exist on {postgres.server()}")
            infos[database] = info
    backup_id, started = begin(store)
    log.info("backup %s of %s to %s", backup_id, ", ".join(databases), store.url())

    entries: list[Entry] = []
    with postgres.dump_stream(GLOBALS_COMMAND, "pg_dumpall --globals-only") as chunks:
        entries.append(Entry.of(GLOBALS, store.upload_stream(store.key(backup_id, GLOBALS), chunks)))
    tables: dict[str, dict[str, int]] = {}
    for database in databases:
        stored, tables[database] = _dump_database(store, backup_id, database)
        entries.append(Entry.of(dump_file(database), stored, database=database))
        log.info("dumped %s: %d bytes, %d tables", database, stored.size, len(tables[database]))

    for entry in entries:
        store.verify(entry.stored())
    details: dict[str, Any] = {
        "server_version": server_version,
        "databases": {name: asdict(info) for name, info in infos.items()},
        "tables": tables,
    }
    manifest = Manifest(
        kind=PREFIX,
        backup_id=backup_id,
        started_at=started.isoformat(),
        completed_at=utc_now().isoformat(),
        objects=entries,
        details=details,
    )
    write_manifest(store, manifest)
    log.info("backup %s complete: %d objects verified", backup_id, len(entries))
    return manifest


def _dump_database(store: BackupStore, backup_id: str, database: str) -> tuple[StoredObject, dict[str, int]]:
    with postgres.connect(database, autocommit=False) as conn:
        conn.isolation_level = IsolationLevel.REPEATABLE_READ
        conn.read_only = True
        snapshot = str(postgres.fetch_value(conn, "SELECT pg_export_snapshot()"))
        counts = postgres.table_row_counts(conn)
        command = ["pg_dump", "--format=custom", "--no-password", f"--snapshot={snapshot}", f"--dbname={database}"]
        with postgres.dump_stream(command, f"pg_dump of {database}") as chunks:
            stored = store.upload_stream(store.key(backup_id, dump_file(database)), chunks)
        conn.rollback()
    return stored, counts
