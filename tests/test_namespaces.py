"""Namespaces: each platform namespace exists with its Pod Security level, exceptions justified."""

from __future__ import annotations

from typing import Any

from components.namespaces import PLATFORM_NAMESPACES, RESTRICTED
from offline.checks import plain
from offline.harness import StackRun


def namespaces(run: StackRun) -> dict[str, Any]:
    found = {}
    for resource in run.of_type("kubernetes:core/v1:Namespace"):
        metadata = plain(resource.inputs["metadata"])
        found[metadata["name"]] = metadata
    return found


def test_every_platform_namespace_enforces_its_pod_security_level(stack: StackRun) -> None:
    created = namespaces(stack)
    assert set(created) == {spec.name for spec in PLATFORM_NAMESPACES}
    for spec in PLATFORM_NAMESPACES:
        labels = created[spec.name]["labels"]
        for mode in ("enforce", "audit", "warn"):
            assert labels[f"pod-security.kubernetes.io/{mode}"] == spec.pod_security
            assert labels[f"pod-security.kubernetes.io/{mode}-version"] == "v1.35"


def test_workload_namespaces_are_restricted_and_exceptions_say_why(stack: StackRun) -> None:
    created = namespaces(stack)
    for name in ("tractus-x", "backup", "cert-manager", "traefik", "keda", "argocd"):
        assert created[name]["labels"]["pod-security.kubernetes.io/enforce"] == RESTRICTED
    for spec in PLATFORM_NAMESPACES:
        if spec.pod_security != RESTRICTED:
            reason = created[spec.name]["annotations"]["tractusx-platform/pod-security-exception"]
            assert len(reason) > 40, f"{spec.name} runs {spec.pod_security} without a reason"
