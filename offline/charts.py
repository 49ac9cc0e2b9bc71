"""The pinned charts (components/charts.py) as archives on disk, and the helm that renders them.

Where a chart comes from, in this order:
1. ``TRACTUSX_CHART_REPO``, when set: a local Helm chart repository (a folder with an
   ``index.yaml`` and the chart archives it lists), for machines that cannot reach the
   public chart repositories. The archive must be the one the index lists, with the
   index's sha256 digest.
2. ``build/charts/``: charts fetched earlier.
3. The chart's real repository, with ``helm pull --repo <repository> --version <version>``,
   into ``build/charts/``.
Whatever the source, the archive's own Chart.yaml must carry the pinned name and version,
so a mislabelled archive is never rendered in place of the pinned release.

helm is the ``helm`` on PATH, else the one ``make`` installs (tools/install-helm).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tarfile
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from components.charts import Chart

PROJECT_DIR = Path(__file__).resolve().parent.parent
CHART_REPO_VARIABLE = "TRACTUSX_CHART_REPO"
CACHE = PROJECT_DIR / "build" / "charts"
INSTALLED_HELM = PROJECT_DIR / ".venv" / "bin" / "helm"


class ChartError(RuntimeError):
    """A pinned chart that cannot be had, or an archive that is not the pinned release."""


@cache
def helm() -> str:
    found = shutil.which("helm") or (str(INSTALLED_HELM) if INSTALLED_HELM.exists() else None)
    if found is None:
        raise ChartError(
            "no helm: put one on PATH or run `make plan` / `make test`, which install it (tools/install-helm)"
        )
    return found


def chart_archive(chart: Chart) -> Path:
    """The archive of ``chart`` at its pinned version."""
    local = os.environ.get(CHART_REPO_VARIABLE)
    if local:
        return _verified(_from_local_repository(Path(local), chart), chart)
    cached = CACHE / f"{chart.name}-{chart.version}.tgz"
    if not cached.exists():
        _pull(chart)
    return _verified(cached, chart)


def _from_local_repository(folder: Path, chart: Chart) -> Path:
    index_file = folder / "index.yaml"
    if not index_file.is_file():
        raise ChartError(f"{CHART_REPO_VARIABLE}={folder}: no index.yaml there, so it is not a chart repository")
    entries = (yaml.safe_load(index_file.read_text()) or {}).get("entries") or {}
    matches = [e for e in entries.get(chart.name, []) if str(e.get("version")) == chart.version]
    if not matches:
        listed = sorted(str(e.get("version")) for e in entries.get(chart.name, []))
        raise ChartError(
            f"chart {chart.name} {chart.version} is not in the chart repository {folder} "
            f"(it has {', '.join(listed) or 'no version of it'})"
        )
    entry: dict[str, Any] = matches[0]
    archive = folder / str(entry["urls"][0])
    if not archive.is_file():
        raise ChartError(
            f"{folder}/index.yaml lists {archive.name} for {chart.name} {chart.version}, but it is missing"
        )
    digest = hashlib.sha256(archive.read_bytes()).hexdigest()
    if entry.get("digest") and digest != entry["digest"]:
        raise ChartError(f"{archive}: sha256 {digest} differs from the index's {entry['digest']}")
    return archive


def _pull(chart: Chart) -> None:
    CACHE.mkdir(parents=True, exist_ok=True)
    command = [helm(), "pull", chart.name, "--repo", chart.repository, "--version", chart.version, "-d", str(CACHE)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    if result.returncode != 0:
        raise ChartError(
            f"cannot fetch chart {chart.name} {chart.version} from {chart.repository}: {result.stderr.strip()}. "
            f"Where the chart repositories cannot be reached, set {CHART_REPO_VARIABLE} to a local chart repository."
        )


def _verified(archive: Path, chart: Chart) -> Path:
    metadata = chart_metadata(archive)
    if (metadata.get("name"), str(metadata.get("version"))) != (chart.name, chart.version):
        raise ChartError(
            f"{archive} holds chart {metadata.get('name')} {metadata.get('version')}, "
            f"not the pinned {chart.name} {chart.version}"
        )
    return archive


def chart_metadata(archive: Path) -> dict[str, Any]:
    """The top-level Chart.yaml of a chart archive."""
    with tarfile.open(archive) as tgz:
        for member in tgz.getmembers():
            parts = member.name.split("/")
            if len(parts) == 2 and parts[1] == "Chart.yaml":
                handle = tgz.extractfile(member)
                if handle is not None:
                    return dict(yaml.safe_load(handle.read()) or {})
    raise ChartError(f"{archive}: no Chart.yaml at the top of the archive")
