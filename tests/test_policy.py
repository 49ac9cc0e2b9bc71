"""The policy pack: playbook "Security Posture Assessment" and "Data Protection Compliance".

Each rule is run on a resource that passes and on resources that fail, then over every
resource of both stacks, which must have no mandatory violation.
"""

from __future__ import annotations

import json
import runpy
from copy import deepcopy
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pulumi_policy
import pytest
import yaml
from pulumi_policy.proxy import UNKNOWN_STRING_VALUE, UnknownValueError, unknown_checking_proxy

from offline.checks import CHECKS, policy_pack, policy_resources
from offline.harness import StackRun
from policy import rules
from policy.rules import Resource

DEPLOYMENT = "kubernetes:apps/v1:Deployment"
CRONJOB = "kubernetes:batch/v1:CronJob"


def container(**overrides: Any) -> dict[str, Any]:
    base = {
        "name": "app",
        "image": "ghcr.io/eclipse-tractusx/app:1.2.3",
        "securityContext": {"runAsNonRoot": True, "readOnlyRootFilesystem": True},
        "resources": {"limits": {"cpu": "500m", "memory": "512Mi"}},
    }
    return {**base, **overrides}


def deployment(*containers: dict[str, Any], pod_context: dict[str, Any] | None = None) -> Resource:
    pod: dict[str, Any] = {"containers": list(containers)}
    if pod_context is not None:
        pod["securityContext"] = pod_context
    return Resource(DEPLOYMENT, "app", {"spec": {"template": {"spec": pod}}})


# --- containers ------------------------------------------------------------------------


def test_hardened_container_passes() -> None:
    assert rules.containers_hardened(deployment(container())) == []
    # Non-root may be set for the whole pod.
    pod_level = container(securityContext={"readOnlyRootFilesystem": True})
    assert rules.containers_hardened(deployment(pod_level, pod_context={"runAsNonRoot": True})) == []


@pytest.mark.parametrize(
    ("bad", "violation"),
    [
        (container(securityContext={"readOnlyRootFilesystem": True}), "container app may run as root"),
        (
            container(securityContext={"runAsNonRoot": True, "runAsUser": 0, "readOnlyRootFilesystem": True}),
            "may run as root",
        ),
        (container(securityContext={"runAsNonRoot": True}), "container app has a writable root filesystem"),
        (container(resources={"limits": {"cpu": "1"}}), "container app has no memory limit"),
        (container(resources={"requests": {"cpu": "1"}}), "has no cpu and memory limit"),
    ],
)
def test_container_without_non_root_read_only_fs_or_limits_fails(bad: dict[str, Any], violation: str) -> None:
    assert any(violation in v for v in rules.containers_hardened(deployment(bad))), rules.containers_hardened(
        deployment(bad)
    )


def test_every_workload_kind_is_checked_including_init_containers() -> None:
    root_init = container(name="init", securityContext={"readOnlyRootFilesystem": True})
    job_spec = {"template": {"spec": {"initContainers": [root_init], "containers": [container()]}}}
    cronjob = Resource(CRONJOB, "backup", {"spec": {"jobTemplate": {"spec": job_spec}}})
    assert rules.containers_hardened(cronjob) == ["container init may run as root (runAsNonRoot is not true)"]
    pod = Resource("kubernetes:core/v1:Pod", "p", {"spec": {"containers": [container(resources={})]}})
    assert rules.containers_hardened(pod) == ["container app has no cpu and memory limit"]
    for kind in ("StatefulSet", "DaemonSet"):
        bad = Resource(f"kubernetes:apps/v1:{kind}", "x", deployment(container(securityContext={})).props)
        assert len(rules.containers_hardened(bad)) == 2


# --- images ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "registry.k8s.io/metrics-server/metrics-server:v0.8.1",
        "localhost:5000/app:1.0",
        "ghcr.io/x/app@sha256:" + "a" * 64,
    ],
)
def test_pinned_images_pass(image: str) -> None:
    assert rules.images_pinned(deployment(container(image=image))) == []


@pytest.mark.parametrize(
    ("image", "violation"),
    [
        ("postgres:latest", "uses the latest tag"),
        ("postgres", "has no tag"),
        ("localhost:5000/app", "has no tag"),
        ("", "has no image"),
    ],
)
def test_latest_or_untagged_images_fail(image: str, violation: str) -> None:
    (found,) = rules.images_pinned(deployment(container(image=image)))
    assert violation in found


