"""A real, throwaway PostgreSQL server on loopback (Debian's package), and the platform's
databases filled with data of several types; shared by the tests and the benchmark."""

from __future__ import annotations

import os
import pwd
import secrets
import shutil
import socket
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg import sql

DATABASES = ("tractus_x", "edc")
SUPERUSER = "postgres"

# One schema per database besides public, tables covering text, bytea, jsonb, numeric,
# timestamptz, arrays, NULLs, and a large-ish table of incompressible bytes.
_SCHEMA = """
CREATE SCHEMA app;
CREATE TABLE app.assets (
    id bigserial PRIMARY KEY,
    name text NOT NULL,
    attributes jsonb,
    price numeric(20, 6),
    created timestamptz NOT NULL,
    tags text[],
    digest bytea,
    note text
);
CREATE TABLE public.events (id integer PRIMARY KEY, at timestamptz, kind text, payload jsonb, amounts numeric[]);
CREATE TABLE public.blobs (id integer PRIMARY KEY, chunk bytea NOT NULL);
CREATE VIEW app.expensive_assets AS SELECT id, name FROM app.assets WHERE price > 500;
CREATE INDEX assets_created ON app.assets (created);
"""
_DATA = """
INSERT INTO app.assets (name, attributes, price, created, tags, digest, note)
SELECT 'asset ' || i || ' ' || %(db)s,
       CASE WHEN i %% 7 = 0 THEN NULL ELSE jsonb_build_object('i', i, 'even', i %% 2 = 0, 'name', 'näme ' || i) END,
       CASE WHEN i %% 11 = 0 THEN NULL ELSE (i * 1.234567)::numeric(20, 6) END,
       timestamptz '2026-01-01 00:00:00+00' + i * interval '37 minutes',
       ARRAY['tag' || (i %% 5), 'tag' || (i %% 3)],
       decode(md5(i::text), 'hex'),
       CASE WHEN i %% 3 = 0 THEN NULL ELSE repeat('x', i %% 200) || E'\\n''quoted'' \\\\ tab\\t' END
  FROM generate_series(1, %(rows)s) AS i;
INSERT INTO public.events
SELECT i, timestamptz '2026-06-01 12:00:00+02' + i * interval '1 second', 'kind' || (i %% 4),
       jsonb_build_object('seq', i, 'list', jsonb_build_array(i, i * 2, NULL)),
       ARRAY[i::numeric / 3, NULL, 1e20]
  FROM generate_series(1, %(rows)s) AS i;
INSERT INTO public.blobs
SELECT b, decode(string_agg(md5(b::text || ':' || k::text || %(db)s), '' ORDER BY k), 'hex')
  FROM generate_series(1, %(blobs)s) AS b, generate_series(1, %(blob_md5s)s) AS k
 GROUP BY b;
"""


