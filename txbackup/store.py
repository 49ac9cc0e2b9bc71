"""The backup bucket: streamed multipart uploads with SHA-256, verification, manifests.

Layout: ``<prefix>/<backup id>/<object>`` and ``<prefix>/<backup id>/manifest.json``. The
manifest is written only after every object of the backup is uploaded and verified, so it
is the completeness marker: a backup without one (interrupted, failed) is never listed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from botocore.exceptions import BotoCoreError, ClientError

from txbackup.errors import BackupError

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_s3.type_defs import CompletedPartTypeDef

log = logging.getLogger(__name__)

# 32 MiB parts, at most two in flight while the next one fills: the memory a backup needs
# is bounded (~100 MiB) whatever the size of the database, and S3's 10,000-part limit
# allows objects up to ~320 GiB.
PART_SIZE = 32 * 1024 * 1024
UPLOADS_IN_FLIGHT = 2
READ_SIZE = 1024 * 1024
MANIFEST = "manifest.json"
BACKUP_ID = re.compile(r"^\d{8}T\d{6}Z$")


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int
    sha256: str


@contextmanager
def s3_errors(bucket: str, action: str) -> Iterator[None]:
    """Turns an S3 failure into one line naming the bucket and what was being done."""
    try:
        yield
    except ClientError as error:
        code = str(error.response.get("Error", {}).get("Code", "unknown"))
        if code == "NoSuchBucket":
            raise BackupError(f"{action}: bucket {bucket!r} does not exist") from None
        if code in ("AccessDenied", "403", "InvalidAccessKeyId", "SignatureDoesNotMatch"):
            raise BackupError(f"{action}: access to bucket {bucket!r} denied ({code})") from None
        message = error.response.get("Error", {}).get("Message", "")
        raise BackupError(f"{action}: S3 error {code} {message}".strip()) from None
    except BotoCoreError as error:
        raise BackupError(f"{action}: {error}") from None


def read_chunks(stream: Any, size: int = READ_SIZE) -> Iterator[bytes]:
    """The contents of a binary stream (a pipe or an S3 body) in chunks of at most ``size``."""
    while chunk := stream.read(size):
        yield chunk


def _parts(chunks: Iterable[bytes], part_size: int) -> Iterator[bytes]:
    """Regroups chunks into parts of exactly ``part_size`` bytes (the last one shorter, maybe empty)."""
    buffer = bytearray()
    produced = False
    for chunk in chunks:
        buffer += chunk
        while len(buffer) >= part_size:
            yield bytes(buffer[:part_size])
            del buffer[:part_size]
            produced = True
    if buffer or not produced:
        yield bytes(buffer)


class BackupStore:
    """One job's prefix of the backup bucket (``database/``, ``config/`` or ``certificates/``)."""

    def __init__(self, s3: S3Client, bucket: str, prefix: str, part_size: int | None = None) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_size = part_size or PART_SIZE

    def key(self, backup_id: str, name: str) -> str:
        return f"{self.prefix}/{backup_id}/{name}"

    def url(self, key: str = "") -> str:
        return f"s3://{self.bucket}/{key or self.prefix + '/'}"

    def check_access(self) -> None:
        """Fails with a clear message when the bucket is missing or this prefix is not readable."""
        with s3_errors(self.bucket, f"cannot list {self.url()}"):
            self.s3.list_objects_v2(Bucket=self.bucket, Prefix=f"{self.prefix}/", MaxKeys=1)

    def upload_stream(self, key: str, chunks: Iterable[bytes]) -> StoredObject:
        """Streams ``chunks`` into one object by multipart upload, hashing on the way.

        Any failure, including one raised by ``chunks`` itself (a dump that exits non-zero),
        aborts the multipart upload, so no partial object is ever left under ``key``.
        """
        digest = hashlib.sha256()
        size = 0
        with s3_errors(self.bucket, f"cannot start the upload of {self.url(key)}"):
            upload_id = self.s3.create_multipart_upload(
                Bucket=self.bucket, Key=key, ContentType="application/octet-stream"
            )["UploadId"]
        try:
            done: list[CompletedPartTypeDef] = []
            with ThreadPoolExecutor(max_workers=UPLOADS_IN_FLIGHT, thread_name_prefix="upload") as pool:
                in_flight: deque[Future[CompletedPartTypeDef]] = deque()
                for number, part in enumerate(_parts(chunks, self.part_size), start=1):
                    digest.update(part)
                    size += len(part)
                    in_flight.append(pool.submit(self._upload_part, key, upload_id, number, part))
                    while len(in_flight) >= UPLOADS_IN_FLIGHT:
                        done.append(in_flight.popleft().result())
                done.extend(future.result() for future in in_flight)
            with s3_errors(self.bucket, f"cannot complete the upload of {self.url(key)}"):
                self.s3.complete_multipart_upload(
                    Bucket=self.bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": done}
                )
        except BaseException:
            self._abort(key, upload_id)
            raise
        return StoredObject(key=key, size=size, sha256=digest.hexdigest())

    def _upload_part(self, key: str, upload_id: str, number: int, body: bytes) -> CompletedPartTypeDef:
        with s3_errors(self.bucket, f"cannot upload part {number} of {self.url(key)}"):
            etag = self.s3.upload_part(Bucket=self.bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=body)[
                "ETag"
            ]
        return {"PartNumber": number, "ETag": etag}

    def _abort(self, key: str, upload_id: str) -> None:
        try:
            self.s3.abort_multipart_upload(Bucket=self.bucket, Key=key, UploadId=upload_id)
            log.info("aborted the upload of %s", self.url(key))
        except (ClientError, BotoCoreError) as error:
            # The bucket's lifecycle rule removes incomplete uploads; the backup is still
            # not complete, because its manifest is never written.
            log.warning("could not abort the upload of %s: %s", self.url(key), error)

    def verify(self, expected: StoredObject) -> str:
        """Re-reads the stored object and checks its size and SHA-256; returns its ETag.

        Reading the object back through S3 (and its KMS decryption) proves what a restore
        will read, end to end; S3's own part checksums would only prove what S3 received.
        """
        url = self.url(expected.key)
        with s3_errors(self.bucket, f"cannot read {url}"):
            head = self.s3.head_object(Bucket=self.bucket, Key=expected.key)
        if head["ContentLength"] != expected.size:
            raise BackupError(f"{url} has {head['ContentLength']} bytes, expected {expected.size}")
        digest = hashlib.sha256()
        for chunk in self.read(expected.key, etag=head["ETag"]):
            digest.update(chunk)
        if digest.hexdigest() != expected.sha256:
            raise BackupError(f"{url} is corrupt: SHA-256 {digest.hexdigest()}, expected {expected.sha256}")
        return head["ETag"]

    def read(self, key: str, etag: str | None = None) -> Iterator[bytes]:
        """The object's bytes as a stream; with ``etag``, only if it is still that version."""
        url = self.url(key)
        with s3_errors(self.bucket, f"cannot read {url}"):
            if etag is None:
                body = self.s3.get_object(Bucket=self.bucket, Key=key)["Body"]
            else:
                body = self.s3.get_object(Bucket=self.bucket, Key=key, IfMatch=etag)["Body"]
        with s3_errors(self.bucket, f"cannot read {url}"):
            try:
                yield from read_chunks(body)
            finally:
                body.close()

    def put_json(self, key: str, document: dict[str, Any]) -> None:
        with s3_errors(self.bucket, f"cannot write {self.url(key)}"):
            self.s3.put_object(
                Bucket=self.bucket,
                Key=key,
                Body=json.dumps(document, indent=2, sort_keys=True).encode(),
                ContentType="application/json",
            )

    def get_json(self, key: str) -> dict[str, Any]:
        data = b"".join(self.read(key))
        try:
            document = json.loads(data)
        except ValueError as error:
            raise BackupError(f"{self.url(key)} is not valid JSON: {error}") from None
        if not isinstance(document, dict):
            raise BackupError(f"{self.url(key)} is not a JSON object")
        return document

    def complete_backups(self) -> list[str]:
        """Ids of the backups under this prefix that have a manifest, oldest first."""
        ids: list[str] = []
        with s3_errors(self.bucket, f"cannot list {self.url()}"):
            pages = self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=f"{self.prefix}/")
            for page in pages:
                for entry in page.get("Contents", []):
                    parts = entry["Key"].split("/")
                    if len(parts) == 3 and parts[2] == MANIFEST and BACKUP_ID.match(parts[1]):
                        ids.append(parts[1])
        return sorted(ids)

    def keys(self, prefix: str) -> list[str]:
        """Every key under ``prefix`` (inside this store's prefix)."""
        keys: list[str] = []
        with s3_errors(self.bucket, f"cannot list {self.url(prefix)}"):
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=prefix):
                keys += [entry["Key"] for entry in page.get("Contents", [])]
        return keys

    def manifest_exists(self, backup_id: str) -> bool:
        # A listing, not a HEAD: the jobs may list only their own prefix (an s3:prefix
        # condition), and S3 answers a HEAD of a missing key with 403 without that right.
        key = self.key(backup_id, MANIFEST)
        with s3_errors(self.bucket, f"cannot list {self.url()}"):
            listing = self.s3.list_objects_v2(Bucket=self.bucket, Prefix=key, MaxKeys=1)
        return any(entry["Key"] == key for entry in listing.get("Contents", []))
