"""Backups of Kubernetes objects: gzip-compressed JSON lines, one object per line, streamed."""

from __future__ import annotations

import gzip
import json
import zlib
from collections.abc import Iterable, Iterator
from typing import Any

from txbackup.envelope import Envelope
from txbackup.kube import secret_reference

GZIP_WINDOW = 31  # zlib's gzip container


def gzip_json_lines(records: Iterable[dict[str, Any]]) -> Iterator[bytes]:
    compressor = zlib.compressobj(6, zlib.DEFLATED, GZIP_WINDOW)
    for record in records:
        if out := compressor.compress(json.dumps(record, sort_keys=True, separators=(",", ":")).encode() + b"\n"):
            yield out
    yield compressor.flush()


def read_json_lines(data: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in gzip.decompress(data).splitlines() if line]


def seal_secret(secret: dict[str, Any], envelope: Envelope) -> dict[str, Any]:
    """A Secret with everything but its identity encrypted (data, annotations, labels, ...)."""
    metadata = secret.get("metadata", {})
    reference = secret_reference(secret)
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"namespace": metadata.get("namespace", ""), "name": metadata.get("name", "")},
        "type": secret.get("type", "Opaque"),
        "sealed": envelope.seal(json.dumps(secret, sort_keys=True).encode(), reference),
    }


def unseal_secret(record: dict[str, Any], envelope: Envelope) -> dict[str, Any]:
    """The original Secret of a sealed record."""
    document = json.loads(envelope.unseal(record["sealed"], secret_reference(record)))
    if not isinstance(document, dict):
        raise ValueError("a sealed Secret must decrypt to a JSON object")
    return document