@dataclass
class PostgresServer:
    root: Path
    port: int
    password: str
    bindir: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def env(self, **overrides: str) -> dict[str, str]:
        """The libpq environment the CronJobs get (TLS is off on this loopback test server)."""
        values = {
            "PGHOST": "127.0.0.1",
            "PGPORT": str(self.port),
            "PGUSER": SUPERUSER,
            "PGPASSWORD": self.password,
            "PGDATABASE": "postgres",
            "PGSSLMODE": "disable",
        }
        values.update(overrides)
        return values

    def connect(self, dbname: str = "postgres", autocommit: bool = True) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user=SUPERUSER,
            password=self.password,
            dbname=dbname,
            autocommit=autocommit,
            sslmode="disable",
        )

    def databases(self) -> list[str]:
        with self.connect() as conn:
            rows = conn.execute("SELECT datname FROM pg_database WHERE NOT datistemplate ORDER BY 1").fetchall()
        return [str(row[0]) for row in rows]

    def drop(self, name: str) -> None:
        with self.connect() as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))

    def stop(self) -> None:
        """Stops the server and deletes its directory (data, log): nothing is left behind."""
        try:
            _as_owner([str(self.bindir / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop"])
        finally:
            shutil.rmtree(self.root, ignore_errors=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def find_bindir() -> Path:
    candidates = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parent.parent.name), reverse=True
    )
    if not candidates:
        raise RuntimeError("no PostgreSQL server found: install the Debian package 'postgresql' (system-packages.txt)")
    return candidates[0].parent


def _owner() -> pwd.struct_passwd | None:
    """initdb refuses to run as root: as root, the server runs as the 'postgres' user."""
    return pwd.getpwnam("postgres") if os.geteuid() == 0 else None


def _as_owner(command: list[str]) -> None:
    owner = _owner()
    subprocess.run(
        command,
        check=True,
        capture_output=True,
        user=owner.pw_uid if owner else None,
        group=owner.pw_gid if owner else None,
        cwd="/",
    )


def start_server(settings: dict[str, str] | None = None, parent: str | None = None) -> PostgresServer:
    """Starts a server in a new directory under ``parent`` (default: the system's temp dir,
    which the 'postgres' user can reach, unlike pytest's private temp dirs)."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="txbackup-pg-", dir=parent))
    owner = _owner()
    if owner:
        os.chown(root, owner.pw_uid, owner.pw_gid)
        root.chmod(0o700)
    password = secrets.token_urlsafe(18)
    pwfile = root / "pwfile"
    pwfile.write_text(password)
    if owner:
        os.chown(pwfile, owner.pw_uid, owner.pw_gid)
    server = PostgresServer(root=root, port=free_port(), password=password, bindir=bindir)
    _as_owner(
        [
            str(bindir / "initdb"),
            "-D",
            str(server.data),
            "-U",
            SUPERUSER,
            "--auth=scram-sha-256",
            f"--pwfile={pwfile}",
            "--encoding=UTF8",
            "--locale=C.UTF-8",
        ]
    )
    pwfile.unlink()
    options = {
        "listen_addresses": "127.0.0.1",
        "port": str(server.port),
        "unix_socket_directories": str(root),
        "fsync": "off",
        "full_page_writes": "off",
        **(settings or {}),
    }
    flags = " ".join(f"-c {key}={value}" for key, value in options.items())
    _as_owner(
        [str(bindir / "pg_ctl"), "-D", str(server.data), "-l", str(root / "server.log"), "-o", flags, "-w", "start"]
    )
    return server


def load_databases(
    server: PostgresServer,
    rows: int = 2000,
    blobs: int = 800,
    blob_kib: int = 8,
    databases: tuple[str, ...] = DATABASES,
) -> None:
    """Creates databases (default: the platform's), each owned by its own role, and fills
    them: ``rows`` rows in each of two tables, ``blobs`` rows of ``blob_kib`` KiB of random bytes."""
    with server.connect() as conn:
        for database in databases:
            owner = f"{database}_owner"
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN PASSWORD {}").format(
                    sql.Identifier(owner), sql.Literal(secrets.token_urlsafe(12))
                )
            )
            conn.execute(sql.SQL("CREATE DATABASE {} OWNER {}").format(sql.Identifier(database), sql.Identifier(owner)))
    for database in databases:
        with server.connect(database) as conn:
            conn.execute(sql.SQL("SET ROLE {}").format(sql.Identifier(f"{database}_owner")))
            conn.execute(_SCHEMA)
            params = {"db": database, "rows": rows, "blobs": blobs, "blob_md5s": blob_kib * 64}
            for statement in filter(str.strip, _DATA.split(";\n")):
                conn.execute(statement, params)
            conn.execute("RESET ROLE")
            conn.execute("ANALYZE")


def table_checksums(server: PostgresServer, database: str) -> dict[str, tuple[int, str]]:
    """Row count and md5 of all rows in a fixed order, per table: equal means identical."""
    result: dict[str, tuple[int, str]] = {}
    with server.connect(database) as conn:
        tables = conn.execute(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        ).fetchall()
        for schema, table in tables:
            query = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, E'\\n' ORDER BY t::text), '')) FROM {}.{} t"
            ).format(sql.Identifier(schema), sql.Identifier(table))
            row = conn.execute(query).fetchone()
            assert row is not None
            result[f"{schema}.{table}"] = (int(row[0]), str(row[1]))
    return result
