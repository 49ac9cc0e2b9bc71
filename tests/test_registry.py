"""The image cache: each stack pulls every image through ECR pull-through cache rules in its
own region, so an activation of the dr stack pulls nothing from a public registry."""

from __future__ import annotations

import json

import pytest

from components.registry import ImageRegistry
from offline.checks import is_secret, plain
from offline.harness import StackRun
from tests.conftest import IMAGE_REGISTRIES, policy

RULE = "aws:ecr/pullThroughCacheRule:PullThroughCacheRule"
TEMPLATE = "aws:ecr/repositoryCreationTemplate:RepositoryCreationTemplate"
SECRET = "aws:secretsmanager/secret:Secret"
SECRET_VERSION = "aws:secretsmanager/secretVersion:SecretVersion"
KEY = "aws:kms/key:Key"
ROLE = "aws:iam/role:Role"
ROLE_POLICY = "aws:iam/rolePolicy:RolePolicy"
NODE_GROUP = "aws:eks/nodeGroup:NodeGroup"

PROD = ImageRegistry("123456789012", "eu-central-1", "tx-prod")


def cache_arns(stack: StackRun) -> list[str]:
    region = stack.exports["region"]
    prefix = f"tx-{stack.exports['environment']}"
    return [
        f"arn:aws:ecr:{region}:123456789012:repository/{prefix}/{upstream}/*"
        for upstream in ("docker-hub", "ecr-public", "ghcr", "k8s", "quay")
    ]


@pytest.mark.parametrize(
    ("upstream", "mirrored"),
    [
        # Docker Hub: official images under library/, others as named, tags and digests kept.
        ("traefik:v3.6.15", "docker-hub/library/traefik:v3.6.15"),
        ("docker.io/traefik", "docker-hub/library/traefik"),
        ("docker.io/grafana/grafana:13.2.0", "docker-hub/grafana/grafana:13.2.0"),
        ("tractusx/edc-dataplane-hashicorp-vault", "docker-hub/tractusx/edc-dataplane-hashicorp-vault"),
        (f"postgres:17.9-alpine@sha256:{'c' * 64}", f"docker-hub/library/postgres:17.9-alpine@sha256:{'c' * 64}"),
        # ECR Public under either of its names.
        ("ecr-public.aws.com/docker/library/redis:8.2.3-alpine", "ecr-public/docker/library/redis:8.2.3-alpine"),
        ("public.ecr.aws/docker/library/haproxy:3.3.10", "ecr-public/docker/library/haproxy:3.3.10"),
        ("ghcr.io/kedacore/keda:2.20.2", "ghcr/kedacore/keda:2.20.2"),
        ("registry.k8s.io/metrics-server/metrics-server", "k8s/metrics-server/metrics-server"),
        ("quay.io/jetstack/cert-manager-controller:v1.21.1", "quay/jetstack/cert-manager-controller:v1.21.1"),
    ],
)
def test_an_upstream_image_is_pulled_from_the_stacks_cache_of_its_registry(upstream: str, mirrored: str) -> None:
    assert PROD.image(upstream) == f"{IMAGE_REGISTRIES['prod']}/{mirrored}"


def test_an_image_from_a_registry_without_a_cache_rule_stops_the_program() -> None:
    with pytest.raises(ValueError, match=r"images from gcr\.io have no pull-through cache rule"):
        PROD.image("gcr.io/distroless/static:nonroot")
    with pytest.raises(ValueError, match="images from localhost:5000 have no pull-through cache rule"):
        PROD.image("localhost:5000/app:1.0")


def test_a_chart_that_takes_registry_and_repository_apart_gets_both() -> None:
    assert PROD.chart_image("docker.io/traefik") == {
        "registry": f"{IMAGE_REGISTRIES['prod']}/docker-hub",
        "repository": "library/traefik",
    }
    assert PROD.registry("quay.io") == f"{IMAGE_REGISTRIES['prod']}/quay"


def test_a_name_prefix_too_long_for_ecrs_cache_prefixes_is_refused() -> None:
    """CreatePullThroughCacheRule: ecrRepositoryPrefix has at most 30 characters."""
    assert ImageRegistry("123456789012", "eu-west-1", f"tx-{'a' * 16}").name_prefix  # 30: allowed
    with pytest.raises(ValueError, match="reach 31 characters; ECR allows 30"):
        ImageRegistry("123456789012", "eu-west-1", f"tx-{'a' * 17}")


