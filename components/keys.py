"""Customer-managed KMS keys: rotation on, an alias, and a key policy per use."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.iam import policy_document

# Key material is rotated yearly (the KMS default period) and deletion waits the longest
# period KMS allows, so a key deleted by mistake can still be recovered.
KEY_DELETION_WINDOW_DAYS = 30

KEY_USE_ACTIONS = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:DescribeKey"]


def account_statement(ctx: AwsContext) -> dict[str, Any]:
    """Lets IAM policies of this account grant use of the key (the KMS default)."""
    return {
        "Sid": "AccountIamDelegation",
        "Effect": "Allow",
        "Principal": {"AWS": ctx.account_root},
        "Action": "kms:*",
        "Resource": "*",
    }


def cloudwatch_logs_statement(ctx: AwsContext) -> dict[str, Any]:
    """Lets CloudWatch Logs use the key, only for log groups of this account and region."""
    return {
        "Sid": "CloudWatchLogsInThisAccount",
        "Effect": "Allow",
        "Principal": {"Service": f"logs.{ctx.region}.amazonaws.com"},
        "Action": KEY_USE_ACTIONS,
        "Resource": "*",
        "Condition": {
            "ArnLike": {
                "kms:EncryptionContext:aws:logs:arn": (
                    f"arn:{ctx.partition}:logs:{ctx.region}:{ctx.account_id}:log-group:*"
                )
            }
        },
    }


def customer_key(
    name: str,
    *,
    alias: str,
    description: str,
    ctx: AwsContext,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    service_statements: Sequence[Mapping[str, Any]] = (),
    multi_region: bool = False,
) -> aws.kms.Key:
    """A symmetric key with rotation on; ``multi_region`` makes it a multi-Region primary
    key (id ``mrk-...``), which ``replica_key`` can replicate into another region.

    Whether a key is multi-Region is fixed when it is created: changing it replaces the key.
    """
    key = aws.kms.Key(
        name,
        description=description,
        enable_key_rotation=True,
        multi_region=multi_region,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy_document([account_statement(ctx), *service_statements]),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    _alias(name, alias, key)
    return key


def replica_key(
    name: str,
    *,
    primary_key_arn: pulumi.Input[str],
    alias: str,
    description: str,
    ctx: AwsContext,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
    service_statements: Sequence[Mapping[str, Any]] = (),
) -> aws.kms.ReplicaKey:
    """A replica, in this stack's region, of the multi-Region primary key ``primary_key_arn``.

    It has the primary's key id and key material, so it decrypts what the primary
    encrypted (and the other way round) without a call to the primary's region. Key
    material, key spec and automatic rotation are the primary's (KMS keeps them in sync:
    a replica's rotation is switched on the primary); policy, alias, tags and deletion
    window are the replica's own. Creating it calls KMS ``ReplicateKey`` in the primary's
    region; reading and using it afterwards does not.
    """
    key = aws.kms.ReplicaKey(
        name,
        primary_key_arn=primary_key_arn,
        description=description,
        enabled=True,
        deletion_window_in_days=KEY_DELETION_WINDOW_DAYS,
        policy=policy_document([account_statement(ctx), *service_statements]),
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
    _alias(name, alias, key)
    return key


def _alias(name: str, alias: str, key: aws.kms.Key | aws.kms.ReplicaKey) -> aws.kms.Alias:
    return aws.kms.Alias(
        f"{name}-alias", name=f"alias/{alias}", target_key_id=key.key_id, opts=pulumi.ResourceOptions(parent=key)
    )


def encrypted_log_group(
    name: str,
    *,
    log_group_name: pulumi.Input[str],
    key: aws.kms.Key,
    retention_days: int,
    parent: pulumi.Resource,
    tags: Mapping[str, str],
) -> aws.cloudwatch.LogGroup:
    return aws.cloudwatch.LogGroup(
        name,
        name=log_group_name,
        retention_in_days=retention_days,
        kms_key_id=key.arn,
        tags=dict(tags),
        opts=pulumi.ResourceOptions(parent=parent),
    )