def release(version: str, values: dict[str, Any]) -> Resource:
    return Resource(rules.HELM_RELEASE, "r", {"chart": "keda", "version": version, "values": values})


def test_helm_releases_pin_the_chart_and_the_image_tags_they_set() -> None:
    assert (
        rules.images_pinned(release("2.20.2", {"image": {"keda": {"repository": "kedacore/keda", "tag": "2.20.2"}}}))
        == []
    )
    (floating,) = rules.images_pinned(release("^2.20", {}))
    assert "not pinned to an exact version" in floating
    (latest,) = rules.images_pinned(release("2.20.2", {"image": {"repository": "kedacore/keda", "tag": "latest"}}))
    assert "values.image.tag is 'latest'" in latest


# --- namespaces ------------------------------------------------------------------------


def namespace(name: str) -> Resource:
    return Resource(rules.NAMESPACE, name, {"metadata": {"name": name}})


def network_policy(ns: str, spec: dict[str, Any]) -> Resource:
    return Resource(rules.NETWORK_POLICY, f"{ns}-policy", {"metadata": {"namespace": ns, "name": "p"}, "spec": spec})


DENY_ALL = {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}


def test_namespace_with_default_deny_passes_and_one_without_fails() -> None:
    assert rules.namespaces_default_deny([namespace("tractus-x"), network_policy("tractus-x", DENY_ALL)]) == []
    ingress_only = {"podSelector": {}, "policyTypes": ["Ingress"]}
    allows_some = {**DENY_ALL, "egress": [{"to": [{"ipBlock": {"cidr": "0.0.0.0/0"}}]}]}
    narrowed = {**DENY_ALL, "podSelector": {"matchLabels": {"app": "x"}}}
    for spec in (ingress_only, allows_some, narrowed):
        (violation,) = rules.namespaces_default_deny([namespace("tractus-x"), network_policy("tractus-x", spec)])
        assert "namespace tractus-x has no default-deny NetworkPolicy" in violation


def test_a_workload_in_a_namespace_the_stack_does_not_create_needs_a_default_deny_too() -> None:
    job = Resource(CRONJOB, "j", {"metadata": {"namespace": "reports"}, "spec": {}})
    (violation,) = rules.namespaces_default_deny([job])
    assert "namespace reports" in violation
    eks_own = Resource(rules.HELM_RELEASE, "autoscaler", {"namespace": "kube-system", "values": {}})
    assert rules.namespaces_default_deny([eks_own]) == []


# --- S3 --------------------------------------------------------------------------------

BUCKET_URN = "urn:pulumi:prod::tractusx-platform::aws:s3/bucket:Bucket::backups"
TLS_ONLY = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "DenyInsecureTransport",
                "Effect": "Deny",
                "Principal": "*",
                "Action": "s3:*",
                "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
            }
        ],
    }
)


def bucket_stack() -> list[Resource]:
    def on_bucket(type_: str, props: dict[str, Any]) -> Resource:
        return Resource(
            type_,
            f"backups-{type_.rsplit(':', 1)[-1]}",
            {"bucket": "backups-id", **props},
            "",
            {"bucket": [BUCKET_URN]},
        )

    return [
        Resource(rules.BUCKET, "backups", {"tags": {"environment": "prod"}}, BUCKET_URN),
        on_bucket(
            rules.BUCKET_ENCRYPTION,
            {
                "rules": [
                    {"applyServerSideEncryptionByDefault": {"sseAlgorithm": "aws:kms", "kmsMasterKeyId": "arn:key"}}
                ]
            },
        ),
        on_bucket(rules.BUCKET_PUBLIC_ACCESS_BLOCK, dict.fromkeys(rules.PUBLIC_ACCESS_FLAGS, True)),
        on_bucket(rules.BUCKET_POLICY, {"policy": TLS_ONLY}),
        on_bucket(
            rules.BUCKET_LIFECYCLE, {"rules": [{"id": "expire", "status": "Enabled", "expiration": {"days": 30}}]}
        ),
    ]


def test_protected_bucket_passes() -> None:
    assert rules.s3_buckets_protected(bucket_stack()) == []


