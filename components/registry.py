"""Every image the platform runs comes from the stack's own ECR, through pull-through cache.

A dr activation scales nodes out and starts the connector, whose images were never pulled
there. Pulled from Docker Hub, Quay, GitHub or registry.k8s.io, Docker Hub's anonymous
pull limits and any public registry's outage would sit on the recovery path. So each
stack has an ECR pull-through cache rule per upstream registry in its own region, and
every image reference the platform writes (chart values, the program's own Jobs) names
the stack's registry: ``<account>.dkr.ecr.<region>.amazonaws.com/<stack prefix>/
<upstream>/<path>:<tag>``. The first pull of an image imports it from its upstream into a
repository under the rule's prefix; every later pull, from any node, is served by ECR in
the region (AWS ECR User Guide, "Sync an upstream registry with an Amazon ECR private
registry").

``ImageRegistry`` is the mapping, a pure value the components use to write their image
references; ``ImageCache`` creates the rules, the upstream credentials they need and the
template of the repositories they create. The offline plan checks that every image of
every rendered object names the stack's registry (offline/rendered_checks.py,
``images_from_the_stacks_registry``).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.backup_image import lifecycle_policy
from components.iam import policy_document, role
from components.keys import customer_key
from components.settings import RegistryCredentials

# ECR limits a pull-through cache rule's repository prefix to 30 characters
# (API reference, CreatePullThroughCacheRule: ecrRepositoryPrefix).
MAX_PREFIX_LENGTH = 30
# Where Secrets Manager secrets of upstream credentials must be named (User Guide,
# "Creating a pull through cache rule": the secret's name begins with this).
SECRET_NAME_PREFIX = "ecr-pullthroughcache/"
# Cached images kept per repository: every image the platform pins is one tag, so this
# only bounds what chart bumps leave behind.
KEEP_CACHED_IMAGES = 20


@dataclass(frozen=True)
class Upstream:
    """An upstream registry ECR's pull-through cache supports, and the hosts image
    references name it by."""

    name: str  # the cache's prefix under the stack's own
    url: str  # upstreamRegistryUrl (API reference, CreatePullThroughCacheRule)
    hosts: tuple[str, ...]
    # Docker Hub and GitHub Container Registry need credentials in a Secrets Manager
    # secret; ECR Public, Quay and registry.k8s.io do not (User Guide, "Sync an upstream
    # registry with an Amazon ECR private registry"). The settings' name of the account
    # (components/settings.REGISTRY_CREDENTIALS), or None.
    credentials: str | None = None


DOCKER_HUB = Upstream(
    "docker-hub",
    "registry-1.docker.io",
    ("docker.io", "index.docker.io", "registry-1.docker.io"),
    credentials="dockerHub",
)
# ecr-public.aws.com is ECR Public's dual-stack name for public.ecr.aws, the same images
# (argo-helm pull request 3328, which moved argo-cd's Redis and HAProxy images to it).
ECR_PUBLIC = Upstream("ecr-public", "public.ecr.aws", ("public.ecr.aws", "ecr-public.aws.com"))
GITHUB = Upstream("ghcr", "ghcr.io", ("ghcr.io",), credentials="github")
KUBERNETES = Upstream("k8s", "registry.k8s.io", ("registry.k8s.io",))
QUAY = Upstream("quay", "quay.io", ("quay.io",))
# The upstreams of every image the rendered plan runs (make plan; README, "Images").
UPSTREAMS: tuple[Upstream, ...] = (DOCKER_HUB, ECR_PUBLIC, GITHUB, KUBERNETES, QUAY)

# A reference without a registry host is Docker Hub's; a one-segment Docker Hub path is
# an official image, under `library/` (the distribution reference grammar's defaults).
_DEFAULT_HOST = "docker.io"
_OFFICIAL_IMAGES = "library"


def split_reference(reference: str) -> tuple[str, str, str]:
    """``(host, path, suffix)`` of an image reference: the registry host (Docker Hub's
    when the first segment names none), the repository path (``library/`` added for a
    Docker Hub official image) and ``:tag``, ``@sha256:...`` or both, as given."""
    name, at, digest = reference.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    tag = name[colon:] if colon > slash else ""
    name = name[: len(name) - len(tag)]
    first, _, rest = name.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        host, path = first, rest
    else:
        host, path = _DEFAULT_HOST, name
    if host in DOCKER_HUB.hosts and "/" not in path:
        path = f"{_OFFICIAL_IMAGES}/{path}"
    return host, path, f"{tag}{at}{digest}"


def upstream_of(host: str) -> Upstream:
    for upstream in UPSTREAMS:
        if host in upstream.hosts:
            return upstream
    served = ", ".join(h for u in UPSTREAMS for h in u.hosts)
    raise ValueError(
        f"images from {host} have no pull-through cache rule (components/registry.UPSTREAMS serves {served})"
    )


@dataclass(frozen=True)
class ImageRegistry:
    """The stack's private ECR registry and where each upstream's images are cached in it."""

    account_id: str
    region: str
    name_prefix: str
    partition: str = "aws"

    def __post_init__(self) -> None:
        longest = max(len(self.prefix(upstream)) for upstream in UPSTREAMS)
        if longest > MAX_PREFIX_LENGTH:
            raise ValueError(
                f"cache prefixes under {self.name_prefix!r} reach {longest} characters; ECR allows {MAX_PREFIX_LENGTH}"
            )

    @staticmethod
    def of(ctx: AwsContext, name_prefix: str) -> ImageRegistry:
        return ImageRegistry(ctx.account_id, ctx.region, name_prefix, ctx.partition)

    @property
    def host(self) -> str:
        suffix = "amazonaws.com.cn" if self.partition == "aws-cn" else "amazonaws.com"
        return f"{self.account_id}.dkr.ecr.{self.region}.{suffix}"

    def prefix(self, upstream: Upstream) -> str:
        """The repository prefix of ``upstream``'s cache rule."""
        return f"{self.name_prefix}/{upstream.name}"

    def registry(self, upstream_host: str) -> str:
        """What replaces ``upstream_host`` where a chart takes the registry apart from the
        repository (``image.registry``)."""
        return f"{self.host}/{self.prefix(upstream_of(upstream_host))}"

    def chart_image(self, repository: str) -> dict[str, str]:
        """``{"registry", "repository"}`` of an upstream repository, for a chart that takes
        them apart (with ``library/`` for a Docker Hub official image)."""
        host, path, _ = split_reference(repository)
        return {"registry": self.registry(host), "repository": path}

    def image(self, reference: str) -> str:
        """The stack's reference for an upstream image (or repository): same path, tag
        and digest, served by the stack's cache."""
        host, path, suffix = split_reference(reference)
        return f"{self.registry(host)}/{path}{suffix}"

    def repository_arns(self) -> list[str]:
        """Every repository the cache rules may create."""
        return [
            f"arn:{self.partition}:ecr:{self.region}:{self.account_id}:repository/{self.prefix(upstream)}/*"
            for upstream in UPSTREAMS
        ]

    def node_pull_policy(self) -> str:
        """What the nodes' kubelet needs besides pulling (AmazonEC2ContainerRegistryPullOnly)
        so that its pull of an image not yet cached imports it: ecr:BatchImportUpstreamImage
        and, for the first image of a repository, ecr:CreateRepository (User Guide, "IAM
        permissions required to sync an upstream registry with an Amazon ECR private
        registry"), only under the cache's prefixes."""
        return policy_document(
            [
                {
                    "Sid": "ImportThroughPullThroughCache",
                    "Effect": "Allow",
                    "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
                    "Resource": self.repository_arns(),
                }
            ]
        )


