"""``python3 -m txbackup <command>``: the entry point of the backup and restore-test CronJobs.

Configuration comes from the environment the CronJobs set (BACKUP_BUCKET,
BACKUP_KMS_KEY_ARN, AWS_REGION, DATABASES, the libpq PG* variables; for the Vault commands
VAULT_ADDR, VAULT_CACERT, VAULT_AUTH_ROLE, VAULT_AUTH_MOUNT, for the snapshot STACK_ROLE
(primary or dr) and for the bootstrap
BOOTSTRAP_SPEC, SEED_DIR, POD_NAMESPACE); AWS credentials from boto3's default chain
(IRSA in the cluster). Exit status: 0 success, 1 failure (one line
on stderr naming the problem), 2 bad usage.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import boto3
import psycopg
from botocore.config import Config

from txbackup import certificates, config, database, kube, restore, unseal, vault_snapshot
from txbackup.errors import BackupError
from txbackup.kube import KubeClient
from txbackup.postgres import database_names
from txbackup.store import BackupStore
from txbackup.vault import VaultClient
from txbackup.vault_bootstrap import Bootstrap, load_spec

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client

log = logging.getLogger("txbackup")

AWS_CONFIG = Config(retries={"max_attempts": 8, "mode": "standard"}, connect_timeout=10, read_timeout=120)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="txbackup", description=__doc__.splitlines()[0] if __doc__ else None)
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("database", help="pg_dumpall globals and pg_dump of each database in DATABASES")
    commands.add_parser("config", help="Kubernetes resources, Secrets sealed with BACKUP_KMS_KEY_ARN")
    commands.add_parser("certificates", help="TLS Secrets (sealed) and a certificate expiry report")
    commands.add_parser("restore-test", help="restore the latest database backup into scratch databases and check it")
    secrets_parser = commands.add_parser(
        "secrets",
        help="write the decrypted Secrets of a config or certificates backup to stdout (needs kms:Decrypt)",
    )
    secrets_parser.add_argument("--from", dest="source", choices=["config", "certificates"], required=True)
    secrets_parser.add_argument("--backup-id", required=True, help="a backup id (YYYYMMDDTHHMMSSZ) or 'latest'")
    restore_parser = commands.add_parser("restore", help="restore databases of a database backup")
    restore_parser.add_argument("--backup-id", required=True, help="a backup id (YYYYMMDDTHHMMSSZ) or 'latest'")
    restore_parser.add_argument(
        "--database", action="append", default=[], help="a database of the backup (repeatable; default: all)"
    )
    restore_parser.add_argument("--target-database", help="restore the one --database into this database instead")
    restore_parser.add_argument(
        "--clean", action="store_true", help="replace the dump's objects in a non-empty target database"
    )
    commands.add_parser("vault-bootstrap", help="initialise and configure Vault from BOOTSTRAP_SPEC (idempotent)")
    commands.add_parser("vault-snapshot", help="a raft snapshot of Vault, streamed to the backup bucket")
    vault_restore_parser = commands.add_parser(
        "vault-restore", help="verify a snapshot the primary stack wrote, then force-restore it into Vault"
    )
    vault_restore_parser.add_argument(
        "--backup-id", required=True, help="a backup id (YYYYMMDDTHHMMSSZ) of the primary's or 'latest' (its newest)"
    )
    return parser


def _require(environ: Mapping[str, str], name: str) -> str:
    value = environ.get(name, "").strip()
    if not value:
        raise BackupError(f"environment variable {name} is not set")
    return value


def _session(environ: Mapping[str, str]) -> boto3.session.Session:
    region = environ.get("AWS_REGION") or environ.get("AWS_DEFAULT_REGION")
    if not region:
        raise BackupError("environment variable AWS_REGION is not set")
    return boto3.session.Session(region_name=region)


def _store(environ: Mapping[str, str], prefix: str) -> BackupStore:
    s3: S3Client = _session(environ).client("s3", config=AWS_CONFIG)
    return BackupStore(s3, _require(environ, "BACKUP_BUCKET"), prefix)


def _kms(environ: Mapping[str, str]) -> KMSClient:
    kms: KMSClient = _session(environ).client("kms", config=AWS_CONFIG)
    return kms


def _vault_login(vault: VaultClient, environ: Mapping[str, str]) -> Callable[[], None]:
    """Logs in through Kubernetes auth with the pod's ServiceAccount token, when called."""
    role = _require(environ, "VAULT_AUTH_ROLE")
    mount = environ.get("VAULT_AUTH_MOUNT", "").strip() or "kubernetes"
    return lambda: vault.login_kubernetes(mount, role, kube.SERVICE_ACCOUNT_DIR)


