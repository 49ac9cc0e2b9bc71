"""A small Vault HTTP API client over the standard library, for in-cluster use.

The server is verified against the CA in VAULT_CACERT (the platform's private CA, Secret
``vault-server-tls`` key ``ca.crt``); every request has a timeout; a failure is one
``BackupError`` line naming the request and Vault's own error text. The client token is
kept in this object only: it is sent in the ``X-Vault-Token`` header and never logged or
put into an error message.

The address is the ``vault`` Service, which spreads requests over the three raft pods.
Standbys forward requests to the active node; a pod that has not joined the raft cluster
yet (just after ``init``) or is still unsealing answers 503, so JSON requests that get a
503 are repeated for a bounded time (a 503 request was not processed).
"""

from __future__ import annotations

import http.client
import json
import logging
import re
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPResponse
from pathlib import Path
from typing import Any

from txbackup.errors import BackupError
from txbackup.store import read_chunks

log = logging.getLogger(__name__)

TIMEOUT_SECONDS = 30
# A raft snapshot is streamed through one request: the timeout is per socket operation.
STREAM_TIMEOUT_SECONDS = 300
# Bounds of the waits for Vault: its pods start, join the raft cluster and unseal by KMS
# within a minute or two; five minutes is a clear failure.
WAIT_SECONDS = 300.0
POLL_SECONDS = 2.0
UNAVAILABLE_RETRY_SECONDS = 60.0
# GET /v1/sys/health answers with these codes by default (Vault API docs, sys/health):
# 200 initialised, unsealed, active; 429 unsealed standby; 472 DR secondary; 473
# performance standby; 501 not initialised; 503 sealed.
HEALTH_CODES = frozenset({200, 429, 472, 473, 501, 503})
MAX_ERROR_CHARS = 300
_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def duration_seconds(value: str | int, what: str) -> int:
    """Seconds of a Vault duration ("768h", "1h30m", "45s" or a number of seconds)."""
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        return value
    text = str(value).strip()
    if text.isdigit() and int(text) > 0:
        return int(text)
    match = _DURATION.match(text)
    if not text or not match or not any(match.groups()):
        raise BackupError(f"{what}: {value!r} is not a duration (for example 768h, 1h30m, 45s)")
    hours, minutes, seconds = (int(group or 0) for group in match.groups())
    total = hours * 3600 + minutes * 60 + seconds
    if total <= 0:
        raise BackupError(f"{what}: {value!r} is not a positive duration")
    return total


@dataclass(frozen=True)
class Health:
    code: int
    initialized: bool
    sealed: bool
    standby: bool
    version: str
    cluster_name: str

    @property
    def active(self) -> bool:
        return self.code == 200

    def describe(self) -> str:
        if not self.initialized:
            return "not initialised"
        if self.sealed:
            return "sealed"
        return "active" if self.active else f"standby (HTTP {self.code})"


class VaultError(BackupError):
    """Vault answered with an error status."""

    def __init__(self, message: str, status: int, body: bytes) -> None:
        super().__init__(message)
        self.status = status
        self.body = body
        self.errors = _errors(body)


class VaultUnreachableError(BackupError):
    """No answer from Vault (connection refused or timed out): its pods may be starting."""


def _errors(body: bytes) -> list[str]:
    try:
        document = json.loads(body or b"{}")
    except ValueError:
        return []
    errors = document.get("errors", []) if isinstance(document, dict) else []
    return [" ".join(str(error).split()) for error in errors if str(error).strip()]


