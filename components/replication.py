"""Cross-region replication of the primary's backup bucket into the dr stack's bucket.

Created by the dr stack, which reads the primary's bucket and key through its
StackReference and configures replication ON the primary's bucket with a provider for the
primary region; the primary stack never reads the dr stack, so the stacks form no cycle.
Every new object version and delete marker is replicated, re-encrypted with the dr
region's backup key, under S3 Replication Time Control (99.99% of objects within 15
minutes, with replication metrics). Objects stored before replication was configured are
not replicated by S3 on its own: copy them once with S3 Batch Replication (README, DR
runbook).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.iam import policy_document, role, service_trust_policy

RULE_ID = "backups-to-dr-region"
# S3 Replication Time Control: the SLA covers 99.99% of objects within 15 minutes; 15 is
# the only value S3 accepts for the replication time and the metrics' event threshold.
REPLICATION_TIME_MINUTES = 15
STORAGE_CLASS = "STANDARD"


@dataclass(frozen=True)
class BucketEnd:
    """One end of the replication: a bucket, its SSE-KMS key and its region."""

    bucket_name: pulumi.Input[str]
    bucket_arn: pulumi.Input[str]
    key_arn: pulumi.Input[str]
    region: pulumi.Input[str]


@dataclass(frozen=True)
class BackupReplicationArgs:
    name_prefix: str
    source: BucketEnd  # the primary stack's backup bucket (read from its exports)
    destination: BucketEnd  # this stack's backup bucket
    # Replication needs versioning on; the destination's is this stack's resource.
    destination_versioning: pulumi.Resource
    ctx: AwsContext
    tags: Mapping[str, str]


def _kms_via_s3(region: str, bucket_arn: str) -> dict[str, Any]:
    """Use of a key only by S3 in ``region`` and only for objects of ``bucket_arn``.

    With an S3 Bucket Key the encryption context is the bucket's ARN, without one the
    object's ARN: both are allowed, nothing outside the bucket.
    """
    return {
        "StringEquals": {"kms:ViaService": f"s3.{region}.amazonaws.com"},
        "StringLike": {"kms:EncryptionContext:aws:s3:arn": [bucket_arn, f"{bucket_arn}/*"]},
    }


def replication_policy(
    *,
    source_bucket_arn: str,
    source_key_arn: str,
    source_region: str,
    destination_bucket_arn: str,
    destination_key_arn: str,
    destination_region: str,
) -> str:
    """Least privilege for S3 replication between exactly these two buckets and keys."""
    return policy_document(
        [
            {
                "Sid": "SourceBucketConfiguration",
                "Effect": "Allow",
                "Action": ["s3:GetReplicationConfiguration", "s3:ListBucket"],
                "Resource": source_bucket_arn,
            },
            {
                "Sid": "SourceObjectVersions",
                "Effect": "Allow",
                "Action": [
                    "s3:GetObjectVersionAcl",
                    "s3:GetObjectVersionForReplication",
                    "s3:GetObjectVersionTagging",
                ],
                "Resource": f"{source_bucket_arn}/*",
            },
            {
                "Sid": "ReplicateIntoDestination",
                "Effect": "Allow",
                "Action": ["s3:ReplicateDelete", "s3:ReplicateObject", "s3:ReplicateTags"],
                "Resource": f"{destination_bucket_arn}/*",
            },
            {
                "Sid": "DecryptSourceObjects",
                "Effect": "Allow",
                "Action": "kms:Decrypt",
                "Resource": source_key_arn,
                "Condition": _kms_via_s3(source_region, source_bucket_arn),
            },
            {
                "Sid": "EncryptReplicas",
                "Effect": "Allow",
                "Action": ["kms:Encrypt", "kms:GenerateDataKey"],
                "Resource": destination_key_arn,
                "Condition": _kms_via_s3(destination_region, destination_bucket_arn),
            },
        ]
    )


class BackupReplication(pulumi.ComponentResource):
    role: aws.iam.Role
    primary_provider: aws.Provider
    config: aws.s3.BucketReplicationConfig

    def __init__(self, name: str, args: BackupReplicationArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:replication:BackupReplication", name, None, opts)
        source, destination = args.source, args.destination
        policy = pulumi.Output.all(
            source.bucket_arn,
            source.key_arn,
            source.region,
            destination.bucket_arn,
            destination.key_arn,
            destination.region,
        ).apply(
            lambda v: replication_policy(
                source_bucket_arn=v[0],
                source_key_arn=v[1],
                source_region=v[2],
                destination_bucket_arn=v[3],
                destination_key_arn=v[4],
                destination_region=v[5],
            )
        )
        # Both keys' policies delegate to IAM in this account (components.keys), and the
        # buckets' policies deny only requests without TLS 1.2+ (S3 replicates over TLS),
        # so this role's own policy is all the access replication needs.
        self.role = role(
            f"{name}-role",
            trust_policy=service_trust_policy("s3.amazonaws.com", args.ctx),
            description=f"S3 replication of the primary's backups into {args.name_prefix}",
            parent=self,
            tags=args.tags,
            inline_policy=policy,
        )
        # The replication configuration belongs to the primary's bucket: it is created in
        # the primary region, by this stack. The provider makes no call of its own at
        # start-up (no credential, account or region check against the primary region's
        # endpoints), so `pulumi up -s dr` during an outage of that region only reaches
        # it if this configuration itself changes.
        self.primary_provider = aws.Provider(
            f"{name}-primary-region",
            region=source.region,
            skip_credentials_validation=True,
            skip_requesting_account_id=True,
            skip_region_validation=True,
            default_tags=aws.ProviderDefaultTagsArgs(tags=dict(args.tags)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.config = aws.s3.BucketReplicationConfig(
            f"{name}-config",
            bucket=source.bucket_name,
            role=self.role.arn,
            rules=[
                aws.s3.BucketReplicationConfigRuleArgs(
                    id=RULE_ID,
                    status="Enabled",
                    priority=1,
                    # Every prefix: database/, config/ and certificates/.
                    filter=aws.s3.BucketReplicationConfigRuleFilterArgs(prefix=""),
                    # A deletion in the primary bucket hides the object in the dr copy
                    # too (a delete marker); earlier versions stay recoverable there.
                    delete_marker_replication=aws.s3.BucketReplicationConfigRuleDeleteMarkerReplicationArgs(
                        status="Enabled"
                    ),
                    source_selection_criteria=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaArgs(
                        sse_kms_encrypted_objects=aws.s3.BucketReplicationConfigRuleSourceSelectionCriteriaSseKmsEncryptedObjectsArgs(
                            status="Enabled"
                        )
                    ),
                    destination=aws.s3.BucketReplicationConfigRuleDestinationArgs(
                        bucket=destination.bucket_arn,
                        storage_class=STORAGE_CLASS,
                        encryption_configuration=aws.s3.BucketReplicationConfigRuleDestinationEncryptionConfigurationArgs(
                            replica_kms_key_id=destination.key_arn
                        ),
                        replication_time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeArgs(
                            status="Enabled",
                            time=aws.s3.BucketReplicationConfigRuleDestinationReplicationTimeTimeArgs(
                                minutes=REPLICATION_TIME_MINUTES
                            ),
                        ),
                        metrics=aws.s3.BucketReplicationConfigRuleDestinationMetricsArgs(
                            status="Enabled",
                            event_threshold=aws.s3.BucketReplicationConfigRuleDestinationMetricsEventThresholdArgs(
                                minutes=REPLICATION_TIME_MINUTES
                            ),
                        ),
                    ),
                )
            ],
            opts=pulumi.ResourceOptions(
                parent=self,
                provider=self.primary_provider,
                depends_on=[args.destination_versioning, self.role],
            ),
        )
        self.register_outputs({"role_arn": self.role.arn, "rule": RULE_ID})
