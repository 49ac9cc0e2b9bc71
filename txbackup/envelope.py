"""Envelope encryption of Secrets before they leave the process.

One data key per backup from KMS ``GenerateDataKey`` (AES-256) under BACKUP_KMS_KEY_ARN,
bound to the backup by the KMS encryption context; each Secret is sealed with AES-256-GCM
under a fresh 96-bit nonce, with its namespace/name as associated data, so a sealed record
cannot be swapped for another one unnoticed. Only the KMS-encrypted data key is stored
(in the manifest); decrypting needs ``kms:Decrypt`` on the key with the same context.
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
    def open(cls, kms: KMSClient, header: dict[str, Any]) -> Envelope:
        """The envelope described by a manifest's ``encryption`` header, for decryption."""
        if header.get("algorithm") != ALGORITHM:
            raise BackupError(f"unsupported encryption {header.get('algorithm')!r}")
        encrypted = base64.b64decode(header["encrypted_data_key"])
        context = dict(header["encryption_context"])
        try:
            response = kms.decrypt(CiphertextBlob=encrypted, EncryptionContext=context, KeyId=header["kms_key_id"])
        except (ClientError, BotoCoreError) as error:
            raise BackupError(f"cannot decrypt the data key with KMS key {header['kms_key_id']}: {error}") from None
        return cls(header["kms_key_id"], encrypted, context, AESGCM(response["Plaintext"]))

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
