"""Schemas for the custom resources the platform creates, taken from their CRDs.

kubernetes-validate knows only the built-in API. A custom resource is checked here
against the OpenAPI schema of its CRD, trimmed to what decides whether the API server
accepts the object: required fields, their types and enums. Each entry names the CRD
(and the chart version it ships with) it was taken from. A custom resource whose kind
has no entry is a finding, so a new kind cannot slip through unchecked.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import jsonschema


@dataclass(frozen=True)
class CustomResourceSchema:
    source: str  # the CRD and the chart version it ships with
    schema: Mapping[str, Any]  # the CRD's openAPIV3Schema, trimmed as above


# (apiVersion, kind) -> schema. Components that create a custom resource add its kind here.
CUSTOM_RESOURCE_SCHEMAS: dict[tuple[str, str], CustomResourceSchema] = {}


def is_custom_resource(manifest: Mapping[str, Any]) -> bool:
    return (str(manifest.get("apiVersion", "")), str(manifest.get("kind", ""))) in CUSTOM_RESOURCE_SCHEMAS


def custom_resource_findings(manifest: Mapping[str, Any]) -> list[str]:
    """What the CRD's schema refuses in ``manifest``; each finding gives the field path."""
    entry = CUSTOM_RESOURCE_SCHEMAS[(str(manifest.get("apiVersion")), str(manifest.get("kind")))]
    validator = jsonschema.Draft7Validator(entry.schema)
    findings = []
    for error in sorted(validator.iter_errors(dict(manifest)), key=lambda e: list(e.absolute_path)):
        where = ".".join(str(p) for p in error.absolute_path) or "(root)"
        findings.append(f"{where}: {error.message} (schema: {entry.source})")
    return findings
