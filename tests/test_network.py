"""network: three zones, public and private subnets, a NAT gateway per zone, flow logs."""

from __future__ import annotations

import ipaddress
from typing import Any

import pytest

from components.network import control_plane_cidrs, subnet_cidrs
from offline.harness import StackRun

SUBNET = "aws:ec2/subnet:Subnet"


def subnets(run: StackRun, kind: str) -> list[dict[str, Any]]:
    return [r.inputs for r in run.of_type(SUBNET) if r.name.startswith(f"tractusx-network-{kind}-")]


@pytest.mark.parametrize("cidr", ["10.40.0.0/16", "172.16.0.0/20"])
@pytest.mark.parametrize("zones", [3, 6])
def test_subnets_are_disjoint_and_inside_the_vpc(cidr: str, zones: int) -> None:
    private, public = subnet_cidrs(cidr, zones)
    control_plane = control_plane_cidrs(cidr, zones)
    blocks = [ipaddress.IPv4Network(b) for b in private + public + control_plane]
    assert len(private) == len(public) == len(control_plane) == zones
    # EKS asks at least 6 addresses per cluster subnet and recommends 16 (a /28).
    assert all(ipaddress.IPv4Network(b).prefixlen == 28 for b in control_plane)
    assert all(block.subnet_of(ipaddress.IPv4Network(cidr)) for block in blocks)
    assert not any(a.overlaps(b) for i, a in enumerate(blocks) for b in blocks[i + 1 :])


def test_one_public_one_private_and_one_control_plane_subnet_in_each_of_three_zones(stack: StackRun) -> None:
    for kind in ("public", "private", "control-plane"):
        zones = sorted(s["availabilityZone"] for s in subnets(stack, kind))
        assert zones == stack.exports["availabilityZones"]
        assert len(set(zones)) == 3


def test_subnets_carry_the_load_balancer_tags(stack: StackRun) -> None:
    cluster_tag = f"kubernetes.io/cluster/{stack.exports['clusterName']}"
    for subnet in subnets(stack, "public"):
        assert subnet["tags"]["kubernetes.io/role/elb"] == "1"
        assert subnet["tags"][cluster_tag] == "shared"
        assert subnet["mapPublicIpOnLaunch"] is False
    for subnet in subnets(stack, "private"):
        assert subnet["tags"]["kubernetes.io/role/internal-elb"] == "1"
        assert subnet["tags"][cluster_tag] == "shared"


def test_each_private_subnet_leaves_through_the_nat_gateway_of_its_own_zone(stack: StackRun) -> None:
    nats = stack.of_type("aws:ec2/natGateway:NatGateway")
    assert len(nats) == 3
    for zone in stack.exports["availabilityZones"]:
        nat = stack.one("aws:ec2/natGateway:NatGateway", f"tractusx-network-nat-{zone}")
        assert nat.inputs["subnetId"] == f"tractusx-network-public-{zone}-id"
        table = stack.one("aws:ec2/routeTable:RouteTable", f"tractusx-network-private-{zone}")
        assert table.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "natGatewayId": f"{nat.name}-id"}]
        association = stack.one(
            "aws:ec2/routeTableAssociation:RouteTableAssociation", f"tractusx-network-private-{zone}"
        )
        assert association.inputs["subnetId"] == f"tractusx-network-private-{zone}-id"


def test_flow_logs_capture_all_traffic_into_an_encrypted_log_group(stack: StackRun) -> None:
    flow_log = stack.one("aws:ec2/flowLog:FlowLog")
    assert flow_log.inputs["trafficType"] == "ALL"
    assert flow_log.inputs["vpcId"] == stack.exports["vpcId"]
    group = stack.one("aws:cloudwatch/logGroup:LogGroup", "tractusx-network-flow-logs")
    assert group.inputs["kmsKeyId"]
    assert group.inputs["retentionInDays"] == 365


def test_default_security_group_allows_nothing(stack: StackRun) -> None:
    default = stack.one("aws:ec2/defaultSecurityGroup:DefaultSecurityGroup")
    assert not default.inputs.get("ingress")
    assert not default.inputs.get("egress")


def test_vpc_resolves_private_dns_for_the_private_api_endpoint(stack: StackRun) -> None:
    vpc = stack.one("aws:ec2/vpc:Vpc").inputs
    assert vpc["cidrBlock"] == stack.exports["vpcCidr"]
    assert vpc["enableDnsHostnames"] is True
    assert vpc["enableDnsSupport"] is True


def test_public_subnets_reach_the_internet_gateway(stack: StackRun) -> None:
    table = stack.one("aws:ec2/routeTable:RouteTable", "tractusx-network-public")
    assert table.inputs["routes"] == [{"cidrBlock": "0.0.0.0/0", "gatewayId": "tractusx-network-igw-id"}]
    for zone in stack.exports["availabilityZones"]:
        association = stack.one(
            "aws:ec2/routeTableAssociation:RouteTableAssociation", f"tractusx-network-public-{zone}"
        )
        assert association.inputs["routeTableId"] == "tractusx-network-public-id"