def replace(resources: list[Resource], type_: str, **props: Any) -> list[Resource]:
    return [
        Resource(r.type, r.name, {**deepcopy(dict(r.props)), **props}, r.urn, r.property_dependencies)
        if r.type == type_
        else r
        for r in resources
    ]


@pytest.mark.parametrize(
    ("resources", "violation"),
    [
        (
            replace(
                bucket_stack(),
                rules.BUCKET_ENCRYPTION,
                rules=[{"applyServerSideEncryptionByDefault": {"sseAlgorithm": "AES256"}}],
            ),
            "is not encrypted with a KMS key",
        ),
        ([r for r in bucket_stack() if r.type != rules.BUCKET_ENCRYPTION], "is not encrypted with a KMS key"),
        (
            replace(bucket_stack(), rules.BUCKET_PUBLIC_ACCESS_BLOCK, restrictPublicBuckets=False),
            "does not block all public",
        ),
        (
            replace(bucket_stack(), rules.BUCKET_POLICY, policy=json.dumps({"Statement": []})),
            "accepts requests without TLS",
        ),
        (
            replace(bucket_stack(), rules.BUCKET_POLICY, policy=TLS_ONLY.replace('"false"', '"true"')),
            "accepts requests without TLS",
        ),
        (
            replace(
                bucket_stack(),
                rules.BUCKET_LIFECYCLE,
                rules=[{"id": "x", "status": "Disabled", "expiration": {"days": 30}}],
            ),
            "no enabled lifecycle rule",
        ),
    ],
)
def test_unprotected_bucket_fails(resources: list[Resource], violation: str) -> None:
    (found,) = rules.s3_buckets_protected(resources)
    assert found.startswith("bucket backups") and violation in found


def test_bucket_settings_are_matched_to_their_bucket_not_to_another() -> None:
    other = Resource(rules.BUCKET, "other", {}, BUCKET_URN.replace("backups", "other"))
    found = rules.s3_buckets_protected([*bucket_stack(), other])
    assert len(found) == 4 and all(v.startswith("bucket other") for v in found)
    # Matched by name when the settings name the bucket directly.
    by_name = [
        Resource(r.type, r.name, {**r.props, "bucket": "named"} if r.type != rules.BUCKET else {"bucket": "named"})
        for r in bucket_stack()
    ]
    assert rules.s3_buckets_protected(by_name) == []


# --- RDS, EKS, KMS ---------------------------------------------------------------------

GOOD_DATABASE = {
    "storageEncrypted": True,
    "publiclyAccessible": False,
    "multiAz": True,
    "deletionProtection": True,
    "backupRetentionPeriod": 7,
    "tags": {"environment": "prod"},
}


def database(**overrides: Any) -> Resource:
    return Resource(rules.RDS_INSTANCE, "db", {**GOOD_DATABASE, **overrides})


def test_protected_database_passes_and_non_production_may_be_single_az() -> None:
    assert rules.rds_protected(database()) == []
    assert rules.rds_protected(database(multiAz=False, deletionProtection=False, tags={"environment": "staging"})) == []


def test_a_waiting_replica_needs_no_deletion_protection_but_a_promoted_one_does() -> None:
    """The dr stack must be destroyable while its database is a copy of the primary's."""
    replica = {"replicateSourceDb": "arn:aws:rds:eu-central-1:1:db:tx-prod", "multiAz": True}
    assert rules.rds_protected(database(**replica, deletionProtection=False)) == []
    (found,) = rules.rds_protected(database(deletionProtection=False, tags={"role": "dr"}))
    assert "deletion protection is off in production" in found


def test_a_waiting_replica_must_be_multi_az_so_promotion_waits_for_no_standby() -> None:
    replica = {"replicateSourceDb": "arn:aws:rds:eu-central-1:1:db:tx-prod", "multiAz": False}
    (found,) = rules.rds_protected(database(**replica, deletionProtection=False))
    assert "the waiting replica is not Multi-AZ" in found


@pytest.mark.parametrize(
    ("overrides", "violation"),
    [
        ({"storageEncrypted": False}, "storage is not encrypted"),
        ({"publiclyAccessible": True}, "publicly accessible"),
        ({"multiAz": False}, "not Multi-AZ in production"),
        ({"deletionProtection": None}, "deletion protection is off in production"),
        ({"backupRetentionPeriod": 1}, "backup retention is 1 days; at least 7"),
        ({"backupRetentionPeriod": None}, "backup retention is None"),
    ],
)
def test_unprotected_database_fails(overrides: dict[str, Any], violation: str) -> None:
    (found,) = rules.rds_protected(database(**overrides))
    assert violation in found