def credentials_secret(credentials: RegistryCredentials) -> pulumi.Output[str]:
    """The secret's value in the form ECR reads (User Guide, "Storing your upstream
    repository credentials in an AWS Secrets Manager secret": username, accessToken)."""
    return credentials.access_token.output().apply(
        lambda token: json.dumps({"username": credentials.username, "accessToken": token}, sort_keys=True)
    )


def pull_through_cache_key_statement(ctx: AwsContext) -> dict[str, Any]:
    """Lets ECR's pull-through cache service-linked role read the upstream credentials
    encrypted with the key, only through Secrets Manager in this region. Its managed
    policy (AWSECRPullThroughCache_ServiceRolePolicy) grants secretsmanager:GetSecretValue
    on ``ecr-pullthroughcache/*`` but no KMS use, so a customer key must allow it. ECR
    creates the role with the first rule, so the principal is the account, narrowed to
    the role by aws:PrincipalArn (a key policy cannot name a role that does not exist yet)."""
    service_role = (
        f"arn:{ctx.partition}:iam::{ctx.account_id}:role/aws-service-role/"
        "pullthroughcache.ecr.amazonaws.com/AWSServiceRoleForECRPullThroughCache"
    )
    return {
        "Sid": "EcrPullThroughCacheReadsUpstreamCredentials",
        "Effect": "Allow",
        "Principal": {"AWS": ctx.account_root},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "aws:PrincipalArn": service_role,
                "kms:ViaService": f"secretsmanager.{ctx.region}.amazonaws.com",
            }
        },
    }


@dataclass(frozen=True)
class ImageCacheArgs:
    registry: ImageRegistry
    # The upstream accounts, by Upstream.credentials.
    credentials: Mapping[str, RegistryCredentials]
    ctx: AwsContext
    tags: Mapping[str, str]


