"""The page for a stack's Route 53 health check, raised from us-east-1.

The in-cluster alerts need the cluster, its Prometheus and Alertmanager, and so the
region they run in: a region that is gone pages nobody from there. Route 53 health checks
run from outside every region, and their metrics (namespace ``AWS/Route53``, metric
``HealthCheckStatus``: 1 healthy, 0 unhealthy; dimension ``HealthCheckId``) are published
only in US East (N. Virginia) (Route 53 developer guide, "Monitoring health checks using
CloudWatch"). A CloudWatch alarm notifies only an SNS topic of its own region (CloudWatch
user guide, "Using Amazon CloudWatch alarms", alarm actions). So the alarm, its topic and
the topic's key are in us-east-1, created through a provider for that region, and the
topic delivers to PagerDuty's Amazon CloudWatch integration over HTTPS: prod's edge
failing pages without prod's region, its cluster or the dr stack.

The topic is encrypted with a customer-managed key whose policy lets CloudWatch use it: a
publisher to an encrypted topic needs ``kms:GenerateDataKey*`` and ``kms:Decrypt`` on its
key, and the AWS managed ``aws/sns`` key's policy cannot grant them to CloudWatch (SNS
developer guide, "Enable compatibility between event sources from AWS services and
encrypted topics"). The topic's policy lets CloudWatch publish only for this alarm of
this account (``aws:SourceArn``, ``aws:SourceAccount``: the confused-deputy conditions of
the same guide's "Amazon SNS access policy" examples).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.iam import policy_document
from components.keys import customer_key

# Route 53 publishes its health-check metrics in this region alone.
METRICS_REGION = "us-east-1"
NAMESPACE = "AWS/Route53"
METRIC = "HealthCheckStatus"
CLOUDWATCH = "cloudwatch.amazonaws.com"
# Route 53 publishes HealthCheckStatus once a minute, the shortest standard-resolution
# period. The health check itself already waits for its failure threshold (3 checks 10 s
# apart), so one unhealthy minute raises the alarm: about one to two minutes after the
# check fails (CloudWatch evaluates each minute once its data point is in).
PERIOD_SECONDS = 60
EVALUATION_PERIODS = 1
# The lowest status within the minute: unhealthy at any point counts.
STATISTIC = "Minimum"
THRESHOLD = 1
COMPARISON = "LessThanThreshold"
# No data means the check no longer reports (deleted, disabled, Route 53 not publishing):
# nothing then watches the edge, which pages too (CloudWatch user guide, "Configuring how
# CloudWatch alarms treat missing data": breaching counts a missing point as a breach).
TREAT_MISSING_DATA = "breaching"


@dataclass(frozen=True)
class HealthCheckPageArgs:
    name_prefix: str
    health_check_id: pulumi.Input[str]
    description: str  # what failed and what it means, shown in the page
    # PagerDuty's Amazon CloudWatch integration URL (a secret); without it the alarm and
    # its topic exist and nobody is subscribed (outside production only: settings).
    page_url: pulumi.Input[str] | None
    ctx: AwsContext  # the stack's account and partition; the region is METRICS_REGION's
    tags: Mapping[str, str]


def metrics_region_provider(
    name: str, profile: str | None, tags: Mapping[str, str], parent: pulumi.Resource
) -> aws.Provider:
    """The provider of the health-check metrics' region. An explicit provider reads no
    ``aws:`` stack setting, so the stack's profile is passed on."""
    return aws.Provider(
        name,
        region=METRICS_REGION,
        profile=profile,
        default_tags=aws.ProviderDefaultTagsArgs(tags=dict(tags)),
        opts=pulumi.ResourceOptions(parent=parent),
    )


def alarm_arn(ctx: AwsContext, alarm_name: str) -> str:
    return f"arn:{ctx.partition}:cloudwatch:{METRICS_REGION}:{ctx.account_id}:alarm:{alarm_name}"


