"""A fake Vault over HTTPS on loopback, for the Vault programs of ``txbackup``.

It implements the endpoints those programs call with Vault's documented semantics:
sys/health codes (200 active, 429 standby, 501 not initialised, 503 sealed), sys/init
with recovery keys (auto-unseal: sealed for a few health polls after init and after a
restore, then active), X-Vault-Token checks (403 "permission denied"), Kubernetes login
checking the role and the ServiceAccount JWT (a table stands in for the TokenReview),
sys/mounts, sys/auth, sys/audit, ACL policies, Kubernetes roles (ttl read back in
seconds), KV v2 data/metadata with versions and check-and-set, token create-orphan /
lookup ("bad token" as 403) / lookup-self / revoke-self, token accessors (LIST, sudo;
lookup-accessor, revoke-accessor), root token generation from the recovery keys
(sys/generate-root: one attempt at a time, a nonce, the token XORed with the attempt's OTP
and base64-encoded without padding, as Vault's sdk/helper/roottoken decodes it), raft
snapshot GET and snapshot-force POST (the whole state replaced, tokens included).

A ``faults.Faults`` plan shared with the fake Kubernetes API can refuse one request of a
run (500, nothing applied) or apply it and then cut the run off, as a killed pod.

ACL policies are evaluated in a simplified form: ``path "<glob>" { capabilities = [...] }``
blocks (``+`` one segment, trailing ``*`` any suffix), the most specific matching pattern
decides, GET needs read, POST/PUT create or update (Vault picks one by whether the
object exists; the fake accepts either), and the endpoints Vault protects with sudo that
the programs call need sudo as well. So a program that asks for more than the spec's
policy grants fails here as it would in Vault.

What it cannot prove (it is not Vault): Vault's full ACL language (deny precedence
across policies, parameter constraints, templated paths, the exact create-versus-update
choice); the real raft snapshot format and multi-node behaviour (forwarding, joins);
KMS auto-unseal; the real TokenReview against the API server; the audit device writing
its file.
"""

from __future__ import annotations

import base64
import gzip
import json
import re
import secrets
import threading
import urllib.parse
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

from tests.support.faults import Faults
from tests.support.kube_api import serve_tls

SNAPSHOT_MAGIC = b"FAKE-RAFT-SNAPSHOT\n"
Answer = tuple[int, Any]
_RULE = re.compile(r'path\s+"([^"]+)"\s*\{\s*capabilities\s*=\s*\[([^\]]*)\]\s*\}')
# Vault's built-in default policy, the part that matters here.
DEFAULT_POLICY = """path "auth/token/lookup-self" { capabilities = ["read"] }
path "auth/token/renew-self" { capabilities = ["update"] }
path "auth/token/revoke-self" { capabilities = ["update"] }
"""


BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
KEY_BYTES = 33  # the fake's recovery key shares


def _key_hex(key: str) -> str:
    """A key share as Vault reads it: hex of the right length, else base64
    (vault/http/sys_generate_root.go, HandleSysGenerateRootUpdate)."""
    try:
        if len(bytes.fromhex(key)) == KEY_BYTES:
            return key.lower()
    except ValueError:
        pass
    try:
        return base64.b64decode(key, validate=True).hex()
    except ValueError:
        return ""


def needs_sudo(path: str) -> bool:
    """Root-protected endpoints among those the programs call (Vault API docs: "requires sudo")."""
    exact = ("sys/audit", "auth/token/create-orphan", "auth/token/accessors", "sys/storage/raft/snapshot-force")
    return path in exact or path.startswith(("sys/audit/", "sys/auth/"))


def _pattern(glob: str) -> re.Pattern[str]:
    body = re.escape(glob[:-1] if glob.endswith("*") else glob).replace(r"\+", "[^/]+")
    return re.compile(f"^{body}{'.*' if glob.endswith('*') else ''}$")


def capabilities(policies: list[str], path: str) -> set[str]:
    """The capabilities the policies' most specific matching pattern grants on ``path``."""
    matches: dict[str, set[str]] = {}
    for text in policies:
        for glob, listed in _RULE.findall(text):
            if _pattern(glob).match(path):
                matches.setdefault(glob, set()).update(c.strip().strip('"') for c in listed.split(",") if c.strip())
    if not matches:
        return set()
    best = max(matches, key=lambda glob: ("*" not in glob and "+" not in glob, len(glob.rstrip("*"))))
    return matches[best]


