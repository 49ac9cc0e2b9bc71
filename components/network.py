"""VPC over the availability zones: public and private subnets, a NAT gateway per zone.

Each private subnet routes to the internet through the NAT gateway of its own zone, so
losing one zone never takes egress from the others ("Multi-zone networking with
failover", playbook "Resource Requirements").
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_aws as aws

from components.aws_context import AwsContext
from components.iam import policy_document, role, service_trust_policy
from components.keys import encrypted_log_group


@dataclass(frozen=True)
class NetworkArgs:
    name_prefix: str
    vpc_cidr: str
    az_count: int
    cluster_name: str
    log_retention_days: int
    logs_key: aws.kms.Key
    ctx: AwsContext
    tags: Mapping[str, str]


def subnet_cidrs(vpc_cidr: str, az_count: int) -> tuple[list[str], list[str]]:
    """Split the VPC into large private subnets (pods take VPC addresses) and small public ones.

    The block is cut in eighths: the first ``az_count`` eighths are the private subnets,
    the last eighth is cut in eighths again for the public subnets (load balancers and
    NAT gateways only).
    """
    eighths = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3))
    private = [str(block) for block in eighths[:az_count]]
    public = [str(block) for block in list(eighths[-1].subnets(prefixlen_diff=3))[:az_count]]
    return private, public


def control_plane_cidrs(vpc_cidr: str, az_count: int) -> list[str]:
    """The cluster's own subnets, one /28 per zone, where EKS puts the control plane's
    network interfaces (the private API endpoint, and the source of webhook and
    aggregated-API calls) and nothing else: nodes and pods live in the private subnets,
    which EKS allows ("You can deploy nodes and Kubernetes resources to subnets that you
    didn't specify when you created the cluster. If you deploy nodes to different subnets,
    Amazon EKS doesn't create cluster network interfaces in those subnets"; EKS user guide
    network-reqs.adoc, which asks at least 6 and recommends 16 addresses per subnet). So
    a NetworkPolicy can name the control plane by address without also naming every pod.
    They come from the last two eighths of the public eighth, which the public subnets
    (at most six) never reach."""
    eighths = list(ipaddress.IPv4Network(vpc_cidr).subnets(prefixlen_diff=3))
    spare = list(eighths[-1].subnets(prefixlen_diff=3))[6:]
    pieces = [str(piece) for block in spare for piece in block.subnets(new_prefix=28)]
    return pieces[:az_count]


def availability_zones(count: int) -> list[str]:
    """The first ``count`` zones of the region that need no opt-in (no Local Zones)."""
    zones = aws.get_availability_zones(
        state="available",
        filters=[aws.GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
    ).names
    if len(zones) < count:
        raise pulumi.RunError(
            f"tractusx-platform:azCount is {count} but the region offers {len(zones)} availability zones"
        )
    return sorted(zones)[:count]


class Network(pulumi.ComponentResource):
    vpc_id: pulumi.Output[str]
    private_subnet_ids: list[pulumi.Output[str]]
    public_subnet_ids: list[pulumi.Output[str]]
    control_plane_subnet_ids: list[pulumi.Output[str]]
    zones: list[str]

    def __init__(self, name: str, args: NetworkArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("tractusx:network:Network", name, None, opts)
        self._name = name
        self._args = args
        self.zones = availability_zones(args.az_count)
        private_cidrs, public_cidrs = subnet_cidrs(args.vpc_cidr, args.az_count)
        cluster_cidrs = control_plane_cidrs(args.vpc_cidr, args.az_count)

        self.vpc = aws.ec2.Vpc(
            f"{name}-vpc",
            cidr_block=args.vpc_cidr,
            enable_dns_hostnames=True,
            enable_dns_support=True,
            tags=self._tags(f"{args.name_prefix}-vpc"),
            opts=pulumi.ResourceOptions(parent=self),
        )
        self._lock_default_security_group()
        internet_gateway = aws.ec2.InternetGateway(
            f"{name}-igw",
            vpc_id=self.vpc.id,
            tags=self._tags(f"{args.name_prefix}-igw"),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )
        public_routes = aws.ec2.RouteTable(
            f"{name}-public",
            vpc_id=self.vpc.id,
            routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=internet_gateway.id)],
            tags=self._tags(f"{args.name_prefix}-public"),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )

        cluster_tag = {f"kubernetes.io/cluster/{args.cluster_name}": "shared"}
        private_route_tables: list[aws.ec2.RouteTable] = []
        self.public_subnet_ids = []
        self.private_subnet_ids = []
        self.control_plane_subnet_ids = []
        for index, zone in enumerate(self.zones):
            public = self._subnet(
                f"public-{zone}", zone, public_cidrs[index], {**cluster_tag, "kubernetes.io/role/elb": "1"}
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-public-{zone}",
                subnet_id=public.id,
                route_table_id=public_routes.id,
                opts=pulumi.ResourceOptions(parent=public),
            )
            nat = self._nat_gateway(zone, public)
            private = self._subnet(
                f"private-{zone}", zone, private_cidrs[index], {**cluster_tag, "kubernetes.io/role/internal-elb": "1"}
            )
            routes = aws.ec2.RouteTable(
                f"{name}-private-{zone}",
                vpc_id=self.vpc.id,
                routes=[aws.ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                tags=self._tags(f"{args.name_prefix}-private-{zone}"),
                opts=pulumi.ResourceOptions(parent=private),
            )
            aws.ec2.RouteTableAssociation(
                f"{name}-private-{zone}",
                subnet_id=private.id,
                route_table_id=routes.id,
                opts=pulumi.ResourceOptions(parent=private),
            )
            private_route_tables.append(routes)
            self.public_subnet_ids.append(public.id)
            self.private_subnet_ids.append(private.id)
            # The control plane's interfaces need no route beyond the VPC's own.
            control_plane = self._subnet(
                f"control-plane-{zone}", zone, cluster_cidrs[index], {"tractusx-platform/role": "control-plane"}
            )
            self.control_plane_subnet_ids.append(control_plane.id)

        # S3 traffic (backups, images layers from ECR) stays inside the VPC and off the NAT bill.
        aws.ec2.VpcEndpoint(
            f"{name}-s3",
            vpc_id=self.vpc.id,
            service_name=f"com.amazonaws.{args.ctx.region}.s3",
            vpc_endpoint_type="Gateway",
            route_table_ids=[table.id for table in private_route_tables],
            tags=self._tags(f"{args.name_prefix}-s3"),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )
        self._flow_logs()
        self.vpc_id = self.vpc.id
        self.register_outputs(
            {
                "vpc_id": self.vpc_id,
                "private_subnet_ids": self.private_subnet_ids,
                "public_subnet_ids": self.public_subnet_ids,
                "control_plane_subnet_ids": self.control_plane_subnet_ids,
            }
        )

    def _tags(self, name: str, extra: Mapping[str, str] | None = None) -> dict[str, str]:
        return {**self._args.tags, **(extra or {}), "Name": name}

    def _subnet(self, role_name: str, zone: str, cidr: str, tags: Mapping[str, str]) -> aws.ec2.Subnet:
        return aws.ec2.Subnet(
            f"{self._name}-{role_name}",
            vpc_id=self.vpc.id,
            availability_zone=zone,
            cidr_block=cidr,
            map_public_ip_on_launch=False,
            tags=self._tags(f"{self._args.name_prefix}-{role_name}", tags),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )

    def _nat_gateway(self, zone: str, public: aws.ec2.Subnet) -> aws.ec2.NatGateway:
        eip = aws.ec2.Eip(
            f"{self._name}-nat-{zone}",
            domain="vpc",
            tags=self._tags(f"{self._args.name_prefix}-nat-{zone}"),
            opts=pulumi.ResourceOptions(parent=public),
        )
        return aws.ec2.NatGateway(
            f"{self._name}-nat-{zone}",
            allocation_id=eip.id,
            subnet_id=public.id,
            tags=self._tags(f"{self._args.name_prefix}-nat-{zone}"),
            opts=pulumi.ResourceOptions(parent=public),
        )

    def _lock_default_security_group(self) -> None:
        # CIS AWS Foundations 5.4: the default security group allows no traffic; every
        # workload gets a security group that says what it needs.
        aws.ec2.DefaultSecurityGroup(
            f"{self._name}-default-sg",
            vpc_id=self.vpc.id,
            ingress=[],
            egress=[],
            tags=self._tags(f"{self._args.name_prefix}-default-deny"),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )

    def _flow_logs(self) -> None:
        args = self._args
        log_group = encrypted_log_group(
            f"{self._name}-flow-logs",
            log_group_name=f"/aws/vpc/{args.name_prefix}/flow-logs",
            key=args.logs_key,
            retention_days=args.log_retention_days,
            parent=self,
            tags=args.tags,
        )
        writer = role(
            f"{self._name}-flow-logs",
            trust_policy=service_trust_policy("vpc-flow-logs.amazonaws.com", args.ctx),
            description="Writes the VPC flow logs to their CloudWatch log group",
            parent=self,
            tags=args.tags,
            inline_policy=log_group.arn.apply(
                lambda arn: policy_document(
                    [
                        {
                            "Effect": "Allow",
                            "Action": ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                            "Resource": [arn, f"{arn}:*"],
                        }
                    ]
                )
            ),
        )
        aws.ec2.FlowLog(
            f"{self._name}-flow-log",
            vpc_id=self.vpc.id,
            traffic_type="ALL",
            log_destination_type="cloud-watch-logs",
            log_destination=log_group.arn,
            iam_role_arn=writer.arn,
            max_aggregation_interval=60,
            tags=self._tags(f"{args.name_prefix}-flow-log"),
            opts=pulumi.ResourceOptions(parent=self.vpc),
        )
