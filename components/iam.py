"""IAM building blocks shared by the components: policy documents and roles.

Policies are written as plain JSON documents rather than through the
``aws.iam.get_policy_document`` invoke, so a plan shows exactly what will be granted.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext


def policy_document(statements: Sequence[Mapping[str, Any]]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)}, sort_keys=True)


def service_trust_policy(service: str, ctx: AwsContext) -> str:
    """Trust policy for an AWS service, limited to this account (confused-deputy guard)."""
    return policy_document(
        [
            {
                "Effect": "Allow",
                "Principal": {"Service": service},
                "Action": "sts:AssumeRole",
                "Condition": {"StringEquals": {"aws:SourceAccount": ctx.account_id}},
            }
        ]
    )


@dataclass(frozen=True)
class OidcIssuer:
    """The cluster's IAM OIDC provider, as IRSA trust policies need it."""

    provider_arn: pulumi.Output[str]
    issuer_url: pulumi.Output[str]


def irsa_trust_policy(oidc: OidcIssuer, namespace: str, service_account: str) -> pulumi.Output[str]:
    """Trust policy that lets exactly one Kubernetes service account assume a role."""

    def render(args: list[str]) -> str:
        provider_arn, issuer_url = args
        host = issuer_url.removeprefix("https://")
        return policy_document(
            [
                {
                    "Effect": "Allow",
                    "Principal": {"Federated": provider_arn},
                    "Action": "sts:AssumeRoleWithWebIdentity",
                    "Condition": {
                        "StringEquals": {
                            f"{host}:sub": f"system:serviceaccount:{namespace}:{service_account}",
                            f"{host}:aud": "sts.amazonaws.com",
                        }
                    },
                }
            ]
        )

    return pulumi.Output.all(oidc.provider_arn, oidc.issuer_url).apply(render)


def role(
    name: str,
    *,
    trust_policy: pulumi.Input[str],
    description: str,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    managed_policy_arns: Sequence[str] = (),
    inline_policy: pulumi.Input[str] | None = None,
) -> aws.iam.Role:
    """An IAM role with its managed policy attachments and at most one inline policy."""
    opts = pulumi.ResourceOptions(parent=parent)
    created = aws.iam.Role(
        name,
        assume_role_policy=trust_policy,
        description=description,
        max_session_duration=3600,
        tags=dict(tags),
        opts=opts,
    )
    child = pulumi.ResourceOptions(parent=created)
    for policy_arn in managed_policy_arns:
        policy_name = policy_arn.rsplit("/", 1)[-1]
        aws.iam.RolePolicyAttachment(f"{name}-{policy_name}", role=created.name, policy_arn=policy_arn, opts=child)
    if inline_policy is not None:
        aws.iam.RolePolicy(f"{name}-policy", role=created.id, policy=inline_policy, opts=child)
    return created
