"""Checks over everything a stack would create, run by the offline plan and the tests.

Each check takes a stack run and returns its findings, one line per violation, naming
the resource.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

from pulumi.runtime import rpc

from offline.harness import RegisteredResource, StackRun
from offline.observability import alert_rules_pass_promtool, alertmanager_config_passes_amtool
from policy import rules

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


def _engine_number(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def masked(value: Any) -> Any:
    """The value with every secret replaced by a marker and whole numbers as int, for printing."""
    return _rebuild(value, lambda _: "[secret]", _engine_number)


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
        and not resource.read
        and resource.type.startswith("kubernetes:")
        and not resource.type.startswith("kubernetes:helm.sh/")
    )


def kubernetes_version(run: StackRun) -> str:
    (cluster,) = run.of_type("aws:eks/cluster:Cluster")
    return str(cluster.inputs["version"])


def kubernetes_uses_explicit_provider(run: StackRun) -> list[str]:
    """Every Kubernetes resource goes to the platform's cluster, never the ambient kubeconfig."""
    return [
        f"{r.type} {r.name}: uses the default kubernetes provider"
        for r in run.resources
        if is_kubernetes_object(r) and "pulumi:providers:kubernetes::default" in r.provider
    ]


def kms_keys_rotate(run: StackRun) -> list[str]:
    """Every key rotates; a replica key rotates with its primary, so it must replicate a
    multi-Region key (whose rotation the primary's stack checks)."""
    findings = [
        f"{r.type} {r.name}: key rotation is off"
        for r in run.of_type("aws:kms/key:Key")
        if r.inputs.get("enableKeyRotation") is not True
    ]
    findings += [
        f"{r.type} {r.name}: replicates {r.inputs.get('primaryKeyArn')!r}, not a multi-Region key"
        for r in run.of_type("aws:kms/replicaKey:ReplicaKey")
        if rules.multi_region_key_id(plain(r.inputs.get("primaryKeyArn"))) is None
    ]
    return findings


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


def _leaves(value: Any, in_secret: bool = False, key: str = "") -> list[tuple[str, str, bool, bool]]:
    """Every string leaf of nested inputs: its key, its text, whether it sits in a
    secret, and whether that secret is the leaf itself (not a map around it)."""
    if is_secret(value):
        inner = value["value"]
        if isinstance(inner, str):
            return [(key, inner, True, True)]
        return _leaves(inner, True, key)
    if isinstance(value, dict):
        return [leaf for k, v in value.items() for leaf in _leaves(v, in_secret, str(k))]
    if isinstance(value, list):
        return [leaf for v in value for leaf in _leaves(v, in_secret, key)]
    return [(key, value, in_secret, False)] if isinstance(value, str) else []


# Inside a secret map (a Secret's stringData) only these keys hold credentials; the
# others (host, port, username) are secret only by company.
_CREDENTIAL_KEY = re.compile(r"password|token|secret|credential|private", re.IGNORECASE)
# ConfigMaps, Helm values and Argo CD Applications (whose children's Helm values sit in the root's
# valuesObject) end up readable by anyone who can read the release or the Application.
_READABLE_BY_READERS = {
    "kubernetes:core/v1:ConfigMap": "a ConfigMap or Helm values",
    "kubernetes:helm.sh/v3:Release": "a ConfigMap or Helm values",
    "kubernetes:argoproj.io/v1alpha1:Application": "an Argo CD Application",
}
_NEVER_HOLDS_SECRETS = tuple(_READABLE_BY_READERS)
_MIN_SECRET_LENGTH = 8  # shorter values cannot be told apart from ordinary ones


def _secret_values(run: StackRun) -> set[str]:
    return {
        text
        for r in run.resources
        for key, text, in_secret, direct in _leaves(r.inputs)
        if in_secret and (direct or _CREDENTIAL_KEY.search(key)) and len(text) >= _MIN_SECRET_LENGTH
    }


def secrets_stay_secret(run: StackRun) -> list[str]:
    """A credential passed anywhere as a secret never appears in plain text in another
    input, nor in a ConfigMap or Helm values (where even a secret input ends up readable)."""
    secrets = _secret_values(run)
    findings = []
    for r in run.resources:
        for _, text, in_secret, _ in _leaves(r.inputs):
            if (in_secret and r.type not in _NEVER_HOLDS_SECRETS) or not any(s in text for s in secrets):
                continue
            where = _READABLE_BY_READERS.get(r.type, "plain text")
            findings.append(f"{r.type} {r.name}: a secret value appears in {where}")
    return findings


