"""A local Helm chart repository (a folder with index.yaml) holding chosen archives."""

from __future__ import annotations

import hashlib
import shutil
from pathlib import Path

import yaml

from components.charts import Chart


def local_repository(folder: Path, chart: Chart, archive: Path, digest: str | None = None) -> Path:
    """A chart repository holding ``archive`` listed as ``chart``."""
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(archive, folder / archive.name)
    entry = {
        "name": chart.name,
        "version": chart.version,
        "urls": [archive.name],
        "digest": digest or hashlib.sha256(archive.read_bytes()).hexdigest(),
    }
    (folder / "index.yaml").write_text(yaml.safe_dump({"apiVersion": "v1", "entries": {chart.name: [entry]}}))
    return folder
