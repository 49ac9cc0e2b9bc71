"""database-init: the Job's SQL run for real with psql against a PostgreSQL server.

The master user here is, as on RDS, not a superuser: it has CREATEROLE and CREATEDB only.
The server is Debian's (the major of system-packages.txt), RDS runs 17; the script uses
nothing that differs between them.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from components.database import DATABASES, MASTER_USERNAME, init_sql
from tests.support.postgres_server import PostgresServer, start_server

MASTER_PASSWORD = "master-Secret-1"


@pytest.fixture(scope="module")
def server() -> Iterator[PostgresServer]:
    started = start_server()
    with started.connect() as conn:
        conn.execute(f"CREATE ROLE {MASTER_USERNAME} LOGIN CREATEROLE CREATEDB PASSWORD '{MASTER_PASSWORD}'")
    yield started
    started.stop()


def psql(
    server: PostgresServer, *args: str, user: str, password: str, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    environment = server.env(PGUSER=user, PGPASSWORD=password, HOME="/tmp", **(env or {}))
    return subprocess.run(
        [str(server.bindir / "psql"), "--no-psqlrc", *args],
        env=environment,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )


def run_init(server: PostgresServer, tmp_path: Path, passwords: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "init.sql"
    script.write_text(init_sql())
    env = {spec.password_env: passwords[spec.name] for spec in DATABASES}
    return psql(server, f"--file={script}", user=MASTER_USERNAME, password=MASTER_PASSWORD, env=env)


def can_connect(server: PostgresServer, database: str, user: str, password: str) -> bool:
    result = psql(server, "-d", database, "-Atc", "SELECT current_user", user=user, password=password)
    return result.returncode == 0 and result.stdout.strip() == user


def test_init_creates_each_database_with_its_owner_and_is_idempotent(server: PostgresServer, tmp_path: Path) -> None:
    # A quote and a backslash prove the quoting, though generated passwords are alphanumeric.
    passwords = {spec.name: f"first-{spec.name}-'q\\" for spec in DATABASES}
    first = run_init(server, tmp_path, passwords)
    assert first.returncode == 0, first.stderr
    again = run_init(server, tmp_path, passwords)
    assert again.returncode == 0, again.stderr
    assert "CREATE DATABASE" not in again.stdout and "CREATE ROLE" not in again.stdout
    with server.connect() as conn:
        owners = dict(
            conn.execute(
                "SELECT datname, pg_get_userbyid(datdba) FROM pg_database WHERE datname = ANY(%s)",
                ([spec.name for spec in DATABASES],),
            ).fetchall()
        )
    assert owners == {spec.name: spec.owner for spec in DATABASES}
    for spec in DATABASES:
        assert can_connect(server, spec.name, spec.owner, passwords[spec.name])
    assert passwords["tractus_x"] not in first.stdout + first.stderr  # nothing echoed


def test_each_owner_reaches_only_its_own_database(server: PostgresServer, tmp_path: Path) -> None:
    passwords = {spec.name: f"isolation-{spec.name}" for spec in DATABASES}
    assert run_init(server, tmp_path, passwords).returncode == 0
    for spec in DATABASES:
        for other in DATABASES:
            if other is not spec:
                assert not can_connect(server, other.name, spec.owner, passwords[spec.name])


def test_a_rotated_password_replaces_the_old_one(server: PostgresServer, tmp_path: Path) -> None:
    old = {spec.name: f"old-{spec.name}" for spec in DATABASES}
    assert run_init(server, tmp_path, old).returncode == 0
    new = {**old, "edc": "rotated-edc"}
    assert run_init(server, tmp_path, new).returncode == 0
    assert can_connect(server, "edc", "edc_owner", "rotated-edc")
    assert not can_connect(server, "edc", "edc_owner", old["edc"])


def test_the_master_user_reads_the_owners_tables_for_the_backups(server: PostgresServer, tmp_path: Path) -> None:
    passwords = {spec.name: f"backup-{spec.name}" for spec in DATABASES}
    assert run_init(server, tmp_path, passwords).returncode == 0
    created = psql(
        server,
        "-d",
        "edc",
        "-c",
        "CREATE TABLE IF NOT EXISTS contracts (id int); INSERT INTO contracts VALUES (7)",
        user="edc_owner",
        password=passwords["edc"],
    )
    assert created.returncode == 0, created.stderr
    read = psql(
        server,
        "-d",
        "edc",
        "-Atc",
        "SELECT count(*) FROM contracts",
        user=MASTER_USERNAME,
        password=MASTER_PASSWORD,
    )
    assert read.returncode == 0, read.stderr
    assert int(read.stdout) >= 1


def test_a_missing_password_stops_the_script(server: PostgresServer, tmp_path: Path) -> None:
    script = tmp_path / "init.sql"
    script.write_text(init_sql())
    result = psql(server, f"--file={script}", user=MASTER_USERNAME, password=MASTER_PASSWORD)
    assert result.returncode != 0
    assert "syntax error" in result.stderr