def s3_buckets_private_encrypted_tls_only(run: StackRun) -> list[str]:
    """Every bucket has all four public access blocks, default encryption and a policy
    that denies requests without TLS."""
    by_bucket: dict[str, dict[str, Any]] = {}
    for type_ in (
        "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock",
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "aws:s3/bucketPolicy:BucketPolicy",
    ):
        for r in run.of_type(type_):
            by_bucket.setdefault(str(r.inputs.get("bucket")), {})[type_.rsplit(":", 1)[-1]] = plain(r.inputs)
    findings = []
    for bucket in run.of_type("aws:s3/bucket:Bucket"):
        attached = by_bucket.get(f"{bucket.name}-id", {})
        block = attached.get("BucketPublicAccessBlock", {})
        flags = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
        if not all(block.get(flag) is True for flag in flags):
            findings.append(f"{bucket.type} {bucket.name}: public access is not blocked on all four settings")
        if "BucketServerSideEncryptionConfiguration" not in attached:
            findings.append(f"{bucket.type} {bucket.name}: no default encryption")
        statements = json.loads(attached.get("BucketPolicy", {}).get("policy", "{}")).get("Statement", [])
        if not any(
            s.get("Effect") == "Deny" and s.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport") == "false"
            for s in statements
        ):
            findings.append(f"{bucket.type} {bucket.name}: the bucket policy does not deny requests without TLS")
    return findings


def rds_encrypted_and_private(run: StackRun) -> list[str]:
    findings = []
    for r in run.of_type("aws:rds/instance:Instance"):
        if r.inputs.get("storageEncrypted") is not True or not r.inputs.get("kmsKeyId"):
            findings.append(f"{r.type} {r.name}: storage not encrypted with a customer KMS key")
        if r.inputs.get("publiclyAccessible") is not False:
            findings.append(f"{r.type} {r.name}: may be publicly accessible")
    return findings


_DURATION = re.compile(r"^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$")


def duration_seconds(duration: str) -> int | None:
    """Seconds of a Prometheus/Pulumi-style duration (1h, 2m, 30s, 1h30m); None if it is not one."""
    match = _DURATION.match(duration)
    if not duration or match is None:
        return None
    hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return hours * 3600 + minutes * 60 + seconds


def awaited_jobs_finish_or_are_rerun(run: StackRun) -> list[str]:
    """Every Job of the program (which ``pulumi up`` waits for) is replaced when a run left
    it failed (pulumi.com/replaceUnready) and is waited for at least as long as its own
    deadline (components/jobs.py)."""
    findings = []
    for r in run.of_type("kubernetes:batch/v1:Job"):
        inputs = plain(r.inputs)
        annotations = (inputs.get("metadata") or {}).get("annotations") or {}
        if annotations.get("pulumi.com/replaceUnready") != "true":
            findings.append(f"{r.type} {r.name}: a failed run stays failed (no pulumi.com/replaceUnready)")
        deadline = (inputs.get("spec") or {}).get("activeDeadlineSeconds")
        wait = duration_seconds(r.custom_timeouts.get("create", ""))
        if deadline is None or wait is None or wait < deadline:
            findings.append(
                f"{r.type} {r.name}: pulumi up waits {r.custom_timeouts.get('create') or 'its default 10m'} "
                f"for a Job whose deadline is {deadline} s"
            )
    return findings


def policy_resources(run: StackRun) -> list[rules.Resource]:
    """The stack's resources as the policy pack sees them (secrets unwrapped)."""
    return [
        rules.Resource(
            type=r.type,
            name=r.name,
            props=plain(r.inputs),
            urn=r.urn,
            property_dependencies=dict(r.property_dependencies),
        )
        for r in run.resources
        if r.custom
    ]


def policy_pack(run: StackRun) -> list[str]:
    """The mandatory policies of ``policy/`` over every resource of the stack."""
    return rules.violations(policy_resources(run))


CHECKS: tuple[Check, ...] = (
    kubernetes_uses_explicit_provider,
    policy_pack,
    kms_keys_rotate,
    awaited_jobs_finish_or_are_rerun,
    log_groups_encrypted_with_retention,
    eks_api_not_open_to_internet,
    secrets_stay_secret,
    s3_buckets_private_encrypted_tls_only,
    rds_encrypted_and_private,
    alert_rules_pass_promtool,
    alertmanager_config_passes_amtool,
)


def run_checks(run: StackRun) -> list[str]:
    return [f"{check.__name__}: {finding}" for check in CHECKS for finding in check(run)]