def _seconds(value: Any) -> int:
    text = str(value)
    if text.isdigit():
        return int(text)
    total, number = 0, ""
    for char in text:
        if char.isdigit():
            number += char
        else:
            total += int(number) * {"h": 3600, "m": 60, "s": 1}[char]
            number = ""
    return total


def _durable() -> dict[str, Any]:
    return {
        "initialized": False,
        "recovery_keys": [],
        "recovery_threshold": 0,
        "tokens": {},
        "accessors": {},
        "mounts": {
            "sys/": {"type": "system", "options": None},
            "cubbyhole/": {"type": "cubbyhole", "options": None},
            "identity/": {"type": "identity", "options": None},
        },
        "auth": {"token/": {"type": "token", "options": None}},
        "audit": {},
        "policies": {"default": DEFAULT_POLICY},
        "kubernetes_config": {},
        "roles": {},
        "kv": {},
    }


@dataclass
class FakeVault:
    # ServiceAccount JWT -> (namespace, name): what the TokenReview would answer.
    service_accounts: dict[str, tuple[str, str]] = field(default_factory=dict)
    state: dict[str, Any] = field(default_factory=_durable)
    sealed_polls: int = 2  # health polls that still answer 503 after init or a restore
    standby_polls: int = 0  # then this many 429 answers before 200
    unjoined_polls: int = 0  # health answers 501 this many times, as a pod that has not joined yet
    snapshot_padding: int = 0  # random bytes appended to every snapshot (multipart uploads)
    snapshot_cut_at: int | None = None  # the connection drops after this many bytes of a snapshot
    snapshot_chunked: bool = True  # streamed like Vault's (chunked), or with a Content-Length
    requests: list[tuple[str, str]] = field(default_factory=list)
    restored: list[bytes] = field(default_factory=list)
    denied: list[tuple[str, str]] = field(default_factory=list)
    served: list[bytes] = field(default_factory=list)
    faults: Faults = field(default_factory=Faults)
    # The root generation attempt lives in the active node's memory, not in its storage.
    generate_root: dict[str, Any] | None = None
    otps: list[str] = field(default_factory=list)  # every OTP handed out, for the log checks
    _sealed_left: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # -- views for the tests -------------------------------------------------------------

    def writes(self) -> list[tuple[str, str]]:
        """Requests that change state (everything but reads, logins, lookups, revocations)."""
        harmless = ("/login", "auth/token/lookup", "auth/token/lookup-accessor", "auth/token/revoke-self")
        return [
            (method, path)
            for method, path in self.requests
            if method not in ("GET", "LIST") and not any(path.endswith(suffix) for suffix in harmless)
        ]

    def kv_versions(self, mount: str, path: str) -> list[dict[str, str]]:
        return [version["data"] for version in self.state["kv"].get(f"{mount}/{path}", {}).get("versions", [])]

    def token_info(self, token: str) -> dict[str, Any] | None:
        info = self.state["tokens"].get(token)
        return dict(info) if info else None

    def root_tokens(self) -> list[str]:
        return [token for token, info in self.state["tokens"].items() if "root" in info["policies"]]

    def every_token(self) -> list[str]:
        return list(self.state["tokens"]) + list(self.state.get("revoked", []))

    # -- request handling ----------------------------------------------------------------

    def handle(self, method: str, path: str, token: str | None, body: bytes) -> tuple[int, bytes, str]:
        with self._lock:
            self.requests.append((method, path))
            if path == "sys/storage/raft/snapshot-force" and method in ("POST", "PUT"):
                return self._restore(token, body)
            if path == "sys/storage/raft/snapshot" and method == "GET":
                if (denied := self._check(token, method, path)) is not None:
                    return denied[0], json.dumps(denied[1]).encode(), "application/json"
                return 200, self._snapshot(), "application/octet-stream"
            try:
                payload = json.loads(body) if body else {}
            except ValueError:
                payload = None
            if payload is None or not isinstance(payload, dict):
                status, document = 400, {"errors": ["failed to parse JSON input"]}
            else:
                status, document = self._answer(method, path, token, payload)
            data = b"" if status == 204 else json.dumps(document).encode()
            return status, data, "application/json"

    def _check(self, token: str | None, method: str = "GET", path: str = "") -> Answer | None:
        if not self.state["initialized"] or self._sealed_left > 0:
            return 503, {"errors": ["Vault is sealed"]}
        if token is None or token not in self.state["tokens"]:
            return 403, {"errors": ["permission denied"]}
        granted = self.token_policies(token)
        if "root" in granted:
            return None
        caps = capabilities([self.state["policies"].get(name, "") for name in granted], path)
        wanted = {"GET": {"read"}, "LIST": {"list"}}.get(method, {"create", "update"})
        if "deny" in caps or not caps & wanted or (needs_sudo(path) and "sudo" not in caps):
            self.denied.append((method, path))
            return 403, {"errors": ["permission denied"]}
        return None

    def token_policies(self, token: str) -> list[str]:
        return list(self.state["tokens"][token]["policies"])

    def _answer(  # noqa: PLR0911 (one dispatch table of the endpoints)
        self, method: str, path: str, token: str | None, payload: dict[str, Any]
    ) -> Answer:
        state = self.state
        if path == "sys/health":
            return self._health()
        if path == "sys/init":
            if method == "GET":
                return 200, {"initialized": state["initialized"]}
            return self._init(payload)
        if path.startswith("sys/generate-root/"):  # unauthenticated, like sys/init
            return self._generate_root(path.removeprefix("sys/generate-root/"), method, payload)
        if not path.endswith("/login"):
            if (denied := self._check(token, method, path)) is not None:
                return denied
        elif not state["initialized"] or self._sealed_left > 0:
            return 503, {"errors": ["Vault is sealed"]}
        segments = path.split("/")
        if path.startswith("auth/") and path.endswith("/login") and method in ("POST", "PUT"):
            return self._login(segments[1], payload)
        if path in ("sys/mounts", "sys/auth", "sys/audit") and method == "GET":
            table = state[segments[1]]
            return 200, {**table, "data": table}
        if segments[0] == "sys" and segments[1] in ("mounts", "auth", "audit") and method in ("POST", "PUT"):
            return self._enable(segments[1], "/".join(segments[2:]) + "/", payload)
        if path.startswith("sys/policies/acl/"):
            name = segments[3]
            if method == "GET":
                if name not in state["policies"]:
                    return 404, {"errors": []}
                return 200, {"data": {"name": name, "policy": state["policies"][name]}}
            state["policies"][name] = payload["policy"]
            return 204, None
        if path.startswith("auth/token/"):
            return self._token_endpoint(segments[2], token, payload)
        if path.startswith("auth/"):
            mount = segments[1]
            if f"{mount}/" not in state["auth"]:
                return 404, {"errors": [f"no handler for route '{path}'"]}
            if segments[2:] == ["config"]:
                if method == "GET":
                    if not state["kubernetes_config"]:
                        return 404, {"errors": []}
                    return 200, {"data": {**state["kubernetes_config"], "token_reviewer_jwt_set": False}}
                state["kubernetes_config"] = {
                    "kubernetes_host": payload["kubernetes_host"],
                    "disable_local_ca_jwt": bool(payload.get("disable_local_ca_jwt", False)),
                    "kubernetes_ca_cert": payload.get("kubernetes_ca_cert", ""),
                }
                return 204, None
            if segments[2] == "role":
                return self._role(segments[3], method, payload)
        kv_mount = segments[0] + "/"
        if state["mounts"].get(kv_mount, {}).get("type") == "kv" and segments[1] in ("data", "metadata"):
            return self._kv(f"{segments[0]}/{'/'.join(segments[2:])}", segments[1], method, payload)
        return 404, {"errors": [f"no handler for route '{path}'"]}

    def _health(self) -> Answer:
        state = self.state
        base = {"version": "1.21.1", "cluster_name": "vault-cluster-fake"}
        if self.unjoined_polls > 0:
            self.unjoined_polls -= 1
            return 501, {**base, "initialized": False, "sealed": True, "standby": True}
        if not state["initialized"]:
            return 501, {**base, "initialized": False, "sealed": True, "standby": True}
        if self._sealed_left > 0:
            self._sealed_left -= 1
            return 503, {**base, "initialized": True, "sealed": True, "standby": True}
        if self.standby_polls > 0:
            self.standby_polls -= 1
            return 429, {**base, "initialized": True, "sealed": False, "standby": True}
        return 200, {**base, "initialized": True, "sealed": False, "standby": False}

    def _init(self, payload: dict[str, Any]) -> Answer:
        state = self.state
        if state["initialized"]:
            return 400, {"errors": ["Vault is already initialized"]}
        if "secret_shares" in payload:  # auto-unseal: recovery keys only
            return 400, {"errors": ["secret_shares is not used with auto-unseal"]}
        shares, threshold = int(payload["recovery_shares"]), int(payload["recovery_threshold"])
        if not 1 <= threshold <= shares:
            return 400, {"errors": ["invalid recovery threshold"]}
        keys = [secrets.token_bytes(KEY_BYTES) for _ in range(shares)]
        state["initialized"] = True
        state["recovery_keys"] = [key.hex() for key in keys]
        state["recovery_threshold"] = threshold
        root = self._new_token(["root"], 0, False, True)
        self._sealed_left = self.sealed_polls
        return 200, {
            "keys": [],
            "keys_base64": [],
            "recovery_keys": [key.hex() for key in keys],
            "recovery_keys_base64": [base64.b64encode(key).decode() for key in keys],
            "root_token": root,
        }

    def _new_token(self, policies: list[str], period: int, renewable: bool, orphan: bool) -> str:
        token = "hvs." + secrets.token_urlsafe(18)
        self.state["tokens"][token] = {
            "policies": sorted(policies),
            "period": period,
            "renewable": renewable,
            "orphan": orphan,
        }
        self.state["accessors"][secrets.token_hex(12)] = token
        return token

    def _generate_root(  # noqa: PLR0911 (one dispatch of the endpoint's methods)
        self, action: str, method: str, payload: dict[str, Any]
    ) -> Answer:
        """sys/generate-root/attempt and /update with the recovery keys (auto-unseal)."""
        if not self.state["initialized"] or self._sealed_left > 0:
            return 503, {"errors": ["Vault is sealed"]}
        attempt = self.generate_root
        threshold = self.state["recovery_threshold"]
        status = {"started": attempt is not None, "nonce": "", "progress": 0, "required": threshold}
        status |= {"encoded_token": "", "pgp_fingerprint": "", "otp_length": 28, "complete": False}
        if action == "attempt" and method == "GET":
            return 200, status | ({"nonce": attempt["nonce"], "progress": len(attempt["keys"])} if attempt else {})
        if action == "attempt" and method == "DELETE":
            self.generate_root = None
            return 204, None
        if action == "attempt" and method in ("POST", "PUT"):
            if attempt is not None:
                return 400, {"errors": ["root generation already in progress"]}
            # Vault >= 1.10 makes the OTP (base62, the length of a token) when none is given.
            otp = "".join(secrets.choice(BASE62) for _ in range(28))
            self.generate_root = {"nonce": secrets.token_hex(16), "otp": otp, "keys": []}
            self.otps.append(otp)
            return 200, status | {"started": True, "nonce": self.generate_root["nonce"], "otp": otp}
        if action != "update" or method not in ("POST", "PUT"):
            return 405, {"errors": []}
        return self._generate_root_update(payload, status)

    def _generate_root_update(self, payload: dict[str, Any], status: dict[str, Any]) -> Answer:
        attempt, threshold = self.generate_root, self.state["recovery_threshold"]
        if attempt is None:
            return 400, {"errors": ["no root generation in progress"]}
        if payload.get("nonce") != attempt["nonce"]:
            return 400, {"errors": ["incorrect nonce"]}
        key = _key_hex(str(payload.get("key", "")))
        if key in attempt["keys"]:
            return 400, {"errors": ["duplicate key provided"]}
        attempt["keys"].append(key)
        if len(attempt["keys"]) < threshold:
            return 200, status | {"started": True, "nonce": attempt["nonce"], "progress": len(attempt["keys"])}
        self.generate_root = None
        if not set(attempt["keys"]) <= set(self.state["recovery_keys"]):
            return 400, {"errors": ["failed to verify recovery key"]}
        token = self._new_token(["root"], 0, False, True)
        encoded = bytes(a ^ b for a, b in zip(token.encode(), attempt["otp"].encode(), strict=True))
        done = {"started": True, "nonce": attempt["nonce"], "progress": threshold, "complete": True}
        return 200, status | done | {"encoded_token": base64.b64encode(encoded).decode().rstrip("=")}

    def _login(self, mount: str, payload: dict[str, Any]) -> Answer:
        state = self.state
        if state["auth"].get(f"{mount}/", {}).get("type") != "kubernetes" or not state["kubernetes_config"]:
            return 400, {"errors": ["could not load backend configuration"]}
        role = state["roles"].get(payload.get("role", ""))
        if role is None:
            return 400, {"errors": [f'invalid role name "{payload.get("role", "")}"']}
        account = self.service_accounts.get(str(payload.get("jwt", "")))
        if account is None:
            return 403, {"errors": ["permission denied"]}
        namespace, name = account
        names, namespaces = role["bound_service_account_names"], role["bound_service_account_namespaces"]
        if ("*" not in names and name not in names) or ("*" not in namespaces and namespace not in namespaces):
            return 403, {"errors": ["service account name not authorized"]}
        token = self._new_token(["default", *role["token_policies"]], 0, True, False)
        return 200, {"auth": {"client_token": token, "policies": role["token_policies"], "renewable": True}}

    def _enable(self, table: str, path: str, payload: dict[str, Any]) -> Answer:
        entries = self.state[table]
        if path in entries:
            return 400, {"errors": [f"path is already in use at {path}"]}
        entries[path] = {"type": payload["type"], "options": payload.get("options") or {}}
        return 204, None

    def _role(self, name: str, method: str, payload: dict[str, Any]) -> Answer:
        roles = self.state["roles"]
        if method == "GET":
            if name not in roles:
                return 404, {"errors": []}
            return 200, {"data": roles[name]}
        roles[name] = {
            "bound_service_account_names": list(payload["bound_service_account_names"]),
            "bound_service_account_namespaces": list(payload["bound_service_account_namespaces"]),
            "token_policies": list(payload["token_policies"]),
            "token_ttl": _seconds(payload["token_ttl"]),
        }
        return 204, None

    def _token_endpoint(self, action: str, token: str | None, payload: dict[str, Any]) -> Answer:
        tokens = self.state["tokens"]
        if action == "create-orphan":
            created = self._new_token(
                list(payload["policies"]) + ([] if payload.get("no_default_policy") else ["default"]),
                _seconds(payload.get("period", 0)),
                bool(payload.get("renewable", True)),
                True,
            )
            return 200, {"auth": {"client_token": created, "renewable": True}}
        if action == "lookup":
            info = tokens.get(str(payload.get("token", "")))
            if info is None:
                return 403, {"errors": ["bad token"]}
            return 200, {"data": {**info, "id": payload["token"]}}
        if action in ("lookup-self", "accessors", "lookup-accessor", "revoke-accessor"):
            return self._accessor_endpoint(action, token, payload)
        if action == "revoke-self" and token is not None:
            tokens.pop(token, None)
            self.state["accessors"] = {a: t for a, t in self.state["accessors"].items() if t != token}
            self.state.setdefault("revoked", []).append(token)
            return 204, None
        return 404, {"errors": ["unsupported path"]}

    def _accessor_endpoint(self, action: str, token: str | None, payload: dict[str, Any]) -> Answer:
        tokens, accessors = self.state["tokens"], self.state["accessors"]
        if action == "lookup-self":
            accessor = next(a for a, t in accessors.items() if t == token)
            return 200, {"data": {**tokens[str(token)], "id": token, "accessor": accessor}}
        if action == "accessors":
            return 200, {"data": {"keys": sorted(accessors)}}
        accessor = str(payload.get("accessor", ""))
        if accessor not in accessors:
            return 400, {"errors": ["invalid accessor"]}
        if action == "lookup-accessor":
            return 200, {"data": {**tokens[accessors[accessor]], "id": "", "accessor": accessor}}
        revoked = accessors.pop(accessor)
        tokens.pop(revoked, None)
        self.state.setdefault("revoked", []).append(revoked)
        return 204, None

    def _kv(self, key: str, kind: str, method: str, payload: dict[str, Any]) -> Answer:
        entry = self.state["kv"].get(key)
        if kind == "metadata":
            if entry is None:
                return 404, {"errors": []}
            return 200, {"data": {"current_version": len(entry["versions"])}}
        if method == "GET":
            if entry is None:
                return 404, {"errors": []}
            version = len(entry["versions"])
            return 200, {"data": {"data": entry["versions"][-1]["data"], "metadata": {"version": version}}}
        current = len(entry["versions"]) if entry else 0
        cas = (payload.get("options") or {}).get("cas")
        if cas is not None and int(cas) != current:
            return 400, {"errors": ["check-and-set parameter did not match the current version"]}
        entry = self.state["kv"].setdefault(key, {"versions": []})
        entry["versions"].append({"data": dict(payload["data"])})
        return 200, {"data": {"version": current + 1}}

    def _snapshot(self) -> bytes:
        document = gzip.compress(json.dumps({k: v for k, v in self.state.items() if k != "revoked"}).encode())
        data = SNAPSHOT_MAGIC + len(document).to_bytes(8, "big") + document + secrets.token_bytes(self.snapshot_padding)
        self.served.append(data)
        return data

    def _restore(self, token: str | None, body: bytes) -> tuple[int, bytes, str]:
        if (denied := self._check(token, "POST", "sys/storage/raft/snapshot-force")) is not None:
            return denied[0], json.dumps(denied[1]).encode(), "application/json"
        if not body.startswith(SNAPSHOT_MAGIC):
            return 400, json.dumps({"errors": ["failed to read snapshot"]}).encode(), "application/json"
        start = len(SNAPSHOT_MAGIC) + 8
        length = int.from_bytes(body[len(SNAPSHOT_MAGIC) : start], "big")
        document = json.loads(gzip.decompress(body[start : start + length]))
        self.restored.append(body)
        revoked = self.state.get("revoked", [])
        self.state = {**document, "revoked": [*revoked, token]}
        self._sealed_left = self.sealed_polls
        return 204, b"", "application/json"


