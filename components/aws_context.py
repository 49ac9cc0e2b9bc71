"""Facts about the AWS account and region a stack deploys into, looked up once."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi_aws as aws


@dataclass(frozen=True)
class AwsContext:
    account_id: str
    partition: str
    region: str

    @property
    def account_root(self) -> str:
        return f"arn:{self.partition}:iam::{self.account_id}:root"

    def managed_policy(self, name: str) -> str:
        """ARN of an AWS managed IAM policy, such as ``AmazonEKSClusterPolicy``."""
        return f"arn:{self.partition}:iam::aws:policy/{name}"

    @staticmethod
    def lookup(region: str) -> AwsContext:
        identity = aws.get_caller_identity()
        partition = aws.get_partition()
        return AwsContext(account_id=identity.account_id, partition=partition.partition, region=region)
