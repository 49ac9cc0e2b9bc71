"""``secrets``: the Secrets of a config or certificate backup, decrypted, as a Kubernetes List.

For an operator restoring Secrets (``... secrets --from config --backup-id ID | kubectl
apply -f -``); it needs ``kms:Decrypt`` on BACKUP_KMS_KEY_ARN, which no backup job has. On
a dr stack that is the replica of the primary's multi-Region backup key. The
object is checked against its SHA-256 in the manifest before anything is decrypted.
"""

from __future__ import annotations

import json
from typing import IO, TYPE_CHECKING, Any

from txbackup.envelope import Envelope
from txbackup.errors import BackupError
from txbackup.manifest import resolve
from txbackup.records import read_json_lines, unseal_secret
from txbackup.store import BackupStore

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

# Set by the API server; an object that carries them cannot be applied to another cluster.
SERVER_FIELDS = ("uid", "resourceVersion", "creationTimestamp", "generation", "selfLink")


def export_secrets(store: BackupStore, kms: KMSClient, key_arn: str, backup_id: str, out: IO[str]) -> int:
    """Writes the decrypted Secrets of a backup to ``out``, decrypted with ``key_arn`` (the
    sealing key or its multi-Region replica in this region); returns how many."""
    manifest = resolve(store, backup_id)
    archives = [entry for entry in manifest.objects if entry.name.endswith(".jsonl.gz")]
    if len(archives) != 1 or "encryption" not in manifest.details:
        raise BackupError(f"backup {manifest.backup_id} under {store.url()} holds no sealed Secrets")
    etag = store.verify(archives[0].stored())
    envelope = Envelope.open(kms, manifest.details["encryption"], key_arn)
    items: list[dict[str, Any]] = []
    for record in read_json_lines(b"".join(store.read(archives[0].key, etag=etag))):
        if record.get("kind") == "Secret" and "sealed" in record:
            secret = unseal_secret(record, envelope)
            metadata = secret.get("metadata", {})
            for name in SERVER_FIELDS:
                metadata.pop(name, None)
            items.append(secret)
    json.dump({"apiVersion": "v1", "kind": "List", "items": items}, out, indent=2, sort_keys=True)
    out.write("\n")
    return len(items)