class ImageCache(pulumi.ComponentResource):
    """The stack's pull-through cache: a rule per upstream, the upstream credentials in
    Secrets Manager (encrypted with the stack's own key), and the template every cached
    repository is created from (KMS-encrypted with that key, bounded by a lifecycle rule)."""

    registry: ImageRegistry
    rules: list[aws.ecr.PullThroughCacheRule]
    templates: list[aws.ecr.RepositoryCreationTemplate]

    def __init__(self, name: str, args: ImageCacheArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:registry:ImageCache", name, None, opts)
        missing = [u.credentials for u in UPSTREAMS if u.credentials and u.credentials not in args.credentials]
        if missing:
            raise ValueError(f"the pull-through cache needs the upstream accounts {', '.join(map(str, missing))}")
        self._name = name
        self._args = args
        self.registry = args.registry
        key = customer_key(
            f"{name}-key",
            alias=f"{args.registry.name_prefix}-image-cache",
            description=f"Pull-through cache of {args.registry.name_prefix}: cached images and upstream credentials",
            ctx=args.ctx,
            parent=self,
            tags=args.tags,
            service_statements=[pull_through_cache_key_statement(args.ctx)],
        )
        creator = self._creation_role(key)
        self.rules = [self._rule(upstream, key) for upstream in UPSTREAMS]
        self.templates = [self._template(upstream, key, creator) for upstream in UPSTREAMS]
        self.register_outputs({"prefixes": [args.registry.prefix(u) for u in UPSTREAMS]})

    def _creation_role(self, key: aws.kms.Key) -> aws.iam.Role:
        """The role ECR assumes to create a cached repository from a template that names
        a KMS key (User Guide, "Create an IAM role for repository creation templates" and
        its custom policy), only for repositories under the cache's prefixes and only
        with the cache's key."""
        args = self._args
        policy = key.arn.apply(
            lambda key_arn: policy_document(
                [
                    {
                        "Sid": "CreateCachedRepositories",
                        "Effect": "Allow",
                        "Action": ["ecr:CreateRepository", "ecr:TagResource"],
                        "Resource": args.registry.repository_arns(),
                    },
                    {
                        "Sid": "EncryptCachedRepositories",
                        "Effect": "Allow",
                        "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
                        "Resource": key_arn,
                    },
                ]
            )
        )
        # The trust policy of that guide, as given: a condition ECR does not meet when it
        # assumes the role would stop every first pull.
        trust = policy_document(
            [{"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"}]
        )
        return role(
            f"{self._name}-repository-creation",
            trust_policy=trust,
            description=f"ECR creates the pull-through cache repositories of {args.registry.name_prefix}",
            parent=self,
            tags=args.tags,
            inline_policy=policy,
        )

    def _rule(self, upstream: Upstream, key: aws.kms.Key) -> aws.ecr.PullThroughCacheRule:
        args = self._args
        credential_arn = None
        if upstream.credentials is not None:
            secret = aws.secretsmanager.Secret(
                f"{self._name}-{upstream.name}-credentials",
                name=f"{SECRET_NAME_PREFIX}{args.registry.prefix(upstream)}",
                description=f"Credentials of {args.registry.name_prefix}'s pull-through cache at {upstream.url}",
                kms_key_id=key.arn,
                recovery_window_in_days=7,
                tags=dict(args.tags),
                opts=pulumi.ResourceOptions(parent=self),
            )
            aws.secretsmanager.SecretVersion(
                f"{self._name}-{upstream.name}-credentials-value",
                secret_id=secret.id,
                secret_string=credentials_secret(args.credentials[upstream.credentials]),
                opts=pulumi.ResourceOptions(parent=secret),
            )
            credential_arn = secret.arn
        return aws.ecr.PullThroughCacheRule(
            f"{self._name}-{upstream.name}",
            ecr_repository_prefix=args.registry.prefix(upstream),
            upstream_registry_url=upstream.url,
            credential_arn=credential_arn,
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _template(
        self, upstream: Upstream, key: aws.kms.Key, creator: aws.iam.Role
    ) -> aws.ecr.RepositoryCreationTemplate:
        """Cached repositories keep mutable tags: ECR keeps a cached image in sync with its
        upstream only while the repository's tags are mutable (User Guide, "Sync an
        upstream registry"); what runs is pinned by the references' tags and digests."""
        args = self._args
        return aws.ecr.RepositoryCreationTemplate(
            f"{self._name}-{upstream.name}-template",
            prefix=args.registry.prefix(upstream),
            applied_fors=["PULL_THROUGH_CACHE"],
            description=f"Repositories of {args.registry.name_prefix}'s pull-through cache of {upstream.url}",
            encryption_configurations=[
                aws.ecr.RepositoryCreationTemplateEncryptionConfigurationArgs(encryption_type="KMS", kms_key=key.arn)
            ],
            image_tag_mutability="MUTABLE",
            lifecycle_policy=lifecycle_policy(KEEP_CACHED_IMAGES),
            custom_role_arn=creator.arn,
            resource_tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