def cloudwatch_key_statement() -> dict[str, Any]:
    """CloudWatch may encrypt what it publishes to the topic. The key encrypts nothing
    but that topic, whose own policy admits only this stack's alarm."""
    return {
        "Sid": "CloudWatchAlarmsPublishEncrypted",
        "Effect": "Allow",
        "Principal": {"Service": CLOUDWATCH},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*"],
        "Resource": "*",
    }


def topic_policy(*, topic_arn: str, ctx: AwsContext, alarm_name: str) -> str:
    """Publishing by CloudWatch for this stack's alarm alone."""
    return policy_document(
        [
            {
                "Sid": "CloudWatchAlarmOfThisStack",
                "Effect": "Allow",
                "Principal": {"Service": CLOUDWATCH},
                "Action": "sns:Publish",
                "Resource": topic_arn,
                "Condition": {
                    "StringEquals": {"aws:SourceAccount": ctx.account_id},
                    "ArnEquals": {"aws:SourceArn": alarm_arn(ctx, alarm_name)},
                },
            }
        ]
    )


class HealthCheckPage(pulumi.ComponentResource):
    """Created with ``provider=`` a provider of METRICS_REGION (metrics_region_provider):
    every child, the key's alias too, inherits it."""

    key: aws.kms.Key
    topic: aws.sns.Topic
    alarm: aws.cloudwatch.MetricAlarm
    subscription: aws.sns.TopicSubscription | None

    def __init__(self, name: str, args: HealthCheckPageArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:failover:HealthCheckPage", name, None, opts)
        ctx = dataclasses.replace(args.ctx, region=METRICS_REGION)
        alarm_name = f"{args.name_prefix}-edge-health-check"
        self.key = customer_key(
            f"{name}-key",
            alias=f"{args.name_prefix}-edge-health-alarms",
            description=f"{args.name_prefix}: the edge health check's alarm topic",
            ctx=ctx,
            parent=self,
            tags=args.tags,
            service_statements=[cloudwatch_key_statement()],
        )
        self.topic = aws.sns.Topic(
            f"{name}-topic",
            name=f"{args.name_prefix}-edge-health-alarms",
            kms_master_key_id=self.key.arn,
            tags=dict(args.tags),
            opts=pulumi.ResourceOptions(parent=self),
        )
        policy = aws.sns.TopicPolicy(
            f"{name}-topic-policy",
            arn=self.topic.arn,
            policy=self.topic.arn.apply(lambda arn: topic_policy(topic_arn=arn, ctx=ctx, alarm_name=alarm_name)),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self.subscription = self._subscribe(name, args.page_url)
        self.alarm = aws.cloudwatch.MetricAlarm(
            f"{name}-alarm",
            name=alarm_name,
            alarm_description=args.description,
            namespace=NAMESPACE,
            metric_name=METRIC,
            dimensions={"HealthCheckId": args.health_check_id},
            statistic=STATISTIC,
            period=PERIOD_SECONDS,
            evaluation_periods=EVALUATION_PERIODS,
            datapoints_to_alarm=EVALUATION_PERIODS,
            threshold=THRESHOLD,
            comparison_operator=COMPARISON,
            treat_missing_data=TREAT_MISSING_DATA,
            # PagerDuty opens an incident on ALARM and resolves it on OK.
            alarm_actions=[self.topic.arn],
            ok_actions=[self.topic.arn],
            tags=dict(args.tags),
            # The topic admits the alarm before its first state change is published.
            opts=pulumi.ResourceOptions(parent=self, depends_on=[policy]),
        )
        self.register_outputs({"alarm": self.alarm.arn, "topic": self.topic.arn})

    def _subscribe(self, name: str, page_url: pulumi.Input[str] | None) -> aws.sns.TopicSubscription | None:
        """PagerDuty confirms an SNS subscription itself (PagerDuty, "Amazon CloudWatch
        Integration Guide"), so the subscription is complete when it is created."""
        if page_url is None:
            return None
        return aws.sns.TopicSubscription(
            f"{name}-pagerduty",
            topic=self.topic.arn,
            protocol="https",
            endpoint=page_url,
            endpoint_auto_confirms=True,
            opts=pulumi.ResourceOptions(parent=self),
        )
