"""A small Kubernetes API client over the standard library.

In the cluster it authenticates with the pod's ServiceAccount token and verifies the API
server against the ServiceAccount CA; from outside (the dr activation, txdr) with a token
the caller renews. It discovers every listable resource and lists it page by page, gets,
creates, updates, merge-patches and deletes an object, and reads a pod's log.
"""

from __future__ import annotations

import json
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from txbackup.errors import BackupError

SERVICE_ACCOUNT_DIR = Path("/var/run/secrets/kubernetes.io/serviceaccount")
PAGE_SIZE = 250
TIMEOUT_SECONDS = 60


@dataclass(frozen=True)
class ApiResource:
    group_version: str  # "v1" or "<group>/<version>"
    name: str  # plural, e.g. "configmaps"
    kind: str
    namespaced: bool

    @property
    def path(self) -> str:
        base = "/api/v1" if self.group_version == "v1" else f"/apis/{self.group_version}"
        return f"{base}/{self.name}"

    @property
    def group(self) -> str:
        return self.group_version.rpartition("/")[0]

    def __str__(self) -> str:
        return f"{self.name}.{self.group}" if self.group else self.name


class KubeClient:
    def __init__(self, server: str, token: str | Callable[[], str], ca_file: str) -> None:
        """``token``: the bearer token, or a function returning a current one (asked before
        every request: EKS tokens are valid for 15 minutes)."""
        self.server = server.rstrip("/")
        self._token = token
        self._context = ssl.create_default_context(cafile=ca_file)

    def _bearer(self) -> str:
        return self._token() if callable(self._token) else self._token

    @classmethod
    def in_cluster(cls, environ: dict[str, str], account_dir: Path | None = None) -> KubeClient:
        account_dir = account_dir or SERVICE_ACCOUNT_DIR
        host = environ.get("KUBERNETES_SERVICE_HOST")
        port = environ.get("KUBERNETES_SERVICE_PORT", "443")
        if not host:
            raise BackupError("KUBERNETES_SERVICE_HOST is not set: this command runs inside the cluster")
        try:
            token = (account_dir / "token").read_text().strip()
        except OSError as error:
            raise BackupError(f"cannot read the ServiceAccount token: {error}") from None
        if ":" in host:
            host = f"[{host}]"
        return cls(f"https://{host}:{port}", token, str(account_dir / "ca.crt"))

    def _send(self, method: str, path: str, body: dict[str, Any] | None, content_type: str) -> bytes | None:
        """The body of the answer to one request; None when the API answers 404."""
        request = urllib.request.Request(
            self.server + path,
            data=json.dumps(body).encode() if body is not None else None,
            headers={
                "Authorization": f"Bearer {self._bearer()}",
                "Accept": "application/json, */*",
                **({"Content-Type": content_type} if body is not None else {}),
            },
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS, context=self._context) as response:
                return bytes(response.read())
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            if error.code == 409:
                conflict = "it changed since it was read" if method == "PUT" else "the object already exists"
                raise BackupError(f"Kubernetes API {method} {path}: {conflict}") from None
            raise BackupError(f"Kubernetes API {method} {path}: HTTP {error.code} {error.reason}") from None
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise BackupError(f"Kubernetes API {self.server}{path}: {error}") from None

    def _call(
        self, method: str, path: str, body: dict[str, Any] | None = None, content_type: str = "application/json"
    ) -> dict[str, Any] | None:
        """The JSON answer of one request; None when the API answers 404."""
        answer = self._send(method, path, body, content_type)
        if answer is None:
            return None
        try:
            document = json.loads(answer)
        except ValueError as error:
            raise BackupError(f"Kubernetes API {self.server}{path}: {error}") from None
        if not isinstance(document, dict):
            raise BackupError(f"Kubernetes API {path}: unexpected answer")
        return document

    def get(self, path: str, params: dict[str, str] | None = None) -> dict[str, Any] | None:
        """The JSON at ``path``; None when the API answers 404 (resource type not served)."""
        return self._call("GET", path + (("?" + urllib.parse.urlencode(params)) if params else ""))

    def create(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """POSTs a new object to the collection ``path``; never replaces an existing one."""
        created = self._call("POST", path, body)
        if created is None:
            raise BackupError(f"Kubernetes API POST {path}: not found")
        return created

    def update(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """PUTs ``body`` over the object at ``path``; its ``metadata.resourceVersion`` must be
        the stored one (the API answers 409 Conflict otherwise), so no concurrent change is lost."""
        updated = self._call("PUT", path, body)
        if updated is None:
            raise BackupError(f"Kubernetes API PUT {path}: not found")
        return updated

    def patch(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A JSON merge patch (RFC 7386) of the object at ``path``: only the fields in ``body`` change."""
        patched = self._call("PATCH", path, body, "application/merge-patch+json")
        if patched is None:
            raise BackupError(f"Kubernetes API PATCH {path}: not found")
        return patched

    def delete(self, path: str) -> bool:
        """Deletes the object at ``path`` and what it owns (background propagation, as kubectl
        does); False when there was no such object."""
        return self._call("DELETE", path + "?propagationPolicy=Background") is not None

    def text(self, path: str, params: dict[str, str] | None = None) -> str | None:
        """A plain-text answer (a pod's ``/log``); None when the API answers 404."""
        answer = self._send("GET", path + (("?" + urllib.parse.urlencode(params)) if params else ""), None, "")
        return None if answer is None else answer.decode("utf-8", "replace")

    def resources(self, skip_groups: frozenset[str] = frozenset()) -> list[ApiResource]:
        """Every listable resource type, in each API group's preferred version.

        Groups in ``skip_groups`` are not even asked: an aggregated API that is down (the
        metrics APIs of metrics-server and KEDA) answers 503 and would fail the backup.
        """
        group_versions = ["v1"]
        groups = self.get("/apis") or {}
        for group in groups.get("groups", []):
            if group["name"] not in skip_groups:
                group_versions.append(group["preferredVersion"]["groupVersion"])
        found: list[ApiResource] = []
        for group_version in group_versions:
            path = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            listing = self.get(path) or {}
            for resource in listing.get("resources", []):
                if "/" in resource["name"] or "list" not in resource.get("verbs", []):
                    continue  # subresources (pods/log, ...) and types that cannot be listed
                found.append(ApiResource(group_version, resource["name"], resource["kind"], resource["namespaced"]))
        return found

    def list(self, resource: ApiResource, params: dict[str, str] | None = None) -> Iterator[dict[str, Any]]:
        """Every object of a type (all namespaces), page by page, with apiVersion and kind set."""
        token = ""
        while True:
            query = {"limit": str(PAGE_SIZE), **(params or {})}
            if token:
                query["continue"] = token
            page = self.get(resource.path, query)
            if page is None:
                return
            for item in page.get("items", []):
                yield {"apiVersion": resource.group_version, "kind": resource.kind, **item}
            token = page.get("metadata", {}).get("continue", "")
            if not token:
                return


SECRETS = ApiResource("v1", "secrets", "Secret", namespaced=True)


def secret_reference(secret: dict[str, Any]) -> str:
    metadata = secret.get("metadata", {})
    return f"{metadata.get('namespace', '')}/{metadata.get('name', '')}"
