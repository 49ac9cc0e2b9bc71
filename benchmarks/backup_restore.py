"""Benchmark (not a test): the streaming backup and restore against the floor and the playbook.

On one generated data set of at least 1 GB (the platform's databases, ``edc`` the
large one) on a local PostgreSQL server, in one run:
  floor      ``pg_dump -Fc > /dev/null`` of each database: the dump alone, nothing stored
  playbook   "Backup Strategy" 1: ``pg_dumpall`` and a plain ``pg_dump`` of each database to
             files, ``tar -czf``, then upload of the archive (as ``aws s3 cp`` does)
  txbackup   ``python3 -m txbackup database``: streamed multipart uploads, SHA-256, re-read
             verification, row counts, manifest
and for restore: ``pg_restore --single-transaction`` of local dump files (the restore floor)
against ``python3 -m txbackup restore`` (checksum pass, then a streamed restore). S3 is a
moto server on loopback on the same machine, so the upload costs CPU here, not network.

Run: ``make benchmark`` (or ``.venv/bin/python -m benchmarks.backup_restore --gib 1``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import IO

from tests.support.postgres_server import DATABASES, PostgresServer, load_databases, start_server
from tests.support.s3_server import AwsApi, aws_api

REPOSITORY = Path(__file__).resolve().parent.parent
# Rows of the two typed tables and 8 KiB blobs of random bytes in edc per --gib; calibrated
# so that --gib 1 gives a little over 1 GiB of databases in all.
ROWS_PER_GIB = 1_550_000
BLOBS_PER_GIB = 38_000


def timed(label: str, results: dict[str, float], action: Callable[[], None]) -> None:
    print(f"… {label}", file=sys.stderr, flush=True)
    start = time.perf_counter()
    action()
    results[label] = time.perf_counter() - start
    print(f"  {results[label]:.1f} s", file=sys.stderr, flush=True)


def sh(command: list[str], env: dict[str, str], stdout: IO[bytes] | None = None) -> None:
    subprocess.run(command, check=True, env=env, stdout=stdout, cwd=REPOSITORY)


def generate(server: PostgresServer, gib: float) -> int:
    load_databases(server, rows=20_000, blobs=200, blob_kib=8, databases=("tractus_x",))
    load_databases(
        server,
        rows=int(ROWS_PER_GIB * gib),
        blobs=int(BLOBS_PER_GIB * gib),
        blob_kib=8,
        databases=("edc",),
    )
    with server.connect() as conn:
        conn.execute("CHECKPOINT")
        row = conn.execute(
            "SELECT sum(pg_database_size(datname)) FROM pg_database WHERE datname = ANY(%s)", (list(DATABASES),)
        ).fetchone()
    assert row is not None
    return int(row[0])


@dataclass(frozen=True)
class Results:
    database_bytes: int
    backup_seconds: dict[str, float]
    restore_seconds: dict[str, float]


def run(gib: float, out: Path) -> Results:
    server = start_server(settings={"shared_buffers": "256MB", "max_wal_size": "4GB"})
    work = Path(tempfile.mkdtemp(prefix="txbackup-bench-"))
    try:
        with aws_api() as aws:
            return _measure(server, aws, gib, work, out)
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


def _measure(server: PostgresServer, aws: AwsApi, gib: float, work: Path, out: Path) -> Results:
    print(f"generating {gib} GiB of data …", file=sys.stderr, flush=True)
    size = generate(server, gib)
    print(f"databases: {size / 2**30:.2f} GiB", file=sys.stderr, flush=True)
    env = {**os.environ, **server.env(), **aws.env(), "DATABASES": ",".join(DATABASES), "PYTHONPATH": str(REPOSITORY)}
    backup: dict[str, float] = {}
    restore: dict[str, float] = {}

    def floor() -> None:
        for database in DATABASES:
            with open(os.devnull, "wb") as null:
                sh(["pg_dump", "-Fc", "-w", f"--dbname={database}"], env, stdout=null)

    def playbook() -> None:
        directory = work / "playbook" / "backup"
        directory.mkdir(parents=True)
        with open(directory / "postgresql_all.sql", "wb") as file:
            sh(["pg_dumpall", "-w"], env, stdout=file)
        for database in DATABASES:
            with open(directory / f"{database}.sql", "wb") as file:
                sh(["pg_dump", "-w", f"--dbname={database}"], env, stdout=file)
        archive = work / "playbook" / "backup.tar.gz"
        sh(["tar", "-czf", str(archive), "-C", str(directory.parent), directory.name], env)
        shutil.rmtree(directory)
        aws.client("s3").upload_file(str(archive), aws.bucket, "playbook/backup.tar.gz")
        archive.unlink()

    def txbackup_database() -> None:
        sh([sys.executable, "-m", "txbackup", "database"], env)

    timed("floor: pg_dump -Fc > /dev/null", backup, floor)
    timed("playbook: dump files, tar.gz, upload", backup, playbook)
    timed("txbackup database (streamed, verified)", backup, txbackup_database)

    dumps = work / "dumps"
    dumps.mkdir()
    for database in DATABASES:
        sh(["pg_dump", "-Fc", "-w", f"--dbname={database}", f"--file={dumps / database}.dump"], env)

    def restore_floor() -> None:
        for database in DATABASES:
            sh(["createdb", "-w", f"floor_{database}"], env)
            sh(["pg_restore", "-w", "--single-transaction", "--exit-on-error", f"--dbname=floor_{database}",
                str(dumps / f"{database}.dump")], env)  # fmt: skip

    def txbackup_restore() -> None:
        for database in DATABASES:
            sh([sys.executable, "-m", "txbackup", "restore", "--backup-id", "latest", "--database", database,
                "--target-database", f"restored_{database}"], env)  # fmt: skip

    timed("floor: pg_restore of local dump files", restore, restore_floor)
    timed("txbackup restore (verify, then stream)", restore, txbackup_restore)

    results = Results(size, backup, restore)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(asdict(results), indent=2))
    return results


def table(results: Results) -> str:
    lines = [f"Data: {results.database_bytes / 2**30:.2f} GiB in {len(DATABASES)} databases"]
    for kind, timings in (("backup", results.backup_seconds), ("restore", results.restore_seconds)):
        base = next(iter(timings.values()))
        lines += ["", f"| {kind} | seconds | vs. floor |", "|---|---:|---:|"]
        lines += [f"| {label} | {seconds:.1f} | {seconds / base:.2f}x |" for label, seconds in timings.items()]
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--gib", type=float, default=1.0, help="size of the large database (default 1)")
    parser.add_argument("--out", type=Path, default=REPOSITORY / "build" / "benchmark" / "backup_restore.json")
    args = parser.parse_args()
    print(table(run(args.gib, args.out)))


if __name__ == "__main__":
    main()
