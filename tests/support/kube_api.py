"""A small fake Kubernetes API over HTTPS on loopback: discovery and paginated list endpoints
(all namespaces or one), bearer-token authentication, the ``type=`` field selector on
Secrets and equality label selectors, and get, create, update, merge patch and delete of
one namespaced object (core or of an API group) with the API's optimistic concurrency:
create answers 409 AlreadyExists for a name that is taken; update (PUT) replaces the whole
object and answers 409 Conflict when its ``metadata.resourceVersion`` is not the stored
one, 404 when there is no such object. Pods' ``/log`` answers from ``logs``. Controllers
are played by ``on_create`` callbacks, which see each created object of a type and may
change it and the world. A ``faults.Faults`` plan shared with the fake Vault can make one
request fail."""

from __future__ import annotations

import datetime
import ipaddress
import json
import ssl
import threading
import urllib.parse
from collections.abc import Callable, Iterator
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


def merge_patch(target: Any, patch: Any) -> Any:
    """RFC 7386: objects merge key by key, null removes a key, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    merged = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = merge_patch(merged.get(key), value)
    return merged


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
    # "<namespace>/<pod>" -> the pod's log
    logs: dict[str, str] = field(default_factory=dict)
    # list path (/apis/batch/v1/jobs) -> called with each object created there, after it is stored
    on_create: dict[str, Callable[[dict[str, Any]], None]] = field(default_factory=dict)

    def add(self, group_version: str, plural: str, kind: str, namespaced: bool, items: list[dict[str, Any]]) -> None:
        self.resources.setdefault(group_version, []).append((plural, kind, namespaced, ["get", "list", "watch"]))
        base = "/api/v1" if group_version == "v1" else f"/apis/{group_version}"
        self.objects[f"{base}/{plural}"] = items

    def _namespaced(self, path: str) -> tuple[str, str, str | None] | None:
        """(list path, namespace, name) of /api/v1/namespaces/<ns>/<plural>[/<name>] or
        /apis/<group>/<version>/namespaces/<ns>/<plural>[/<name>]."""
        parts = path.strip("/").split("/")
        base, rest = (parts[:2], parts[2:]) if parts[:1] == ["api"] else (parts[:3], parts[3:])
        if base not in (["api", "v1"], ["apis", *base[1:]]) or rest[:1] != ["namespaces"] or len(rest) not in (3, 4):
            return None
        return "/" + "/".join([*base, rest[2]]), rest[1], rest[3] if len(rest) == 4 else None

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
        created["metadata"].setdefault("generation", 1)
        self.objects[list_path].append(created)
        if hook := self.on_create.get(list_path):
            hook(created)
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

    def patch(self, path: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A JSON merge patch (RFC 7386); a changed ``spec`` raises ``metadata.generation``."""
        target = self._namespaced(path)
        current = self.find(target[0], target[1], target[2]) if target and target[2] else None
        if target is None or current is None:
            return 404, {"kind": "Status", "code": 404}
        patched = merge_patch(current, body)
        patched["metadata"]["resourceVersion"] = self._next_version()
        if patched.get("spec") != current.get("spec"):
            patched["metadata"]["generation"] = current["metadata"].get("generation", 1) + 1
        items = self.objects[target[0]]
        items[items.index(current)] = patched
        return 200, patched

    def delete(self, path: str) -> tuple[int, dict[str, Any]]:
        target = self._namespaced(path)
        current = self.find(target[0], target[1], target[2]) if target and target[2] else None
        if target is None or current is None:
            return 404, {"kind": "Status", "code": 404}
        self.objects[target[0]].remove(current)
        return 200, {"kind": "Status", "status": "Success"}

    def _log(self, path: str) -> tuple[int, dict[str, Any]]:
        pod = self._namespaced(path.removesuffix("/log"))
        key = f"{pod[1]}/{pod[2]}" if pod and pod[2] else ""
        return (200, {"log": self.logs[key]}) if key in self.logs else (404, {"kind": "Status", "code": 404})

    def _in_namespace(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]] | None:
        """One object, a pod's log, or the list of one namespace; None for any other path."""
        if path.endswith("/log"):
            return self._log(path)
        target = self._namespaced(path)
        if target is not None and target[2] is not None:
            found = self.find(target[0], target[1], target[2])
            return (200, found) if found is not None else (404, {"kind": "Status", "code": 404})
        if target is not None and target[0] in self.objects:
            namespace = target[1]
            listed = [item for item in self.objects[target[0]] if item["metadata"].get("namespace") == namespace]
            return self._page(listed, query)
        return None

    def answer(self, path: str, query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if (namespaced := self._in_namespace(path, query)) is not None:
            return namespaced
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
        return self._page(self.objects[path], query)

    def _page(self, items: list[dict[str, Any]], query: dict[str, str]) -> tuple[int, dict[str, Any]]:
        if labels := query.get("labelSelector"):
            wanted = dict(term.split("=", 1) for term in labels.split(","))
            items = [item for item in items if wanted.items() <= item["metadata"].get("labels", {}).items()]
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
            elif method == "PATCH":
                status, body = api.patch(url.path, sent)
            elif method == "DELETE":
                status, body = api.delete(url.path)
            else:
                status, body = api.answer(url.path, dict(urllib.parse.parse_qsl(url.query)))
            if verdict == Faults.APPLY_THEN_CUT_OFF:
                return
            text = url.path.endswith("/log") and status == 200
            data = str(body["log"]).encode() if text else json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain" if text else "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            self._reply("GET")

        def do_POST(self) -> None:
            self._reply("POST")

        def do_PUT(self) -> None:
            self._reply("PUT")

        def do_PATCH(self) -> None:
            self._reply("PATCH")

        def do_DELETE(self) -> None:
            self._reply("DELETE")

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
