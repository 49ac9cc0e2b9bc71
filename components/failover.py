"""Route 53 failover between the primary's and the dr stack's edge load balancers.

For the portal name (the platform's domain) and ``api.<domain>``, one PRIMARY record
aliases the primary's Network Load Balancer and one SECONDARY record the dr stack's. Route
53 answers with the SECONDARY only while the primary's health check fails, so the switch
of traffic needs no change at all; what DR serves is decided by ``dr.active`` (README, DR
runbook). Both health checks request Traefik's ``/ping`` over HTTPS on the load balancer's
own name (components.ingress routes it on the websecure entry point for any host): Route 53
HTTPS checks send that name as Host and SNI and do not validate the certificate. The
alias targets also evaluate the load balancer's target health, so a region whose Traefik
pods are all gone counts as unhealthy even between two checks.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.ingress import HEALTH_CHECK_PATH
from components.settings import DnsSettings

HTTPS_PORT = 443
FAILOVER_ROLES = ("PRIMARY", "SECONDARY")


@dataclass(frozen=True)
class Edge:
    """One region's edge: its Network Load Balancer's DNS name and region."""

    hostname: pulumi.Input[str]
    region: pulumi.Input[str]


@dataclass(frozen=True)
class DnsFailoverArgs:
    dns: DnsSettings
    domain: str
    primary: Edge
    secondary: Edge
    tags: Mapping[str, str]


def record_names(domain: str) -> tuple[str, ...]:
    """The names that fail over: the portal (the domain itself) and the API."""
    return (domain, f"api.{domain}")


class DnsFailover(pulumi.ComponentResource):
    health_checks: dict[str, aws.route53.HealthCheck]
    records: list[aws.route53.Record]

    def __init__(self, name: str, args: DnsFailoverArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:failover:DnsFailover", name, None, opts)
        edges = dict(zip(FAILOVER_ROLES, (args.primary, args.secondary), strict=True))
        self.health_checks = {
            failover: self._health_check(name, failover.lower(), edge, args) for failover, edge in edges.items()
        }
        self.records = [
            self._record(name, record_name, failover, edge, args)
            for record_name in record_names(args.domain)
            for failover, edge in edges.items()
        ]
        self.register_outputs(
            {
                "names": list(record_names(args.domain)),
                "health_checks": {k: v.id for k, v in self.health_checks.items()},
            }
        )

    def _health_check(self, name: str, role_name: str, edge: Edge, args: DnsFailoverArgs) -> aws.route53.HealthCheck:
        return aws.route53.HealthCheck(
            f"{name}-{role_name}",
            type="HTTPS",
            fqdn=edge.hostname,
            port=HTTPS_PORT,
            resource_path=HEALTH_CHECK_PATH,
            enable_sni=True,
            request_interval=args.dns.health_check_interval_seconds,
            failure_threshold=args.dns.failure_threshold,
            tags={**args.tags, "Name": f"{args.domain} {role_name}"},
            opts=pulumi.ResourceOptions(parent=self),
        )

    def _record(
        self, name: str, record_name: str, failover: str, edge: Edge, args: DnsFailoverArgs
    ) -> aws.route53.Record:
        # The Network Load Balancers' canonical hosted zone of the edge's region, from
        # the provider's table of ELB service endpoints.
        zone = aws.lb.get_hosted_zone_id_output(load_balancer_type="network", region=edge.region)
        label = record_name.split(".", 1)[0] if record_name != args.domain else "portal"
        return aws.route53.Record(
            f"{name}-{label}-{failover.lower()}",
            zone_id=args.dns.hosted_zone_id,
            name=record_name,
            type="A",
            set_identifier=f"{record_name}-{failover.lower()}",
            failover_routing_policies=[aws.route53.RecordFailoverRoutingPolicyArgs(type=failover)],
            health_check_id=self.health_checks[failover].id,
            aliases=[aws.route53.RecordAliasArgs(name=edge.hostname, zone_id=zone.id, evaluate_target_health=True)],
            opts=pulumi.ResourceOptions(parent=self),
        )
