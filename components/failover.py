"""Route 53 records for every host the platform serves, failing over between the stacks.

Each stack with a hosted zone (``dns.hostedZoneId``) creates its own half of the failover
pair for every served host (components/hosts.py): the primary stack the PRIMARY record,
aliasing its Network Load Balancer, the dr stack the SECONDARY record, aliasing its own.
Route 53 answers with the SECONDARY only while the PRIMARY's health check fails, so
traffic moves without a change to either stack; a primary without a dr stack serves
through its PRIMARY records alone (when every record of a name is unhealthy, Route 53
answers as if all were healthy: developer guide, "How Amazon Route 53 chooses records when
health checking is configured"). The two halves never collide: each record has its stack's set identifier, and
neither stack writes the other's, so prod's region being gone leaves dr's records to
answer and nothing of prod's to update.

Each stack's health check requests Traefik's ``/ping`` over HTTPS on its load balancer's
own name (components.ingress routes it on the websecure entry point for any host): Route
53 HTTPS checks send that name as Host and SNI and do not validate the certificate. The
alias targets also evaluate the load balancer's target health, so a region whose Traefik
pods are all gone counts as unhealthy even between two checks.

Each stack's health check also pages on its own, from us-east-1 where Route 53 publishes
its metrics (components/health_alarm.py): an edge that stops answering is noticed without
its region, its cluster or the other stack.

Without a hosted zone the stack creates no record; it exports the records to create
(``dnsRecords``), and the plan prints them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.health_alarm import HealthCheckPage, HealthCheckPageArgs, metrics_region_provider
from components.hosts import ServedHost
from components.ingress import HEALTH_CHECK_PATH
from components.settings import DnsSettings

HTTPS_PORT = 443
PRIMARY = "PRIMARY"
SECONDARY = "SECONDARY"
# What an unhealthy edge means, in its page.
CONSEQUENCES = {
    PRIMARY: "Route 53 answers with the dr stack's SECONDARY records, where there are any; "
    "decide on activating dr (README, Disaster recovery)",
    SECONDARY: "a failover from prod would reach no healthy edge (README, Disaster recovery)",
}


@dataclass(frozen=True)
class DnsRecordsArgs:
    dns: DnsSettings
    hosts: Sequence[ServedHost]
    failover: str  # PRIMARY on the primary stack, SECONDARY on the dr stack
    load_balancer: pulumi.Input[str]  # this stack's Network Load Balancer's DNS name
    region: str
    tags: Mapping[str, str]
    name_prefix: str
    ctx: AwsContext
    aws_profile: str | None
    # PagerDuty's Amazon CloudWatch integration URL (secret), paged by the health check's alarm.
    page_url: pulumi.Input[str] | None


def set_identifier(host: str, failover: str) -> str:
    return f"{host}-{failover.lower()}"


def records_to_create(hosts: Sequence[ServedHost], load_balancer: pulumi.Input[str]) -> list[dict[str, object]]:
    """What to create by hand in a zone the platform does not manage: a CNAME per host."""
    return [{"name": host.name, "type": "CNAME", "value": load_balancer} for host in hosts]


class DnsRecords(pulumi.ComponentResource):
    health_check: aws.route53.HealthCheck
    records: list[aws.route53.Record]
    page: HealthCheckPage

    def __init__(self, name: str, args: DnsRecordsArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:failover:DnsRecords", name, None, opts)
        if args.failover not in (PRIMARY, SECONDARY):
            raise ValueError(f"failover role {args.failover!r} is not {PRIMARY} or {SECONDARY}")
        role_name = args.failover.lower()
        self.health_check = aws.route53.HealthCheck(
            f"{name}-{role_name}",
            type="HTTPS",
            fqdn=args.load_balancer,
            port=HTTPS_PORT,
            resource_path=HEALTH_CHECK_PATH,
            enable_sni=True,
            request_interval=args.dns.health_check_interval_seconds,
            failure_threshold=args.dns.failure_threshold,
            tags={**args.tags, "Name": f"edge {role_name} ({args.region})"},
            opts=pulumi.ResourceOptions(parent=self),
        )
        # The Network Load Balancers' canonical hosted zone of this region, from the
        # provider's table of ELB service endpoints.
        zone = aws.lb.get_hosted_zone_id_output(load_balancer_type="network", region=args.region)
        self.records = [
            aws.route53.Record(
                f"{name}-{host.name}-{role_name}",
                zone_id=args.dns.hosted_zone_id,
                name=host.name,
                type="A",
                set_identifier=set_identifier(host.name, args.failover),
                failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=args.failover)],
                health_check_id=self.health_check.id,
                aliases=[
                    aws.route53.RecordAliasArgs(name=args.load_balancer, zone_id=zone.id, evaluate_target_health=True)
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
            for host in args.hosts
        ]
        self.page = HealthCheckPage(
            f"{name}-{role_name}-page",
            HealthCheckPageArgs(
                name_prefix=args.name_prefix,
                health_check_id=self.health_check.id,
                description=(
                    f"The {role_name} edge ({args.region}) fails Route 53's HTTPS check of "
                    f"{HEALTH_CHECK_PATH}: {CONSEQUENCES[args.failover]}"
                ),
                page_url=args.page_url,
                ctx=args.ctx,
                tags=args.tags,
            ),
            pulumi.ResourceOptions(
                parent=self,
                provider=metrics_region_provider(f"{name}-metrics-region", args.aws_profile, args.tags, parent=self),
            ),
        )
        self.register_outputs(
            {
                "names": [host.name for host in args.hosts],
                "health_check": self.health_check.id,
                "alarm": self.page.alarm.arn,
            }
        )
