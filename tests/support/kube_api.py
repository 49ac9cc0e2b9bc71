"""A small fake Kubernetes API over HTTPS on loopback: discovery and paginated list endpoints,
bearer-token authentication, the ``type=`` field selector on Secrets, and get, create and
update of one namespaced object with the API's optimistic concurrency: create answers 409
AlreadyExists for a name that is taken; update (PUT) replaces the whole object and answers
409 Conflict when its ``metadata.resourceVersion`` is not the stored one, 404 when there is
no such object. A ``faults.Faults`` plan shared with the fake Vault can make one request fail."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.support.faults import Faults

PAGE = 2  # small pages, so every list exercises the continue token


def certificate(
    common_name: str, not_after: datetime.datetime, names: list[str], ips: list[str] | None = None
) -> tuple[bytes, bytes]:
    """A self-signed certificate and its key, both PEM."""
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    alt_names: list[x509.GeneralName] = [x509.DNSName(name) for name in names]
    alt_names += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips or []]
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_after - datetime.timedelta(days=400))
        .not_valid_after(not_after)
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM), key_pem


@dataclass
class FakeApi:
    token: str
    # group version -> [(plural, kind, namespaced, verbs)]
    resources: dict[str, list[tuple[str, str, bool, list[str]]]] = field(default_factory=dict)
    # list path (/api/v1/secrets) -> objects
    objects: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    # group versions whose aggregated API server is down (503), like a failed metrics-server
    unavailable: set[str] = field(default_factory=set)
    faults: Faults = field(default_factory=Faults)
    versions: int = 0

    def add(self, group_version: str, plural: str, kind: str, namespaced: bool, items: list[dict[str, Any]]) -> None:
        self.resources.setdefault(group_version, []).append((plural, kind, namespaced, ["get", "list", "watch"]))
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        self.objects[f"{base}/{plural}"] = items

    def _namespaced(self, path: str) -> tuple[str, str, str | None] | None:
        """(list path, namespace, name) of /api/v1/namespaces/<ns>/<plural>[/<name>]."""
        parts = path.strip("/").split("/")
        if parts[:3] != ["api", "v1", "namespaces"] or len(parts) not in (5, 6):
            return None
        return f"/api/v1/{parts[4]}", parts[3], parts[5] if len(parts) == 6 else None

    def find(self, list_path: str, namespace: str, name: str) -> dict[str, Any] | None:
        for item in self.objects.get(list_path, []):
            metadata = item.get("metadata", {})
            if metadata.get("namespace") == namespace and metadata.get("name") == name:
                return item
        return None

    def create(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        target = self._namespaced(path)
        if target is None or target[2] is not None or target[0] not in self.objects:
            return 404, {"kind": "Status", "code": 404}
        list_path, namespace, _ = target
        name = body.get("metadata", {}).get("name", "")
        if self.find(list_path, namespace, name) is not None:
            return 409, {"kind": "Status", "code": 409, "reason": "AlreadyExists"}
        created = {**body, "metadata": {**body.get("metadata", {}), "namespace": namespace}}
        created["metadata"]["resourceVersion"] = self._next_version()
        self.objects[list_path].append(created)
        return 201, created

    def _next_version(self) -> str:
        self.versions += 1
        return str(self.versions)

    def update(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        target = self._namespaced(path)
        if target is None or target[2] is None:
            return 405, {"kind": "Status", "code": 405}
        list_path, namespace, name = target[0], target[1], target[2]
        current = self.find(list_path, namespace, name)
        if current is None:
            return 404, {"kind": "Status", "code": 404}
        if body.get("metadata", {}).get("resourceVersion") != current["metadata"].get("resourceVersion"):
            return 409, {"kind": "Status", "code": 409, "reason": "Conflict"}
        updated = {**body, "metadata": {**body["metadata"], "namespace": namespace}}
        updated["metadata"]["resourceVersion"] = self._next_version()
        items = self.objects[list_path]
        items[items.index(current)] = updated
        return 200, updated

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        target = self._namespaced(path)
        if target is not None and target[2] is not None:
            found = self.find(target[0], target[1], target[2])
            return (200, found) if found is not None else (404, {"kind": "Status", "code": 404})
        if path == "/apis":
            groups = sorted({gv.split("/")[0] for gv in self.resources if gv != "v1"})
            return 200, {
                "kind": "APIGroupList",
                "groups": [
                    {
                        "name": g,
                        "preferredVersion": {"groupVersion": next(v for v in self.resources if v.startswith(g))},
                    }
                    for g in groups
                ],
            }
        for group_version, resources in self.resources.items():
            base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
            if path == base and group_version in self.unavailable:
                return 503, {"kind": "Status", "code": 503}
            if path == base:
                listed = [
                    {"name": name, "kind": kind, "namespaced": namespaced, "verbs": verbs}
                    for name, kind, namespaced, verbs in resources
                ]
                return 200, {"kind": "APIResourceList", "groupVersion": group_version, "resources": listed}
        if path not in self.objects:
            return 404, {"kind": "Status", "code": 404}
        items = self.objects[path]
        selector = query.get("fieldSelector", "")
        if selector.startswith("type="):
            items = [item for item in items if item.get("type") == selector.removeprefix("type=")]
        start = int(query.get("continue") or 0)
        page = items[start : start + min(PAGE, int(query.get("limit", PAGE)))]
        more = start + len(page) < len(items)
        return 200, {"kind": "List", "metadata": {"continue": str(start + len(page)) if more else ""}, "items": page}


@dataclass(frozen=True)
class RunningApi:
    host: str
    port: int
    account_dir: Path

    def env(self) -> dict[str, str]:
        return {"KUBERNETES_SERVICE_HOST": self.host, "KUBERNETES_SERVICE_PORT": str(self.port)}


@contextmanager
def serve(api: FakeApi, directory: Path) -> Iterator[RunningApi]:
    """Serves ``api`` over TLS; ``directory`` gets the ServiceAccount files (token, ca.crt)."""
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "token").write_text(api.token)

    class Handler(BaseHTTPRequestHandler):
        def _reply(self, method: str) -> None:
            url = urllib.parse.urlsplit(self.path)
            sent = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"null")
            verdict = api.faults.arrive("kube", method, url.path)
            if verdict == Faults.CUT_OFF:
                return
            if verdict == Faults.REFUSE:
                status, body = 500, {"kind": "Status", "code": 500, "reason": "InternalError"}
            elif self.headers.get("Authorization") != f"Bearer {api.token}":
                status, body = 401, {"kind": "Status", "code": 401}
            elif method == "POST":
                status, body = api.create(url.path, sent)
            elif method == "PUT":
                status, body = api.update(url.path, sent)
            else:
                status, body = api.answer(url.path, dict(urllib.parse.parse_qsl(url.query)))
            if verdict == Faults.APPLY_THEN_CUT_OFF:
                return
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply("GET")

        def do_POST(self) -> None:
            self._reply("POST")

        def do_PUT(self) -> None:
            self._reply("PUT")

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_tls(Handler, "kubernetes", directory) as port:
        yield RunningApi("127.0.0.1", port, directory)


@contextmanager
def serve_tls(handler: type[BaseHTTPRequestHandler], name: str, directory: Path) -> Iterator[int]:
    """Serves ``handler`` over TLS on a free port of 127.0.0.1 (yielded) with a
    self-signed certificate for ``name``, written to ``directory/ca.crt`` (the CA a client
    trusts) and ``directory/tls.key``."""
    cert_pem, key_pem = certificate(
        name, datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=1), ["localhost"], ["127.0.0.1"]
    )
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "ca.crt").write_bytes(cert_pem)
    (directory / "tls.key").write_bytes(key_pem)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(directory / "ca.crt", directory / "tls.key")
    server.socket = context.wrap_socket(server.socket, server_side=True)
    # A short poll: shutdown() waits for it, and every test stops its servers.
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()
