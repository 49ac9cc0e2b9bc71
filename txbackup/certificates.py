"""``certificates``: playbook "Backup Strategy" 3 and "Certificate Monitoring".

Backs up every TLS Secret (type ``kubernetes.io/tls``, sealed like all Secrets) and writes
an expiry report: namespace, name, subject, SANs, notAfter and days left of each leaf
certificate, plus the Ready condition of cert-manager Certificates when the API serves
them. The playbook selects TLS Secrets with ``-l type=kubernetes.io/tls``, a label that
nothing sets; the Secret type is a field, so this uses the field selector instead.
"""

from __future__ import annotations

import base64
import json
import logging
import math
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from cryptography import x509

from txbackup.config import encryption_context
from txbackup.envelope import Envelope
from txbackup.kube import SECRETS, ApiResource, KubeClient, secret_reference
from txbackup.manifest import Entry, Manifest, begin, utc_now, write_manifest
from txbackup.records import gzip_json_lines, seal_secret
from txbackup.store import BackupStore

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient

log = logging.getLogger(__name__)

PREFIX = "certificates"
TLS_SECRETS = "tls-secrets.jsonl.gz"
EXPIRY_REPORT = "expiry-report.json"
TLS_SECRET_TYPE = "kubernetes.io/tls"
# Playbook "Certificate Monitoring": warn 30 days before expiry.
EXPIRY_WARNING_DAYS = 30
CERT_MANAGER_CERTIFICATES = ApiResource("cert-manager.io/v1", "certificates", "Certificate", namespaced=True)
PEM_BEGIN = b"-----BEGIN CERTIFICATE-----"


def _not_after(certificate: x509.Certificate) -> datetime:
    # not_valid_after_utc exists from cryptography 42; the image's Debian package is older.
    aware: datetime | None = getattr(certificate, "not_valid_after_utc", None)
    return aware if aware is not None else certificate.not_valid_after.replace(tzinfo=UTC)


def _names(certificate: x509.Certificate) -> list[str]:
    try:
        extension = certificate.extensions.get_extension_for_class(x509.SubjectAlternativeName)
    except x509.ExtensionNotFound:
        return []
    names: list[str] = list(extension.value.get_values_for_type(x509.DNSName))
    names += [str(address) for address in extension.value.get_values_for_type(x509.IPAddress)]
    return names


def describe(secret: dict[str, Any], now: datetime) -> dict[str, Any]:
    """The expiry report entry of one TLS Secret (its leaf certificate, the first in tls.crt)."""
    metadata = secret.get("metadata", {})
    entry: dict[str, Any] = {"namespace": metadata.get("namespace", ""), "name": metadata.get("name", "")}
    try:
        pem = base64.b64decode(secret.get("data", {}).get("tls.crt", ""))
        start = pem.find(PEM_BEGIN)
        if start < 0:
            raise ValueError("tls.crt holds no PEM certificate")
        certificate = x509.load_pem_x509_certificate(pem[start:])
    except ValueError as error:
        entry["error"] = str(error)
        return entry
    not_after = _not_after(certificate)
    days_left = math.floor((not_after - now).total_seconds() / 86400)
    entry.update(
        subject=certificate.subject.rfc4514_string(),
        sans=_names(certificate),
        not_after=not_after.isoformat(),
        days_left=days_left,
        expiring_soon=days_left < EXPIRY_WARNING_DAYS,
    )
    return entry


def backup_certificates(
    store: BackupStore, kube: KubeClient, kms: KMSClient, key_arn: str, now: datetime | None = None
) -> Manifest:
    backup_id, started = begin(store)
    now = now or started
    envelope = Envelope.create(kms, key_arn, encryption_context(PREFIX, backup_id))
    report: list[dict[str, Any]] = []

    def records() -> Iterator[dict[str, Any]]:
        for secret in kube.list(SECRETS, {"fieldSelector": f"type={TLS_SECRET_TYPE}"}):
            report.append(describe(secret, now))
            yield seal_secret(secret, envelope)

    secrets = store.upload_stream(store.key(backup_id, TLS_SECRETS), gzip_json_lines(records()))
    expiry = {
        "generated_at": now.isoformat(),
        "warning_days": EXPIRY_WARNING_DAYS,
        "certificates": sorted(report, key=lambda e: (e.get("days_left", -math.inf), e["namespace"], e["name"])),
        "cert_manager_certificates": [_readiness(item) for item in kube.list(CERT_MANAGER_CERTIFICATES)],
    }
    document = json.dumps(expiry, indent=2, sort_keys=True).encode()
    report_object = store.upload_stream(store.key(backup_id, EXPIRY_REPORT), [document])
    for stored in (secrets, report_object):
        store.verify(stored)
    soon = [f"{e['namespace']}/{e['name']} ({e['days_left']} days)" for e in report if e.get("expiring_soon")]
    broken = [f"{e['namespace']}/{e['name']}: {e['error']}" for e in report if "error" in e]
    manifest = Manifest(
        kind=PREFIX,
        backup_id=backup_id,
        started_at=started.isoformat(),
        completed_at=utc_now().isoformat(),
        objects=[Entry.of(TLS_SECRETS, secrets), Entry.of(EXPIRY_REPORT, report_object)],
        details={
            "encryption": envelope.header(),
            "tls_secrets": len(report),
            "expiring_soon": soon,
            "unreadable": broken,
        },
    )
    write_manifest(store, manifest)
    for line in soon:
        log.warning("certificate expires within %d days: %s", EXPIRY_WARNING_DAYS, line)
    for line in broken:
        log.warning("TLS secret without a readable certificate: %s", line)
    log.info("certificate backup %s complete: %d TLS secrets", backup_id, len(report))
    return manifest


def _readiness(certificate: dict[str, Any]) -> dict[str, Any]:
    conditions = certificate.get("status", {}).get("conditions", [])
    ready = next((c.get("status") for c in conditions if c.get("type") == "Ready"), "Unknown")
    return {"reference": secret_reference(certificate), "ready": ready == "True"}
