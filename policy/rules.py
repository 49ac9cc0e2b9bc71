"""The platform's mandatory policies as plain functions over resources.

Playbook "Security Posture Assessment" and "Data Protection Compliance", as rules over
what a stack declares: ``policy/__main__.py`` turns them into a Pulumi policy pack
(``pulumi preview --policy-pack policy``), and the offline plan runs the same functions
over every resource of both stacks. Only the standard library is used, so the pack's own
virtualenv needs nothing but pulumi-policy.

Properties are the engine's (camelCase) names. Each rule returns its violations, one
sentence each; an empty list means the resource or stack passes.

Helm releases are not templated here, so their containers cannot be checked one by one:
what a release's values do say is checked (chart version pinned, image tags pinned where
the values set them); the charts' own security contexts are reviewed in the components.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

PRODUCTION_ENVIRONMENTS = ("prod", "production")
MIN_BACKUP_RETENTION_DAYS = 7  # playbook "Data Protection Compliance": a week of backups at least

# Namespaces the stack does not own: EKS runs its own add-ons in kube-system.
UNMANAGED_NAMESPACES = ("kube-system",)

HELM_RELEASE = "kubernetes:helm.sh/v3:Release"
NAMESPACE = "kubernetes:core/v1:Namespace"
NETWORK_POLICY = "kubernetes:networking.k8s.io/v1:NetworkPolicy"
BUCKET = "aws:s3/bucket:Bucket"
BUCKET_ENCRYPTION = "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration"
BUCKET_PUBLIC_ACCESS_BLOCK = "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock"
BUCKET_POLICY = "aws:s3/bucketPolicy:BucketPolicy"
BUCKET_LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration"
RDS_INSTANCE = "aws:rds/instance:Instance"
RDS_CLUSTER = "aws:rds/cluster:Cluster"
EKS_CLUSTER = "aws:eks/cluster:Cluster"
KMS_KEY = "aws:kms/key:Key"
KMS_REPLICA_KEY = "aws:kms/replicaKey:ReplicaKey"
SNS_TOPIC = "aws:sns/topic:Topic"
ARGO_APPLICATION = "kubernetes:argoproj.io/v1alpha1:Application"

# Where each workload kind keeps its pod spec.
POD_SPEC_PATHS: Mapping[str, tuple[str, ...]] = {
    "kubernetes:core/v1:Pod": ("spec",),
    "kubernetes:apps/v1:Deployment": ("spec", "template", "spec"),
    "kubernetes:apps/v1:StatefulSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:DaemonSet": ("spec", "template", "spec"),
    "kubernetes:apps/v1:ReplicaSet": ("spec", "template", "spec"),
    "kubernetes:batch/v1:Job": ("spec", "template", "spec"),
    "kubernetes:batch/v1:CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
}

PUBLIC_ACCESS_FLAGS = ("blockPublicAcls", "blockPublicPolicy", "ignorePublicAcls", "restrictPublicBuckets")
KMS_ALGORITHMS = ("aws:kms", "aws:kms:dsse")


@dataclass(frozen=True)
class Resource:
    """What a rule sees of a resource: its type, name, properties and which other
    resources (by URN) each property was computed from."""

    type: str
    name: str
    props: Mapping[str, Any]
    urn: str = ""
    property_dependencies: Mapping[str, Sequence[str]] = field(default_factory=dict)


ResourceCheck = Callable[[Resource], list[str]]
StackCheck = Callable[[Sequence[Resource]], list[str]]


@dataclass(frozen=True)
class ResourceRule:
    name: str
    description: str
    check: ResourceCheck


@dataclass(frozen=True)
class StackRule:
    name: str
    description: str
    check: StackCheck


def _get(value: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value


def _is_production(props: Mapping[str, Any]) -> bool:
    return _get(props, "tags", "environment") in PRODUCTION_ENVIRONMENTS


# --- containers -------------------------------------------------------------------


def _containers(resource: Resource) -> Iterator[tuple[Mapping[str, Any], Mapping[str, Any]]]:
    """(pod spec, container) for every container and init container of a workload."""
    path = POD_SPEC_PATHS.get(resource.type)
    if path is None:
        return
    pod = _get(resource.props, *path) or {}
    for key in ("initContainers", "containers"):
        for container in pod.get(key) or []:
            yield pod, container


def containers_hardened(resource: Resource) -> list[str]:
    """Containers run as non-root with a read-only root filesystem and CPU and memory limits."""
    violations = []
    for pod, container in _containers(resource):
        name = container.get("name", "?")
        pod_context = pod.get("securityContext") or {}
        context = container.get("securityContext") or {}
        non_root = context.get("runAsNonRoot", pod_context.get("runAsNonRoot"))
        user = context.get("runAsUser", pod_context.get("runAsUser"))
        if non_root is not True or user == 0:
            violations.append(f"container {name} may run as root (runAsNonRoot is not true)")
        if context.get("readOnlyRootFilesystem") is not True:
            violations.append(f"container {name} has a writable root filesystem")
        limits = _get(container, "resources", "limits") or {}
        missing = [kind for kind in ("cpu", "memory") if not limits.get(kind)]
        if missing:
            violations.append(f"container {name} has no {' and '.join(missing)} limit")
    return violations


def image_reference_problem(image: Any) -> str | None:
    """Why an image reference is not pinned, or None: it needs a tag other than latest
    or a digest."""
    if not isinstance(image, str) or not image:
        return "has no image"
    if "@sha256:" in image:
        return None
    last = image.rsplit("/", 1)[-1]
    if ":" not in last:
        return f"image {image} has no tag (pulls latest)"
    if last.rsplit(":", 1)[1] in ("", "latest"):
        return f"image {image} uses the latest tag"
    return None


_EXACT_VERSION = re.compile(r"^v?\d+\.\d+\.\d+([-+][0-9A-Za-z.-]+)?$")


def _helm_image_tags(values: Any, path: str = "values") -> Iterator[tuple[str, Any]]:
    """(path, tag) of every image block (a map with a repository or image and a tag key)."""
    if isinstance(values, Mapping):
        if "tag" in values and ("repository" in values or "image" in values):
            yield path, values.get("tag")
        for key, value in values.items():
            yield from _helm_image_tags(value, f"{path}.{key}")
    elif isinstance(values, Sequence) and not isinstance(values, str):
        for index, value in enumerate(values):
            yield from _helm_image_tags(value, f"{path}[{index}]")


def images_pinned(resource: Resource) -> list[str]:
    """No :latest or untagged image; Helm charts pinned to an exact version."""
    violations = []
    for _, container in _containers(resource):
        problem = image_reference_problem(container.get("image"))
        if problem:
            violations.append(f"container {container.get('name', '?')} {problem}")
    if resource.type == HELM_RELEASE:
        version = str(resource.props.get("version") or "")
        if not _EXACT_VERSION.match(version):
            violations.append(f"chart {resource.props.get('chart')} is not pinned to an exact version ({version!r})")
        for path, tag in _helm_image_tags(resource.props.get("values") or {}):
            if not isinstance(tag, str) or tag in ("", "latest"):
                violations.append(f"{path}.tag is {tag!r}: pin the image tag")
    return violations


# --- namespaces -------------------------------------------------------------------


def _is_default_deny(props: Mapping[str, Any]) -> bool:
    spec = props.get("spec") or {}
    selector = spec.get("podSelector")
    selects_all = (
        isinstance(selector, Mapping) and not selector.get("matchLabels") and not selector.get("matchExpressions")
    )
    types = set(spec.get("policyTypes") or [])
    return selects_all and {"Ingress", "Egress"} <= types and not spec.get("ingress") and not spec.get("egress")


def namespaces_default_deny(resources: Sequence[Resource]) -> list[str]:
    """Every workload namespace of the stack has a default-deny NetworkPolicy (ingress and egress)."""
    namespaces = {str(_get(r.props, "metadata", "name")) for r in resources if r.type == NAMESPACE}
    namespaces |= {
        str(_get(r.props, "metadata", "namespace") or r.props.get("namespace"))
        for r in resources
        if r.type in POD_SPEC_PATHS or r.type == HELM_RELEASE
    }
    denied = {
        str(_get(r.props, "metadata", "namespace"))
        for r in resources
        if r.type == NETWORK_POLICY and _is_default_deny(r.props)
    }
    return [
        f"namespace {namespace} has no default-deny NetworkPolicy (podSelector {{}}, Ingress and Egress, no rules)"
        for namespace in sorted(namespaces - denied - set(UNMANAGED_NAMESPACES) - {"None"})
    ]


# --- S3 ---------------------------------------------------------------------------


def _refers_to(resource: Resource, bucket: Resource) -> bool:
    """Whether ``resource``'s ``bucket`` property is computed from ``bucket`` or, when it
    is a literal, names it. The dependency is known even while the bucket's id is not (a
    first preview), so the property itself is read only when it is a literal."""
    dependencies = resource.property_dependencies.get("bucket")
    if dependencies:
        return bucket.urn in dependencies
    name = bucket.props.get("bucket")
    return bool(name) and resource.props.get("bucket") == name


def _for_bucket(bucket: Resource, resources: Sequence[Resource], type_: str) -> list[Resource]:
    """The resources of ``type_`` that configure ``bucket``."""
    return [r for r in resources if r.type == type_ and _refers_to(r, bucket)]


def _tls_only(policy: Any) -> bool:
    if isinstance(policy, str):
        try:
            policy = json.loads(policy)
        except json.JSONDecodeError:
            return False
    statements = _get(policy, "Statement") or []
    if isinstance(statements, Mapping):
        statements = [statements]
    for statement in statements:
        secure = _get(statement, "Condition", "Bool", "aws:SecureTransport")
        actions = statement.get("Action")
        actions = [actions] if isinstance(actions, str) else actions or []
        principal = statement.get("Principal")
        everyone = principal == "*" or _get(principal, "AWS") == "*"
        if statement.get("Effect") == "Deny" and str(secure).lower() == "false" and "s3:*" in actions and everyone:
            return True
    return False


def s3_buckets_protected(resources: Sequence[Resource]) -> list[str]:
    """S3 buckets: KMS encryption, all public access blocked, TLS-only bucket policy,
    and a lifecycle rule that expires objects (backup retention)."""
    violations = []
    for bucket in (r for r in resources if r.type == BUCKET):
        label = f"bucket {bucket.name}"
        encryption = [
            rule
            for config in _for_bucket(bucket, resources, BUCKET_ENCRYPTION)
            for rule in config.props.get("rules") or []
        ]
        if not any(
            _get(rule, "applyServerSideEncryptionByDefault", "sseAlgorithm") in KMS_ALGORITHMS
            and _get(rule, "applyServerSideEncryptionByDefault", "kmsMasterKeyId")
            for rule in encryption
        ):
            violations.append(f"{label} is not encrypted with a KMS key (BucketServerSideEncryptionConfiguration)")
        blocks = _for_bucket(bucket, resources, BUCKET_PUBLIC_ACCESS_BLOCK)
        if not any(all(block.props.get(flag) is True for flag in PUBLIC_ACCESS_FLAGS) for block in blocks):
            violations.append(f"{label} does not block all public access (BucketPublicAccessBlock, all four flags)")
        policies = _for_bucket(bucket, resources, BUCKET_POLICY)
        if not any(_tls_only(policy.props.get("policy")) for policy in policies):
            violations.append(
                f"{label} accepts requests without TLS (no BucketPolicy denying aws:SecureTransport false)"
            )
        lifecycle = [
            rule
            for config in _for_bucket(bucket, resources, BUCKET_LIFECYCLE)
            for rule in config.props.get("rules") or []
        ]
        if not any(
            rule.get("status") == "Enabled" and (rule.get("expiration") or rule.get("noncurrentVersionExpiration"))
            for rule in lifecycle
        ):
            violations.append(f"{label} has no enabled lifecycle rule that expires objects (retention)")
    return violations


# --- RDS, EKS, KMS ----------------------------------------------------------------


def rds_protected(resource: Resource) -> list[str]:
    """RDS: encrypted, not public, backups kept 7+ days; Multi-AZ and deletion protection in prod
    (and on the dr stack's database once promoted). A waiting replica needs neither: its data
    is the primary's, and deletion protection would stop `pulumi destroy` of the dr stack."""
    if resource.type not in (RDS_INSTANCE, RDS_CLUSTER):
        return []
    props = resource.props
    violations = []
    if props.get("storageEncrypted") is not True:
        violations.append("storage is not encrypted")
    if props.get("publiclyAccessible") is True:
        violations.append("the database is publicly accessible")
    retention = props.get("backupRetentionPeriod")
    if not isinstance(retention, (int, float)) or retention < MIN_BACKUP_RETENTION_DAYS:
        violations.append(f"backup retention is {retention!r} days; at least {MIN_BACKUP_RETENTION_DAYS} required")
    # A dr stack's database stands in for production's: a read replica while the stack
    # waits, then, promoted (no replicateSourceDb any more), the production database
    # itself. The replica is Multi-AZ already, so promotion does not wait for a standby.
    replica = bool(props.get("replicateSourceDb"))
    if _is_production(props) or _get(props, "tags", "role") == "dr":
        if not replica and props.get("deletionProtection") is not True:
            violations.append("deletion protection is off in production")
        if resource.type == RDS_INSTANCE and props.get("multiAz") is not True:
            violations.append(
                "the waiting replica is not Multi-AZ: its promotion would wait for a standby to be built"
                if replica
                else "not Multi-AZ in production"
            )
    return violations


def eks_cluster_hardened(resource: Resource) -> list[str]:
    """EKS: secrets envelope-encrypted with KMS, audit logs on, public endpoint restricted."""
    if resource.type != EKS_CLUSTER:
        return []
    props = resource.props
    violations = []
    encryption = props.get("encryptionConfig") or {}
    if "secrets" not in (encryption.get("resources") or []) or not _get(encryption, "provider", "keyArn"):
        violations.append("Kubernetes secrets are not envelope-encrypted with a KMS key")
    if "audit" not in (props.get("enabledClusterLogTypes") or []):
        violations.append("the audit log is off")
    vpc = props.get("vpcConfig") or {}
    if vpc.get("endpointPublicAccess") is not False:
        cidrs = vpc.get("publicAccessCidrs") or []
        if not cidrs or any(str(cidr).endswith("/0") for cidr in cidrs):
            violations.append("the public API endpoint is open to the whole internet")
    return violations


def multi_region_key_id(key_arn: Any) -> str | None:
    """The ``mrk-...`` id of a multi-Region KMS key ARN, None for any other value."""
    if not isinstance(key_arn, str) or ":key/" not in key_arn:
        return None
    key_id = key_arn.rsplit(":key/", 1)[-1]
    return key_id if key_id.startswith("mrk-") else None


def kms_keys_rotate(resource: Resource) -> list[str]:
    """Symmetric KMS keys rotate (asymmetric and HMAC keys cannot); a replica key rotates
    with its multi-Region primary key, whose own stack this rule checks."""
    if resource.type == KMS_REPLICA_KEY:
        # KMS keeps a replica's key material and automatic rotation status in sync with
        # its primary: a replica has no rotation setting of its own, so the rule asks that
        # it replicates a multi-Region key (and a rotation status, once KMS reports one, is on).
        primary = resource.props.get("primaryKeyArn")
        if multi_region_key_id(primary) is None:
            return [f"replicates {primary!r}, not a multi-Region key ARN (arn:...:key/mrk-...)"]
        if resource.props.get("keyRotationEnabled") is False:
            return ["key rotation is off (on its primary key)"]
        return []
    if resource.type != KMS_KEY:
        return []
    spec = resource.props.get("customerMasterKeySpec") or resource.props.get("keySpec") or "SYMMETRIC_DEFAULT"
    if spec == "SYMMETRIC_DEFAULT" and resource.props.get("enableKeyRotation") is not True:
        return ["key rotation is off"]
    return []


def sns_topics_customer_key(resource: Resource) -> list[str]:
    """SNS topics are encrypted with a customer-managed KMS key: the AWS managed key
    aws/sns cannot be used by the AWS services that publish to the platform's topics
    (CloudWatch alarms), since its policy cannot be changed (SNS developer guide, "Enable
    compatibility between event sources from AWS services and encrypted topics")."""
    if resource.type != SNS_TOPIC:
        return []
    key = resource.props.get("kmsMasterKeyId")
    if not key:
        return ["not encrypted (no kmsMasterKeyId)"]
    if str(key).endswith("alias/aws/sns"):
        return ["encrypted with the AWS managed key aws/sns, which CloudWatch cannot use: use a customer-managed key"]
    return []


# --- secrets in Helm values and Argo CD Applications ------------------------------

# A key that names a credential (compared lower-case, without - _ . separators)...
_CREDENTIAL_KEY = re.compile(
    r"password|passwd|passphrase|secret|token|apikey|privatekey|credential|routingkey|integrationkey|servicekey"
    r"|accesskey|signingkey|encryptionkey|authkey"
)
# ...unless it names where a credential is (a Secret, a key in it, a Vault alias or path)
# or how it is obtained, not the credential itself.
_REFERENCE_SUFFIXES = (
    "secretname",
    "secretref",
    "secretkeyref",
    "existingsecret",
    "alias",
    "secretkey",
    "keyname",
    "keyref",
    "passwordkey",
    "tokenkey",
    "userkey",
    "path",
    "file",
    "url",
    "uri",
    "endpoint",
    "address",  # the portal chart's tokenAddress, a token endpoint's URL
    "name",
    "ref",
)
# "<what>Secret" names a Secret object (configSecret, tlsSecret, credentialsSecret), except
# for these words, whose "<word>Secret" is the secret itself.
_SECRET_VALUE_WORDS = ("", "client", "shared", "app", "api", "webhook", "jwt", "hmac", "oauth", "session", "cookie")
# Values that are credentials whatever their key is called.
_SECRET_VALUE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("a PEM private key", re.compile(r"-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----")),
    ("an AWS access key id", re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a JSON Web Token", re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{10,}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a Slack webhook URL", re.compile(r"hooks\.slack\.com/services/T[A-Za-z0-9]+/B[A-Za-z0-9]+/[A-Za-z0-9]+")),
    ("a PagerDuty integration URL", re.compile(r"events\.pagerduty\.com/integration/[a-z0-9]{32}")),
    ("a GitHub token", re.compile(r"\bgh[pousr]_[A-Za-z0-9]{36,}")),
    # user:password@ in a URL, unless the password is a placeholder ($(VAR), ${VAR}, {{ }}).
    ("a URL with a password", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]+:(?![$({])[^/\s@]+@")),
)


# Values whose bare `secret` key names a Secret object, by the end of their path: the
# Tractus-X portal chart's "Secret containing ..." keys (charts/portal values.yaml:
# backend.keycloak.secret, backend.mailing.secret, backend.interfaces.secret and
# externalDatabase.secret, each the name of the Secret its workloads read).
_SECRET_OBJECT_NAME = re.compile(r"^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$")
_SECRET_OBJECT_PATHS = (
    ".backend.keycloak.secret",
    ".backend.mailing.secret",
    ".backend.interfaces.secret",
    ".externalDatabase.secret",
)
# A value that is only a Kubernetes variable reference, `$(NAME)`, which the kubelet
# replaces with the variable's value (from a Secret through envFrom), is no credential.
_VARIABLE_REFERENCE = re.compile(r"\$\([A-Za-z_][A-Za-z0-9_]*\)")


def _normalized(key: str) -> str:
    return re.sub(r"[-_.\s]", "", key).lower()


def is_credential_key(key: str) -> bool:
    """Whether ``key`` names a credential (``password``, ``clientSecret``, ``apiKey``...)
    rather than a reference to one (``existingSecret``, ``passwordSecretKey``, ``tokenUrl``...)."""
    normalized = _normalized(key)
    if normalized.endswith("secret") and normalized.removesuffix("secret") not in _SECRET_VALUE_WORDS:
        return False
    return bool(_CREDENTIAL_KEY.search(normalized)) and not normalized.endswith(_REFERENCE_SUFFIXES)


def secret_looking_values(values: Any, path: str = "values") -> Iterator[str]:
    """Where ``values`` holds what looks like a literal secret: a non-empty string under a
    credential key, an env-style ``{name, value}`` entry whose name is a credential (an
    entry with ``valueFrom`` is a reference), or a value shaped like a private key, an
    access key, a token or a URL with a password, whatever its key."""
    if isinstance(values, Mapping):
        name = values.get("name")
        value = values.get("value")
        if isinstance(name, str) and is_credential_key(name) and isinstance(value, str) and value:
            yield f"{path} sets {name} to a literal value; use valueFrom/secretKeyRef"
        # The entries of a map of paths or URLs (the connector's vault.hashicorp.paths.secret)
        # name where secrets are, whatever their keys are called.
        locations = _normalized(path.rsplit(".", 1)[-1]).endswith(("paths", "urls", "endpoints"))
        for key, value in values.items():
            child = f"{path}.{key}"
            if (
                isinstance(value, str)
                and value
                and not locations
                and is_credential_key(str(key))
                and not (child.endswith(_SECRET_OBJECT_PATHS) and _SECRET_OBJECT_NAME.match(value))
                and not _VARIABLE_REFERENCE.fullmatch(value)
            ):
                yield f"{child} is a literal credential; reference an existing Secret instead"
            else:
                yield from secret_looking_values(value, child)
    elif isinstance(values, Sequence) and not isinstance(values, str):
        for index, value in enumerate(values):
            yield from secret_looking_values(value, f"{path}[{index}]")
    elif isinstance(values, str):
        for what, pattern in _SECRET_VALUE_PATTERNS:
            if pattern.search(values):
                yield f"{path} contains {what}"


def no_secrets_in_values(resource: Resource) -> list[str]:
    """No literal secret in Helm values or Argo CD Applications (a child's values sit in
    the root Application's valuesObject): anyone who can read the release or the
    Application reads them. Secrets reach workloads as Kubernetes Secrets."""
    if resource.type == HELM_RELEASE:
        return list(secret_looking_values(resource.props.get("values") or {}))
    if resource.type == ARGO_APPLICATION:
        return list(secret_looking_values(resource.props.get("spec") or {}, "spec"))
    return []


RESOURCE_RULES: tuple[ResourceRule, ...] = (
    ResourceRule("containers-hardened", containers_hardened.__doc__ or "", containers_hardened),
    ResourceRule("images-pinned", images_pinned.__doc__ or "", images_pinned),
    ResourceRule("rds-protected", rds_protected.__doc__ or "", rds_protected),
    ResourceRule("eks-cluster-hardened", eks_cluster_hardened.__doc__ or "", eks_cluster_hardened),
    ResourceRule("kms-keys-rotate", kms_keys_rotate.__doc__ or "", kms_keys_rotate),
    ResourceRule("sns-topics-customer-key", sns_topics_customer_key.__doc__ or "", sns_topics_customer_key),
    ResourceRule("no-secrets-in-values", no_secrets_in_values.__doc__ or "", no_secrets_in_values),
)
STACK_RULES: tuple[StackRule, ...] = (
    StackRule("namespaces-default-deny", namespaces_default_deny.__doc__ or "", namespaces_default_deny),
    StackRule("s3-buckets-protected", s3_buckets_protected.__doc__ or "", s3_buckets_protected),
)


def violations(resources: Sequence[Resource]) -> list[str]:
    """Every mandatory violation of a stack, each naming the rule and the resource."""
    found = [
        f"{rule.name}: {resource.type} {resource.name}: {violation}"
        for resource in resources
        for rule in RESOURCE_RULES
        for violation in rule.check(resource)
    ]
    found += [f"{rule.name}: {violation}" for rule in STACK_RULES for violation in rule.check(resources)]
    return found