GOOD_CLUSTER = {
    "encryptionConfig": {"provider": {"keyArn": "arn:key"}, "resources": ["secrets"]},
    "enabledClusterLogTypes": ["api", "audit"],
    "vpcConfig": {"endpointPublicAccess": False},
}


@pytest.mark.parametrize(
    ("props", "violation"),
    [
        ({**GOOD_CLUSTER, "encryptionConfig": None}, "not envelope-encrypted"),
        ({**GOOD_CLUSTER, "enabledClusterLogTypes": ["api"]}, "audit log is off"),
        ({**GOOD_CLUSTER, "vpcConfig": {"endpointPublicAccess": True}}, "open to the whole internet"),
        ({**GOOD_CLUSTER, "vpcConfig": {"publicAccessCidrs": ["0.0.0.0/0"]}}, "open to the whole internet"),
    ],
)
def test_eks_cluster_without_encryption_audit_or_a_restricted_endpoint_fails(
    props: dict[str, Any], violation: str
) -> None:
    assert rules.eks_cluster_hardened(Resource(rules.EKS_CLUSTER, "c", GOOD_CLUSTER)) == []
    (found,) = rules.eks_cluster_hardened(Resource(rules.EKS_CLUSTER, "c", props))
    assert violation in found
    restricted = {**GOOD_CLUSTER, "vpcConfig": {"endpointPublicAccess": True, "publicAccessCidrs": ["198.51.100.0/24"]}}
    assert rules.eks_cluster_hardened(Resource(rules.EKS_CLUSTER, "c", restricted)) == []


def test_kms_keys_rotate_except_where_kms_cannot() -> None:
    assert rules.kms_keys_rotate(Resource(rules.KMS_KEY, "k", {"enableKeyRotation": True})) == []
    assert rules.kms_keys_rotate(Resource(rules.KMS_KEY, "k", {"enableKeyRotation": False})) == ["key rotation is off"]
    assert rules.kms_keys_rotate(Resource(rules.KMS_KEY, "k", {"customerMasterKeySpec": "RSA_2048"})) == []


# --- the pack over both stacks ---------------------------------------------------------


AWS_MANAGED_SNS_KEY = (
    "encrypted with the AWS managed key aws/sns, which CloudWatch cannot use: use a customer-managed key"
)


@pytest.mark.parametrize(
    ("key", "violations"),
    [
        ("arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab", []),
        (None, ["not encrypted (no kmsMasterKeyId)"]),
        ("alias/aws/sns", [AWS_MANAGED_SNS_KEY]),
        ("arn:aws:kms:us-east-1:123456789012:alias/aws/sns", [AWS_MANAGED_SNS_KEY]),
    ],
)
def test_sns_topics_are_encrypted_with_a_customer_key(key: str | None, violations: list[str]) -> None:
    props = {"name": "alarms"} if key is None else {"name": "alarms", "kmsMasterKeyId": key}
    assert rules.sns_topics_customer_key(Resource(rules.SNS_TOPIC, "t", props)) == violations


def test_both_stacks_have_no_mandatory_violation(stack: StackRun) -> None:
    assert policy_pack(stack) == []


def test_the_pack_sees_every_resource_of_the_stack(stack: StackRun) -> None:
    seen = policy_resources(stack)
    assert {r.type for r in seen} >= {
        rules.EKS_CLUSTER,
        rules.KMS_KEY,
        rules.NAMESPACE,
        rules.NETWORK_POLICY,
        rules.HELM_RELEASE,
    }
    assert len(seen) == len([r for r in stack.resources if r.custom])


def test_the_offline_plan_fails_on_a_violation(prod: StackRun) -> None:
    assert policy_pack in CHECKS
    open_key = next(r for r in prod.resources if r.type == rules.KMS_KEY)
    broken = type(open_key)(**{**open_key.__dict__, "inputs": {**open_key.inputs, "enableKeyRotation": False}})
    run = StackRun(prod.stack, [broken if r is open_key else r for r in prod.resources], prod.exports)
    assert policy_pack(run) == [f"kms-keys-rotate: {rules.KMS_KEY} {open_key.name}: key rotation is off"]