def _run_vault(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    vault = VaultClient.from_env(environ)
    login = _vault_login(vault, environ)
    if args.command == "vault-bootstrap":
        spec = load_spec(Path(_require(environ, "BOOTSTRAP_SPEC")))
        Bootstrap(
            vault=vault,
            spec=spec,
            seed_dir=Path(_require(environ, "SEED_DIR")),
            auth_role=_require(environ, "VAULT_AUTH_ROLE"),
            login=login,
            kube=lambda: KubeClient.in_cluster(dict(environ)),
            namespace=_require(environ, "POD_NAMESPACE"),
        ).run()
    elif args.command == "vault-snapshot":
        store = _store(environ, vault_snapshot.PREFIX)
        origin = vault_snapshot.Origin(_require(environ, "STACK_ROLE"), store.bucket, _session(environ).region_name)
        vault_snapshot.backup_snapshot(store, vault, login, origin)
        vault.revoke_self()  # on a failure, the login token expires with its role's TTL
    elif args.command == "vault-restore":
        vault_snapshot.restore_snapshot(_store(environ, vault_snapshot.PREFIX), vault, args.backup_id, login)


def run(args: argparse.Namespace, environ: Mapping[str, str]) -> None:
    if args.command.startswith("vault-"):
        _run_vault(args, environ)
        return
    if args.command == "database":
        names = database_names(_require(environ, "DATABASES"), "DATABASES")
        database.backup_databases(_store(environ, database.PREFIX), names)
    elif args.command in ("config", "certificates"):
        key_arn = _require(environ, "BACKUP_KMS_KEY_ARN")
        store = _store(environ, args.command)
        kube = KubeClient.in_cluster(dict(environ))
        if args.command == "config":
            config.backup_config(store, kube, _kms(environ), key_arn)
        else:
            certificates.backup_certificates(store, kube, _kms(environ), key_arn)
    elif args.command == "restore":
        for name in [*args.database, *([args.target_database] if args.target_database else [])]:
            database_names(name, "--database/--target-database")
        restore.restore(
            _store(environ, database.PREFIX),
            args.backup_id,
            databases=args.database,
            target=args.target_database,
            clean=args.clean,
        )
    elif args.command == "secrets":
        key_arn = _require(environ, "BACKUP_KMS_KEY_ARN")
        count = unseal.export_secrets(_store(environ, args.source), _kms(environ), key_arn, args.backup_id, sys.stdout)
        log.info("wrote %d Secrets", count)
    elif args.command == "restore-test":
        names = database_names(_require(environ, "DATABASES"), "DATABASES")
        restore.restore_test(_store(environ, database.PREFIX), names)


def _terminate(signum: int, _frame: FrameType | None) -> None:
    # Unwinds through the upload's cleanup (abort of the multipart upload, kill of pg_dump).
    raise SystemExit(128 + signum)


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    logging.basicConfig(
        stream=sys.stderr, level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", force=True
    )
    signal.signal(signal.SIGTERM, _terminate)
    try:
        run(args, os.environ)
    except BackupError as error:
        print(f"txbackup {args.command}: {error}", file=sys.stderr)
        return 1
    except psycopg.Error as error:
        print(f"txbackup {args.command}: PostgreSQL error: {' '.join(str(error).split())}", file=sys.stderr)
        return 1
    return 0
