"""An S3 and KMS API on loopback (moto server), with the backup bucket and its KMS key."""

from __future__ import annotations

import logging
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any
from unittest.mock import patch

import boto3
import moto.kms.utils as moto_kms_utils
from moto.server import ThreadedMotoServer

from tests.support.postgres_server import free_port

REGION = "eu-central-1"
DR_REGION = "eu-west-1"
BUCKET = "tractusx-backups-test"
DR_BUCKET = "tractusx-backups-test-dr"


@dataclass(frozen=True)
class AwsApi:
    endpoint: str
    key_arn: str
    bucket: str = BUCKET

    def env(self, **overrides: str) -> dict[str, str]:
        """The standard AWS environment: the programs run unchanged against real AWS."""
        values = {
            "AWS_ENDPOINT_URL": self.endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": REGION,
            "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            "BACKUP_BUCKET": self.bucket,
            "BACKUP_KMS_KEY_ARN": self.key_arn,
        }
        values.update(overrides)
        return values

    def client(self, service: str, region: str = REGION) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=region,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextmanager
def _multi_region_key_ids_in_moto_ciphertexts() -> Iterator[None]:
    """moto 5.2.5 writes the key id into its (moto-only) ciphertext format in a fixed
    36-byte field (moto/kms/utils.py ``KEY_ID_LEN``, the length of a UUID), which cuts the
    40-character id of a multi-Region key (``mrk-`` + UUID): such a key cannot decrypt
    what it encrypted. The field is widened to 40 bytes while the server runs (it runs
    in this process), so every key of this server must be multi-Region: a UUID id would
    come back padded with NUL bytes."""
    width = len("mrk-") + 36
    with patch.multiple(
        moto_kms_utils,
        KEY_ID_LEN=width,
        HEADER_LEN=width + moto_kms_utils.IV_LEN + moto_kms_utils.TAG_LEN,
        CIPHERTEXT_HEADER_FORMAT=f">{width}s{moto_kms_utils.IV_LEN}s{moto_kms_utils.TAG_LEN}s",
    ):
        yield


@contextmanager
def aws_api() -> Iterator[AwsApi]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    stack = ExitStack()
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        stack.enter_context(_multi_region_key_ids_in_moto_ciphertexts())
        endpoint = f"http://127.0.0.1:{port}"
        # moto's backends live in this process and outlive a server: a second test module's
        # server would see the first one's bucket and keys. Every server starts empty.
        urllib.request.urlopen(urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST"), timeout=30).close()
        kms = boto3.client(
            "kms", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        # Like the platform's backup key: a multi-Region primary key, which the dr tests
        # replicate into the dr region with ReplicateKey.
        key_arn = kms.create_key(Description="backup key", MultiRegion=True)["KeyMetadata"]["Arn"]
        api = AwsApi(endpoint=endpoint, key_arn=key_arn)
        s3 = api.client("s3")
        s3.create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        s3.put_bucket_encryption(
            Bucket=BUCKET,
            ServerSideEncryptionConfiguration={
                "Rules": [
                    {"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": key_arn}}
                ]
            },
        )
        yield api
    finally:
        server.stop()
        stack.close()