def test_the_pack_is_a_mandatory_python_policy_pack_of_every_rule() -> None:
    folder = Path(rules.__file__).parent
    manifest = yaml.safe_load((folder / "PulumiPolicy.yaml").read_text())
    assert manifest["runtime"]["name"] == "python"
    main = (folder / "__main__.py").read_text()
    assert "EnforcementLevel.MANDATORY" in main
    assert "RESOURCE_RULES" in main and "STACK_RULES" in main
    named = [(rule.name, rule.description) for rule in rules.RESOURCE_RULES] + [
        (rule.name, rule.description) for rule in rules.STACK_RULES
    ]
    assert len({name for name, _ in named}) == len(named) == 9
    assert all(description for _, description in named)
    requirements = (folder / "requirements.txt").read_text()
    assert "pulumi-policy==" in requirements


def test_rules_read_properties_as_the_policy_engine_hands_them_over() -> None:
    # pulumi-policy wraps props in Mapping/Sequence proxies that raise on unknown values.
    values = {"sidecars": [{"repository": "busybox", "tag": "latest"}]}
    helm = Resource(
        rules.HELM_RELEASE, "r", unknown_checking_proxy({"chart": "c", "version": "1.0.0", "values": values})
    )
    assert rules.images_pinned(helm) == ["values.sidecars[0].tag is 'latest': pin the image tag"]
    wrapped = Resource(DEPLOYMENT, "app", unknown_checking_proxy(dict(deployment(container(securityContext={})).props)))
    assert len(rules.containers_hardened(wrapped)) == 2
    # A bucket's settings are matched by dependency while its id is still unknown...
    unknown_id = [
        Resource(
            r.type,
            r.name,
            unknown_checking_proxy({**r.props, "bucket": UNKNOWN_STRING_VALUE}),
            r.urn,
            r.property_dependencies,
        )
        if r.type != rules.BUCKET
        else r
        for r in bucket_stack()
    ]
    assert rules.s3_buckets_protected(unknown_id) == []
    # ...and a value the engine cannot know yet is reported as such, not as a violation.
    with pytest.raises(UnknownValueError):
        rules.rds_protected(
            Resource(
                rules.RDS_INSTANCE,
                "db",
                unknown_checking_proxy({**GOOD_DATABASE, "storageEncrypted": UNKNOWN_STRING_VALUE}),
            )
        )


def test_the_pack_runs_every_rule_through_pulumi_policy(monkeypatch: pytest.MonkeyPatch) -> None:
    # The real policy/__main__.py, with a PolicyPack that records instead of serving.
    packs: list[dict[str, Any]] = []
    monkeypatch.setattr(pulumi_policy, "PolicyPack", lambda **kwargs: packs.append(kwargs))
    runpy.run_path(str(Path(rules.__file__).parent / "__main__.py"), run_name="__main__")
    (pack,) = packs
    assert pack["enforcement_level"] == pulumi_policy.EnforcementLevel.MANDATORY
    policies = {policy.name: policy for policy in pack["policies"]}
    assert set(policies) == {rule.name for rule in rules.RESOURCE_RULES} | {rule.name for rule in rules.STACK_RULES}

    reported: list[str] = []
    key = SimpleNamespace(
        resource_type=rules.KMS_KEY, name="k", urn="urn:k", props=unknown_checking_proxy({"enableKeyRotation": False})
    )
    policies["kms-keys-rotate"].validate(key, lambda message, urn=None: reported.append(message))
    assert reported == ["key rotation is off"]

    reported.clear()
    stack = [
        SimpleNamespace(
            resource_type=r.type,
            name=r.name,
            urn=r.urn,
            props=unknown_checking_proxy(dict(r.props)),
            property_dependencies={k: [SimpleNamespace(urn=u) for u in v] for k, v in r.property_dependencies.items()},
        )
        for r in bucket_stack()
        if r.type != rules.BUCKET_POLICY
    ]
    policies["s3-buckets-protected"].validate(
        SimpleNamespace(resources=stack), lambda message, urn=None: reported.append(message)
    )
    assert len(reported) == 1 and "accepts requests without TLS" in reported[0]
