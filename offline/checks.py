"""Checks over everything a stack would create, run by the offline plan and the tests.

Each check takes a stack run and returns its findings, one line per violation, naming
the resource.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import kubernetes_validate
from pulumi.runtime import rpc

from offline.custom_resources import custom_resource_findings, is_custom_resource
from offline.harness import RegisteredResource, StackRun

Check = Callable[[StackRun], list[str]]


def is_secret(value: Any) -> bool:
    """A secret as the mock monitor hands it over: wrapped with Pulumi's secret signature."""
    return isinstance(value, dict) and value.get(rpc._special_sig_key) == rpc._special_secret_sig


def _rebuild(value: Any, secret: Callable[[Any], Any], leaf: Callable[[Any], Any]) -> Any:
    """Copy nested inputs, replacing each secret by ``secret(inner value)`` and each leaf by ``leaf(value)``."""
    if is_secret(value):
        return secret(value["value"])
    if isinstance(value, dict):
        return {k: _rebuild(v, secret, leaf) for k, v in value.items()}
    if isinstance(value, list):
        return [_rebuild(v, secret, leaf) for v in value]
    return leaf(value)


def masked(value: Any) -> Any:
    """The value with every secret replaced by a marker, for printing."""
    return _rebuild(value, lambda _: "[secret]", lambda leaf: leaf)


def _engine_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def plain(value: Any) -> Any:
    """The value as the API server would receive it: secrets unwrapped, whole numbers as int.

    Under mocks every number arrives as a float (``2.0``), which a schema's ``integer``
    would refuse although the real engine sends ``2``.
    """
    return _rebuild(value, plain, _engine_number)


def is_kubernetes_object(resource: RegisteredResource) -> bool:
    """A Kubernetes API object (not a provider, not a Helm release)."""
    return (
        resource.custom
        and resource.type.startswith("kubernetes:")
        and not resource.type.startswith("kubernetes:helm.sh/")
    )


def kubernetes_version(run: StackRun) -> str:
    (cluster,) = run.of_type("aws:eks/cluster:Cluster")
    return str(cluster.inputs["version"])


def kubernetes_objects_match_schema(run: StackRun) -> list[str]:
    """Every Kubernetes object validates in strict mode against the official OpenAPI
    schema of the cluster's Kubernetes version (unknown fields are errors); a custom
    resource validates against its CRD's schema (``offline.custom_resources``)."""
    objects = [r for r in run.resources if is_kubernetes_object(r)]
    if not objects:
        return []
    version = kubernetes_version(run)
    findings = []
    for r in objects:
        manifest = plain(r.inputs)
        if is_custom_resource(manifest):
            findings += [f"{r.type} {r.name}: {finding}" for finding in custom_resource_findings(manifest)]
            continue
        try:
            kubernetes_validate.validate(manifest, version, strict=True)
        except kubernetes_validate.SchemaNotFoundError:
            findings.append(f"{r.type} {r.name}: no Kubernetes {version} schema for {manifest.get('apiVersion')}")
        except kubernetes_validate.ValidationError as error:
            where = ".".join(str(p) for p in error.path) or "(root)"
            findings.append(f"{r.type} {r.name}: {where}: {error.message}")
    return findings


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
    kubernetes_objects_match_schema,
    kms_keys_rotate,
    log_groups_encrypted_with_retention,
    eks_api_not_open_to_internet,
)


def run_checks(run: StackRun) -> list[str]:
    return [f"{check.__name__}: {finding}" for check in CHECKS for finding in check(run)]
