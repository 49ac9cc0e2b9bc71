"""Which KMS key decrypts a sealed backup (playbook "Disaster Recovery": the dr region
restores configuration and certificates while the primary region is down).

The backup key is a multi-Region key: its replica in the dr region has the same key id
(``mrk-...``) and key material, with the dr region in its ARN. The program decrypts with
the key configured for its region (BACKUP_KMS_KEY_ARN), never with the ARN a manifest
recorded, and refuses a configured key that is not the sealing key or a replica of it.
"""

from __future__ import annotations

import base64
from typing import Any

import pytest

from txbackup.envelope import ALGORITHM, Envelope, same_key
from txbackup.errors import BackupError

MRK = "mrk-1234abcd12ab34cd56ef1234567890ab"
PRIMARY = f"arn:aws:kms:eu-central-1:123456789012:key/{MRK}"
REPLICA = f"arn:aws:kms:eu-west-1:123456789012:key/{MRK}"


class RecordingKms:
    """Answers Decrypt with a fixed data key and records what it was asked."""

    def __init__(self) -> None:
        self.calls: list[dict[str, Any]] = []

    def decrypt(self, **kwargs: Any) -> dict[str, Any]:
        self.calls.append(kwargs)
        return {"Plaintext": bytes(32), "KeyId": kwargs["KeyId"]}


def header(kms_key_id: str = PRIMARY) -> dict[str, Any]:
    return {
        "algorithm": ALGORITHM,
        "kms_key_id": kms_key_id,
        "encrypted_data_key": base64.b64encode(b"encrypted-data-key").decode(),
        "encryption_context": {"tractusx-backup": "config/20261128T020000Z"},
    }


def test_a_replica_of_the_multi_region_backup_key_is_the_same_key() -> None:
    assert same_key(PRIMARY, REPLICA)
    assert same_key(REPLICA, PRIMARY)
    assert same_key(PRIMARY, PRIMARY)
    assert same_key(PRIMARY, MRK)


def test_another_key_or_another_account_is_not_the_sealing_key() -> None:
    assert not same_key(PRIMARY, "arn:aws:kms:eu-west-1:123456789012:key/mrk-ffff0000ffff0000ffff0000ffff0000")
    assert not same_key(PRIMARY, f"arn:aws:kms:eu-west-1:210987654321:key/{MRK}")
    single_region = "arn:aws:kms:eu-central-1:123456789012:key/0b7e2f4c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
    assert not same_key(single_region, REPLICA)


def test_dr_decrypts_with_its_configured_replica_not_the_recorded_primary_arn() -> None:
    kms = RecordingKms()
    envelope = Envelope.open(kms, header(PRIMARY), REPLICA)  # type: ignore[arg-type]
    assert kms.calls == [
        {
            "CiphertextBlob": b"encrypted-data-key",
            "EncryptionContext": {"tractusx-backup": "config/20261128T020000Z"},
            "KeyId": REPLICA,
        }
    ]
    # The record of which key sealed the backup is kept as it was.
    assert envelope.header()["kms_key_id"] == PRIMARY


def test_a_configured_key_that_cannot_have_sealed_the_backup_is_refused_before_kms() -> None:
    kms = RecordingKms()
    other = "arn:aws:kms:eu-west-1:123456789012:key/0b7e2f4c-1d2e-4f5a-8b9c-0d1e2f3a4b5c"
    with pytest.raises(BackupError, match="neither that key nor a multi-Region replica of it"):
        Envelope.open(kms, header(PRIMARY), other)  # type: ignore[arg-type]
    with pytest.raises(BackupError, match="is not a KMS key ARN"):
        Envelope.open(kms, header(PRIMARY), "arn:aws:kms:eu-west-1:123456789012:alias/tx-backup")  # type: ignore[arg-type]
    assert kms.calls == []
