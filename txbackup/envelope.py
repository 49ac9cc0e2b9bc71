"""Envelope encryption of Secrets before they leave the process.

One data key per backup from KMS ``GenerateDataKey`` (AES-256) under BACKUP_KMS_KEY_ARN,
bound to the backup by the KMS encryption context; each Secret is sealed with AES-256-GCM
under a fresh 96-bit nonce, with its namespace/name as associated data, so a sealed record
cannot be swapped for another one unnoticed. Only the KMS-encrypted data key is stored
(in the manifest); decrypting needs ``kms:Decrypt`` on the key with the same context.

Decryption uses the key configured for the region the program runs in, not the key ARN
recorded in the manifest: the backup key is a multi-Region key, and a dr stack's
BACKUP_KMS_KEY_ARN is its replica there (same key id ``mrk-...``, another region in the
ARN), which decrypts what the primary encrypted while the primary's region is down.
"""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from txbackup.errors import BackupError

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

ALGORITHM = "AES-256-GCM"
NONCE_BYTES = 12


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def _account_and_key_id(key: str) -> tuple[str | None, str]:
    """``(account, key id)`` of a key ARN (``arn:aws:kms:<region>:<account>:key/<id>``) or a bare key id."""
    if key.startswith("arn:"):
        parts = key.split(":", 5)
        if len(parts) == 6 and parts[2] == "kms" and parts[5].startswith("key/"):
            return parts[4], parts[5].removeprefix("key/")
        raise BackupError(f"{key!r} is not a KMS key ARN (arn:<partition>:kms:<region>:<account>:key/<key id>)")
    return None, key


def same_key(recorded: str, configured: str) -> bool:
    """Whether ``configured`` is the key ``recorded`` names, in any region.

    A multi-Region key and its replicas share the key id (``mrk-...``) and the account;
    only the region in their ARNs differs. A single-Region key matches only itself, as its
    id is unique. An ARN and a bare key id match on the id.
    """
    recorded_account, recorded_id = _account_and_key_id(recorded)
    configured_account, configured_id = _account_and_key_id(configured)
    accounts_agree = recorded_account is None or configured_account is None or recorded_account == configured_account
    return accounts_agree and recorded_id == configured_id


@dataclass(frozen=True)
class Envelope:
    key_id: str
    encrypted_data_key: bytes
    context: dict[str, str]
    _cipher: AESGCM

    @classmethod
    def create(cls, kms: KMSClient, key_arn: str, context: dict[str, str]) -> Envelope:
        try:
            response = kms.generate_data_key(KeyId=key_arn, KeySpec="AES_256", EncryptionContext=context)
        except (ClientError, BotoCoreError) as error:
            raise BackupError(f"cannot get a data key from KMS key {key_arn}: {error}") from None
        return cls(response["KeyId"], response["CiphertextBlob"], dict(context), AESGCM(response["Plaintext"]))

    @classmethod
    def open(cls, kms: KMSClient, header: dict[str, Any], key_arn: str) -> Envelope:
        """The envelope described by a manifest's ``encryption`` header, for decryption with
        ``key_arn``: the key that sealed it, or its multi-Region replica in this region."""
        if header.get("algorithm") != ALGORITHM:
            raise BackupError(f"unsupported encryption {header.get('algorithm')!r}")
        recorded = str(header["kms_key_id"])
        if not same_key(recorded, key_arn):
            raise BackupError(
                f"the backup was sealed with KMS key {recorded}; BACKUP_KMS_KEY_ARN {key_arn} is neither that key "
                "nor a multi-Region replica of it"
            )
        encrypted = base64.b64decode(header["encrypted_data_key"])
        context = dict(header["encryption_context"])
        try:
            response = kms.decrypt(CiphertextBlob=encrypted, EncryptionContext=context, KeyId=key_arn)
        except (ClientError, BotoCoreError) as error:
            raise BackupError(f"cannot decrypt the data key with KMS key {key_arn}: {error}") from None
        return cls(recorded, encrypted, context, AESGCM(response["Plaintext"]))

    def header(self) -> dict[str, Any]:
        return {
            "algorithm": ALGORITHM,
            "kms_key_id": self.key_id,
            "encrypted_data_key": _b64(self.encrypted_data_key),
            "encryption_context": self.context,
        }

    def seal(self, plaintext: bytes, associated: str) -> dict[str, str]:
        nonce = os.urandom(NONCE_BYTES)
        return {
            "nonce": _b64(nonce),
            "ciphertext": _b64(self._cipher.encrypt(nonce, plaintext, associated.encode())),
        }

    def unseal(self, sealed: dict[str, str], associated: str) -> bytes:
        try:
            return self._cipher.decrypt(
                base64.b64decode(sealed["nonce"]), base64.b64decode(sealed["ciphertext"]), associated.encode()
            )
        except InvalidTag:
            raise BackupError(f"sealed record {associated} does not decrypt: wrong key or tampered") from None
