"""Copy each pinned chart, exactly the verified archive, into an OCI registry with helm.

For every chart of components/charts.PINNED:
1. the archive is taken as the plan takes it (offline/charts.chart_archive: from
   ``TRACTUSX_CHART_REPO`` with the index's sha256, or ``helm pull`` from the chart's own
   repository) and must carry the pinned name and version in its Chart.yaml;
2. if the registry already holds the chart at that version, the copy is pulled and must be
   byte for byte that archive (its sha256), else the run stops: tags are immutable, so a
   different archive under the pinned version is never replaced silently;
3. otherwise ``helm push`` uploads it (helm names the repository after the chart and tags
   it with the version: Helm docs, "Use OCI-based registries") and the copy is pulled back
   and compared the same way.
helm reads the registry credential from a registry config file of its own, written by
``helm registry login`` with the password on stdin, so it never appears in a command line.
"""

from __future__ import annotations

import base64
import hashlib
import subprocess
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.charts import Chart

COPIED = "copied"
PRESENT = "present"


class MirrorError(RuntimeError):
    """A chart that cannot be copied, or a copy that is not the pinned archive."""


@dataclass(frozen=True)
class Registry:
    """An OCI registry and the credential helm logs in with."""

    host: str
    username: str
    password: str
    # Plain HTTP only for a registry on the loopback interface; ECR is HTTPS.
    plain_http: bool = False

    def __post_init__(self) -> None:
        if self.plain_http and not self.host.startswith(("127.0.0.1:", "localhost:")):
            raise MirrorError(f"{self.host}: plain HTTP is only for a registry on the loopback interface")


@dataclass(frozen=True)
class Outcome:
    chart: Chart
    reference: str
    result: str  # COPIED or PRESENT
    sha256: str


class Helm:
    """The helm binary with a registry config file of its own."""

    def __init__(self, binary: str, registry: Registry, registry_config: Path | None) -> None:
        """``registry_config`` None: helm's own (``$HELM_REGISTRY_CONFIG`` or
        ``~/.config/helm/registry/config.json``), which ``pulumi up`` reads too."""
        self._binary = binary
        self._registry = registry
        self._config = registry_config

    def _run(self, *args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
        flags = ["--plain-http"] if self._registry.plain_http else []
        if self._config is not None:
            flags += ["--registry-config", str(self._config)]
        command = [self._binary, *args, *flags]
        return subprocess.run(command, input=stdin, capture_output=True, text=True, timeout=300, check=False)

    def login(self) -> None:
        registry = self._registry
        result = self._run(
            "registry",
            "login",
            registry.host,
            "--username",
            registry.username,
            "--password-stdin",
            stdin=registry.password,
        )
        if result.returncode != 0:
            raise MirrorError(f"helm registry login {registry.host} failed: {result.stderr.strip()}")

    def pull(self, reference: str, version: str, target: Path) -> Path | None:
        """The archive of ``reference`` at ``version``, or None when the registry has no such tag."""
        result = self._run("pull", reference, "--version", version, "--destination", str(target))
        if result.returncode == 0:
            (archive,) = target.glob("*.tgz")
            return archive
        # oras reports a missing manifest (HTTP 404) as "<reference>:<tag>: not found".
        if result.stderr.strip().endswith("not found"):
            return None
        raise MirrorError(f"helm pull {reference} --version {version} failed: {result.stderr.strip()}")

    def push(self, archive: Path, repository: str) -> None:
        result = self._run("push", str(archive), repository)
        if result.returncode != 0:
            raise MirrorError(f"helm push {archive.name} {repository} failed: {result.stderr.strip()}")


def sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def mirror_charts(charts: Iterable[Chart], path: str, helm: Helm, archive_of: Callable[[Chart], Path]) -> list[Outcome]:
    """Copy each chart under ``oci://<path>/<chart name>`` at its pinned version."""
    helm.login()
    return [_mirror_one(chart, path, helm, archive_of(chart)) for chart in charts]


def _mirror_one(chart: Chart, path: str, helm: Helm, archive: Path) -> Outcome:
    reference = f"oci://{path}/{chart.name}"
    expected = sha256(archive)
    with tempfile.TemporaryDirectory() as before:
        copy = helm.pull(reference, chart.version, Path(before))
        if copy is not None:
            _same(copy, expected, reference, chart)
            return Outcome(chart, reference, PRESENT, expected)
    helm.push(archive, f"oci://{path}")
    with tempfile.TemporaryDirectory() as after:
        copy = helm.pull(reference, chart.version, Path(after))
        if copy is None:
            raise MirrorError(f"{reference}:{chart.version} is missing right after helm push")
        _same(copy, expected, reference, chart)
    return Outcome(chart, reference, COPIED, expected)


def _same(copy: Path, expected: str, reference: str, chart: Chart) -> None:
    found = sha256(copy)
    if found != expected:
        raise MirrorError(
            f"{reference}:{chart.version} holds an archive with sha256 {found}, not the pinned archive's "
            f"{expected}; its tag is immutable: compare the two archives, then delete the image in ECR by hand "
            "if the copy is wrong"
        )


def ecr_registry(ecr: Any) -> Registry:
    """The account's registry in the client's region, with an authorization token
    (base64 of ``AWS:<password>``) as the credential."""
    (data,) = ecr.get_authorization_token()["authorizationData"]
    username, password = base64.b64decode(data["authorizationToken"]).decode().split(":", 1)
    return Registry(str(data["proxyEndpoint"]).removeprefix("https://"), username, password)