def test_each_upstream_the_plan_pulls_from_has_a_rule_in_the_stacks_region(stack: StackRun) -> None:
    prefix = f"tx-{stack.exports['environment']}"
    rules = {r.inputs["ecrRepositoryPrefix"]: r.inputs for r in stack.of_type(RULE)}
    assert {name: rule["upstreamRegistryUrl"] for name, rule in rules.items()} == {
        f"{prefix}/docker-hub": "registry-1.docker.io",
        f"{prefix}/ecr-public": "public.ecr.aws",
        f"{prefix}/ghcr": "ghcr.io",
        f"{prefix}/k8s": "registry.k8s.io",
        f"{prefix}/quay": "quay.io",
    }
    # Docker Hub and GitHub need an account; ECR Public, Kubernetes and Quay do not.
    secrets = {r.name: r.inputs for r in stack.of_type(SECRET) if "image-cache" in r.name}
    credentials = {name: rule.get("credentialArn") for name, rule in rules.items()}
    assert {name for name, arn in credentials.items() if arn} == {f"{prefix}/docker-hub", f"{prefix}/ghcr"}
    assert sorted(s["name"] for s in secrets.values()) == [
        f"ecr-pullthroughcache/{prefix}/docker-hub",
        f"ecr-pullthroughcache/{prefix}/ghcr",
    ]
    assert stack.exports["imageRegistry"] == IMAGE_REGISTRIES[stack.stack]


def test_upstream_credentials_stay_secret_under_the_caches_own_key(prod: StackRun) -> None:
    key = prod.one(KEY, "tractusx-image-cache-key")
    key_arn = "arn:aws:kms:eu-central-1:123456789012:tractusx-image-cache-key"
    for secret in (s for s in prod.of_type(SECRET) if "image-cache" in s.name):
        assert secret.inputs["kmsKeyId"] == key_arn
    for version in (v for v in prod.of_type(SECRET_VERSION) if "image-cache" in v.name):
        assert is_secret(version.inputs["secretString"])
        assert json.loads(plain(version.inputs)["secretString"]) == {
            "username": "example",
            "accessToken": "offline-plan-placeholder-secret",
        }
    # ECR's service-linked role reads them, through Secrets Manager in this region only.
    statements = {s["Sid"]: s for s in policy(key.inputs["policy"])["Statement"]}
    assert statements["EcrPullThroughCacheReadsUpstreamCredentials"] == {
        "Sid": "EcrPullThroughCacheReadsUpstreamCredentials",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
        "Action": ["kms:Decrypt", "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {
            "StringEquals": {
                "aws:PrincipalArn": (
                    "arn:aws:iam::123456789012:role/aws-service-role/pullthroughcache.ecr.amazonaws.com/"
                    "AWSServiceRoleForECRPullThroughCache"
                ),
                "kms:ViaService": "secretsmanager.eu-central-1.amazonaws.com",
            }
        },
    }


def test_every_cached_repository_is_created_encrypted_by_a_role_limited_to_the_cache(stack: StackRun) -> None:
    region = stack.exports["region"]
    key_arn = f"arn:aws:kms:{region}:123456789012:tractusx-image-cache-key"
    role_arn = "arn:aws:iam::123456789012:role/tractusx-image-cache-repository-creation"
    templates = stack.of_type(TEMPLATE)
    rules = {r.inputs["ecrRepositoryPrefix"] for r in stack.of_type(RULE)}
    assert {t.inputs["prefix"] for t in templates} == rules
    for template in templates:
        inputs = template.inputs
        assert inputs["appliedFors"] == ["PULL_THROUGH_CACHE"]
        assert inputs["encryptionConfigurations"] == [{"encryptionType": "KMS", "kmsKey": key_arn}]
        # ECR keeps a cached tag in sync with its upstream only while tags are mutable.
        assert inputs["imageTagMutability"] == "MUTABLE"
        assert inputs["customRoleArn"] == role_arn
        (rule,) = json.loads(inputs["lifecyclePolicy"])["rules"]
        assert rule["selection"] == {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 20}
    creator = stack.one(ROLE, "tractusx-image-cache-repository-creation")
    assert policy(creator.inputs["assumeRolePolicy"])["Statement"] == [
        {"Effect": "Allow", "Principal": {"Service": "ecr.amazonaws.com"}, "Action": "sts:AssumeRole"}
    ]
    statements = policy(stack.one(ROLE_POLICY, "tractusx-image-cache-repository-creation-policy").inputs["policy"])
    assert statements["Statement"] == [
        {
            "Sid": "CreateCachedRepositories",
            "Effect": "Allow",
            "Action": ["ecr:CreateRepository", "ecr:TagResource"],
            "Resource": cache_arns(stack),
        },
        {
            "Sid": "EncryptCachedRepositories",
            "Effect": "Allow",
            "Action": ["kms:CreateGrant", "kms:RetireGrant", "kms:DescribeKey"],
            "Resource": key_arn,
        },
    ]


def test_nodes_fill_the_cache_only_under_its_prefixes_and_start_after_its_rules(stack: StackRun) -> None:
    """A kubelet's first pull of an image imports it (ecr:BatchImportUpstreamImage) into a
    repository it may have to create (ecr:CreateRepository)."""
    node_policy = policy(stack.one(ROLE_POLICY, "tractusx-cluster-node-policy").inputs["policy"])
    assert node_policy["Statement"] == [
        {
            "Sid": "ImportThroughPullThroughCache",
            "Effect": "Allow",
            "Action": ["ecr:BatchImportUpstreamImage", "ecr:CreateRepository"],
            "Resource": cache_arns(stack),
        }
    ]
    rules = {r.urn for r in stack.of_type(RULE)}
    for group in stack.of_type(NODE_GROUP):
        assert rules <= set(group.dependencies), group.name
