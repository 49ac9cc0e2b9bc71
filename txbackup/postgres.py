"""PostgreSQL: connections (libpq reads PGHOST, PGPORT, PGUSER, PGPASSWORD, PGSSLMODE, ...),
the client tools run as streaming subprocesses, and the catalogue queries the jobs need."""

from __future__ import annotations

import os
import re
import subprocess
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import IO, Any

import psycopg
from psycopg import sql

from txbackup.errors import BackupError
from txbackup.store import read_chunks

DATABASE_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
STDERR_TAIL = 4096

Connection = psycopg.Connection[tuple[Any, ...]]

# Relations, schemas and functions outside the system schemas: any of them makes a
# database "not empty" for a restore.
_USER_OBJECTS = """
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_namespace
         WHERE nspname NOT IN ('public', 'pg_catalog', 'information_schema') AND nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
"""
_TABLES = """
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
 WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
   AND n.nspname NOT LIKE 'pg\\_%'
 ORDER BY 1, 2
"""


def database_names(value: str, variable: str) -> list[str]:
    names = [name.strip() for name in value.split(",") if name.strip()]
    if not names:
        raise BackupError(f"{variable} is empty: give the databases to back up, comma-separated")
    for name in names:
        if not DATABASE_NAME.match(name):
            raise BackupError(f"{variable}: {name!r} is not a plain database name ([a-z_][a-z0-9_]*)")
    return names


def server() -> str:
    host = os.environ.get("PGHOST", "localhost")
    return f"{os.environ.get('PGUSER', 'postgres')}@{host}:{os.environ.get('PGPORT', '5432')}"


def connect(dbname: str, autocommit: bool = True) -> Connection:
    """A connection from the libpq environment; a failure is one line naming server and cause."""
    try:
        return psycopg.connect(dbname=dbname, autocommit=autocommit, connect_timeout=15)
    except psycopg.OperationalError as error:
        detail = " ".join(str(error).split())
        raise BackupError(f"cannot connect to PostgreSQL database {dbname!r} as {server()}: {detail}") from None


def fetch_value(conn: Connection, query: sql.Composed | str) -> Any:
    row = conn.execute(query).fetchone()
    if row is None:
        raise BackupError(f"query returned no row: {query}")
    return row[0]


@dataclass(frozen=True)
class DatabaseInfo:
    owner: str
    encoding: str
    collate: str
    ctype: str


def database_info(conn: Connection, name: str) -> DatabaseInfo | None:
    row = conn.execute(
        "SELECT pg_get_userbyid(datdba), pg_encoding_to_char(encoding), datcollate, datctype"
        " FROM pg_database WHERE datname = %s",
        (name,),
    ).fetchone()
    return None if row is None else DatabaseInfo(*(str(value) for value in row))


def role_exists(conn: Connection, role: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone() is not None


def user_object_count(conn: Connection) -> int:
    return int(str(fetch_value(conn, _USER_OBJECTS)))


def table_row_counts(conn: Connection) -> dict[str, int]:
    """Exact row counts of every user table (``schema.table``), in the connection's snapshot."""
    counts: dict[str, int] = {}
    for schema, table in conn.execute(_TABLES).fetchall():
        query = sql.SQL("SELECT count(*) FROM {}.{}").format(sql.Identifier(str(schema)), sql.Identifier(str(table)))
        counts[f"{schema}.{table}"] = int(str(fetch_value(conn, query)))
    return counts


def create_database(conn: Connection, name: str, like: DatabaseInfo | None, *, with_owner: bool = True) -> None:
    """Creates ``name`` with the encoding and locale recorded at backup time, and its owner
    when ``with_owner`` and the role exists (otherwise the connected user owns it)."""
    if like is None:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return
    owner = like.owner if with_owner and role_exists(conn, like.owner) else None
    query = sql.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING {} LC_COLLATE {} LC_CTYPE {}").format(
        sql.Identifier(name), sql.Literal(like.encoding), sql.Literal(like.collate), sql.Literal(like.ctype)
    )
    if owner:
        query = sql.SQL("{} OWNER {}").format(query, sql.Identifier(owner))
    conn.execute(query)


def drop_database(conn: Connection, name: str) -> None:
    conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def _tail(stream: IO[bytes]) -> str:
    stream.seek(0, os.SEEK_END)
    stream.seek(max(0, stream.tell() - STDERR_TAIL))
    lines = [line.strip() for line in stream.read().decode(errors="replace").splitlines() if line.strip()]
    return lines[-1] if lines else "no error output"


@contextmanager
def dump_stream(command: list[str], what: str) -> Iterator[Iterator[bytes]]:
    """Runs a dump tool and yields its stdout as chunks.

    The chunks end with a ``BackupError`` when the tool exits non-zero, so the upload that
    consumes them aborts instead of completing. Leaving the block early kills the tool.
    """
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=stderr, stdin=subprocess.DEVNULL)
        assert process.stdout is not None

        def chunks() -> Iterator[bytes]:
            assert process.stdout is not None
            yield from read_chunks(process.stdout)
            if process.wait() != 0:
                raise BackupError(f"{what} failed (exit {process.returncode}): {_tail(stderr)}")

        try:
            yield chunks()
        finally:
            if process.poll() is None:
                process.kill()
            process.stdout.close()
            process.wait()


def restore_stream(command: list[str], chunks: Iterable[bytes], what: str) -> None:
    """Feeds ``chunks`` to a restore tool's stdin; a non-zero exit is a ``BackupError``."""
    with tempfile.TemporaryFile() as stderr:
        process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=stderr)
        assert process.stdin is not None
        try:
            for chunk in chunks:
                process.stdin.write(chunk)
            process.stdin.close()
        except BrokenPipeError:
            pass  # the tool stopped reading: its exit status and stderr say why
        except BaseException:
            process.kill()
            process.wait()
            raise
        finally:
            if not process.stdin.closed:
                with suppress(BrokenPipeError):
                    process.stdin.close()
        if process.wait() != 0:
            raise BackupError(f"{what} failed (exit {process.returncode}): {_tail(stderr)}")
