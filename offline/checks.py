"""Checks over everything a stack would create, run by the offline plan and the tests.

Each check takes a stack run and returns its findings, one line per violation, naming
the resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from pulumi.runtime import rpc

from offline.harness import RegisteredResource, StackRun

Check = Callable[[StackRun], list[str]]


def is_secret(value: Any) -> bool:
    """A secret as the mock monitor hands it over: wrapped with Pulumi's secret signature."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def masked(value: Any) -> Any:
    """The value with every secret replaced by a marker, for printing."""
    if is_secret(value):
        return "[secret]"
    if isinstance(value, dict):
        return {k: masked(v) for k, v in value.items()}
    if isinstance(value, list):
        return [masked(v) for v in value]
    return value


def is_kubernetes_object(resource: RegisteredResource) -> bool:
    return resource.custom and resource.type.startswith("kubernetes:")


def kubernetes_uses_explicit_provider(run: StackRun) -> list[str]:
    """Every Kubernetes resource goes to the platform's cluster, never the ambient kubeconfig."""
    return [
        f"{r.type} {r.name}: uses the default kubernetes provider"
        for r in run.resources
        if is_kubernetes_object(r) and "pulumi:providers:kubernetes::default" in r.provider
    ]


def kms_keys_rotate(run: StackRun) -> list[str]:
    return [
        f"{r.type} {r.name}: key rotation is off"
        for r in run.of_type("aws:kms/key:Key")
        if r.inputs.get("enableKeyRotation") is not True
    ]


def log_groups_encrypted_with_retention(run: StackRun) -> list[str]:
    findings = []
    for r in run.of_type("aws:cloudwatch/logGroup:LogGroup"):
        if not r.inputs.get("kmsKeyId"):
            findings.append(f"{r.type} {r.name}: not encrypted with a customer KMS key")
        if not r.inputs.get("retentionInDays"):
            findings.append(f"{r.type} {r.name}: keeps logs forever (no retention)")
    return findings


def eks_api_not_open_to_internet(run: StackRun) -> list[str]:
    findings = []
    for r in run.of_type("aws:eks/cluster:Cluster"):
        vpc = r.inputs.get("vpcConfig", {})
        if vpc.get("endpointPublicAccess") and not vpc.get("publicAccessCidrs"):
            findings.append(f"{r.type} {r.name}: public API endpoint without CIDRs is open to 0.0.0.0/0")
        if any(str(cidr).endswith("/0") for cidr in vpc.get("publicAccessCidrs") or []):
            findings.append(f"{r.type} {r.name}: public API endpoint open to the whole internet")
    return findings


CHECKS: tuple[Check, ...] = (
    kubernetes_uses_explicit_provider,
    kms_keys_rotate,
    log_groups_encrypted_with_retention,
    eks_api_not_open_to_internet,
)


def run_checks(run: StackRun) -> list[str]:
    return [f"{check.__name__}: {finding}" for check in CHECKS for finding in check(run)]
