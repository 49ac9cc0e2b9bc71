"""``restore`` and ``restore-test``: playbook "Disaster Recovery" and "Weekly Tasks" 3.

Restore semantics, chosen so that a restore never half-changes anything:
- every object of the backup that will be used is re-read and checked against the SHA-256
  and size in the manifest BEFORE any database is touched; a mismatch stops the restore;
- a target database that does not exist is created (owner, encoding and locale as at
  backup time); an existing one that holds any user object is refused unless ``--clean``
  is given, which drops and recreates the objects of the dump (objects not in the dump stay);
- ``pg_restore`` runs as one transaction (``--single-transaction --exit-on-error``): it
  either restores everything or nothing; a database the restore created is dropped again
  when the restore fails;
- each dump is streamed from S3 a second time for the restore, pinned to the version
  that was verified (``If-Match`` on its ETag) and hashed again on the way.
Role definitions (``globals.sql``) are kept in every backup but not applied: the platform
creates the roles, and ``pg_restore`` needs them to exist to restore ownership.
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from txbackup import postgres
from txbackup.database import MAINTENANCE_DATABASE
from txbackup.errors import BackupError
from txbackup.manifest import Entry, Manifest, resolve
from txbackup.store import BackupStore

log = logging.getLogger(__name__)

RESTORE_TEST_PREFIX = "restore_test_"


@dataclass(frozen=True)
class RestorePlan:
    database: str
    target: str
    entry: Entry
    etag: str


def checked_stream(stream: Iterator[bytes], entry: Entry, url: str) -> Iterator[bytes]:
    digest = hashlib.sha256()
    for chunk in stream:
        digest.update(chunk)
        yield chunk
    if digest.hexdigest() != entry.sha256:
        raise BackupError(f"{url} changed while it was restored: SHA-256 {digest.hexdigest()}, expected {entry.sha256}")


def verify_backup(store: BackupStore, manifest: Manifest, databases: Sequence[str]) -> dict[str, str]:
    """Checks every dump to restore against the manifest; returns the verified ETags."""
    etags = {}
    for database in databases:
        entry = manifest.object_for(database)
        etags[database] = store.verify(entry.stored())
        log.info("verified %s (%d bytes, sha256 %s)", store.url(entry.key), entry.size, entry.sha256)
    return etags


def restore(
    store: BackupStore,
    backup_id: str,
    databases: Sequence[str] = (),
    *,
    target: str | None = None,
    clean: bool = False,
    keep_owner: bool = True,
) -> Manifest:
    """Restores databases of a backup; see the module docstring for the semantics."""
    manifest = resolve(store, backup_id)
    selected = list(databases) or manifest.databases()
    if target is not None and len(selected) != 1:
        raise BackupError("--target-database needs exactly one --database")
    for database in selected:
        manifest.object_for(database)
    targets = {database: target or database for database in selected}
    for name in targets.values():
        if not postgres.DATABASE_NAME.match(name):
            raise BackupError(f"target database {name!r} is not a plain database name ([a-z_][a-z0-9_]*)")

    with postgres.connect(MAINTENANCE_DATABASE) as conn:
        for name in targets.values():
            if postgres.database_info(conn, name) is None:
                continue
            with postgres.connect(name) as target_conn:
                objects = postgres.user_object_count(target_conn)
            if objects and not clean:
                raise BackupError(
                    f"target database {name!r} is not empty ({objects} objects); "
                    "restore into a new database with --target-database, or replace its objects with --clean"
                )
        etags = verify_backup(store, manifest, selected)
        for database, name in targets.items():
            plan = RestorePlan(database, name, manifest.object_for(database), etags[database])
            _restore_one(conn, store, manifest, plan, clean=clean, keep_owner=keep_owner)
    return manifest


def _restore_one(
    conn: postgres.Connection,
    store: BackupStore,
    manifest: Manifest,
    plan: RestorePlan,
    *,
    clean: bool,
    keep_owner: bool,
) -> None:
    created = False
    if postgres.database_info(conn, plan.target) is None:
        recorded = manifest.details.get("databases", {}).get(plan.database)
        like = postgres.DatabaseInfo(**recorded) if recorded else None
        postgres.create_database(conn, plan.target, like, with_owner=keep_owner)
        created = True
    command = ["pg_restore", "--no-password", "--single-transaction", "--exit-on-error", f"--dbname={plan.target}"]
    if clean:
        command += ["--clean", "--if-exists"]
    if not keep_owner:
        command += ["--no-owner"]
    url = store.url(plan.entry.key)
    log.info("restoring %s into database %s", url, plan.target)
    try:
        stream = checked_stream(store.read(plan.entry.key, etag=plan.etag), plan.entry, url)
        postgres.restore_stream(command, stream, f"pg_restore of {url} into {plan.target}")
    except BaseException:
        if created:
            postgres.drop_database(conn, plan.target)
        raise
    log.info("restored %s into %s", plan.database, plan.target)


def restore_test(store: BackupStore, databases: Sequence[str]) -> Manifest:
    """Restores the latest complete backup into scratch databases and checks every table.

    Checks: the backup has every database in ``databases``; each restores; the restored
    tables are exactly the tables counted at backup time, with the same row counts.
    The scratch databases ``restore_test_<db>`` are dropped whatever the outcome.
    """
    manifest = resolve(store, "latest")
    log.info("restore test of backup %s (completed %s)", manifest.backup_id, manifest.completed_at)
    missing = [database for database in databases if database not in manifest.databases()]
    if missing:
        raise BackupError(f"restore test: backup {manifest.backup_id} lacks database(s) {', '.join(missing)}")
    recorded: dict[str, dict[str, int]] = manifest.details.get("tables", {})
    failures: list[str] = []
    with postgres.connect(MAINTENANCE_DATABASE) as conn:
        etags = verify_backup(store, manifest, databases)
        for database in databases:
            scratch = f"{RESTORE_TEST_PREFIX}{database}"[:63]
            postgres.drop_database(conn, scratch)
            try:
                plan = RestorePlan(database, scratch, manifest.object_for(database), etags[database])
                # Without owners: the scratch copy needs no membership in the owner roles.
                _restore_one(conn, store, manifest, plan, clean=False, keep_owner=False)
                with postgres.connect(scratch) as scratch_conn:
                    counts = postgres.table_row_counts(scratch_conn)
                failures += _compare(database, recorded.get(database), counts)
            except BackupError as error:
                failures.append(f"{database}: {error}")
            finally:
                postgres.drop_database(conn, scratch)
    if failures:
        raise BackupError(f"restore test of backup {manifest.backup_id} failed: " + "; ".join(failures))
    total = sum(len(recorded.get(database, {})) for database in databases)
    log.info("restore test of backup %s passed: %d databases, %d tables", manifest.backup_id, len(databases), total)
    return manifest


def _compare(database: str, expected: dict[str, int] | None, actual: dict[str, int]) -> list[str]:
    if expected is None:
        return [f"{database}: the manifest has no table counts"]
    problems = [f"{database}: table {table} missing after restore" for table in sorted(set(expected) - set(actual))]
    problems += [f"{database}: unexpected table {table}" for table in sorted(set(actual) - set(expected))]
    problems += [
        f"{database}: {table} has {actual[table]} rows, the backup recorded {rows}"
        for table, rows in sorted(expected.items())
        if table in actual and actual[table] != rows
    ]
    return problems