@dataclass(frozen=True)
class RunningVault:
    address: str
    ca_file: Path

    def env(self) -> dict[str, str]:
        return {"VAULT_ADDR": self.address, "VAULT_CACERT": str(self.ca_file)}


@contextmanager
def serve(vault: FakeVault, directory: Path) -> Iterator[RunningVault]:
    """Serves ``vault`` over TLS with a certificate for 127.0.0.1; its CA is ``directory/ca.crt``."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _body(self) -> bytes:
            if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
                parts = []
                while size := int(self.rfile.readline().split(b";")[0].strip() or b"0", 16):
                    parts.append(self.rfile.read(size))
                    self.rfile.readline()
                self.rfile.readline()
                return b"".join(parts)
            return self.rfile.read(int(self.headers.get("Content-Length") or 0))

        def _serve(self) -> None:
            url = urllib.parse.urlsplit(self.path)
            body = self._body()
            verdict = vault.faults.arrive("vault", self.command, url.path.removeprefix("/v1/"))
            if verdict == Faults.CUT_OFF:
                self.close_connection = True
                return
            if verdict == Faults.REFUSE:
                status, data, kind = 500, json.dumps({"errors": ["injected failure"]}).encode(), "application/json"
            elif not url.path.startswith("/v1/"):
                status, data, kind = 404, b"{}", "application/json"
            else:
                status, data, kind = vault.handle(
                    self.command, url.path.removeprefix("/v1/"), self.headers.get("X-Vault-Token"), body
                )
            if verdict == Faults.APPLY_THEN_CUT_OFF:
                self.close_connection = True
                return
            self.send_response(status)
            self.send_header("Content-Type", kind)
            if kind == "application/octet-stream":
                self._send_snapshot(data)
                return
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_snapshot(self, data: bytes) -> None:
            cut = vault.snapshot_cut_at
            if not vault.snapshot_chunked:
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data if cut is None else data[:cut])
            else:
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                step = 256 * 1024
                for start in range(0, len(data) if cut is None else cut, step):
                    piece = data[start : start + step]
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                if cut is None:
                    self.wfile.write(b"0\r\n\r\n")
            if cut is not None:
                self.close_connection = True

        def do_GET(self) -> None:
            self._serve()

        def do_POST(self) -> None:
            self._serve()

        def do_PUT(self) -> None:
            self._serve()

        def do_DELETE(self) -> None:
            self._serve()

        def do_LIST(self) -> None:
            self._serve()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    with serve_tls(Handler, "vault", directory) as port:
        yield RunningVault(f"https://127.0.0.1:{port}", directory / "ca.crt")
