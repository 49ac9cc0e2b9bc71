"""The Argo CD Applications a stack's root Application renders, as Argo CD would see them.

The root Application's ``helm.valuesObject`` is the argocd-apps chart's values; this
module renders each entry of its ``applications`` map the way the chart's
templates/applications.yaml (argocd-apps 2.x) does, so the plan can check every child
against the Application CRD and write each child's Helm values for review.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.gitops import APPS_CHART

APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"
# What argocd-apps copies from an entry into the Application's spec, in its order.
_SPEC_FIELDS = (
    "project",
    "source",
    "sources",
    "destination",
    "syncPolicy",
    "revisionHistoryLimit",
    "ignoreDifferences",
    "info",
)


def is_root(manifest: Mapping[str, Any]) -> bool:
    source = (manifest.get("spec") or {}).get("source") or {}
    return bool(source.get("repoURL") == APPS_CHART.repository and source.get("chart") == APPS_CHART.name)


def render_children(root: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Each child Application of a root manifest, by name, as argocd-apps renders it."""
    values = ((root.get("spec") or {}).get("source") or {}).get("helm", {}).get("valuesObject") or {}
    children = {}
    for name, entry in (values.get("applications") or {}).items():
        metadata: dict[str, Any] = {"name": name}
        for key, field in (
            ("namespace", "namespace"),
            ("additionalLabels", "labels"),
            ("additionalAnnotations", "annotations"),
            ("finalizers", "finalizers"),
        ):
            if entry.get(key):
                metadata[field] = entry[key]
        if "annotations" in metadata:
            metadata["annotations"] = {k: str(v) for k, v in metadata["annotations"].items()}
        spec = {field: entry[field] for field in _SPEC_FIELDS if entry.get(field) is not None}
        children[name] = {
            "apiVersion": "argoproj.io/v1alpha1",
            "kind": "Application",
            "metadata": metadata,
            "spec": spec,
        }
    return children
