"""An S3 and KMS API on loopback (moto server), with the backup bucket and its KMS key."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import boto3
from moto.server import ThreadedMotoServer

from tests.support.postgres_server import free_port

REGION = "eu-central-1"
BUCKET = "tractusx-backups-test"


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

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name=REGION,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


@contextmanager
def aws_api() -> Iterator[AwsApi]:
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # one line per request otherwise
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        endpoint = f"http://127.0.0.1:{port}"
        kms = boto3.client(
            "kms", endpoint_url=endpoint, region_name=REGION, aws_access_key_id="t", aws_secret_access_key="t"
        )
        key_arn = kms.create_key(Description="backup key")["KeyMetadata"]["Arn"]
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