class VaultClient:
    def __init__(self, address: str, ca_file: str) -> None:
        if not address.startswith("https://"):
            raise BackupError(f"VAULT_ADDR {address!r} is not an https:// address")
        self.address = address.rstrip("/")
        try:
            self._context = ssl.create_default_context(cafile=ca_file)
        except (OSError, ssl.SSLError) as error:
            raise BackupError(f"cannot load the Vault CA certificate VAULT_CACERT={ca_file}: {error}") from None
        self._token: str | None = None

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> VaultClient:
        address = environ.get("VAULT_ADDR", "").strip()
        ca_file = environ.get("VAULT_CACERT", "").strip()
        if not address:
            raise BackupError("environment variable VAULT_ADDR is not set")
        if not ca_file:
            raise BackupError("environment variable VAULT_CACERT is not set")
        return cls(address, ca_file)

    # -- transport -----------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.address}/v1/{urllib.parse.quote(path.strip('/'), safe='/?=&')}"

    def _open(
        self,
        method: str,
        path: str,
        body: bytes | Iterable[bytes] | None,
        headers: Mapping[str, str],
        timeout: float,
    ) -> HTTPResponse:
        all_headers = {"X-Vault-Request": "true", **headers}
        if self._token is not None:
            all_headers["X-Vault-Token"] = self._token
        request = urllib.request.Request(self._url(path), data=body, headers=all_headers, method=method)
        try:
            response: HTTPResponse = urllib.request.urlopen(request, timeout=timeout, context=self._context)
        except urllib.error.HTTPError as error:
            data = error.read()
            error.close()
            detail = "; ".join(_errors(data)) or str(error.reason)
            raise VaultError(
                f"Vault {method} /v1/{path}: HTTP {error.code} {detail}"[:MAX_ERROR_CHARS], error.code, data
            ) from None
        except (urllib.error.URLError, OSError) as error:
            reason = error.reason if isinstance(error, urllib.error.URLError) else error
            if isinstance(reason, ssl.SSLError):  # a wrong CA or name is not worth waiting for
                raise BackupError(
                    f"Vault {self.address}: TLS verification failed: {reason}"[:MAX_ERROR_CHARS]
                ) from None
            raise VaultUnreachableError(f"Vault {self.address}: {reason}"[:MAX_ERROR_CHARS]) from None
        return response

    def request(
        self, method: str, path: str, payload: Mapping[str, Any] | None = None, *, missing_ok: bool = False
    ) -> dict[str, Any] | None:
        """The JSON answer of one request ({} for 204); None for a 404 when ``missing_ok``."""
        body = json.dumps(payload).encode() if payload is not None else None
        headers = {"Content-Type": "application/json"} if body is not None else {}
        deadline = time.monotonic() + UNAVAILABLE_RETRY_SECONDS
        while True:
            try:
                with self._open(method, path, body, headers, TIMEOUT_SECONDS) as response:
                    data = response.read()
                break
            except VaultError as error:
                if error.status == 404 and missing_ok:
                    return None
                if error.status != 503 or time.monotonic() >= deadline:
                    raise
                log.info("Vault %s /v1/%s: unavailable (%s), retrying", method, path, "; ".join(error.errors))
                time.sleep(POLL_SECONDS)
        if not data:
            return {}
        try:
            document = json.loads(data)
        except ValueError:
            raise BackupError(f"Vault {method} /v1/{path}: the answer is not JSON") from None
        if not isinstance(document, dict):
            raise BackupError(f"Vault {method} /v1/{path}: unexpected answer")
        return document

    @contextmanager
    def stream(self, path: str) -> Iterator[Iterator[bytes]]:
        """The body of a GET as a stream of chunks (a raft snapshot); a body cut short is an error."""
        with self._open("GET", path, None, {}, STREAM_TIMEOUT_SECONDS) as response:
            yield self._chunks(response, path)

    def _chunks(self, response: HTTPResponse, path: str) -> Iterator[bytes]:
        # http.client raises for a chunked body cut short, but read(n) of a body with a
        # Content-Length just ends early when the connection drops: count the bytes.
        declared = response.getheader("Content-Length")
        received = 0
        try:
            for chunk in read_chunks(response):
                received += len(chunk)
                yield chunk
        except (http.client.HTTPException, OSError) as error:
            detail = f"{type(error).__name__} {error}".strip()
            raise BackupError(f"Vault GET /v1/{path}: the answer broke off ({detail})"[:MAX_ERROR_CHARS]) from None
        if declared is not None and declared.isdigit() and received != int(declared):
            raise BackupError(f"Vault GET /v1/{path}: the answer broke off after {received} of {declared} bytes")

    def post_stream(self, path: str, chunks: Iterable[bytes], size: int) -> None:
        """POSTs ``size`` bytes from ``chunks`` without holding them in memory."""
        headers = {"Content-Type": "application/octet-stream", "Content-Length": str(size)}
        with self._open("POST", path, chunks, headers, STREAM_TIMEOUT_SECONDS) as response:
            response.read()

    # -- status --------------------------------------------------------------------------

    def health(self) -> Health:
        try:
            with self._open("GET", "sys/health", None, {}, TIMEOUT_SECONDS) as response:
                code, data = response.status, response.read()
        except VaultError as error:
            if error.status not in HEALTH_CODES:  # the other codes are states, not failures
                raise
            code, data = error.status, error.body
        try:
            document = json.loads(data or b"{}")
        except ValueError:
            document = {}
        return Health(
            code=code,
            initialized=bool(document.get("initialized", code != 501)),
            sealed=bool(document.get("sealed", code in (501, 503))),
            standby=bool(document.get("standby", code in (429, 473))),
            version=str(document.get("version", "")),
            cluster_name=str(document.get("cluster_name", "")),
        )

    def _wait(self, done: Any, what: str) -> Health:
        deadline = time.monotonic() + WAIT_SECONDS
        last = "no answer yet"
        while True:
            try:
                health = self.health()
                if done(health):
                    return health
                last = health.describe()
            except VaultUnreachableError as error:  # not listening yet: the pods are starting
                last = str(error)
            if time.monotonic() >= deadline:
                raise BackupError(f"Vault at {self.address} is not {what} after {WAIT_SECONDS:.0f} s (last: {last})")
            time.sleep(POLL_SECONDS)

    def stays_uninitialised(self, polls: int) -> bool:
        """True when the next ``polls`` health answers, POLL_SECONDS apart, all say "not initialised"."""
        for _ in range(polls):
            time.sleep(POLL_SECONDS)
            if self.health().initialized:
                return False
        return True

    def wait_until_answering(self) -> Health:
        """Waits until Vault answers its health endpoint, in whatever state."""
        return self._wait(lambda _health: True, "answering")

    def wait_until_active(self) -> Health:
        """Waits until the active node answers: initialised and unsealed (auto-unseal by KMS)."""
        return self._wait(lambda health: health.active, "unsealed and active")

    # -- tokens --------------------------------------------------------------------------

    def use_token(self, token: str | None) -> None:
        self._token = token

    @property
    def has_token(self) -> bool:
        return self._token is not None

    def login_kubernetes(self, mount: str, role: str, account_dir: Path) -> None:
        """Logs in through Kubernetes auth with the pod's ServiceAccount token."""
        try:
            jwt = (account_dir / "token").read_text().strip()
        except OSError as error:
            raise BackupError(f"cannot read the ServiceAccount token: {error}") from None
        self._token = None
        try:
            answer = self.request("POST", f"auth/{mount}/login", {"role": role, "jwt": jwt}) or {}
        except VaultError as error:
            raise BackupError(f"Vault login with role {role!r} at auth/{mount} failed: {error}") from None
        token = (answer.get("auth") or {}).get("client_token")
        if not isinstance(token, str) or not token:
            raise BackupError(f"Vault login with role {role!r} at auth/{mount}: no client token in the answer")
        self._token = token
        log.info("logged in to Vault with role %s (auth/%s)", role, mount)

    def revoke_self(self) -> None:
        if self._token is None:
            return
        self.request("POST", "auth/token/revoke-self")
        self._token = None
